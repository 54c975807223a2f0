package e2e

// The upload pipeline end to end, through GraphQL multipart uploads and
// the media routes: served bytes (staff and public URLs, logo) carry no
// metadata, sizes are derived, ETag and 304 work, Cache-Control suits each
// route, refused uploads leave the server serving — on local storage and
// on an S3 bucket (an in-process fake).

import (
	"bytes"
	"context"
	"errors"
	"image"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"importops/apptest"
	"importops/media"
	"importops/media/mediatest"
)

func TestPhotoPipeline(t *testing.T) {
	// Servers are started before going parallel, as apptest requires.
	envs := map[string]*apptest.Env{
		"dir": apptest.New(t, testDB),
		"s3":  apptest.NewWith(t, testDB, apptest.Options{Media: mediatest.NewS3(t)}),
	}
	t.Parallel()
	for name, env := range envs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testPhotoPipeline(t, env)
		})
	}
}

const (
	ppComment = "Taken at 12 Secret Lane, Kelburn"
	ppXMP     = "<xmp:CreatorTool>SecretEditor 9000</xmp:CreatorTool>"
)

// ppSecrets are byte strings of the upload's metadata that must never be
// served or stored.
var ppSecrets = [][]byte{mediatest.GPSBytes(), []byte(ppComment), []byte("Secret"), []byte("Exif\x00\x00"), []byte("ns.adobe.com")}

type ppPhoto struct {
	ID, URL       string
	Width, Height int
}

