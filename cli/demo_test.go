package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	demoTokenRE   = regexp.MustCompile(`Staff token:\s+(\S+)`)
	demoVehicleRE = regexp.MustCompile(`Vehicle:\s+.*, id (\S+)`)
	demoURLRE     = regexp.MustCompile(`Tracking URL:\s+(\S+)`)
	demoLocalRE   = regexp.MustCompile(`GraphQL endpoint:\s+(\S+)/graphql`)
	demoStaffRE   = regexp.MustCompile(`Staff sign-in:\s+(\S+) / (\S+)`)
)

type demoRun struct {
	token, vehicleID, trackingURL, local, stdout string
}

// runDemo starts `importops demo`, waits for its summary, checks the
// server answers, and stops it.
func runDemo(t *testing.T, env func(string) string) demoRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- Run(ctx, []string{"demo"}, env, &stdout, &stderr) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("demo returned %v after shutdown", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("demo did not stop")
		}
	}()
	waitFor(t, "the demo's summary", &stdout, regexp.MustCompile(`(Press Ctrl\+C)`), done)
	out := stdout.String()
	r := demoRun{stdout: out}
	for _, f := range []struct {
		re  *regexp.Regexp
		dst *string
	}{{demoTokenRE, &r.token}, {demoVehicleRE, &r.vehicleID}, {demoURLRE, &r.trackingURL}, {demoLocalRE, &r.local}} {
		m := f.re.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("the demo's summary lacks %s:\n%s", f.re, out)
		}
		*f.dst = m[1]
	}
	for _, want := range []string{demoEmail, demoPassword, "publicTracking"} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo's summary lacks %q:\n%s", want, out)
		}
	}

	// The tracking page is served while the demo runs.
	slug := r.trackingURL[strings.LastIndex(r.trackingURL, "/t/")+len("/t/"):]
	res, err := http.Get(r.local + "/t/" + slug)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), "Land Cruiser") {
		t.Errorf("GET /t/%s: %d\n%s", slug, res.StatusCode, page)
	}
	for _, private := range []string{demoVIN, demoStock, "Deposit received", "68500", "Aroha"} {
		if strings.Contains(string(page), private) {
			t.Errorf("the public page shows the private value %q", private)
		}
	}

	// The printed token is a working staff token.
	req, _ := http.NewRequest(http.MethodPost, r.local+"/graphql",
		strings.NewReader(`{"query":"{ viewer { user { email } } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+r.token)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	viewer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(viewer), demoEmail) {
		t.Errorf("the printed token does not sign in as %s: %s", demoEmail, viewer)
	}

	// The printed STAFF sign-in works, as a STAFF member of the demo
	// organization.
	m := demoStaffRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the demo's summary lacks the staff sign-in:\n%s", out)
	}
	login, _ := json.Marshal(map[string]any{
		"query":     `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { user { role } } }`,
		"variables": map[string]string{"e": m[1], "p": m[2]},
	})
	res, err = http.Post(r.local+"/graphql", "application/json", bytes.NewReader(login))
	if err != nil {
		t.Fatal(err)
	}
	staff, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(staff), `"role":"STAFF"`) {
		t.Errorf("the printed staff sign-in %s / %s does not sign in as STAFF: %s", m[1], m[2], staff)
	}
	return r
}

func TestDemoIsIdempotent(t *testing.T) {
	t.Parallel()
	env := testEnv(t, map[string]string{"PUBLIC_BASE_URL": "https://track.example.com"})
	first := runDemo(t, env)
	if !strings.HasPrefix(first.trackingURL, "https://track.example.com/t/") {
		t.Errorf("tracking URL %q is not under PUBLIC_BASE_URL", first.trackingURL)
	}
	second := runDemo(t, env)
	if second.vehicleID != first.vehicleID || second.trackingURL != first.trackingURL {
		t.Errorf("a second run made new data: vehicle %s→%s, link %s→%s",
			first.vehicleID, second.vehicleID, first.trackingURL, second.trackingURL)
	}
	if second.token == first.token {
		t.Error("a second run printed the same token; each run makes a new one")
	}
	var orgs, vehicles int
	if err := testDB.Get(&orgs, `SELECT count(*) FROM organizations WHERE name = $1`, demoOrgName); err != nil {
		t.Fatal(err)
	}
	if err := testDB.Get(&vehicles, `SELECT count(*) FROM vehicles WHERE vin = $1`, demoVIN); err != nil {
		t.Fatal(err)
	}
	if orgs != 1 || vehicles != 1 {
		t.Errorf("after two runs: %d demo organizations, %d demo vehicles; want 1 and 1", orgs, vehicles)
	}
}
