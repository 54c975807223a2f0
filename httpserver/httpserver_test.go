package httpserver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// start serves h with cfg (production defaults when nil) on a loopback
// port until the test ends.
func start(t *testing.T, h http.Handler, cfg *Config) string {
	t.Helper()
	c := Defaults(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if cfg != nil {
		c = *cfg
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := New(h, c)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// raw sends a request as bytes on a fresh connection and returns the
// response, read with net/http's parser.
func raw(t *testing.T, addr, request string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: strings.Fields(request)[0]})
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

func TestRequestReachesTheHandlerAsNetHTTPWouldParseIt(t *testing.T) {
	type seen struct {
		method, path, query, host, requestURI, body string
		remoteAddr                                  string
		contentLength                               int64
		accept                                      []string
		chunked                                     bool
	}
	got := make(chan seen, 1)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading the body: %v", err)
		}
		got <- seen{r.Method, r.URL.Path, r.URL.Query().Get("q"), r.Host, r.RequestURI, string(b),
			r.RemoteAddr, r.ContentLength, r.Header.Values("Accept"), len(r.TransferEncoding) == 1 && r.TransferEncoding[0] == "chunked"}
	}), nil)

	res, _ := raw(t, addr, "POST /a/b?q=x%20y HTTP/1.1\r\nHost: example.test\r\nAccept: text/html\r\naccept: application/json\r\n"+
		"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	s := <-got
	if s.method != "POST" || s.path != "/a/b" || s.query != "x y" || s.host != "example.test" || s.requestURI != "/a/b?q=x%20y" {
		t.Errorf("request line and host: %+v", s)
	}
	if s.body != "hello world" || !s.chunked || s.contentLength != -1 {
		t.Errorf("chunked body: %q chunked=%v length=%d", s.body, s.chunked, s.contentLength)
	}
	if len(s.accept) != 2 || s.accept[0] != "text/html" || s.accept[1] != "application/json" {
		t.Errorf("repeated header: %q", s.accept)
	}
	if host, _, _ := net.SplitHostPort(s.remoteAddr); host != "127.0.0.1" {
		t.Errorf("RemoteAddr %q", s.remoteAddr)
	}
}

func TestKeepAliveServesSeveralRequestsOnOneConnection(t *testing.T) {
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.RemoteAddr)
	}), nil)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	var peers []string
	for range 3 {
		res, err := client.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		peers = append(peers, string(b))
	}
	if peers[0] != peers[1] || peers[1] != peers[2] {
		t.Errorf("three requests came from %q: the connection was not kept alive", peers)
	}
}

func TestResponseIsWhatTheHandlerWrote(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("Vary", "Accept")
		w.Header().Add("Vary", "Origin")
		w.WriteHeader(http.StatusCreated)
		w.Header().Set("X-Too-Late", "1") // after WriteHeader: not sent
		io.WriteString(w, `{"a":1}`)
	})
	mux.HandleFunc("/sniffed", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<!DOCTYPE html><html><body>hi</body></html>")
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
		if _, err := io.WriteString(w, "x"); err != http.ErrBodyNotAllowed {
			t.Errorf("a body on 204: %v", err)
		}
	})
	mux.HandleFunc("/file", func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "f.txt", time.Unix(0, 0), strings.NewReader(strings.Repeat("z", 1000)))
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "bye")
	})
	addr := start(t, mux, nil)

	res, body := raw(t, addr, "GET /json HTTP/1.1\r\nHost: x\r\n\r\n")
	if res.StatusCode != http.StatusCreated || body != `{"a":1}` || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("/json: %d %q %q", res.StatusCode, body, res.Header.Get("Content-Type"))
	}
	if v := res.Header.Values("Vary"); len(v) != 2 {
		t.Errorf("/json Vary: %q", v)
	}
	if res.Header.Get("X-Too-Late") != "" || res.Header.Get("Server") != "" || res.Header.Get("Date") == "" {
		t.Errorf("/json headers: %v", res.Header)
	}

	res, _ = raw(t, addr, "GET /sniffed HTTP/1.1\r\nHost: x\r\n\r\n")
	if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("/sniffed Content-Type %q", ct)
	}

	res, body = raw(t, addr, "GET /empty HTTP/1.1\r\nHost: x\r\n\r\n")
	if res.StatusCode != http.StatusNoContent || body != "" {
		t.Errorf("/empty: %d %q", res.StatusCode, body)
	}

	res, body = raw(t, addr, "HEAD /file HTTP/1.1\r\nHost: x\r\n\r\n")
	if res.StatusCode != http.StatusOK || res.ContentLength != 1000 || body != "" {
		t.Errorf("HEAD /file: %d length %d body %q", res.StatusCode, res.ContentLength, body)
	}
	res, body = raw(t, addr, "HEAD /json HTTP/1.1\r\nHost: x\r\n\r\n") // no Content-Length set: what was written
	if res.StatusCode != http.StatusCreated || res.ContentLength != int64(len(`{"a":1}`)) || body != "" {
		t.Errorf("HEAD /json: %d length %d body %q", res.StatusCode, res.ContentLength, body)
	}
	res, body = raw(t, addr, "GET /file HTTP/1.1\r\nHost: x\r\nRange: bytes=10-19\r\n\r\n")
	if res.StatusCode != http.StatusPartialContent || body != strings.Repeat("z", 10) || res.Header.Get("Content-Range") != "bytes 10-19/1000" {
		t.Errorf("ranged GET /file: %d %q %q", res.StatusCode, body, res.Header.Get("Content-Range"))
	}

	res, body = raw(t, addr, "GET /close HTTP/1.1\r\nHost: x\r\n\r\n")
	if body != "bye" || !res.Close {
		t.Errorf("/close: %q, Connection: close sent = %v", body, res.Close)
	}
}

