package cli

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestSchemaCommand: importops schema prints the whole schema as SDL that
// a client code generator can load, and touches no database.
func TestSchemaCommand(t *testing.T) {
	t.Parallel()
	r := runCLI(t, testEnv(t, map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}), "schema")
	if r.err != nil {
		t.Fatalf("schema: %v (stderr %s)", r.err, r.stderr)
	}
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: r.stdout})
	if err != nil {
		t.Fatalf("the printed SDL does not load: %v\n%.500s", err, r.stdout)
	}
	for _, f := range []string{"publicTracking", "viewer", "vehicles"} {
		if s.Query.Fields.ForName(f) == nil {
			t.Errorf("the printed schema has no Query.%s", f)
		}
	}
	if s.Mutation == nil || s.Mutation.Fields.ForName("createTrackingLink") == nil {
		t.Error("the printed schema has no Mutation.createTrackingLink")
	}
	if !strings.Contains(r.stdout, "directive @staffOnly") {
		t.Error("the printed schema lacks the @staffOnly directive")
	}
}
