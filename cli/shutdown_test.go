package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

var shuttingDownRE = regexp.MustCompile(`"msg":"(shutting down)"`)

// TestShutdownWithUploadInFlight: on SIGTERM (ctx cancelled) /readyz turns
// 503 while requests are still served, an upload whose body is still
// arriving completes, and serve returns nil within the grace period.
func TestShutdownWithUploadInFlight(t *testing.T) {
	t.Parallel()
	const drain = 2 * time.Second
	env := testEnv(t, map[string]string{"SHUTDOWN_DRAIN_DELAY": drain.String(), "SHUTDOWN_TIMEOUT": "20s"})
	org := createOrgJSON(t, env, randomEmail())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- Run(ctx, []string{"serve"}, env, &stdout, &stderr) }()
	base := "http://" + waitFor(t, "the listening log line", &stderr, listeningRE, done)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}

	gql := func(query string, vars map[string]any) map[string]any {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, _ := http.NewRequest("POST", base+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+org.Token)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out["errors"] != nil {
			t.Fatalf("%s: %v %v", query, out, err)
		}
		return out
	}
	created := gql(`mutation { createVehicle(input: {year: 2019, make: "Toyota", model: "Hilux"}) { id } }`, nil)
	vehicleID := created["data"].(map[string]any)["createVehicle"].(map[string]any)["id"].(string)

	// The upload: its operations and the first half of the file go at
	// once, the rest only when finish is closed.
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	var file bytes.Buffer
	if err := png.Encode(&file, img); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	finish := make(chan struct{})
	firstHalfSent := make(chan struct{})
	go func() {
		_ = mw.WriteField("operations", fmt.Sprintf(`{"query":"mutation ($v: ID!, $f: Upload!) { uploadVehiclePhoto(vehicleId: $v, file: $f) { id width } }","variables":{"v":%q,"f":null}}`, vehicleID))
		_ = mw.WriteField("map", `{"0":["variables.f"]}`)
		fw, _ := mw.CreateFormFile("0", "photo.png")
		half := file.Len() / 2
		_, _ = fw.Write(file.Bytes()[:half])
		close(firstHalfSent)
		<-finish
		_, _ = fw.Write(file.Bytes()[half:])
		_ = mw.Close()
		_ = pw.Close()
	}()
	type result struct {
		status int
		body   string
		err    error
	}
	uploaded := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("POST", base+"/graphql", pr)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("GraphQL-Preflight", "1")
		req.Header.Set("Authorization", "Bearer "+org.Token)
		res, err := client.Do(req)
		if err != nil {
			uploaded <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		uploaded <- result{status: res.StatusCode, body: string(b)}
	}()
	<-firstHalfSent
	time.Sleep(200 * time.Millisecond) // let the server start on the request

	signalled := time.Now()
	cancel() // what SIGTERM does
	readyDown := false
	for time.Since(signalled) < drain {
		res, err := client.Get(base + "/readyz")
		if err != nil {
			t.Fatalf("/readyz during the drain: %v", err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusServiceUnavailable {
			readyDown = true
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !readyDown {
		t.Fatal("/readyz did not turn 503 during the drain delay")
	}
	if res, err := client.Get(base + "/healthz"); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("/healthz during the drain: %v %v", res, err)
	}

	waitFor(t, "the shutting-down log line", &stderr, shuttingDownRE, done)
	select {
	case err := <-done:
		t.Fatalf("serve returned with an upload in flight: %v", err)
	case r := <-uploaded:
		t.Fatalf("the upload ended before its body was sent: %+v", r)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := client.Get(base + "/healthz"); err == nil {
		t.Error("a new connection was accepted after the listener closed")
	}

	close(finish)
	select {
	case r := <-uploaded:
		if r.err != nil || r.status != http.StatusOK || !strings.Contains(r.body, `"width":64`) || strings.Contains(r.body, `"errors"`) {
			t.Errorf("the in-flight upload: %+v", r)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the in-flight upload got no answer")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v, want nil after a graceful shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return after the upload finished")
	}
	if took := time.Since(signalled); took > drain+15*time.Second {
		t.Errorf("shutdown took %v", took)
	}
	logs := stderr.String()
	for _, want := range []string{`"msg":"draining"`, `"msg":"stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("no %s line in the logs:\n%s", want, logs)
		}
	}
}
