package e2e

// Issue 10 items 1 and 9, through the real server with production
// settings: what a client that holds a connection open can make the
// server do. Helpers are prefixed "sc".

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"importops/apptest"
)

// scProduction is a server as deployed: production mode, rate limits on.
func scProduction(t *testing.T) *apptest.Env {
	t.Helper()
	return apptest.NewWith(t, testDB, apptest.Options{Env: map[string]string{
		"APP_ENV": "production", "RATE_LIMITS": "on",
	}})
}

// scDial opens a raw connection to env's server.
func scDial(t *testing.T, env *apptest.Env) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(env.BaseURL, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// An upload that will be refused (no token, or a bad one) and asks
// "Expect: 100-continue" gets its refusal first and never a 100 Continue,
// so the client never sends the body.
func TestUploadRefusedBeforeContinue(t *testing.T) {
	env := scProduction(t)
	t.Parallel()
	for name, auth := range map[string]string{
		"anonymous": "",
		"bad token": "Authorization: Bearer not-a-token-of-anyone\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			c := scDial(t, env)
			const boundary = "scBoundary"
			head := "POST /graphql HTTP/1.1\r\nHost: test\r\n" + auth +
				"Content-Type: multipart/form-data; boundary=" + boundary + "\r\n" +
				"GraphQL-Preflight: 1\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n"
			if _, err := c.Write([]byte(head)); err != nil {
				t.Fatal(err)
			}
			// The body is never sent: whatever arrives first is the answer.
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("no answer while the body waits for 100 Continue: %v", err)
			}
			defer res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("first answer %s, want 401 before any 100 Continue", res.Status)
			}
		})
	}
}

// 300 connections sending a small JSON body at one byte a second are cut
// off at the body's read deadline, not held for minutes: 90% of them are
// closed within 20 s, while /healthz keeps answering within 200 ms.
func TestSlowBodiesAreCutOff(t *testing.T) {
	env := scProduction(t)
	const conns = 300
	const body = `{"query":"{ __typename }"}`
	head := fmt.Sprintf("POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body)+1000)

	start := time.Now()
	var (
		mu     sync.Mutex
		closed []time.Duration
		wg     sync.WaitGroup
	)
	for range conns {
		c := scDial(t, env)
		if _, err := c.Write([]byte(head)); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			// Read in the background: the server closing the connection
			// (after an answer or not) ends the read.
			gone := make(chan struct{})
			go func() {
				buf := make([]byte, 512)
				for {
					if _, err := c.Read(buf); err != nil {
						close(gone)
						return
					}
				}
			}()
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			deadline := time.After(30 * time.Second)
			for i := 0; ; i++ {
				select {
				case <-gone:
					mu.Lock()
					closed = append(closed, time.Since(start))
					mu.Unlock()
					return
				case <-deadline:
					c.Close()
					return
				case <-tick.C:
					_, _ = c.Write([]byte{body[i%len(body)]})
				}
			}
		})
	}

	// Meanwhile the server answers its probes at once.
	probe := &http.Client{Timeout: 5 * time.Second}
	var slowest time.Duration
	for time.Since(start) < 20*time.Second {
		t0 := time.Now()
		res, err := probe.Get(env.BaseURL + "/healthz")
		took := time.Since(t0)
		if err != nil {
			t.Fatalf("GET /healthz while slow bodies hold connections: %v", err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /healthz: %s", res.Status)
		}
		slowest = max(slowest, took)
		time.Sleep(200 * time.Millisecond)
	}
	mu.Lock()
	within := 0
	for _, d := range closed {
		if d <= 20*time.Second {
			within++
		}
	}
	mu.Unlock()
	if within < conns*9/10 {
		t.Errorf("%d of %d slow-body connections were closed within 20 s, want at least 90%%", within, conns)
	}
	if slowest > 200*time.Millisecond {
		t.Errorf("/healthz took up to %v while slow bodies were held, want under 200 ms", slowest)
	}
	wg.Wait()
}
