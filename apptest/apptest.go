// Package apptest runs the real server (real handler, real PostgreSQL,
// real HTTP on loopback) for end-to-end tests, with helpers to call it as
// a client would.
package apptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/crypto/bcrypt"

	"importops/auth"
	"importops/config"
	"importops/db"
	"importops/db/dbtest"
	"importops/domain"
	"importops/httpapi"
	"importops/httpserver"
	"importops/media"
	"importops/opens"
	"importops/tracking"
)

// Env is one running server over a test database.
type Env struct {
	Store    *db.Store
	Server   *Server
	BaseURL  string
	MediaDir string
	Tracking *tracking.Service
	// Media is where the server stores uploads.
	Media media.Storage
	// ListenerName is the application_name of the connection that keeps
	// Tracking's cache in step (pg_stat_activity), when it is the Env's
	// own (Options.OwnListener).
	ListenerName string
	// Opens counts the server's tracking-link opens (nil with
	// OPEN_COUNTING=off); flushed every second.
	Opens *opens.Counter
	// Passwords hashes as the server does: at bcrypt's least cost unless
	// Options.Env sets BCRYPT_COST (tests are not about hashing cost).
	Passwords *auth.Passwords

	api *httpapi.Handler
}

// TestSecretKey is the secret the Env's server signs URLs with.
const TestSecretKey = "test-secret-key-test-secret-key!"

// OpenStreams is the number of subscription streams the server has open.
func (e *Env) OpenStreams() int { return e.api.OpenStreams() }

// Options change how New builds the server.
type Options struct {
	// Media replaces the default storage, a fresh directory (MediaDir).
	Media media.Storage
	// PublicCacheSize sizes the public-view cache, as PUBLIC_CACHE_SIZE
	// does; 0 is 1000, negative turns the cache off. Like the server, the
	// Env uses its cache only while a listener is connected: New waits for
	// that.
	PublicCacheSize int
	// OwnListener gives the Env a LISTEN connection of its own, as each
	// server replica has, named ListenerName and opened through
	// ListenDialer when set. Otherwise the Envs of a test binary share
	// one listener per database (one connection instead of one per test).
	OwnListener  bool
	ListenDialer pq.Dialer
	// Env sets configuration variables, as the environment would; by
	// default rate limits are off (RATE_LIMITS=off) and APP_ENV is
	// development, and BCRYPT_COST is bcrypt's least. E.g.
	// {"RATE_LIMITS": "on", "TRUSTED_PROXIES": "127.0.0.1"}.
	Env map[string]string
	// Logger receives the server's logs; by default they are discarded.
	Logger *slog.Logger
	// Tracer traces the server's requests and GraphQL operations (and
	// SQL statements, when conn was opened with it); nil: off.
	Tracer trace.TracerProvider
	// OnServed is the handler's hook for every public answer served
	// (httpapi.Deps.OnServed).
	OnServed func(linkID string, r *http.Request)
}

// New starts a server on conn (from dbtest.Main). It is closed when t ends.
func New(t testing.TB, conn *sqlx.DB) *Env {
	t.Helper()
	return NewWith(t, conn, Options{})
}

