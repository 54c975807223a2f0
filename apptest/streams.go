package apptest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// Stream transports, as clients name them.
const (
	SSE       = "graphql-sse"
	SSEGet    = "graphql-sse over GET"
	WebSocket = "graphql-transport-ws"
)

// StreamEvent is one event of a subscription: a "next" with its payload
// ({"data": …, "errors": …}), "complete", or "closed" when the connection
// ended without complete.
type StreamEvent struct {
	Kind    string
	Payload json.RawMessage
}

// Stream is an open subscription.
type Stream struct {
	events chan StreamEvent
	cancel context.CancelFunc
}

// Next waits up to within for the next event; the test fails without one.
func (s *Stream) Next(t testing.TB, within time.Duration) StreamEvent {
	t.Helper()
	select {
	case ev := <-s.events:
		return ev
	case <-time.After(within):
		t.Fatalf("no stream event within %s", within)
		return StreamEvent{}
	}
}

// Quiet reports whether no event arrives for d.
func (s *Stream) Quiet(d time.Duration) (StreamEvent, bool) {
	select {
	case ev := <-s.events:
		return ev, false
	case <-time.After(d):
		return StreamEvent{}, true
	}
}

// Close hangs up.
func (s *Stream) Close() { s.cancel() }

// Subscribe opens a subscription over transport (SSE or WebSocket), as an
// anonymous client. It is closed when the test ends.
func (e *Env) Subscribe(t testing.TB, transport, query string, vars Vars) *Stream {
	t.Helper()
	base := e.BaseURL
	ctx, cancel := context.WithCancel(context.Background())
	s := &Stream{events: make(chan StreamEvent, 64), cancel: cancel}
	t.Cleanup(cancel)
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	switch transport {
	case SSE, SSEGet:
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if transport == SSEGet {
			v, _ := json.Marshal(vars)
			req, _ = http.NewRequestWithContext(ctx, http.MethodGet,
				base+"/graphql?"+url.Values{"query": {query}, "variables": {string(v)}}.Encode(), nil)
		}
		req.Header.Set("Accept", "text/event-stream")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("open SSE stream: %v", err)
		}
		if ct := res.Header.Get("Content-Type"); res.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
			res.Body.Close()
			t.Fatalf("SSE stream: status %d, Content-Type %q", res.StatusCode, ct)
		}
		go readSSE(res, s.events)
	case WebSocket:
		ws := "ws" + strings.TrimPrefix(base, "http") + "/graphql"
		c, _, err := websocket.Dial(ctx, ws, &websocket.DialOptions{Subprotocols: []string{WebSocket}})
		if err != nil {
			t.Fatalf("open WebSocket: %v", err)
		}
		if err := wsjson.Write(ctx, c, map[string]any{"type": "connection_init"}); err != nil {
			t.Fatal(err)
		}
		var ack struct{ Type string }
		if err := wsjson.Read(ctx, c, &ack); err != nil || ack.Type != "connection_ack" {
			t.Fatalf("WebSocket: no connection_ack (%q, %v)", ack.Type, err)
		}
		sub := map[string]any{"id": "1", "type": "subscribe", "payload": json.RawMessage(body)}
		if err := wsjson.Write(ctx, c, sub); err != nil {
			t.Fatal(err)
		}
		go readWS(ctx, c, s.events)
	default:
		t.Fatalf("unknown transport %q", transport)
	}
	return s
}

func readSSE(res *http.Response, out chan<- StreamEvent) {
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	kind, data := "", ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if kind != "" {
				out <- StreamEvent{Kind: kind, Payload: json.RawMessage(data)}
				if kind == "complete" {
					return
				}
			}
			kind, data = "", ""
		case strings.HasPrefix(line, "event:"):
			kind = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			data += strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")
		}
	}
	out <- StreamEvent{Kind: "closed"}
}

func readWS(ctx context.Context, c *websocket.Conn, out chan<- StreamEvent) {
	defer c.CloseNow()
	for {
		var msg struct {
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := wsjson.Read(ctx, c, &msg); err != nil {
			out <- StreamEvent{Kind: "closed"}
			return
		}
		switch msg.Type {
		case "next":
			out <- StreamEvent{Kind: "next", Payload: msg.Payload}
		case "error":
			out <- StreamEvent{Kind: "next", Payload: json.RawMessage(`{"errors":` + string(msg.Payload) + `}`)}
		case "complete":
			out <- StreamEvent{Kind: "complete"}
			return
		case "ping":
			_ = wsjson.Write(ctx, c, map[string]any{"type": "pong"})
		}
	}
}
