package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"importops/apptest"
)

// TestGraphQLOverHTTPAudit runs the reference GraphQL-over-HTTP audit
// (npm graphql-http, auditServer) against the real server: no failure
// and no warning. scripts/test installs Node.js and the audit (npm ci in
// e2e/graphqlhttp); without them this test fails and says so.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: scripts/test installs it (Debian: apt-get install nodejs npm)")
	}
	dir := "graphqlhttp"
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "graphql-http")); err != nil {
		t.Fatal("the audit is not installed: run (cd e2e/graphqlhttp && npm ci), as scripts/test does")
	}
	// Development: the audit introspects anonymously (__type), which
	// production refuses by design.
	env := apptest.New(t, testDB)
	t.Parallel()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "audit.mjs", env.BaseURL+"/graphql")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("graphql-http audit: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), " 0 warnings, 0 failures") {
		t.Fatalf("graphql-http audit did not report 0 warnings and 0 failures:\n%s", out)
	}
}