func testPhotoPipeline(t *testing.T, env *apptest.Env) {
	org := env.NewOrg(t, "Pipeline Imports", "NZ")
	var veh struct{ CreateVehicle struct{ ID string } }
	env.Do(t, org.Token, `mutation { createVehicle(input:{year:2018, make:"Mazda", model:"Roadster"}) { id } }`, nil).Decode(t, &veh)
	vehicleID := veh.CreateVehicle.ID

	// A 700×1400 JPEG to be turned 90° clockwise (EXIF orientation 6):
	// 1400×700 once oriented, so 1280×640 large and 320×160 small.
	upload := mediatest.JPEG(t, 700, 1400, mediatest.Meta{Orientation: 6, GPS: true, Comment: ppComment, XMP: ppXMP})
	var up struct{ UploadVehiclePhoto ppPhoto }
	env.Upload(t, org.Token, `mutation($v: ID!, $file: Upload!) { uploadVehiclePhoto(vehicleId: $v, file: $file) { id url width height } }`,
		apptest.Vars{"v": vehicleID}, "file", "IMG_0001.JPG", upload).Decode(t, &up)
	photo := up.UploadVehiclePhoto
	if photo.Width != 1400 || photo.Height != 700 {
		t.Errorf("photo is %d×%d, want 1400×700 (oriented)", photo.Width, photo.Height)
	}

	t.Run("staff URL serves the large size without metadata", func(t *testing.T) {
		res, body := ppGet(t, env, photo.URL, "")
		ppCheckImage(t, res, body, "image/jpeg", 1280, 640)
		cc := res.Header.Get("Cache-Control")
		age, ok := strings.CutPrefix(cc, "private, max-age=")
		if n, err := strconv.Atoi(age); !ok || err != nil || n <= 0 || n > int(media.URLLifetime.Seconds())+60 {
			t.Errorf("Cache-Control = %q, want private, max-age until the URL expires", cc)
		}
		ppCheckETag(t, env, photo.URL, res, body)
	})

	t.Run("staff URL with w=320 serves the small size; other widths are 404", func(t *testing.T) {
		res, body := ppGet(t, env, photo.URL+"&w=320", "")
		ppCheckImage(t, res, body, "image/jpeg", 320, 160)
		if res, _ := ppGet(t, env, photo.URL+"&w=640", ""); res.StatusCode != http.StatusNotFound {
			t.Errorf("w=640: status %d, want 404", res.StatusCode)
		}
	})

	t.Run("nothing stored carries the metadata", func(t *testing.T) {
		var base string
		if err := testDB.Get(&base, `SELECT storage_key FROM photos WHERE id = $1`, photo.ID); err != nil {
			t.Fatal(err)
		}
		for _, key := range media.VariantKeys(base) {
			data := ppRead(t, env, key)
			if data == nil {
				t.Errorf("%s is not stored", key)
				continue
			}
			ppNoMetadata(t, key, data)
		}
		if data := ppRead(t, env, base); data != nil {
			t.Errorf("the upload itself is stored at %s", base)
		}
	})

	// A link showing the photo as hero and in its gallery.
	env.Do(t, org.Token, `mutation($v: ID!, $p: ID) { setHeroPhoto(vehicleId: $v, photoId: $p) { id } }`,
		apptest.Vars{"v": vehicleID, "p": photo.ID}).Decode(t, &struct{}{})
	var link struct{ CreateTrackingLink struct{ Slug string } }
	env.Do(t, org.Token, `mutation($v: ID!, $p: [ID!]) { createTrackingLink(vehicleId: $v, options: {photoIds: $p}) { slug } }`,
		apptest.Vars{"v": vehicleID, "p": []string{photo.ID}}).Decode(t, &link)
	var pub struct {
		PublicTracking struct {
			HeroPhoto struct{ URL string }
			Photos    []struct{ URL string }
		}
	}
	env.Do(t, "", `query($s: String!) { publicTracking(slug: $s) { heroPhoto { url } photos { url } } }`,
		apptest.Vars{"s": link.CreateTrackingLink.Slug}).Decode(t, &pub)
	publicURL := pub.PublicTracking.HeroPhoto.URL
	if len(pub.PublicTracking.Photos) != 1 || pub.PublicTracking.Photos[0].URL != publicURL {
		t.Fatalf("public photos = %+v, want the hero's URL %s", pub.PublicTracking.Photos, publicURL)
	}

	t.Run("public URL serves both sizes without metadata, revalidated on every use", func(t *testing.T) {
		res, body := ppGet(t, env, publicURL, "")
		ppCheckImage(t, res, body, "image/jpeg", 1280, 640)
		if cc := res.Header.Get("Cache-Control"); cc != "private, no-cache" {
			t.Errorf("Cache-Control = %q, want private, no-cache", cc)
		}
		if rp := res.Header.Get("Referrer-Policy"); rp != "no-referrer" {
			t.Errorf("Referrer-Policy = %q, want no-referrer", rp)
		}
		ppCheckETag(t, env, publicURL, res, body)

		small, sbody := ppGet(t, env, publicURL+"?w=320", "")
		ppCheckImage(t, small, sbody, "image/jpeg", 320, 160)
		if small.Header.Get("ETag") == res.Header.Get("ETag") {
			t.Error("both sizes have the same ETag")
		}
		if res, _ := ppGet(t, env, publicURL+"?w=2000", ""); res.StatusCode != http.StatusNotFound {
			t.Errorf("w=2000: status %d, want 404", res.StatusCode)
		}
	})

	t.Run("a logo goes through the same pipeline", func(t *testing.T) {
		logo := ppPNGWithText(t, mediatest.PNG(t, 300, 100, true), "Comment", "Secret logo notes")
		var out struct{ UploadOrganizationLogo struct{ LogoURL string } }
		env.Upload(t, org.Token, `mutation($file: Upload!) { uploadOrganizationLogo(file: $file) { logoUrl } }`,
			nil, "file", "logo.png", logo).Decode(t, &out)
		logoURL := out.UploadOrganizationLogo.LogoURL
		res, body := ppGet(t, env, logoURL, "")
		ppCheckImage(t, res, body, "image/png", 300, 100) // transparency kept: PNG
		if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=3600" {
			t.Errorf("Cache-Control = %q, want public, max-age=3600", cc)
		}
		ppCheckETag(t, env, logoURL, res, body)

		var page struct {
			PublicTracking struct{ Organization struct{ LogoURL *string } }
		}
		env.Do(t, "", `query($s: String!) { publicTracking(slug: $s) { organization { logoUrl } } }`,
			apptest.Vars{"s": link.CreateTrackingLink.Slug}).Decode(t, &page)
		if got := page.PublicTracking.Organization.LogoURL; got == nil || *got != logoURL {
			t.Errorf("publicTracking.organization.logoUrl = %v, want %s", got, logoURL)
		}
	})

	t.Run("refused uploads are BAD_USER_INPUT and the server keeps serving", func(t *testing.T) {
		for _, tc := range []struct {
			name, filename string
			data           []byte
		}{
			{"text", "notes.txt", []byte("Just some notes, not a picture.\n")},
			{"PHP named .png", "shell.png", []byte("<?php system($_GET['c']); ?>\n")},
			{"60000×60000 PNG", "huge.png", mediatest.PNGHeader(60000, 60000)},
		} {
			res := env.Upload(t, org.Token, `mutation($v: ID!, $file: Upload!) { uploadVehiclePhoto(vehicleId: $v, file: $file) { id } }`,
				apptest.Vars{"v": vehicleID}, "file", tc.filename, tc.data)
			if res.Code() != "BAD_USER_INPUT" || !strings.Contains(res.Errors[0].Message, "JPEG, PNG or WebP") &&
				!strings.Contains(res.Errors[0].Message, "megapixels") {
				t.Errorf("%s: %s, want BAD_USER_INPUT saying what is accepted", tc.name, res.Body)
			}
		}
		if res, _ := ppGet(t, env, "/healthz", ""); res.StatusCode != http.StatusOK {
			t.Fatalf("healthz after refused uploads: %d", res.StatusCode)
		}
		if res, _ := ppGet(t, env, publicURL, ""); res.StatusCode != http.StatusOK {
			t.Errorf("public photo after refused uploads: %d", res.StatusCode)
		}
		var again struct{ UploadVehiclePhoto ppPhoto }
		env.Upload(t, org.Token, `mutation($v: ID!, $file: Upload!) { uploadVehiclePhoto(vehicleId: $v, file: $file) { id url width height } }`,
			apptest.Vars{"v": vehicleID}, "file", "again.webp", mediatest.WebP).Decode(t, &again)
		if again.UploadVehiclePhoto.Width != 1 {
			t.Errorf("WebP upload after refused ones: %+v", again.UploadVehiclePhoto)
		}
	})

	t.Run("a revoked link's photo is 404, even to a conditional request", func(t *testing.T) {
		res, _ := ppGet(t, env, publicURL, "")
		etag := res.Header.Get("ETag")
		env.Do(t, org.Token, `mutation($v: ID!) { revokeTrackingLink(vehicleId: $v) { id } }`, apptest.Vars{"v": vehicleID}).Decode(t, &struct{}{})
		for _, u := range []string{publicURL, publicURL + "?w=320"} {
			res, body := ppGet(t, env, u, etag)
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s after revoke: %d, want 404", u, res.StatusCode)
			}
			if _, _, err := image.DecodeConfig(bytes.NewReader(body)); err == nil {
				t.Errorf("GET %s after revoke served an image", u)
			}
		}
	})

	t.Run("deleting the photo removes every size", func(t *testing.T) {
		var base string
		if err := testDB.Get(&base, `SELECT storage_key FROM photos WHERE id = $1`, photo.ID); err != nil {
			t.Fatal(err)
		}
		env.Do(t, org.Token, `mutation($id: ID!) { deleteVehiclePhoto(id: $id) }`, apptest.Vars{"id": photo.ID}).Decode(t, &struct{}{})
		for _, key := range media.VariantKeys(base) {
			if ppRead(t, env, key) != nil {
				t.Errorf("%s still stored", key)
			}
		}
		var rows int
		if err := testDB.Get(&rows, `SELECT count(*) FROM media_objects WHERE key LIKE $1 || '%'`, base); err != nil {
			t.Fatal(err)
		}
		if rows != 0 {
			t.Errorf("%d media_objects rows left for the deleted photo", rows)
		}
		if res, _ := ppGet(t, env, photo.URL, ""); res.StatusCode != http.StatusNotFound {
			t.Errorf("staff URL of the deleted photo: %d, want 404", res.StatusCode)
		}
	})
}

