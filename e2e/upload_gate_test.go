package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"importops/apptest"
)

// multipartStart is the beginning of an upload request, cut before the
// file's end, so the server has to keep waiting for the rest.
func multipartStart(t *testing.T, vehicleID string) (contentType string, head []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	ops, _ := json.Marshal(map[string]any{
		"query":     `mutation($v: ID!, $f: Upload!) { uploadVehiclePhoto(vehicleId: $v, file: $f) { id } }`,
		"variables": map[string]any{"v": vehicleID, "f": nil},
	})
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0":["variables.f"]}`)
	fw, _ := mw.CreateFormFile("0", "big.jpg")
	_, _ = fw.Write(bytes.Repeat([]byte{0xff}, 64<<10))
	return mw.FormDataContentType(), buf.Bytes()
}

func TestAnonymousUploadIsRefusedBeforeItsBodyIsRead(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Upload Gate Imports", "NZ")
	t.Parallel()
	vehicleID := newVehicle(t, env, org.Token)
	contentType, head := multipartStart(t, vehicleID)

	// The body never ends: an answer proves the server did not wait for it.
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write(head) //nolint:errcheck // the server may refuse before reading
	req, _ := http.NewRequest(http.MethodPost, env.BaseURL+"/graphql", pr)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("GraphQL-Preflight", "1")
	res, err := env.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out apptest.Response
	raw, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(raw, &out)
	if res.StatusCode != http.StatusUnauthorized || out.Code() != "UNAUTHENTICATED" {
		t.Fatalf("anonymous upload: status %d, body %s", res.StatusCode, raw)
	}
}

func TestUploadsInFlightAreBounded(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Upload Flood Imports", "NZ")
	vehicleID := newVehicle(t, env, org.Token)
	contentType, head := multipartStart(t, vehicleID)

	start := func() (*http.Response, *io.PipeWriter, chan struct{}) {
		pr, pw := io.Pipe()
		req, _ := http.NewRequest(http.MethodPost, env.BaseURL+"/graphql", pr)
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("GraphQL-Preflight", "1")
		req.Header.Set("Authorization", "Bearer "+org.Token)
		sent := make(chan struct{})
		go func() {
			_, _ = pw.Write(head)
			close(sent)
		}()
		var res *http.Response
		done := make(chan struct{})
		go func() {
			res, _ = env.Server.Client().Do(req)
			close(done)
		}()
		return res, pw, done
	}

	// Eight stalled uploads take every slot; their bodies have begun to be
	// read once their first bytes were accepted.
	var writers []*io.PipeWriter
	var dones []chan struct{}
	for i := 0; i < 8; i++ {
		_, pw, done := start()
		writers = append(writers, pw)
		dones = append(dones, done)
	}
	defer func() {
		for _, pw := range writers {
			pw.CloseWithError(io.ErrUnexpectedEOF)
		}
		for _, d := range dones {
			<-d
		}
	}()

	// The ninth is refused at once; poll until the eight hold their slots.
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodPost, env.BaseURL+"/graphql", bytes.NewReader(head))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("GraphQL-Preflight", "1")
		req.Header.Set("Authorization", "Bearer "+org.Token)
		res, err := env.Server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusTooManyRequests {
			var out apptest.Response
			_ = json.Unmarshal(raw, &out)
			if out.Code() != "RATE_LIMITED" || res.Header.Get("Retry-After") == "" {
				t.Fatalf("refusal without RATE_LIMITED and Retry-After: %s", raw)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a ninth upload was not refused while eight were in flight (last status %d: %s)", res.StatusCode, raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
