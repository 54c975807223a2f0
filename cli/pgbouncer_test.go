package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"importops/db/dbtest"
)

// TestPgBouncerTransactionPooling runs two server instances whose pools go
// through a real PgBouncer in transaction pooling mode, with a server pool
// of two connections that every client shares, and whose LISTEN
// connections go straight to PostgreSQL (DATABASE_LISTEN_URL). The core
// flows work through it, and a revoke made through one instance is seen by
// the other.
func TestPgBouncerTransactionPooling(t *testing.T) {
	t.Parallel()
	direct := dbtest.URL(t)
	bouncer := startPgBouncer(t, direct)
	env := testEnv(t, map[string]string{
		"DATABASE_URL":        bouncer,
		"DATABASE_LISTEN_URL": direct,
		"DB_POOL_MODE":        "transaction",
	})
	org := createOrgJSON(t, env, randomEmail())
	a := startServe(t, env)
	b := startServe(t, env)

	var vehicle struct {
		CreateVehicle struct{ ID string }
	}
	a.gql(t, org.Token, `mutation { createVehicle(input: {year: 2019, make: "Toyota", model: "Land Cruiser", stage: IN_TRANSIT, vin: "PGBVIN0000001"}) { id } }`, nil, &vehicle)
	id := vehicle.CreateVehicle.ID
	var note json.RawMessage
	a.gql(t, org.Token, `mutation($v: ID!) { addNote(vehicleId: $v, body: "On the water.", scope: CUSTOMER) { id } }`, map[string]any{"v": id}, &note)
	var link struct {
		CreateTrackingLink struct{ Slug string }
	}
	a.gql(t, org.Token, `mutation($v: ID!) { createTrackingLink(vehicleId: $v, options: {showCustomerNotes: true}) { slug } }`, map[string]any{"v": id}, &link)
	slug := link.CreateTrackingLink.Slug

	// Many requests at once through both instances, public lookups and
	// staff reads (each a token lookup and loads with parameters): more
	// clients than PgBouncer has server connections, so the statements of
	// different sessions share them.
	var wg sync.WaitGroup
	errs := make(chan error, 80)
	for i := range 80 {
		s := []*serveRun{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%4 < 2 {
				if stage, err := s.publicStage(slug); err != nil || stage != "IN_TRANSIT" {
					errs <- fmt.Errorf("publicTracking: stage %q, %v", stage, err)
				}
				return
			}
			out, err := s.post(org.Token, `query($v: ID!) { vehicle(id: $v) { title notes { body } trackingLink { slug } } }`, map[string]any{"v": id})
			if err != nil || !strings.Contains(string(out["data"]), slug) {
				errs <- fmt.Errorf("vehicle: %s, %v", out["data"], err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if code, page := b.get(t, "/t/"+slug); code != http.StatusOK || !strings.Contains(page, "On the water.") {
		t.Fatalf("GET /t/{slug} on the second instance: %d\n%.300s", code, page)
	}

	var updated json.RawMessage
	a.gql(t, org.Token, `mutation($v: ID!) { updateVehicle(id: $v, input: {stage: ARRIVED}) { id } }`, map[string]any{"v": id}, &updated)
	eventually(t, "the second instance shows the new stage", func() bool {
		stage, err := b.publicStage(slug)
		return err == nil && stage == "ARRIVED"
	})

	var revoked json.RawMessage
	a.gql(t, org.Token, `mutation($v: ID!) { revokeTrackingLink(vehicleId: $v) { id } }`, map[string]any{"v": id}, &revoked)
	eventually(t, "the second instance sees the revoke", func() bool {
		stage, err := b.publicStage(slug)
		return err == nil && stage == ""
	})
	if code, _ := b.get(t, "/t/"+slug); code != http.StatusNotFound {
		t.Errorf("GET /t/{slug} after the revoke on the second instance: %d, want 404", code)
	}
}

// startPgBouncer runs Debian's pgbouncer in transaction pooling mode on a
// free loopback port in front of the server of databaseURL, until the test
// ends, and returns databaseURL through it.
func startPgBouncer(t *testing.T, databaseURL string) string {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		bin = "/usr/sbin/pgbouncer" // Debian's, not always on PATH
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("this test needs PgBouncer (%v).\nInstall it with: apt-get install -y pgbouncer   (scripts/test installs it when missing)", err)
		}
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		host, port = u.Host, "5432"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, listenPort, _ := net.SplitHostPort(addr)

	// PgBouncer refuses to run as root: then it drops to postgres (-u),
	// which must be able to read its files.
	dir, err := os.MkdirTemp("", "pgbouncer-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	dbUser := u.User.Username()
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %s
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
default_pool_size = 2
max_client_conn = 500
logfile = %s
`, host, port, listenPort, filepath.Join(dir, "userlist.txt"), filepath.Join(dir, "pgbouncer.log"))
	for name, content := range map[string]string{
		"pgbouncer.ini": ini,
		"userlist.txt":  fmt.Sprintf("%q \"\"\n", dbUser),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{filepath.Join(dir, "pgbouncer.ini")}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			t.Fatalf("PgBouncer does not run as root, and there is no postgres user to run it as: %v", err)
		}
		args = append([]string{"-u", "postgres"}, args...)
	}
	var output bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pgbouncer: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
			t.Logf("pgbouncer's log:\n%s%s", output.String(), log)
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("pgbouncer exited: %v\n%s", err, output.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgbouncer did not listen on %s within 15s:\n%s", addr, output.String())
		}
	}
	through := *u
	through.Host = addr
	return through.String()
}

// serveRun is an `importops serve` running in the test's process.
type serveRun struct {
	base   string
	client *http.Client
}

func startServe(t *testing.T, env func(string) string) *serveRun {
	t.Helper()
	return startServeWith(t, env, func(func()) {})
}

// startServeWith is startServe that hands stop, which shuts the server
// down and waits for it (also run when the test ends), to keep.
func startServeWith(t *testing.T, env func(string) string, keep func(stop func())) *serveRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- Run(ctx, []string{"serve"}, env, &stdout, &stderr) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve: %v\n%s", err, stderr.String())
				}
			case <-time.After(30 * time.Second):
				t.Error("serve did not stop")
			}
			if t.Failed() {
				t.Logf("serve's log:\n%s", stderr.String())
			}
		})
	}
	t.Cleanup(stop)
	keep(stop)
	addr := waitFor(t, "the listening log line", &stderr, listeningRE, done)
	return &serveRun{base: "http://" + addr, client: &http.Client{Timeout: 30 * time.Second}}
}

func (s *serveRun) post(token, query string, vars map[string]any) (map[string]json.RawMessage, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("status %d: %.300s", res.StatusCode, raw)
	}
	if out["errors"] != nil {
		return nil, fmt.Errorf("errors: %s", out["errors"])
	}
	return out, nil
}

func (s *serveRun) gql(t *testing.T, token, query string, vars map[string]any, data any) {
	t.Helper()
	out, err := s.post(token, query, vars)
	if err == nil {
		err = json.Unmarshal(out["data"], data)
	}
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// publicStage is the link's stage as the customer sees it, "" when the
// link is not available.
func (s *serveRun) publicStage(slug string) (string, error) {
	out, err := s.post("", `query($s: String!) { publicTracking(slug: $s) { progress { current } } }`, map[string]any{"s": slug})
	if err != nil {
		return "", err
	}
	var data struct {
		PublicTracking *struct {
			Progress struct{ Current string }
		}
	}
	if err := json.Unmarshal(out["data"], &data); err != nil {
		return "", err
	}
	if data.PublicTracking == nil {
		return "", nil
	}
	return data.PublicTracking.Progress.Current, nil
}

func (s *serveRun) get(t *testing.T, path string) (int, string) {
	t.Helper()
	res, err := s.client.Get(s.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// eventually waits up to 10 s for ok.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
