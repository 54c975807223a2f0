package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"importops/apptest"
	"importops/db/dbtest"
)

// TestTracingSpans collects the spans of real requests in process: a
// server span per request named by its route, a span per GraphQL
// operation under it, and a span per SQL statement under that, with the
// standard attributes, continuing the caller's traceparent. No span name
// or attribute carries a slug, a token, a private value, a query's
// variables or a statement's arguments.
func TestTracingSpans(t *testing.T) {
	t.Parallel()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	conn, count := dbtest.OpenCountingTraced(t, tp)
	env := apptest.NewWith(t, conn, apptest.Options{Tracer: tp})
	seeded := pgSeed(t, env, "Traced Motors", "NZ")
	secrets := []string{seeded.Slug, seeded.Token, "PGVINSECRET4242", "PG-STOCK-7731", "87654.32", "pg.hidden@example.com", "Pgcustomer"}

	// A staff query whose variables carry a private value.
	spans.Reset()
	statementsBefore := count.Statements()
	vehicles := env.Do(t, seeded.Token, `query StaffSearch($q: String) { vehicles(first: 5, search: $q) { totalCount } }`, apptest.Vars{"q": "PGVINSECRET4242"})
	if len(vehicles.Errors) > 0 {
		t.Fatalf("vehicles: %s", vehicles.Body)
	}
	staff := spans.GetSpans().Snapshots()
	if count.Statements() == statementsBefore {
		t.Error("the counting pool saw no statement under tracing")
	}
	checkRequestTree(t, staff, "POST /graphql", "/graphql", "query StaffSearch", true)

	// The customer's first look at the link (not cached yet), continuing
	// the caller's trace.
	spans.Reset()
	const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	body, _ := json.Marshal(map[string]any{
		"query":     `query PublicView($slug: String!) { publicTracking(slug: $slug) { vehicle { title } } }`,
		"variables": map[string]any{"slug": seeded.Slug},
	})
	req, _ := http.NewRequest(http.MethodPost, env.BaseURL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Traceparent", "00-"+callerTrace+"-00f067aa0ba902b7-01")
	req.Header.Set("User-Agent", "TracingTestAgent/1.0")
	res, err := env.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	public := spans.GetSpans().Snapshots()
	server := checkRequestTree(t, public, "POST /graphql", "/graphql", "query PublicView", false)
	if server != nil && server.SpanContext().TraceID().String() != callerTrace {
		t.Errorf("the server span's trace %s does not continue the caller's %s", server.SpanContext().TraceID(), callerTrace)
	}

	// The tracking page: its route, never its path.
	spans.Reset()
	if res, _ := env.Get(t, "/t/"+seeded.Slug); res.StatusCode != http.StatusOK {
		t.Fatalf("GET /t/{slug}: %d", res.StatusCode)
	}
	page := spans.GetSpans().Snapshots()
	if s := findSpan(page, "GET /t/{slug}"); s == nil {
		t.Errorf("no span named GET /t/{slug}: %v", spanNames(page))
	} else {
		wantAttr(t, s, "http.route", "/t/{slug}")
		wantAttr(t, s, "url.path", "/t/{slug}")
		wantAttr(t, s, "http.response.status_code", "200")
	}

	for _, set := range [][]sdktrace.ReadOnlySpan{staff, public, page} {
		for _, s := range set {
			text := s.Name()
			for _, a := range s.Attributes() {
				text += " " + string(a.Key) + "=" + a.Value.Emit()
				switch a.Key {
				case "user_agent.original", "client.address", "url.query", "url.full", "http.target", "graphql.document":
					t.Errorf("span %q records %s", s.Name(), a.Key)
				}
			}
			for _, e := range s.Events() {
				text += " " + e.Name
				for _, a := range e.Attributes {
					text += " " + string(a.Key) + "=" + a.Value.Emit()
				}
			}
			for _, secret := range append(secrets, "TracingTestAgent") {
				if strings.Contains(text, secret) {
					t.Errorf("span %q carries %q: %s", s.Name(), secret, text)
				}
			}
		}
	}
}

// checkRequestTree checks one request's spans: a server span with the
// route, a GraphQL operation span under it, and SQL statement spans under
// the server span. It returns the server span.
func checkRequestTree(t *testing.T, spans []sdktrace.ReadOnlySpan, name, route, operation string, sqlUnderOperation bool) sdktrace.ReadOnlySpan {
	t.Helper()
	server := findSpan(spans, name)
	if server == nil {
		t.Errorf("no span named %q: %v", name, spanNames(spans))
		return nil
	}
	if server.SpanKind() != trace.SpanKindServer {
		t.Errorf("span %q is %v, want a server span", name, server.SpanKind())
	}
	wantAttr(t, server, "http.request.method", strings.Fields(name)[0])
	wantAttr(t, server, "http.route", route)
	wantAttr(t, server, "http.response.status_code", "200")
	wantAttr(t, server, "url.scheme", "http")
	op := findSpan(spans, operation)
	if op == nil {
		t.Errorf("no GraphQL span %q: %v", operation, spanNames(spans))
		return server
	}
	if op.Parent().SpanID() != server.SpanContext().SpanID() {
		t.Errorf("GraphQL span %q is not a child of %q", operation, name)
	}
	opType, opName, _ := strings.Cut(operation, " ")
	wantAttr(t, op, "graphql.operation.type", opType)
	wantAttr(t, op, "graphql.operation.name", opName)
	var sql int
	for _, s := range spans {
		if !hasAttr(s, "db.system.name") {
			continue
		}
		sql++
		wantAttr(t, s, "db.system.name", "postgresql")
		// Beginning, ending and opening connections (the pool grows when
		// a request reads on two at once) are not statements.
		if !hasAttr(s, "db.query.text") && s.Name() != "sql.conn.begin_tx" && s.Name() != "sql.connector.connect" &&
			!strings.HasPrefix(s.Name(), "sql.tx.") {
			t.Errorf("SQL span %q has no db.query.text", s.Name())
		}
		// Staff reads run inside the operation; the public lookup is a
		// load shared by concurrent requests, detached from each.
		if sqlUnderOperation && !descendsFrom(spans, s, op) {
			t.Errorf("SQL span %q is not under the GraphQL span %q", s.Name(), operation)
		}
	}
	if sql == 0 {
		t.Errorf("no SQL span under %q: %v", operation, spanNames(spans))
	}
	return server
}

func findSpan(spans []sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	for _, s := range spans {
		if s.Name() == name {
			return s
		}
	}
	return nil
}

func spanNames(spans []sdktrace.ReadOnlySpan) []string {
	var names []string
	for _, s := range spans {
		names = append(names, s.Name())
	}
	return names
}

func hasAttr(s sdktrace.ReadOnlySpan, key string) bool {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return true
		}
	}
	return false
}

func wantAttr(t *testing.T, s sdktrace.ReadOnlySpan, key, want string) {
	t.Helper()
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			if got := a.Value.Emit(); got != want {
				t.Errorf("span %q: %s = %q, want %q", s.Name(), key, got, want)
			}
			return
		}
	}
	t.Errorf("span %q has no %s (attributes %v)", s.Name(), key, fmt.Sprint(s.Attributes()))
}

// descendsFrom tells whether s is under ancestor in spans' tree.
func descendsFrom(spans []sdktrace.ReadOnlySpan, s, ancestor sdktrace.ReadOnlySpan) bool {
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, x := range spans {
		byID[x.SpanContext().SpanID()] = x
	}
	for cur := s; cur != nil; cur = byID[cur.Parent().SpanID()] {
		if cur.Parent().SpanID() == ancestor.SpanContext().SpanID() {
			return true
		}
	}
	return false
}
