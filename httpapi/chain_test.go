package httpapi

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"importops/config"
	"importops/httpserver"
)

// serveChain serves h behind the full middleware chain (logging, rate
// limits, deadlines) on the production server, until the test ends.
func serveChain(t *testing.T, h http.Handler) string {
	t.Helper()
	cfg, err := config.FromEnv(func(string) string { return "" }) // rate limits on
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	x := New(Deps{Config: cfg, Logger: log})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httpserver.New(x.h.chain(h), log)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := httpserver.Shutdown(ctx, srv); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// A handler behind the chain streams: what it flushes reaches the client
// while it still runs, through http.Flusher (as gqlgen's SSE transport
// asserts it) and http.ResponseController alike.
func TestChainFlushesIncrementally(t *testing.T) {
	read := make(chan struct{}, 2)
	addr := serveChain(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		<-read // the client has it before the handler writes on
		io.WriteString(w, "data: two\n\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("ResponseController.Flush through the chain: %v", err)
		}
		<-read
		io.WriteString(w, "data: three\n\n")
	}))
	res, err := http.Get("http://" + addr + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	for _, want := range []string{"data: one", "data: two", "data: three"} {
		line, err := br.ReadString('\n')
		if err != nil || strings.TrimSpace(line) != want {
			t.Fatalf("read %q (%v), want %q while the handler waits", line, err, want)
		}
		_, _ = br.ReadString('\n') // the blank line
		read <- struct{}{}
	}
}

// A handler behind the chain can take the connection over (a WebSocket
// upgrade), through http.Hijacker as gqlgen's transport asserts it.
func TestChainHijacks(t *testing.T) {
	addr := serveChain(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack through the chain: %v", err)
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\nraw bytes\n")
		buf.Flush()
	}))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade answer: %v %v", res, err)
	}
	if line, err := br.ReadString('\n'); err != nil || line != "raw bytes\n" {
		t.Fatalf("after the upgrade: %q %v", line, err)
	}
}
