package tracking

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"importops/db"
)

// PreviewLifetime is how long a preview's page URL works.
const PreviewLifetime = 15 * time.Minute

// PreviewPrefix starts the path of every preview page.
const PreviewPrefix = "/preview/"

// PreviewRequest is what a preview page shows: a vehicle of an
// organization with resolved options. Its path is only trusted once its
// signature (media.Signer, the server's secret) is checked.
type PreviewRequest struct {
	OrganizationID string            `json:"o"`
	VehicleID      string            `json:"v"`
	Options        db.PreviewOptions `json:"p"`
}

// PreviewPath is the path of the preview page for p, to be signed.
func PreviewPath(p PreviewRequest) string {
	b, _ := json.Marshal(p) // plain strings, booleans and times: cannot fail
	return PreviewPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// ParsePreviewPath reads a preview page's path; ok is false when it is
// not one.
func ParsePreviewPath(path string) (p PreviewRequest, ok bool) {
	enc, found := strings.CutPrefix(path, PreviewPrefix)
	if !found {
		return p, false
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || json.Unmarshal(b, &p) != nil || p.OrganizationID == "" || p.VehicleID == "" {
		return PreviewRequest{}, false
	}
	return p, true
}