// An upload is answered while its body is still arriving: a handler that
// refuses it (no token, say) never waits for, or buffers, the rest.
func TestBodyStreamsWhileTheHandlerRuns(t *testing.T) {
	firstBytes := make(chan string, 1)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 5)
		_, err := io.ReadFull(r.Body, b)
		firstBytes <- fmt.Sprint(string(b), err)
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusUnauthorized)
	}), nil)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\nfirst")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer before the rest of the body was sent: %v", err)
	}
	if res.StatusCode != http.StatusUnauthorized || <-firstBytes != "first<nil>" {
		t.Errorf("status %d", res.StatusCode)
	}
}

func TestMalformedOrOversizedRequestsAreRefused(t *testing.T) {
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the handler saw %s %s", r.Method, r.URL)
	}), nil)
	res, body := raw(t, addr, "GARBAGE\r\n\r\n")
	if res.StatusCode != http.StatusBadRequest || strings.Contains(body, "GARBAGE") {
		t.Errorf("garbage: %d %q", res.StatusCode, body)
	}
	huge := strings.Repeat("a", 20<<10)
	res, body = raw(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nX-Huge: "+huge+"\r\n\r\n")
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge || strings.Contains(body, "aaaa") {
		t.Errorf("a 20 KB header: %d %q", res.StatusCode, body)
	}
}

// A client that trickles its headers (slowloris) is cut off after
// ReadHeaderTimeout, and one that sends nothing after IdleTimeout.
func TestSlowClientsAreDisconnected(t *testing.T) {
	cfg := Defaults(slog.New(slog.NewTextHandler(io.Discard, nil)))
	cfg.ReadHeaderTimeout, cfg.IdleTimeout = 300*time.Millisecond, 300*time.Millisecond
	addr := start(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), &cfg)
	for _, partial := range []string{"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ", ""} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(conn, partial)
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = io.Copy(io.Discard, conn) // returns when the server closes
		conn.Close()
		if err != nil {
			t.Errorf("after %q the server did not close the connection: %v", partial, err)
		}
	}
}

func TestPanicAnswers500AndTheServerServesOn(t *testing.T) {
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		io.WriteString(w, "fine")
	}), nil)
	res, body := raw(t, addr, "GET /panic HTTP/1.1\r\nHost: x\r\n\r\n")
	if res.StatusCode != http.StatusInternalServerError || strings.Contains(body, "boom") {
		t.Errorf("panic: %d %q", res.StatusCode, body)
	}
	if _, body = raw(t, addr, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"); body != "fine" {
		t.Errorf("after the panic: %q", body)
	}
}

func TestShutdownWaitsForTheRequestInFlight(t *testing.T) {
	release, entered := make(chan struct{}), make(chan struct{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	}), Defaults(slog.New(slog.NewTextHandler(io.Discard, nil))))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	answer := make(chan string, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			answer <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		answer <- string(b)
	}()
	<-entered
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) while a request was in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if got := <-answer; got != "done" {
		t.Errorf("the request in flight got %q", got)
	}
	if err := <-shut; err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("serve: %v", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("the server still accepts connections after Shutdown")
	}
}

