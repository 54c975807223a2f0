package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"golang.org/x/crypto/bcrypt"

	"importops/auth"
	"importops/config"
	"importops/db"
	"importops/db/dbtest"
	"importops/domain"
)

var testDB *sqlx.DB

func TestMain(m *testing.M) {
	dbtest.Main(m, "cli", &testDB)
}

// testEnv is the environment of a command run against the package's test
// database; extra overrides or adds variables.
func testEnv(t *testing.T, extra map[string]string) func(string) string {
	t.Helper()
	vars := map[string]string{
		"DATABASE_URL": dbtest.URL(t),
		"MEDIA_DIR":    t.TempDir(),
		"LISTEN_ADDR":  "127.0.0.1:0",
		"RATE_LIMITS":  "off",
		"BCRYPT_COST":  "4", // these tests are not about hashing cost
	}
	for k, v := range extra {
		vars[k] = v
	}
	return func(k string) string { return vars[k] }
}

type result struct {
	stdout, stderr string
	err            error
	code           int
	report         string // what main prints on stderr for err
}

func runCLI(t *testing.T, env func(string) string, args ...string) result {
	t.Helper()
	var stdout, stderr, report bytes.Buffer
	err := Run(context.Background(), args, env, &stdout, &stderr)
	code := Report(&report, err)
	return result{stdout: stdout.String(), stderr: stderr.String(), err: err, code: code, report: report.String()}
}

func randomEmail() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "owner-" + hex.EncodeToString(b) + "@example.com"
}

