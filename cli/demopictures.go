package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"

	"importops/media/art"
)

// The demo's pictures, drawn in code (media/art) and uploaded through the
// GraphQL API like any staff member's: the same checks and image pipeline.
var demoPhotos = []struct {
	caption string
	palette art.Palette
}{
	{"", art.Day}, // the hero photo
	{"Loaded at Yokohama", art.Dawn},
	{"Pre-export inspection", art.Dusk},
	{"Ready for the voyage", art.Night},
}

const (
	qDemoPictures = `query DemoPictures($id: ID!) {
  viewer { organization { logoUrl } }
  vehicle(id: $id) { photos { id } }
}`
	qDemoLogo  = `mutation DemoLogo($file: Upload!) { uploadOrganizationLogo(file: $file) { id } }`
	qDemoPhoto = `mutation DemoPhoto($vehicleId: ID!, $file: Upload!, $caption: String) {
  uploadVehiclePhoto(vehicleId: $vehicleId, file: $file, caption: $caption) { id }
}`
	qDemoHero        = `mutation DemoHero($vehicleId: ID!, $photoId: ID) { setHeroPhoto(vehicleId: $vehicleId, photoId: $photoId) { id } }`
	qDemoLinkPhotos  = `mutation DemoLinkPhotos($vehicleId: ID!, $photoIds: [ID!]) { updateTrackingLink(vehicleId: $vehicleId, options: {photoIds: $photoIds}) { id } }`
	demoHeroWidth    = 1600
	demoHeroHeight   = 1000
	demoGalleryWidth = 1200
	demoGalleryHigh  = 900
)

// demoPictures gives the organization its logo and the vehicle its hero
// and gallery photos when they have none yet (a first run, or a database
// from an older demo), and returns the gallery photos' ids to show on the
// tracking link; nil when the vehicle already had photos. hasLink: the
// vehicle's link exists and is updated to show the new gallery.
func demoPictures(ctx context.Context, api *gqlClient, vehicleID string, hasLink bool) ([]string, error) {
	var have struct {
		Viewer struct {
			Organization struct {
				LogoURL *string `json:"logoUrl"`
			} `json:"organization"`
		} `json:"viewer"`
		Vehicle struct {
			Photos []struct {
				ID string `json:"id"`
			} `json:"photos"`
		} `json:"vehicle"`
	}
	if err := api.do(ctx, qDemoPictures, map[string]any{"id": vehicleID}, &have); err != nil {
		return nil, err
	}
	if have.Viewer.Organization.LogoURL == nil {
		logo, err := art.Logo()
		if err != nil {
			return nil, fmt.Errorf("demo: draw logo: %w", err)
		}
		var out json.RawMessage
		if err := api.upload(ctx, qDemoLogo, nil, "logo.png", logo, &out); err != nil {
			return nil, err
		}
	}
	if len(have.Vehicle.Photos) > 0 {
		return nil, nil
	}
	var ids []string
	for i, p := range demoPhotos {
		w, h := demoGalleryWidth, demoGalleryHigh
		if i == 0 {
			w, h = demoHeroWidth, demoHeroHeight
		}
		photo, err := art.Scene(w, h, p.palette)
		if err != nil {
			return nil, fmt.Errorf("demo: draw photo: %w", err)
		}
		vars := map[string]any{"vehicleId": vehicleID}
		if p.caption != "" {
			vars["caption"] = p.caption
		}
		var out struct {
			UploadVehiclePhoto struct {
				ID string `json:"id"`
			} `json:"uploadVehiclePhoto"`
		}
		if err := api.upload(ctx, qDemoPhoto, vars, fmt.Sprintf("photo-%d.jpg", i+1), photo, &out); err != nil {
			return nil, err
		}
		ids = append(ids, out.UploadVehiclePhoto.ID)
	}
	var out json.RawMessage
	if err := api.do(ctx, qDemoHero, map[string]any{"vehicleId": vehicleID, "photoId": ids[0]}, &out); err != nil {
		return nil, err
	}
	gallery := ids[1:]
	if hasLink {
		if err := api.do(ctx, qDemoLinkPhotos, map[string]any{"vehicleId": vehicleID, "photoIds": gallery}, &out); err != nil {
			return nil, err
		}
	}
	return gallery, nil
}

// upload runs a GraphQL multipart request (the multipart request spec)
// whose variable "file" is the file.
func (c *gqlClient) upload(ctx context.Context, query string, vars map[string]any, filename string, file []byte, out any) error {
	op := operationName(query)
	if vars == nil {
		vars = map[string]any{}
	}
	vars["file"] = nil
	ops, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return fmt.Errorf("demo: %s: %w", op, err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0":["variables.file"]}`)
	fw, _ := mw.CreateFormFile("0", filename)
	_, _ = fw.Write(file)
	if err := mw.Close(); err != nil {
		return fmt.Errorf("demo: %s: %w", op, err)
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/graphql", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("GraphQL-Preflight", "1")
	return c.send(req, op, out)
}
