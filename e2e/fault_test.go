package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"importops/apptest"
	"importops/config"
	"importops/db"
	"importops/db/dbtest"
)

// ftProxy is a TCP proxy the test controls, between the server and
// PostgreSQL. Cut drops every connection and refuses new ones at once (as
// a database that went away); Restore lets connections through again.
type ftProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]bool
}

func ftNewProxy(t *testing.T, target string) *ftProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &ftProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.Cut() })
	go p.serve()
	return p
}

func (p *ftProxy) Addr() string { return p.ln.Addr().String() }

func (p *ftProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.pipe(c)
	}
}

func (p *ftProxy) pipe(client net.Conn) {
	if !p.track(client) {
		client.Close()
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(server) {
		client.Close()
		if server != nil {
			server.Close()
		}
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(server, client); done <- struct{}{} }()
	go func() { _, _ = io.Copy(client, server); done <- struct{}{} }()
	<-done
	client.Close()
	server.Close()
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}

// track records c unless the proxy is cut.
func (p *ftProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	p.conns[c] = true
	return true
}

func (p *ftProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *ftProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// ftWithin polls check until it returns "" or d has passed, and returns
// how long it took.
func ftWithin(t *testing.T, d time.Duration, what string, check func() string) time.Duration {
	t.Helper()
	start := time.Now()
	last := ""
	for time.Since(start) < d {
		if last = check(); last == "" {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v: %s", what, d, last)
	return 0
}

// ftInternal asserts a clean internal error, fast.
func ftInternal(t *testing.T, what string, r secResponse, took time.Duration) {
	t.Helper()
	if took > 3*time.Second {
		t.Errorf("%s took %v during the outage, want a fast failure", what, took)
	}
	if len(r.errors) == 0 || rlCode(r) != "INTERNAL_SERVER_ERROR" || r.errors[0].Message != "internal error" {
		t.Errorf("%s during the outage: %d %s, want internal error / INTERNAL_SERVER_ERROR", what, r.status, secShort(r.body))
	}
	low := strings.ToLower(string(r.body))
	for _, leak := range append(stLeaks, "dial", "connection", "eof", "127.0.0.1") {
		if strings.Contains(low, leak) {
			t.Errorf("%s: the answer contains %q: %s", what, leak, secShort(r.body))
		}
	}
}

// TestFaultDatabaseOutage puts a proxy between the server and PostgreSQL,
// cuts it and restores it: /healthz stays 200, /readyz turns 503 within
// seconds, requests fail fast with a clean internal error, and everything
// recovers by itself once the database is back.
func TestFaultDatabaseOutage(t *testing.T) {
	u, err := url.Parse(dbtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := ftNewProxy(t, u.Host)
	u.Host = proxy.Addr()
	conn, err := db.Open(context.Background(), u.String(), db.PoolConfig{
		MaxOpen: 10, ConnectTimeout: 2 * time.Second, StatementTimeout: 5 * time.Second,
		LockTimeout: 3 * time.Second, IdleInTxSessionTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	env := apptest.NewWith(t, conn, apptest.Options{PublicCacheSize: -1}) // every lookup reads the database
	org := env.NewOrg(t, "Outage Imports", "NZ")
	t.Parallel()
	var v struct{ CreateVehicle struct{ ID string } }
	env.Do(t, org.Token, `mutation { createVehicle(input: {year: 2019, make: "Toyota", model: "Hilux"}) { id } }`, nil).Decode(t, &v)
	var link struct{ CreateTrackingLink struct{ Slug string } }
	env.Do(t, org.Token, `mutation ($v: ID!) { createTrackingLink(vehicleId: $v) { slug } }`, apptest.Vars{"v": v.CreateVehicle.ID}).Decode(t, &link)
	slug := link.CreateTrackingLink.Slug

	get := func(path string) int { return secSend(t, env, "GET", path, nil, nil).status }
	working := func() string {
		if s := get("/readyz"); s != http.StatusOK {
			return "/readyz " + http.StatusText(s)
		}
		if r := secPost(t, env, org.Token, `{ viewer { user { id } } }`, nil); len(r.errors) > 0 {
			return "viewer: " + string(r.body)
		}
		if r := secPost(t, env, "", rlPublic, apptest.Vars{"s": slug}); len(r.errors) > 0 || !strings.Contains(string(r.body), "Hilux") {
			return "publicTracking: " + string(r.body)
		}
		if s := get("/t/" + slug); s != http.StatusOK {
			return "/t/: " + http.StatusText(s)
		}
		return ""
	}
	if msg := working(); msg != "" {
		t.Fatalf("before the outage: %s", msg)
	}

	proxy.Cut()
	took := ftWithin(t, 5*time.Second, "/readyz turns 503", func() string {
		if s := get("/readyz"); s != http.StatusServiceUnavailable {
			return http.StatusText(s)
		}
		return ""
	})
	t.Logf("/readyz turned 503 %v after the cut", took)
	if s := get("/healthz"); s != http.StatusOK {
		t.Errorf("/healthz during the outage: %d, want 200", s)
	}
	timed := func(f func() secResponse) (secResponse, time.Duration) {
		start := time.Now()
		r := f()
		return r, time.Since(start)
	}
	r, d := timed(func() secResponse { return secPost(t, env, org.Token, `{ viewer { user { id } } }`, nil) })
	ftInternal(t, "a staff query", r, d)
	r, d = timed(func() secResponse { return secPost(t, env, "", rlPublic, apptest.Vars{"s": slug}) })
	ftInternal(t, "publicTracking", r, d)
	r, d = timed(func() secResponse {
		return secPost(t, env, "", rlLogin, apptest.Vars{"e": org.Email, "p": org.Password})
	})
	ftInternal(t, "login", r, d)
	r, d = timed(func() secResponse { return secSend(t, env, "GET", "/t/"+slug, nil, nil) })
	if r.status != http.StatusInternalServerError || d > 3*time.Second || strings.Contains(string(r.body), "pq:") {
		t.Errorf("the page during the outage: %d after %v", r.status, d)
	}

	proxy.Restore()
	took = ftWithin(t, 15*time.Second, "recovery without a restart", working)
	t.Logf("recovered %v after the database came back", took)
}

// TestFaultDatabaseSessionLimits: every session carries the configured
// timeouts, a statement over statement_timeout is cancelled by the
// server, a connection that never answers fails within connect_timeout,
// and a request's context cancels its query in the server too.
func TestFaultDatabaseSessionLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Open(ctx, dbtest.URL(t), db.PoolConfig{
		StatementTimeout: cfg.DBStatementTimeout, LockTimeout: cfg.DBLockTimeout,
		IdleInTxSessionTimeout: cfg.DBIdleInTxSessionTimeout, ConnectTimeout: cfg.DBConnectTimeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for setting, want := range map[string]string{"statement_timeout": "5s", "lock_timeout": "3s", "idle_in_transaction_session_timeout": "10s"} {
		var got string
		if err := conn.GetContext(ctx, &got, "SHOW "+setting); err != nil || got != want {
			t.Errorf("%s = %q (%v), want %q, the default", setting, got, err, want)
		}
	}

	t.Run("statement_timeout", func(t *testing.T) {
		short, err := db.Open(ctx, dbtest.URL(t), db.PoolConfig{StatementTimeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer short.Close()
		start := time.Now()
		_, err = short.ExecContext(ctx, "SELECT pg_sleep(3)")
		var pqErr *pq.Error
		if !errors.As(err, &pqErr) || pqErr.Code != "57014" || time.Since(start) > 2*time.Second {
			t.Errorf("a 3 s statement under a 200 ms statement_timeout: %v after %v", err, time.Since(start))
		}
	})

	t.Run("connect_timeout", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		u, _ := url.Parse(dbtest.URL(t))
		u.Host = ln.Addr().String()
		start := time.Now()
		if _, err := db.Open(ctx, u.String(), db.PoolConfig{ConnectTimeout: time.Second}); err == nil || time.Since(start) > 4*time.Second {
			t.Errorf("a database that never answers: %v after %v, want an error within the 1 s connect_timeout", err, time.Since(start))
		}
	})

	t.Run("a cancelled context cancels the query", func(t *testing.T) {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		marker := "ft_cancel_" + hex.EncodeToString(b)
		qctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := conn.ExecContext(qctx, "SELECT pg_sleep(4) /* "+marker+" */")
		if err == nil || time.Since(start) > 2*time.Second {
			t.Fatalf("a query whose context ended: %v after %v", err, time.Since(start))
		}
		ftWithin(t, 2*time.Second, "the server stops the query", func() string {
			var n int
			if err := testDB.GetContext(ctx, &n, `SELECT count(*) FROM pg_stat_activity
				WHERE pid <> pg_backend_pid() AND state = 'active' AND query LIKE '%' || $1 || '%'`, marker); err != nil {
				return err.Error()
			}
			if n > 0 {
				return "still running"
			}
			return ""
		})
	})
}