// ppGet fetches a path or URL anonymously, with If-None-Match when set.
func ppGet(t *testing.T, env *apptest.Env, u, ifNoneMatch string) (*http.Response, []byte) {
	t.Helper()
	if strings.HasPrefix(u, "/") {
		u = env.BaseURL + u
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	res, err := env.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// ppCheckImage asserts a 200 carrying a w×h image of contentType with no
// metadata at all.
func ppCheckImage(t *testing.T, res *http.Response, body []byte, contentType string, w, h int) {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != contentType {
		t.Errorf("Content-Type = %q, want %q", ct, contentType)
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no X-Content-Type-Options: nosniff")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(body))
	if err != nil || cfg.Width != w || cfg.Height != h {
		t.Errorf("served image %d×%d (%v), want %d×%d", cfg.Width, cfg.Height, err, w, h)
	}
	ppNoMetadata(t, res.Request.URL.Path, body)
}

func ppNoMetadata(t *testing.T, what string, data []byte) {
	t.Helper()
	if found, err := mediatest.Metadata(data); err != nil || len(found) > 0 {
		t.Errorf("%s: metadata blocks %v (%v)", what, found, err)
	}
	for _, s := range ppSecrets {
		if bytes.Contains(data, s) {
			t.Errorf("%s contains %q from the upload's metadata", what, s)
		}
	}
}

// ppCheckETag asserts a strong ETag that a conditional request matches
// (304, no body) and another tag does not.
func ppCheckETag(t *testing.T, env *apptest.Env, u string, res *http.Response, body []byte) {
	t.Helper()
	etag := res.Header.Get("ETag")
	if len(etag) < 10 || !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) {
		t.Fatalf("ETag = %q, want a strong entity tag", etag)
	}
	again, _ := ppGet(t, env, u, "")
	if again.Header.Get("ETag") != etag {
		t.Errorf("ETag changed between requests: %q, %q", etag, again.Header.Get("ETag"))
	}
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag} {
		res, b := ppGet(t, env, u, inm)
		if res.StatusCode != http.StatusNotModified || len(b) != 0 {
			t.Errorf("If-None-Match %s: status %d with %d bytes, want 304 and none", inm, res.StatusCode, len(b))
		}
		if res.Header.Get("ETag") != etag || res.Header.Get("Cache-Control") == "" {
			t.Errorf("304 lacks ETag or Cache-Control: %v", res.Header)
		}
	}
	if res, b := ppGet(t, env, u, `"something-else"`); res.StatusCode != http.StatusOK || !bytes.Equal(b, body) {
		t.Errorf("If-None-Match of another tag: status %d, want 200 with the same bytes", res.StatusCode)
	}
}

// ppRead returns the stored file at key, nil when there is none.
func ppRead(t *testing.T, env *apptest.Env, key string) []byte {
	t.Helper()
	f, err := env.Media.Open(context.Background(), key)
	if errors.Is(err, media.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// ppPNGWithText inserts a tEXt chunk (metadata) after a PNG's IHDR.
func ppPNGWithText(t *testing.T, data []byte, key, text string) []byte {
	t.Helper()
	const ihdrEnd = 8 + 4 + 4 + 13 + 4
	body := append([]byte(key+"\x00"), text...)
	out := append(append(append([]byte{}, data[:ihdrEnd]...), pngChunk("tEXt", body)...), data[ihdrEnd:]...)
	if found, err := mediatest.Metadata(out); err != nil || len(found) != 1 {
		t.Fatalf("fixture metadata = %v, %v", found, err)
	}
	return out
}