// NewWith is New with options.
func NewWith(t testing.TB, conn *sqlx.DB, opts Options) *Env {
	t.Helper()
	mediaDir := t.TempDir()
	store := db.NewStore(conn)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg, err := config.FromEnv(func(k string) string {
		if v, ok := opts.Env[k]; ok {
			return v
		}
		switch k {
		case "PUBLIC_BASE_URL":
			return base
		case "MEDIA_DIR":
			return mediaDir
		case "RATE_LIMITS":
			return "off"
		case "BCRYPT_COST":
			return strconv.Itoa(bcrypt.MinCost)
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	size := opts.PublicCacheSize
	if size == 0 {
		size = 1000
	}
	svc := tracking.NewCachedService(store, base, max(size, 0))
	var listenerName string
	if size > 0 {
		dbURL := dbtest.URL(t)
		if opts.OwnListener {
			listenerName = "apptest-listener-" + randomHex()
			l := svc.Listen(testListenConfig(dbURL, listenerName, opts.ListenDialer))
			t.Cleanup(func() { l.Close() })
		} else {
			t.Cleanup(sharedListener(dbURL).Add(svc))
		}
		waitCaching(t, svc)
	}
	live.add(svc)
	t.Cleanup(func() { live.remove(svc) })
	storage := opts.Media
	if storage == nil {
		storage = media.Dir{Root: mediaDir}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var counter *opens.Counter
	if cfg.OpenCounting {
		counter = opens.New(store, logger)
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { counter.Run(ctx); close(done) }()
		t.Cleanup(func() { stop(); <-done })
	}
	handler := httpapi.New(httpapi.Deps{
		Config:   cfg,
		Store:    store,
		Media:    storage,
		Signer:   media.NewSigner([]byte(TestSecretKey)),
		Tracking: svc,
		Logger:   logger,
		Tracer:   opts.Tracer,
		OnServed: withOpens(counter, opts.OnServed),
	})
	srv := serve(t, ln, handler, logger)
	return &Env{Store: store, Server: srv, BaseURL: base, MediaDir: mediaDir, Tracking: svc, Media: storage,
		ListenerName: listenerName, Opens: counter, Passwords: auth.NewPasswords(cfg.BcryptCost), api: handler}
}

// Server is an Env's HTTP server: the production http.Server
// (httpserver) with its production limits, on a loopback port.
type Server struct {
	URL     string
	Handler http.Handler
	client  *http.Client
}

// Client is an HTTP client for the server; its connections are closed
// when the test ends.
func (s *Server) Client() *http.Client { return s.client }

func serve(t testing.TB, ln net.Listener, h http.Handler, log *slog.Logger) *Server {
	srv := httpserver.New(h, log)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(func() {
		transport.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := httpserver.Shutdown(ctx, srv); err != nil {
			t.Errorf("server shutdown: %v", err)
		}
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("server: %v", err)
		}
	})
	return &Server{URL: "http://" + ln.Addr().String(), Handler: h, client: &http.Client{Transport: transport}}
}

// testListenConfig reconnects fast, so tests that cut a listener's
// connection do not wait long for it to come back.
func testListenConfig(dbURL, name string, dialer pq.Dialer) tracking.ListenConfig {
	return tracking.ListenConfig{
		DatabaseURL: dbURL, AppName: name, Dialer: dialer,
		MinReconnect: 20 * time.Millisecond, MaxReconnect: 200 * time.Millisecond,
		PingInterval: time.Second,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// shared is the one listener of each test database that Envs without
// their own share; it lives as long as the test binary.
var shared struct {
	sync.Mutex
	byURL map[string]*tracking.Listener
}

func sharedListener(dbURL string) *tracking.Listener {
	shared.Lock()
	defer shared.Unlock()
	if shared.byURL == nil {
		shared.byURL = make(map[string]*tracking.Listener)
	}
	l := shared.byURL[dbURL]
	if l == nil {
		l = tracking.NewListener(testListenConfig(dbURL, "apptest-shared-listener", nil))
		shared.byURL[dbURL] = l
	}
	return l
}

// waitCaching waits until the Env's cache is in use: its listener has
// connected and LISTEN has been acknowledged.
func waitCaching(t testing.TB, svc *tracking.Service) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !svc.Caching() {
		if time.Now().After(deadline) {
			t.Fatal("the public cache's listener did not connect within 15s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// live are the tracking services of the running Envs of this test binary.
var live liveServices

type liveServices struct {
	sync.Mutex
	m map[*tracking.Service]struct{}
}

func (l *liveServices) add(s *tracking.Service) {
	l.Lock()
	defer l.Unlock()
	if l.m == nil {
		l.m = make(map[*tracking.Service]struct{})
	}
	l.m[s] = struct{}{}
}

func (l *liveServices) remove(s *tracking.Service) {
	l.Lock()
	defer l.Unlock()
	delete(l.m, s)
}

// ExpireLink moves the expiry of the link with slug into the past,
// directly in the database: the API refuses a past expiresAt, and waiting
// for a near-future one would make tests slow and flaky. Like every write
// that changes a public view it announces the change in the same
// statement, and it drops the link from the cache of every running Env at
// once, as a write through the store does for its own server.
func ExpireLink(t testing.TB, conn *sqlx.DB, slug string) {
	t.Helper()
	var vehicleID string
	err := conn.GetContext(context.Background(), &vehicleID, `
		WITH l AS (UPDATE tracking_links SET expires_at = now() - interval '1 minute'
		            WHERE slug = $1 RETURNING vehicle_id)
		SELECT l.vehicle_id FROM l, pg_notify($2, 'vehicle:' || l.vehicle_id)`, slug, db.PublicChannel)
	if err != nil {
		t.Fatalf("expire link: %v", err)
	}
	live.Lock()
	defer live.Unlock()
	for s := range live.m {
		s.Invalidate(db.VehicleKey(vehicleID))
	}
}

// Org is an organization with its owner's bearer token.
type Org struct {
	ID, UserID, Email, Password, Token string
}

// NewOrg creates an ACTIVE organization and a token for its owner.
func (e *Env) NewOrg(t testing.TB, name, country string) Org {
	t.Helper()
	email := "owner-" + randomHex() + "@example.com"
	password := "correct horse battery"
	hash, err := e.Passwords.Hash(password)
	if err != nil {
		t.Fatal(err)
	}
	org, user, err := e.Store.CreateOrganization(context.Background(), db.NewOrganization{
		Name: name, Country: country, OwnerEmail: email, OwnerName: "Owner of " + name, OwnerPasswordHash: hash,
	})
	if err != nil {
		t.Fatalf("create organization: %v", err)
	}
	token, tokenHash := auth.NewToken()
	if err := e.Store.CreateToken(context.Background(), user.ID, tokenHash); err != nil {
		t.Fatal(err)
	}
	return Org{ID: org.ID, UserID: user.ID, Email: email, Password: password, Token: token}
}

// Error is one GraphQL error as the client receives it.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Response is a GraphQL response with its raw bytes.
type Response struct {
	Status int
	Body   []byte
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
}

// Code is the extensions.code of the first error, "" when there is none.
func (r Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// Decode unmarshals data into v, failing the test on any GraphQL error.
func (r Response) Decode(t testing.TB, v any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected GraphQL errors: %s", r.Body)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode data %s: %v", r.Data, err)
	}
}

// Vars are GraphQL variables.
type Vars = map[string]any

// Do POSTs a GraphQL operation; token "" is an anonymous caller.
func (e *Env) Do(t testing.TB, token, query string, vars Vars) Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.BaseURL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return e.send(t, req, token)
}

// Upload sends a GraphQL multipart request with one file bound to the
// variable fileVar.
func (e *Env) Upload(t testing.TB, token, query string, vars Vars, fileVar, filename string, content []byte) Response {
	t.Helper()
	var buf bytes.Buffer
	contentType := MultipartUpload(&buf, query, vars, fileVar, filename, content)
	req, _ := http.NewRequest(http.MethodPost, e.BaseURL+"/graphql", &buf)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("GraphQL-Preflight", "1")
	return e.send(t, req, token)
}

// MultipartUpload writes to buf the body of a GraphQL multipart request
// with one file bound to the variable fileVar, and returns its
// Content-Type.
func MultipartUpload(buf *bytes.Buffer, query string, vars Vars, fileVar, filename string, content []byte) string {
	if vars == nil {
		vars = Vars{}
	}
	vars[fileVar] = nil
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	mw := multipart.NewWriter(buf)
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", fmt.Sprintf(`{"0":["variables.%s"]}`, fileVar))
	fw, _ := mw.CreateFormFile("0", filename)
	_, _ = fw.Write(content)
	_ = mw.Close()
	return mw.FormDataContentType()
}

func (e *Env) send(t testing.TB, req *http.Request, token string) Response {
	t.Helper()
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.Server.Client().Do(req)
	if err != nil {
		t.Fatalf("POST /graphql: %v", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := Response{Status: res.StatusCode, Body: raw}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response is not JSON (status %d): %s", res.StatusCode, raw)
	}
	out.Status, out.Body = res.StatusCode, raw
	return out
}

// Get fetches a path (or absolute URL on this server) anonymously.
func (e *Env) Get(t testing.TB, pathOrURL string) (*http.Response, []byte) {
	t.Helper()
	u := pathOrURL
	if strings.HasPrefix(u, "/") {
		u = e.BaseURL + u
	}
	res, err := e.Server.Client().Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// withOpens is the server's hook for public answers: the open counter,
// then the test's own hook.
func withOpens(c *opens.Counter, next func(string, *http.Request)) func(string, *http.Request) {
	count := c.Hook(httpapi.ClientAddr)
	switch {
	case count == nil:
		return next
	case next == nil:
		return count
	}
	return func(linkID string, r *http.Request) {
		count(linkID, r)
		next(linkID, r)
	}
}

// AddMember adds a member with role to org, through an invite accepted in
// the store, and signs them in: the result has their id, email, password
// and a bearer token, and ID is org's.
func (e *Env) AddMember(t testing.TB, org Org, role domain.Role) Org {
	t.Helper()
	ctx := context.Background()
	email := strings.ToLower(string(role)) + "-" + randomHex() + "@example.com"
	password := "member password " + randomHex()
	inviteToken, inviteHash := auth.NewToken()
	if _, err := e.Store.CreateInvite(ctx, db.NewInvite{
		OrganizationID: org.ID, Email: email, Role: role, InvitedBy: &org.UserID,
		TokenHash: inviteHash, ExpiresAt: time.Now().Add(time.Hour),
	}); err != nil {
		t.Fatalf("invite %s: %v", role, err)
	}
	hash, err := e.Passwords.Hash(password)
	if err != nil {
		t.Fatal(err)
	}
	token, tokenHash := auth.NewToken()
	user, err := e.Store.AcceptInvite(ctx, db.Acceptance{
		TokenHash: auth.HashToken(inviteToken), Name: "Member " + email, PasswordHash: hash, SessionTokenHash: tokenHash,
	})
	if err != nil {
		t.Fatalf("accept invite as %s: %v", role, err)
	}
	return Org{ID: org.ID, UserID: user.ID, Email: email, Password: password, Token: token}
}