// A handler that refuses a large body without reading it (too large,
// unauthenticated) is heard: the client gets the answer, not a reset, as
// the server closes the connection on the rest of the body.
func TestRefusedLargeBodyStillGetsItsAnswer(t *testing.T) {
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
	}), nil)
	for _, chunked := range []bool{false, true} {
		var body io.Reader = io.LimitReader(zeros{}, 8<<20)
		if chunked {
			body = io.MultiReader(body) // no length: sent chunked
		}
		req, _ := http.NewRequest("POST", "http://"+addr+"/", body)
		if !chunked {
			req.ContentLength = 8 << 20
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("chunked=%v: %v", chunked, err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked=%v: status %d", chunked, res.StatusCode)
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// shortcutting answers /short itself from the parsed request; everything
// else, including what it looked at and declined, reaches ServeHTTP whole.
type shortcutting struct{ offered chan string }

func (s shortcutting) Shortcut(ctx *fasthttp.RequestCtx, body []byte) bool {
	s.offered <- string(ctx.Path()) + " " + string(body)
	if string(ctx.Path()) != "/short" {
		return false
	}
	ctx.SetContentType("text/plain")
	ctx.SetBodyString("short:" + string(body))
	return true
}

func (s shortcutting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	fmt.Fprintf(w, "long:%s:%v", b, err)
}

func TestShortcutAnswersFirstAndDeclinedRequestsArriveWhole(t *testing.T) {
	h := shortcutting{offered: make(chan string, 10)}
	addr := start(t, h, nil)
	post := func(path, body string) string {
		t.Helper()
		_, b := raw(t, addr, fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", path, len(body), body))
		return b
	}
	if got := post("/short", `{"a":1}`); got != `short:{"a":1}` || <-h.offered != `/short {"a":1}` {
		t.Errorf("/short: %q", got)
	}
	if got := post("/long", `{"b":2}`); got != `long:{"b":2}:<nil>` || <-h.offered != `/long {"b":2}` {
		t.Errorf("/long: %q", got)
	}
	// A body too large to read whole is not offered, only streamed.
	big := strings.Repeat("x", smallBody+1)
	if got := post("/long", big); got != "long:"+big+":<nil>" || <-h.offered != "/long " {
		t.Errorf("a large body: %d bytes answered", len(got))
	}
}

// A small body cut short reaches the handler as a read error after the
// bytes that came.
func TestSmallBodyCutShortIsAReadError(t *testing.T) {
	got := make(chan string, 1)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		got <- fmt.Sprintf("%s %v", b, err != nil)
	}), nil)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly this")
	conn.(*net.TCPConn).CloseWrite()
	defer conn.Close()
	select {
	case g := <-got:
		if g != "only this true" {
			t.Errorf("the handler read %q", g)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler never ran")
	}
}

// A client that hangs up cancels its request's context, so the work done
// for it (its database queries) stops; a client that waits does not.
func TestClientGoneCancelsTheRequestContext(t *testing.T) {
	ended := make(chan error, 2)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			ended <- r.Context().Err()
		case <-time.After(time.Duration(len(r.URL.Query().Get("wait"))) * 100 * time.Millisecond):
			ended <- nil
		}
	}), nil)

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "GET /?wait=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx HTTP/1.1\r\nHost: x\r\n\r\n") // 8 s
	time.Sleep(50 * time.Millisecond)
	conn.Close()
	if err := <-ended; err != context.Canceled {
		t.Errorf("the request of a client that hung up ended with %v, want its context cancelled", err)
	}

	res, body := raw(t, addr, "GET /?wait=xxx HTTP/1.1\r\nHost: x\r\n\r\n") // 300 ms, client waiting
	if err := <-ended; err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("a waiting client's request: %v, %d %q", err, res.StatusCode, body)
	}
}

// A body that stops arriving fails the handler's read after ReadTimeout,
// small or streamed.
func TestStalledBodyTimesOut(t *testing.T) {
	cfg := Defaults(slog.New(slog.NewTextHandler(io.Discard, nil)))
	cfg.ReadTimeout = 300 * time.Millisecond
	got := make(chan error, 1)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		got <- err
	}), &cfg)
	for _, length := range []int{1000, 1 << 20} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\nten bytes.", length)
		select {
		case err := <-got:
			if err == nil {
				t.Errorf("a %d-byte body that stalled was read without error", length)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("a %d-byte body that stalled: the read never failed", length)
		}
		conn.Close()
	}
}