func createOrgJSON(t *testing.T, env func(string) string, email string) createOrgOutput {
	t.Helper()
	r := runCLI(t, env, "admin", "create-org", "--name", "Harbour Imports", "--country", "nz",
		"--owner-email", email, "--owner-password", "correct horse battery")
	if r.err != nil {
		t.Fatalf("create-org: %v (stderr %s)", r.err, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 1 || !strings.HasSuffix(r.stdout, "\n") {
		t.Fatalf("create-org printed %d lines, want exactly one: %q", len(lines), r.stdout)
	}
	var out createOrgOutput
	dec := json.NewDecoder(strings.NewReader(lines[0]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("create-org output is not the contract's JSON: %v: %q", err, lines[0])
	}
	if out.OrganizationID == "" || out.UserID == "" || out.Token == "" {
		t.Fatalf("create-org output has an empty field: %q", lines[0])
	}
	return out
}

func TestCreateOrg(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	email := randomEmail()
	out := createOrgJSON(t, testEnv(t, nil), email)

	store := db.NewStore(testDB)
	owner, err := store.TokenOwner(ctx, auth.HashToken(out.Token))
	if err != nil || owner == nil {
		t.Fatalf("the printed token does not authenticate: owner %v, err %v", owner, err)
	}
	if owner.OrganizationID != out.OrganizationID || owner.UserID != out.UserID || owner.Role != string(domain.RoleOwner) {
		t.Errorf("token owner = %+v, want user %s of organization %s as OWNER", owner, out.UserID, out.OrganizationID)
	}
	org, err := store.Organization(ctx, out.OrganizationID)
	if err != nil {
		t.Fatal(err)
	}
	if org.Name != "Harbour Imports" || org.Country != "NZ" || org.SubscriptionStatus != domain.SubscriptionActive {
		t.Errorf("organization = %+v, want Harbour Imports, NZ, ACTIVE", org)
	}
	user, hash, err := store.UserByEmail(ctx, email)
	if err != nil || user == nil {
		t.Fatalf("owner not stored: %v", err)
	}
	if !auth.NewPasswords(bcrypt.MinCost).Check(hash, "correct horse battery") {
		t.Error("the owner's password does not check against the stored hash")
	}
}

func TestCreateOrgDuplicateEmail(t *testing.T) {
	t.Parallel()
	env := testEnv(t, nil)
	email := randomEmail()
	createOrgJSON(t, env, email)
	r := runCLI(t, env, "admin", "create-org", "--name", "Again", "--country", "AU",
		"--owner-email", email, "--owner-password", "correct horse battery")
	if r.code != ExitFailure || r.stdout != "" {
		t.Fatalf("duplicate email: exit %d, stdout %q; want exit 1 and no output", r.code, r.stdout)
	}
	if !strings.Contains(r.report, "already exists") {
		t.Errorf("message %q does not say the account exists", r.report)
	}
}

func TestSetSubscription(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testEnv(t, nil)
	org := createOrgJSON(t, env, randomEmail())
	store := db.NewStore(testDB)
	status := func() domain.SubscriptionStatus {
		t.Helper()
		o, err := store.Organization(ctx, org.OrganizationID)
		if err != nil {
			t.Fatal(err)
		}
		return o.SubscriptionStatus
	}

	for _, want := range []domain.SubscriptionStatus{domain.SubscriptionLocked, domain.SubscriptionPastDue, domain.SubscriptionActive} {
		r := runCLI(t, env, "admin", "set-subscription", "--org", org.OrganizationID, "--status", string(want))
		if r.err != nil {
			t.Fatalf("set-subscription %s: %v", want, r.err)
		}
		if got := status(); got != want {
			t.Errorf("after set-subscription %s the status is %s", want, got)
		}
		if !strings.Contains(r.stdout, `"subscriptionStatus":"`+string(want)+`"`) {
			t.Errorf("set-subscription printed %q", r.stdout)
		}
	}

	t.Run("bad status", func(t *testing.T) {
		r := runCLI(t, env, "admin", "set-subscription", "--org", org.OrganizationID, "--status", "SUSPENDED")
		if r.code != ExitUsage || !strings.Contains(r.report, "SUSPENDED") {
			t.Errorf("exit %d, message %q; want 2 naming the status", r.code, r.report)
		}
		if got := status(); got != domain.SubscriptionActive {
			t.Errorf("a refused status changed the organization to %s", got)
		}
	})
	t.Run("unknown organization", func(t *testing.T) {
		unknown := "7b0c3f3e-2d9a-4c1e-9a53-6f1d2b3c4d5e"
		r := runCLI(t, env, "admin", "set-subscription", "--org", unknown, "--status", "LOCKED")
		if r.code == ExitOK || !strings.Contains(r.report, unknown) {
			t.Errorf("exit %d, message %q; want non-zero naming the id", r.code, r.report)
		}
	})
	t.Run("malformed id", func(t *testing.T) {
		r := runCLI(t, env, "admin", "set-subscription", "--org", "42", "--status", "LOCKED")
		if r.code != ExitUsage || !strings.Contains(r.report, `"42"`) {
			t.Errorf("exit %d, message %q; want 2 naming the id", r.code, r.report)
		}
	})
}

// TestBadArgumentsWriteNothing runs before the parallel tests, so the
// counts it compares cannot move under it.
func TestBadArgumentsWriteNothing(t *testing.T) {
	ctx := context.Background()
	org := "7b0c3f3e-2d9a-4c1e-9a53-6f1d2b3c4d5e"
	cases := [][]string{
		{"frobnicate"},
		{"--verbose"},
		{"serve", "extra"},
		{"serve", "--port", "80"},
		{"migrate", "now"},
		{"demo", "--fast"},
		{"admin"},
		{"admin", "delete-org"},
		{"admin", "create-org"},
		{"admin", "create-org", "--name", "X", "--country", "NZ", "--owner-email", "a@example.com"},
		{"admin", "create-org", "--name", "X", "--country", "NZ", "--owner-password", "long enough"},
		{"admin", "create-org", "--name", " ", "--country", "NZ", "--owner-email", "a@example.com", "--owner-password", "long enough"},
		{"admin", "create-org", "--name", "X", "--country", "ZZ", "--owner-email", "a@example.com", "--owner-password", "long enough"},
		{"admin", "create-org", "--name", "X", "--country", "NZL", "--owner-email", "a@example.com", "--owner-password", "long enough"},
		{"admin", "create-org", "--name", "X", "--country", "NZ", "--owner-email", "not-an-email", "--owner-password", "long enough"},
		{"admin", "create-org", "--name", "X", "--country", "NZ", "--owner-email", "a@example.com", "--owner-password", "short"},
		{"admin", "create-org", "--name", "X", "--country", "NZ", "--owner-email", "a@example.com", "--owner-password", strings.Repeat("p", 73)},
		{"admin", "create-org", "--name", "X", "--country", "NZ", "--owner-email", "a@example.com", "--owner-password", "long enough", "--plan", "gold"},
		{"admin", "create-org", "--name", "X", "--country", "NZ", "--owner-email", "a@example.com", "--owner-password", "long enough", "stray"},
		{"admin", "create-org", "--name"},
		{"admin", "set-subscription"},
		{"admin", "set-subscription", "--org", org},
		{"admin", "set-subscription", "--status", "LOCKED"},
		{"admin", "set-subscription", "--org", "not-a-uuid", "--status", "LOCKED"},
		{"admin", "set-subscription", "--org", org, "--status", "PAUSED"},
		{"admin", "invite"},
		{"admin", "invite", "--org", org, "--email", "a@example.com"},
		{"admin", "invite", "--org", org, "--role", "STAFF"},
		{"admin", "invite", "--email", "a@example.com", "--role", "STAFF"},
		{"admin", "invite", "--org", "not-a-uuid", "--email", "a@example.com", "--role", "STAFF"},
		{"admin", "invite", "--org", org, "--email", "not-an-email", "--role", "STAFF"},
		{"admin", "invite", "--org", org, "--email", "a@example.com", "--role", "BOSS"},
		{"admin", "invite", "--org", org, "--email", "a@example.com", "--role", "STAFF", "stray"},
	}
	count := func(table string) int {
		t.Helper()
		var n int
		if err := testDB.GetContext(ctx, &n, `SELECT count(*) FROM `+table); err != nil {
			t.Fatal(err)
		}
		return n
	}
	orgs, users, tokens, invites := count("organizations"), count("users"), count("auth_tokens"), count("invites")

	// A database that does not exist must not be created either.
	never := withDatabase(t, dbtest.URL(t), "importops_cli_never_"+randomHex(t))
	for _, args := range cases {
		for _, databaseURL := range []string{dbtest.URL(t), never.url} {
			r := runCLI(t, testEnv(t, map[string]string{"DATABASE_URL": databaseURL}), args...)
			if r.code != ExitUsage {
				t.Errorf("%q: exit %d (%v), want 2", args, r.code, r.err)
			}
			if strings.Count(r.report, "\n") != 1 || len(r.report) < len("importops: x\n") {
				t.Errorf("%q: want one line on stderr, got %q", args, r.report)
			}
			if r.stdout != "" || r.stderr != "" {
				t.Errorf("%q: wrote output besides the error: stdout %q, stderr %q", args, r.stdout, r.stderr)
			}
		}
	}
	if o, u, k, i := count("organizations"), count("users"), count("auth_tokens"), count("invites"); o != orgs || u != users || k != tokens || i != invites {
		t.Errorf("bad arguments wrote to the database: organizations %d→%d, users %d→%d, tokens %d→%d, invites %d→%d",
			orgs, o, users, u, tokens, k, invites, i)
	}
	var exists bool
	if err := testDB.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, never.name); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("bad arguments created database %s", never.name)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"--help"}, {"admin", "create-org", "-h"}} {
		r := runCLI(t, testEnv(t, nil), args...)
		if r.code != ExitOK || !strings.Contains(r.stdout, "admin create-org") {
			t.Errorf("%q: exit %d, stdout %q", args, r.code, r.stdout)
		}
	}
}

