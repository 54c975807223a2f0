package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"importops/apptest"
)

// TestBrowserPlayground opens the GraphQL playground with every request
// to anything but this server failed by the browser, as on a machine with
// no internet access: GraphiQL must still render, load the schema, run a
// query typed into it, and run a subscription over WebSocket that shows a
// change made meanwhile.
func TestBrowserPlayground(t *testing.T) {
	env := pgStart(t)
	seeded := pgSeed(t, env, "Playground Motors", "NZ")

	browserCtx := pgBrowser(t)
	blocked := &offline{allowed: env.BaseURL + "/"}
	tab, cancelTab := chromedp.NewContext(browserCtx, chromedp.WithListener(blocked.listen))
	defer cancelTab()
	blocked.tab = tab

	query := `query Playground { publicTracking(slug: "` + seeded.Slug + `") { vehicle { title } } }`
	editor := `document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror`
	resultText := `document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()`
	_, err := chromedp.Call(tab, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}})
	if err == nil {
		err = chromedp.Do(tab,
			chromedp.EmulateViewport(1280, 800),
			chromedp.Navigate(env.BaseURL+"/"),
			// GraphiQL rendered its editors, with the page's own default
			// query in the query editor.
			chromedp.WaitVisible(".graphiql-query-editor .CodeMirror"),
			chromedp.WaitVisible(".graphiql-execute-button"),
		)
	}
	if err == nil {
		_, err = chromedp.Run(tab, chromedp.Poll[bool](editor+`.getValue().includes('query Viewer')`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
	}
	if err == nil {
		err = chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](editor+`.setValue(`+jsString(query)+`)`))
	}
	if err == nil {
		// GraphiQL reads the operation's name from the editor shortly after
		// a change; run once it has.
		_, err = chromedp.Run(tab, chromedp.Poll[bool](editor+`.operationName === 'Playground'`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
	}
	if err == nil {
		err = chromedp.Do(tab, chromedp.Click(".graphiql-execute-button"))
	}
	var result string
	if err == nil {
		_, err = chromedp.Run(tab, chromedp.Poll[bool](resultText+`.includes('publicTracking')`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
	}
	if err == nil {
		result, err = chromedp.Run(tab, chromedp.Evaluate[string](resultText))
	}
	// A subscription, over WebSocket at /graphql: the link's current state
	// at once, then a change made meanwhile through the API.
	subscription := `subscription Live { publicTrackingUpdated(slug: "` + seeded.Slug + `") { progress { current } } }`
	if err == nil && strings.Contains(result, "2018 Mazda Roadster") {
		err = chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](editor+`.setValue(`+jsString(subscription)+`)`))
		if err == nil {
			_, err = chromedp.Run(tab, chromedp.Poll[bool](editor+`.operationName === 'Live'`,
				chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
		}
		if err == nil {
			err = chromedp.Do(tab, chromedp.Click(".graphiql-execute-button"))
		}
		if err == nil {
			// The link hides the progress at first.
			_, err = chromedp.Run(tab, chromedp.Poll[bool](resultText+`.includes('"progress": null')`,
				chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
		}
		if err == nil {
			updateLink(t, env, seeded.Token, seeded.VehicleID, apptest.Vars{"showProgress": true})
			_, err = chromedp.Run(tab, chromedp.Poll[bool](resultText+`.includes('CUSTOMS_CLEARED')`,
				chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
		}
	}
	var shot []byte
	if err == nil {
		shot, err = chromedp.Run(tab, chromedp.CaptureScreenshot())
	}
	if err != nil {
		dump, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector('.graphiql-container').innerText.slice(0, 2000)`))
		shot, _ := chromedp.Run(tab, chromedp.CaptureScreenshot())
		_ = os.WriteFile(filepath.Join(pgArtifacts, "playground-failed.png"), shot, 0o644)
		t.Fatalf("playground: %v\npage text: %s\n(requests: %v, blocked: %v)", err, dump, blocked.urls(), blocked.refused())
	}
	if err := os.MkdirAll(pgArtifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pgArtifacts, "playground-1280x800.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(result, "2018 Mazda Roadster") {
		t.Errorf("the query's result shows no %q:\n%s", "2018 Mazda Roadster", result)
	}
	for _, e := range blocked.console.errors() {
		t.Errorf("browser reported: %s", e)
	}
	if r := blocked.refused(); len(r) > 0 {
		t.Errorf("the playground asked for other origins: %v", r)
	}
	var graphql bool
	for _, u := range blocked.urls() {
		graphql = graphql || strings.HasPrefix(u, env.BaseURL+"/graphql")
	}
	if !graphql {
		t.Errorf("no request reached /graphql: %v", blocked.urls())
	}
	blocked.mu.Lock()
	sockets := blocked.sockets
	blocked.mu.Unlock()
	wantSocket := "ws" + strings.TrimPrefix(env.BaseURL, "http") + "/graphql"
	if len(sockets) != 1 || sockets[0] != wantSocket {
		t.Errorf("WebSockets opened: %v, want the subscription's one to %s", sockets, wantSocket)
	}
}

func TestPlaygroundHeaders(t *testing.T) {
	env := pgStart(t)
	res, body := env.Get(t, "/")
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "/playground/playground.js") {
		t.Fatalf("GET /: %d %.200s", res.StatusCode, body)
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "http") || strings.Contains(csp, "*") {
		t.Errorf("Content-Security-Policy %q allows another origin", csp)
	}
	for _, asset := range []string{"/playground/playground.js", "/playground/playground.css"} {
		res, body := env.Get(t, asset)
		if res.StatusCode != http.StatusOK || len(body) < 10_000 {
			t.Errorf("GET %s: %d, %d bytes", asset, res.StatusCode, len(body))
		}
	}

	prod := apptest.NewWith(t, testDB, apptest.Options{Env: map[string]string{"APP_ENV": "production"}})
	for _, path := range []string{"/", "/playground/playground.js"} {
		if res, _ := prod.Get(t, path); res.StatusCode != http.StatusNotFound {
			t.Errorf("production GET %s: %d, want 404", path, res.StatusCode)
		}
	}
}

// offline fails every request of a tab that does not go to allowed (the
// server under test), and remembers what was asked for.
type offline struct {
	allowed string
	tab     context.Context

	console pgRequests // errors the page logged (a CSP violation is one)

	mu      sync.Mutex
	seen    []string
	blocked []string
	sockets []string
}

func (o *offline) listen(ev any) {
	o.console.listen(ev)
	switch ev := ev.(type) {
	case *fetch.EventRequestPaused:
		url := ev.Request.URL
		o.mu.Lock()
		o.seen = append(o.seen, url)
		ok := strings.HasPrefix(url, o.allowed)
		if !ok {
			o.blocked = append(o.blocked, url)
		}
		o.mu.Unlock()
		// Not from the listener itself: it runs in the tab's event loop.
		go func() {
			if ok {
				_, _ = chromedp.Call(o.tab, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
			} else {
				_, _ = chromedp.Call(o.tab, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
			}
		}()
	case *network.EventWebSocketCreated:
		// The fetch domain does not pause WebSockets; a socket to
		// another origin counts as refused all the same.
		o.mu.Lock()
		o.sockets = append(o.sockets, ev.URL)
		if !strings.HasPrefix(strings.Replace(ev.URL, "ws", "http", 1), o.allowed) {
			o.blocked = append(o.blocked, ev.URL)
		}
		o.mu.Unlock()
	}
}

func (o *offline) urls() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.seen...)
}

func (o *offline) refused() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.blocked...)
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
