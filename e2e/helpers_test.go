package e2e

// Helpers shared by the package's tests: pictures to upload, the staff
// mutations that set up a vehicle (vehicles, notes, photos, logos,
// tracking links), the customer's view, cutting the cache's listener off,
// raw GraphQL requests and the server's log lines. A helper that only one
// file's tests need stays in that file.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"importops/apptest"
)

// ---- pictures ----

// gradientImage is a small opaque picture with a gentle gradient:
// different sizes give different bytes, and a lossy re-encode stays close
// to it.
func gradientImage(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{uint8(90 + 3*x), uint8(140 + 2*y), 200, 255})
		}
	}
	return img
}

// testPNG is gradientImage(w, h) as a PNG.
func testPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	return encodePNG(t, gradientImage(w, h))
}

// testJPEG is gradientImage(w, h) as a JPEG.
func testJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, gradientImage(w, h), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// solidPNG is a w×h PNG of the one colour c.
func solidPNG(t testing.TB, w, h int, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return encodePNG(t, img)
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// PNG colour types (IHDR), for rawPNG.
const (
	pngGrey = 0
	pngRGB  = 2
)

// pngChunk is one PNG chunk: length, type, data and CRC.
func pngChunk(typ string, data []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// rawPNG is a PNG put together by hand, for pictures image/png would not
// write (or the test should not hold in memory): the signature, an IHDR
// declaring w×h pixels of 8 bits in colourType, then idat (zlib-compressed
// rows) as one IDAT chunk unless it is nil, and IEND.
func rawPNG(w, h int, colourType byte, idat []byte) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, colourType // compression, filter and interlace 0
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", ihdr)...)
	if idat != nil {
		out = append(out, pngChunk("IDAT", idat)...)
	}
	return append(out, pngChunk("IEND", nil)...)
}

// ---- staff mutations ----

// mustDo runs an operation whose answer the test does not read, failing it
// on any GraphQL error.
func mustDo(t testing.TB, env *apptest.Env, token, query string, vars apptest.Vars) {
	t.Helper()
	env.Do(t, token, query, vars).Decode(t, &struct{}{})
}

// createVehicle creates a vehicle from a CreateVehicleInput and returns
// its id.
func createVehicle(t testing.TB, env *apptest.Env, token string, in apptest.Vars) string {
	t.Helper()
	var out struct{ CreateVehicle struct{ ID string } }
	env.Do(t, token, `mutation($in: CreateVehicleInput!) { createVehicle(input: $in) { id } }`,
		apptest.Vars{"in": in}).Decode(t, &out)
	return out.CreateVehicle.ID
}

// newVehicle creates a 2019 Toyota Land Cruiser and returns its id.
func newVehicle(t testing.TB, env *apptest.Env, token string) string {
	t.Helper()
	return createVehicle(t, env, token, apptest.Vars{"year": 2019, "make": "Toyota", "model": "Land Cruiser"})
}

// addNote adds a note (scope CUSTOMER or INTERNAL) and returns its id.
func addNote(t testing.TB, env *apptest.Env, token, vehicleID, body, scope string) string {
	t.Helper()
	var out struct{ AddNote struct{ ID string } }
	env.Do(t, token, `mutation($v: ID!, $b: String!, $s: NoteScope!) { addNote(vehicleId: $v, body: $b, scope: $s) { id } }`,
		apptest.Vars{"v": vehicleID, "b": body, "s": scope}).Decode(t, &out)
	return out.AddNote.ID
}

// staffPhoto is a Photo as the staff API returns it.
type staffPhoto struct {
	ID, URL   string
	Caption   *string
	Width     *int
	Height    *int
	CreatedAt string
}

const uploadPhotoMutation = `mutation($v: ID!, $file: Upload!, $caption: String) {
	uploadVehiclePhoto(vehicleId: $v, file: $file, caption: $caption) { id url caption width height createdAt } }`

// uploadPhotoRes uploads data as a photo of the vehicle, with the caption
// when it is not nil, and returns the answer as it is.
func uploadPhotoRes(t testing.TB, env *apptest.Env, token, vehicleID, filename string, data []byte, caption *string) apptest.Response {
	t.Helper()
	vars := apptest.Vars{"v": vehicleID}
	if caption != nil {
		vars["caption"] = *caption
	}
	return env.Upload(t, token, uploadPhotoMutation, vars, "file", filename, data)
}

// uploadPhoto uploads data as photo.png (caption "": none) and returns the
// photo.
func uploadPhoto(t testing.TB, env *apptest.Env, token, vehicleID, caption string, data []byte) staffPhoto {
	t.Helper()
	var c *string
	if caption != "" {
		c = &caption
	}
	var out struct{ UploadVehiclePhoto staffPhoto }
	uploadPhotoRes(t, env, token, vehicleID, "photo.png", data, c).Decode(t, &out)
	return out.UploadVehiclePhoto
}

// uploadLogo uploads data as the organization's logo and returns its URL.
func uploadLogo(t testing.TB, env *apptest.Env, token string, data []byte) string {
	t.Helper()
	var out struct{ UploadOrganizationLogo struct{ LogoURL *string } }
	env.Upload(t, token, `mutation($file: Upload!) { uploadOrganizationLogo(file: $file) { logoUrl } }`,
		nil, "file", "logo.png", data).Decode(t, &out)
	if out.UploadOrganizationLogo.LogoURL == nil {
		t.Fatal("uploadOrganizationLogo: logoUrl is null")
	}
	return *out.UploadOrganizationLogo.LogoURL
}

// staffLink is a TrackingLink as staff see it.
type staffLink struct {
	ID                   string
	Slug                 string
	URL                  string
	ShowPhoto            bool
	ShowEstimatedArrival bool
	ShowProgress         bool
	ShowCustomerNotes    bool
	Photos               []struct{ ID string }
	ExpiresAt            *time.Time
	UpdatedAt            time.Time
}

func (l staffLink) photoIDs() []string {
	ids := make([]string, len(l.Photos))
	for i, p := range l.Photos {
		ids[i] = p.ID
	}
	return ids
}

const staffLinkFields = `id slug url showPhoto showEstimatedArrival showProgress showCustomerNotes photos { id } expiresAt updatedAt`

// createLinkRes creates the vehicle's tracking link (opts nil: the
// defaults) and returns the answer as it is.
func createLinkRes(t testing.TB, env *apptest.Env, token, vehicleID string, opts apptest.Vars) apptest.Response {
	t.Helper()
	vars := apptest.Vars{"v": vehicleID}
	if opts != nil {
		vars["o"] = opts
	}
	return env.Do(t, token, `mutation($v: ID!, $o: TrackingLinkOptionsInput) { createTrackingLink(vehicleId: $v, options: $o) { `+staffLinkFields+` } }`, vars)
}

// createLink creates the vehicle's tracking link (opts nil: the defaults).
func createLink(t testing.TB, env *apptest.Env, token, vehicleID string, opts apptest.Vars) staffLink {
	t.Helper()
	var out struct{ CreateTrackingLink staffLink }
	createLinkRes(t, env, token, vehicleID, opts).Decode(t, &out)
	return out.CreateTrackingLink
}

// updateLinkRes changes the options of the vehicle's tracking link and
// returns the answer as it is.
func updateLinkRes(t testing.TB, env *apptest.Env, token, vehicleID string, opts apptest.Vars) apptest.Response {
	t.Helper()
	return env.Do(t, token, `mutation($v: ID!, $o: TrackingLinkOptionsInput!) { updateTrackingLink(vehicleId: $v, options: $o) { `+staffLinkFields+` } }`,
		apptest.Vars{"v": vehicleID, "o": opts})
}

// updateLink changes the options of the vehicle's tracking link.
func updateLink(t testing.TB, env *apptest.Env, token, vehicleID string, opts apptest.Vars) staffLink {
	t.Helper()
	var out struct{ UpdateTrackingLink staffLink }
	updateLinkRes(t, env, token, vehicleID, opts).Decode(t, &out)
	return out.UpdateTrackingLink
}

// ---- the customer's view ----

// publicPhoto and publicView are a PublicTracking (apptest.PublicQuery)
// as the customer gets it.
type publicPhoto struct {
	URL     string `json:"url"`
	Caption *string
	Width   *int
	Height  *int
}

type publicView struct {
	Organization struct {
		Name    string
		LogoURL *string `json:"logoUrl"`
		Country string
		Locale  string
	}
	Vehicle struct {
		Year  int
		Make  string
		Model string
		Title string
	}
	HeroPhoto *publicPhoto
	Progress  *struct {
		Current string
		Stages  []struct {
			Stage   string
			Label   string
			Reached bool
			Current bool
		}
	}
	EstimatedArrival *string
	Notes            []struct {
		Body      string
		CreatedAt time.Time
	}
	Photos    []publicPhoto
	ExpiresAt *time.Time
}

// publicTrackingRes asks publicTracking anonymously, as the customer page
// does.
func publicTrackingRes(t *testing.T, env *apptest.Env, slug string) apptest.Response {
	t.Helper()
	return env.Do(t, "", apptest.PublicQuery, apptest.Vars{"slug": slug})
}

// publicTracking is publicTracking(slug) for an anonymous caller; nil when
// the link is not available. Any error or a status other than 200 fails.
func publicTracking(t *testing.T, env *apptest.Env, slug string) *publicView {
	t.Helper()
	res := publicTrackingRes(t, env, slug)
	if res.Status != http.StatusOK {
		t.Fatalf("publicTracking: status %d, want 200; body: %s", res.Status, res.Body)
	}
	var out struct{ PublicTracking *publicView }
	res.Decode(t, &out)
	return out.PublicTracking
}

// ---- privacy ----

// noSecrets fails when any of secrets appears in raw (compared
// case-insensitively).
func noSecrets(t *testing.T, what string, raw []byte, secrets []string) {
	t.Helper()
	low := bytes.ToLower(raw)
	for _, s := range secrets {
		if bytes.Contains(low, bytes.ToLower([]byte(s))) {
			t.Errorf("%s contains the private value %q:\n%.2000s", what, s, raw)
		}
	}
}

// ---- the cache's listener ----

// cutDialer opens a listener's connections, or refuses to while cut.
type cutDialer struct{ cut atomic.Bool }

func (d *cutDialer) Dial(network, address string) (net.Conn, error) {
	return d.DialTimeout(network, address, 0)
}

func (d *cutDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	if d.cut.Load() {
		return nil, errors.New("connection cut by the test")
	}
	return net.DialTimeout(network, address, timeout)
}

// disconnect cuts off the listener of env (built with ListenDialer d): no
// new connection, and the current one killed by the server. It returns
// once env has stopped using its cache.
func (d *cutDialer) disconnect(t *testing.T, env *apptest.Env) {
	t.Helper()
	d.cut.Store(true)
	var killed int
	// The function is called in the select list, so only for the rows
	// the WHERE clause kept (in a WHERE clause it could be called first).
	if err := testDB.GetContext(context.Background(), &killed, `SELECT count(*) FROM (
		SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
		 WHERE datname = current_database() AND application_name = $1) t WHERE ok`, env.ListenerName); err != nil || killed != 1 {
		t.Fatalf("terminate the listener's backend: %d terminated, %v", killed, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for env.Tracking.Caching() {
		if time.Now().After(deadline) {
			t.Fatal("the cache is still in use 5s after its listener's connection was killed")
		}
		time.Sleep(time.Millisecond)
	}
}

// reconnect lets env's listener connect again and returns once env uses
// its cache again.
func (d *cutDialer) reconnect(t *testing.T, env *apptest.Env) {
	t.Helper()
	d.cut.Store(false)
	deadline := time.Now().Add(10 * time.Second)
	for !env.Tracking.Caching() {
		if time.Now().After(deadline) {
			t.Fatal("the cache is still off 10s after the listener could reconnect")
		}
		time.Sleep(time.Millisecond)
	}
}

// ---- raw requests and logs ----

// graphQLBody is the JSON body of a GraphQL request.
func graphQLBody(query string, vars apptest.Vars) []byte {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return b
}

// postGraphQL POSTs a GraphQL JSON request (token "": anonymous) and reads
// the whole answer. It returns an error rather than failing the test, so
// that goroutines other than the test's may call it.
func postGraphQL(env *apptest.Env, token, query string, vars apptest.Vars) (*http.Response, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, env.BaseURL+"/graphql", bytes.NewReader(graphQLBody(query, vars)))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := env.Server.Client().Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res, raw, err
}

// logBuffer collects a server's log output; the server writes to it from
// its own goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logLine is the JSON log line of the request with X-Request-Id id,
// without what differs between any two requests (id, time, duration).
func logLine(t *testing.T, logs *logBuffer, id string) map[string]any {
	t.Helper()
	for l := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(l), &rec) == nil && rec["id"] == id {
			delete(rec, "id")
			delete(rec, "time")
			delete(rec, "duration_ms")
			return rec
		}
	}
	t.Fatalf("no log line for request %s", id)
	return nil
}