func TestBadConfigurationFails(t *testing.T) {
	t.Parallel()
	r := runCLI(t, testEnv(t, map[string]string{"RATE_LIMITS": "maybe"}), "migrate")
	if r.code != ExitFailure || !strings.Contains(r.report, "RATE_LIMITS") {
		t.Errorf("exit %d, message %q; want 1 naming RATE_LIMITS", r.code, r.report)
	}
}

type scratchDB struct{ url, name string }

// withDatabase is databaseURL naming another database, dropped when the
// test ends if something created it.
func withDatabase(t *testing.T, databaseURL, name string) scratchDB {
	t.Helper()
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	t.Cleanup(func() {
		_, _ = testDB.Exec(`DROP DATABASE IF EXISTS ` + pq.QuoteIdentifier(name) + ` WITH (FORCE)`)
	})
	return scratchDB{url: u.String(), name: name}
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	scratch := withDatabase(t, dbtest.URL(t), "importops_cli_migrate_"+randomHex(t))
	env := testEnv(t, map[string]string{"DATABASE_URL": scratch.url})

	first := runCLI(t, env, "migrate")
	if first.err != nil {
		t.Fatalf("first migrate: %v", first.err)
	}
	if !strings.Contains(first.stdout, "applied migrations/0001_init.sql") {
		t.Errorf("first migrate printed %q, want the applied migrations", first.stdout)
	}
	second := runCLI(t, env, "migrate")
	if second.err != nil {
		t.Fatalf("second migrate: %v", second.err)
	}
	if second.stdout != "no pending migrations\n" {
		t.Errorf("second migrate printed %q, want that none were pending", second.stdout)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer goroutine and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls s until re matches, returning the first submatch.
func waitFor(t *testing.T, what string, s fmt.Stringer, re *regexp.Regexp, done <-chan error) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(s.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("the command ended before %s: %v\n%s", what, err, s)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("timed out waiting for %s:\n%s", what, s)
	return ""
}

var listeningRE = regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)

func TestServeShutsDownGracefully(t *testing.T) {
	t.Parallel()
	const secret = "serve-test-secret-key-0123456789abcdef"
	databaseURL := dbtest.URL(t)
	dbPassword := ""
	if u, err := url.Parse(databaseURL); err == nil && os.Getenv("TEST_DATABASE_URL") == "" {
		// The local server trusts loopback, so a password is ignored by
		// it and must still never reach a log line.
		dbPassword = "db-password-never-logged"
		u.User = url.UserPassword(u.User.Username(), dbPassword)
		databaseURL = u.String()
	}
	env := testEnv(t, map[string]string{"SECRET_KEY": secret, "DATABASE_URL": databaseURL})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- Run(ctx, []string{"serve"}, env, &stdout, &stderr) }()
	addr := waitFor(t, "the listening log line", &stderr, listeningRE, done)

	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %d", res.StatusCode)
	}

	// A request whose body is still arriving when the signal comes must
	// be answered before the server stops.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"query":"{ __typename }"}`
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", addr, len(body), body[:5])
	time.Sleep(100 * time.Millisecond) // let the server start on the request
	cancel()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("the server stopped with a request in flight: %v", err)
	default:
	}
	if _, err := io.WriteString(conn, body[5:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request got no response: %v", err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(got), `"__typename":"Query"`) {
		t.Errorf("in-flight request: %d %s", resp.StatusCode, got)
	}

	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after a graceful shutdown, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not return after its context was cancelled")
	}
	logs := stderr.String()
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %q", line)
		}
	}
	if strings.Contains(logs, secret) || (dbPassword != "" && strings.Contains(logs, dbPassword)) {
		t.Errorf("a secret reached the logs:\n%s", logs)
	}
	if !strings.Contains(logs, `"msg":"stopped"`) {
		t.Errorf("no stopped line in the logs:\n%s", logs)
	}
}

func TestGeneratedSecretKeyIsKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := db.NewStore(testDB)
	a, err := secretKey(ctx, configFor(t), store, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := secretKey(ctx, configFor(t), store, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 32 || !bytes.Equal(a, b) {
		t.Errorf("generated keys differ or are not 32 bytes: %x, %x", a, b)
	}
}

func configFor(t *testing.T) config.Config {
	t.Helper()
	cfg, err := config.FromEnv(testEnv(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
