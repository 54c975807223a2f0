package schema

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// contractPath is the API contract the staff frontend and the customer page
// are written against. The repository sits beside shared/ locally and in CI.
const contractPath = "../../shared/spec/api-contract.graphql"

// testContractAddition checks the project against the API contract extended
// by one addition file of shared/spec (e.g. "link-desk.graphql"), loaded
// together as the clients read them. Each implemented addition has a test
// of its own that calls it.
func testContractAddition(t *testing.T, file string) {
	t.Helper()
	path := filepath.Join(filepath.Dir(contractPath), file)
	addition, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the contract addition (expected at %s, i.e. shared/ beside the repository): %v", path, err)
	}
	contract, gqlErr := gqlparser.LoadSchema(
		&ast.Source{Name: "api-contract.graphql", Input: readContract(t)},
		&ast.Source{Name: file, Input: string(addition)},
	)
	if gqlErr != nil {
		t.Fatalf("load the API contract with %s: %v", file, gqlErr)
	}
	project, err := Load()
	if err != nil {
		t.Fatalf("load project schema: %v", err)
	}
	for _, p := range checkContract(contract, project) {
		t.Error(p)
	}
}

// TestSchemaMatchesContract fails, naming each problem, when the project's
// schema drops, renames or retypes anything in the contract. Additions are
// allowed, except a new argument or input field that callers would have to
// send (non-null without a default): that breaks existing clients.
func TestSchemaMatchesContract(t *testing.T) {
	contract := loadContract(t, readContract(t))
	project, err := Load()
	if err != nil {
		t.Fatalf("load project schema: %v", err)
	}
	for _, p := range checkContract(contract, project) {
		t.Error(p)
	}
}

// TestCheckContractCatchesDrift proves checkContract is not vacuous: each
// case edits the contract (or the project's files) and the checker must name
// the resulting difference.
func TestCheckContractCatchesDrift(t *testing.T) {
	type edit struct{ old, new string }
	tests := []struct {
		name     string
		contract []edit            // edits to the contract text
		project  map[string][]edit // edits to schema files, by file name
		want     []string          // problems checkContract must report
	}{
		{
			name:     "type missing",
			contract: []edit{{"enum Role {", "type Invoice { id: ID! }\n\nenum Role {"}},
			want:     []string{"type Invoice: missing"},
		},
		{
			name:     "type of another kind",
			contract: []edit{{"enum NoteScope { CUSTOMER INTERNAL }", "scalar NoteScope"}},
			want:     []string{"type NoteScope: kind ENUM, contract has SCALAR"},
		},
		{
			name:     "field missing",
			contract: []edit{{"  title: String!\n  vin:", "  title: String!\n  color: String\n  vin:"}},
			want:     []string{"Vehicle.color: field missing"},
		},
		{
			name:     "field nullability",
			contract: []edit{{"totalCount: Int!", "totalCount: Int"}},
			want:     []string{"VehicleConnection.totalCount: type Int!, contract has Int"},
		},
		{
			name:     "field list wrapper",
			contract: []edit{{"edges: [VehicleEdge!]!", "edges: [VehicleEdge!]"}},
			want:     []string{"VehicleConnection.edges: type [VehicleEdge!]!, contract has [VehicleEdge!]"},
		},
		{
			name:     "field retyped",
			contract: []edit{{"  year: Int!\n  make: String!\n  model: String!\n  \"year", "  year: String!\n  make: String!\n  model: String!\n  \"year"}},
			want:     []string{"Vehicle.year: type Int!, contract has String!"},
		},
		{
			name:     "argument missing",
			contract: []edit{{"customers(first: Int = 50, after: String)", "customers(first: Int = 50, after: String, search: String)"}},
			want:     []string{"Query.customers(search:): argument missing"},
		},
		{
			name:     "argument retyped",
			contract: []edit{{"login(email: String!,", "login(email: String,"}},
			want:     []string{"Mutation.login(email:): type String!, contract has String"},
		},
		{
			name:     "argument default changed",
			contract: []edit{{"vehicles(first: Int = 50,", "vehicles(first: Int = 25,"}},
			want:     []string{"Query.vehicles(first:): default 50, contract has 25"},
		},
		{
			name:     "argument default dropped",
			contract: []edit{{"customers(first: Int = 50,", "customers(first: Int,"}},
			want:     []string{"Query.customers(first:): default 50, contract has none"},
		},
		{
			name:    "required argument added",
			project: map[string][]edit{"customers.graphqls": {{"customers(first: Int = 50, after: String)", "customers(first: Int = 50, after: String, orgId: ID!)"}}},
			want:    []string{"Query.customers(orgId:): added argument is required (non-null without a default)"},
		},
		{
			name:     "input field missing",
			contract: []edit{{"input CostInput {\n", "input CostInput {\n  supplier: String\n"}},
			want:     []string{"CostInput.supplier: field missing"},
		},
		{
			name:     "input field retyped",
			contract: []edit{{"photoIds: [ID!]", "photoIds: [ID!]!"}},
			want:     []string{"TrackingLinkOptionsInput.photoIds: type [ID!], contract has [ID!]!"},
		},
		{
			name:     "input field default changed",
			contract: []edit{{"stage: Stage = PURCHASED", "stage: Stage = DELIVERED"}},
			want:     []string{"CreateVehicleInput.stage: default PURCHASED, contract has DELIVERED"},
		},
		{
			name:    "required input field added",
			project: map[string][]edit{"customers.graphqls": {{"input CustomerInput {\n", "input CustomerInput {\n  orgId: ID!\n"}}},
			want:    []string{"CustomerInput.orgId: added input field is required (non-null without a default)"},
		},
		{
			name:     "enum value missing",
			contract: []edit{{"enum Role { OWNER ADMIN STAFF }", "enum Role { OWNER ADMIN STAFF AUDITOR }"}},
			want:     []string{"enum Role: value AUDITOR missing"},
		},
		{
			name:    "enum value dropped from project",
			project: map[string][]edit{"vehicles.graphqls": {{"  COMPLIANCE\n", ""}}},
			want:    []string{"enum Stage: value COMPLIANCE missing"},
		},
		{
			name:     "union member missing",
			contract: []edit{{"enum Role {", "union SearchResult = Vehicle | Customer\n\nenum Role {"}},
			project:  map[string][]edit{"schema.graphqls": {{"enum Role {", "union SearchResult = Vehicle\n\nenum Role {"}}},
			want:     []string{"union SearchResult: member Customer missing"},
		},
		{
			name:     "interface not implemented",
			contract: []edit{{"type User {", "interface Node { id: ID! }\n\ntype User implements Node {"}},
			project:  map[string][]edit{"schema.graphqls": {{"type User {", "interface Node { id: ID! }\n\ntype User {"}}},
			want:     []string{"type User: does not implement Node"},
		},
		{
			name:     "interface field retyped",
			contract: []edit{{"enum Role {", "interface Named { name: String! }\n\nenum Role {"}},
			project:  map[string][]edit{"schema.graphqls": {{"enum Role {", "interface Named { name: String }\n\nenum Role {"}}},
			want:     []string{"Named.name: type String, contract has String!"},
		},
		{
			name:     "directive definition missing",
			contract: []edit{{"directive @staffOnly on FIELD_DEFINITION", "directive @staffOnly on FIELD_DEFINITION\ndirective @audited(reason: String!) on FIELD_DEFINITION"}},
			want:     []string{"directive @audited: missing"},
		},
		{
			name:     "directive locations differ",
			contract: []edit{{"directive @staffOnly on FIELD_DEFINITION", "directive @staffOnly on FIELD_DEFINITION | OBJECT"}},
			want:     []string{"directive @staffOnly: locations [FIELD_DEFINITION], contract has [FIELD_DEFINITION OBJECT]"},
		},
		{
			name:     "directive argument missing",
			contract: []edit{{"directive @staffOnly on FIELD_DEFINITION", "directive @staffOnly(role: Role = STAFF) on FIELD_DEFINITION"}},
			want:     []string{"@staffOnly(role:): argument missing"},
		},
		{
			name:    "directive argument added",
			project: map[string][]edit{"schema.graphqls": {{"directive @staffOnly on FIELD_DEFINITION", "directive @staffOnly(role: Role) on FIELD_DEFINITION"}}},
			want:    []string{"@staffOnly(role:): argument not in the contract"},
		},
		{
			name:    "@staffOnly removed",
			project: map[string][]edit{"vehicles.graphqls": {{"vin: String @staffOnly", "vin: String"}}},
			want:    []string{"Vehicle.vin: @staffOnly missing"},
		},
		{
			name:     "directive usage argument differs",
			contract: []edit{{"  logout: Boolean!", "  logout: Boolean! @deprecated(reason: \"use revoke\")"}},
			project:  map[string][]edit{"schema.graphqls": {{"  logout: Boolean!", "  logout: Boolean! @deprecated(reason: \"gone\")"}}},
			want:     []string{`Mutation.logout: @deprecated(reason: "gone"), contract has "use revoke"`},
		},
		{
			name:    "root operation type differs",
			project: map[string][]edit{"schema.graphqls": {{"type Query {", "schema { query: Query }\n\ntype Query {"}}},
			want:    []string{"schema: mutation root none, contract has Mutation"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := readContract(t)
			for _, e := range tt.contract {
				src = replaceOnce(t, "contract", src, e.old, e.new)
			}
			contract := loadContract(t, src)

			project := loadProject(t, func(fsys fstest.MapFS) {
				for file, edits := range tt.project {
					f := fsys[file]
					if f == nil {
						t.Fatalf("case edits %s, which is not a schema file", file)
					}
					for _, e := range edits {
						f.Data = []byte(replaceOnce(t, file, string(f.Data), e.old, e.new))
					}
				}
			})

			got := checkContract(contract, project)
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("checkContract did not report %q; it reported:\n  %s", w, strings.Join(got, "\n  "))
				}
			}
		})
	}
}

func readContract(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(contractPath)
	if err != nil {
		t.Fatalf("read the API contract (expected at %s, i.e. shared/ beside the repository): %v", contractPath, err)
	}
	return string(b)
}

func loadContract(t *testing.T, src string) *ast.Schema {
	t.Helper()
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "api-contract.graphql", Input: src})
	if err != nil {
		t.Fatalf("load the API contract: %v", err)
	}
	return s
}

// replaceOnce replaces old in s, failing the test unless old occurs exactly
// once, so an edit that no longer matches cannot silently test nothing.
func replaceOnce(t *testing.T, what, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("edit of %s: %q occurs %d times, want exactly 1", what, old, n)
	}
	return strings.Replace(s, old, new, 1)
}

// checkContract lists, in a stable order, every way project fails to provide
// what contract defines. An empty result means project is compatible.
func checkContract(contract, project *ast.Schema) []string {
	var c checker

	c.roots(contract, project)

	for _, name := range slices.Sorted(maps.Keys(contract.Types)) {
		want := contract.Types[name]
		if want.BuiltIn {
			continue
		}
		got := project.Types[name]
		if got == nil {
			c.addf("type %s: missing", name)
			continue
		}
		if got.Kind != want.Kind {
			c.addf("type %s: kind %s, contract has %s", name, got.Kind, want.Kind)
			continue
		}
		c.usages("type "+name, want.Directives, got.Directives)
		switch want.Kind {
		case ast.Object, ast.Interface:
			for _, iface := range want.Interfaces {
				if !slices.Contains(got.Interfaces, iface) {
					c.addf("type %s: does not implement %s", name, iface)
				}
			}
			c.outputFields(name, want.Fields, got.Fields)
		case ast.InputObject:
			c.inputFields(name, want.Fields, got.Fields)
		case ast.Enum:
			for _, v := range want.EnumValues {
				gv := got.EnumValues.ForName(v.Name)
				if gv == nil {
					c.addf("enum %s: value %s missing", name, v.Name)
					continue
				}
				c.usages(name+"."+v.Name, v.Directives, gv.Directives)
			}
		case ast.Union:
			for _, m := range want.Types {
				if !slices.Contains(got.Types, m) {
					c.addf("union %s: member %s missing", name, m)
				}
			}
		}
	}

	for _, name := range slices.Sorted(maps.Keys(contract.Directives)) {
		want := contract.Directives[name]
		if isBuiltIn(want.Position) {
			continue
		}
		got := project.Directives[name]
		if got == nil {
			c.addf("directive @%s: missing", name)
			continue
		}
		wl, gl := locations(want), locations(got)
		if !slices.Equal(wl, gl) {
			c.addf("directive @%s: locations %v, contract has %v", name, gl, wl)
		}
		if got.IsRepeatable != want.IsRepeatable {
			c.addf("directive @%s: repeatable %t, contract has %t", name, got.IsRepeatable, want.IsRepeatable)
		}
		// A directive definition is matched exactly: the server implements
		// its meaning, so an extra argument is a different directive.
		c.arguments("@"+name, want.Arguments, got.Arguments, true)
	}
	return c.problems
}

type checker struct{ problems []string }

func (c *checker) addf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

func (c *checker) roots(contract, project *ast.Schema) {
	for _, r := range []struct {
		op        string
		want, got *ast.Definition
	}{
		{"query", contract.Query, project.Query},
		{"mutation", contract.Mutation, project.Mutation},
		{"subscription", contract.Subscription, project.Subscription},
	} {
		if r.want == nil {
			continue
		}
		if r.got == nil || r.got.Name != r.want.Name {
			c.addf("schema: %s root %s, contract has %s", r.op, defName(r.got), r.want.Name)
		}
	}
}

// outputFields compares the fields of an object or interface type.
func (c *checker) outputFields(typ string, want, got ast.FieldList) {
	for _, wf := range want {
		where := typ + "." + wf.Name
		gf := got.ForName(wf.Name)
		if gf == nil {
			c.addf("%s: field missing", where)
			continue
		}
		c.typeOf(where, wf.Type, gf.Type)
		c.arguments(where, wf.Arguments, gf.Arguments, false)
		c.usages(where, wf.Directives, gf.Directives)
	}
}

// inputFields compares the fields of an input object type. A field the
// project adds must be optional, or existing callers' inputs become invalid.
func (c *checker) inputFields(typ string, want, got ast.FieldList) {
	for _, wf := range want {
		where := typ + "." + wf.Name
		gf := got.ForName(wf.Name)
		if gf == nil {
			c.addf("%s: field missing", where)
			continue
		}
		c.typeOf(where, wf.Type, gf.Type)
		c.defaultValue(where, wf.DefaultValue, gf.DefaultValue)
		c.usages(where, wf.Directives, gf.Directives)
	}
	for _, gf := range got {
		if want.ForName(gf.Name) == nil && gf.Type.NonNull && gf.DefaultValue == nil {
			c.addf("%s.%s: added input field is required (non-null without a default)", typ, gf.Name)
		}
	}
}

// arguments compares argument lists of a field or directive definition. With
// exact set, any argument not in the contract is a problem; otherwise only a
// required one is, since callers written against the contract do not send it.
func (c *checker) arguments(owner string, want, got ast.ArgumentDefinitionList, exact bool) {
	for _, wa := range want {
		where := owner + "(" + wa.Name + ":)"
		ga := got.ForName(wa.Name)
		if ga == nil {
			c.addf("%s: argument missing", where)
			continue
		}
		c.typeOf(where, wa.Type, ga.Type)
		c.defaultValue(where, wa.DefaultValue, ga.DefaultValue)
		c.usages(where, wa.Directives, ga.Directives)
	}
	for _, ga := range got {
		if want.ForName(ga.Name) != nil {
			continue
		}
		where := owner + "(" + ga.Name + ":)"
		switch {
		case exact:
			c.addf("%s: argument not in the contract", where)
		case ga.Type.NonNull && ga.DefaultValue == nil:
			c.addf("%s: added argument is required (non-null without a default)", where)
		}
	}
}

// typeOf compares full type references, wrappers included: [Photo!]! is
// not [Photo!] and String! is not String.
func (c *checker) typeOf(where string, want, got *ast.Type) {
	if w, g := want.String(), got.String(); w != g {
		c.addf("%s: type %s, contract has %s", where, g, w)
	}
}

func (c *checker) defaultValue(where string, want, got *ast.Value) {
	if w, g := valueString(want), valueString(got); w != g {
		c.addf("%s: default %s, contract has %s", where, g, w)
	}
}

// usages checks that every directive the contract applies (e.g. @staffOnly)
// is applied in the project too, with the same explicit arguments. The
// project may apply more directives.
func (c *checker) usages(where string, want, got ast.DirectiveList) {
	for _, wd := range want {
		gd := got.ForName(wd.Name)
		if gd == nil {
			c.addf("%s: @%s missing", where, wd.Name)
			continue
		}
		for _, wa := range wd.Arguments {
			ga := gd.Arguments.ForName(wa.Name)
			g := "none"
			if ga != nil {
				g = ga.Value.String()
			}
			if w := wa.Value.String(); w != g {
				c.addf("%s: @%s(%s: %s), contract has %s", where, wd.Name, wa.Name, g, w)
			}
		}
	}
}

func valueString(v *ast.Value) string {
	if v == nil {
		return "none"
	}
	return v.String()
}

func defName(d *ast.Definition) string {
	if d == nil {
		return "none"
	}
	return d.Name
}

func locations(d *ast.DirectiveDefinition) []string {
	l := make([]string, 0, len(d.Locations))
	for _, loc := range d.Locations {
		l = append(l, string(loc))
	}
	slices.Sort(l)
	return l
}

func isBuiltIn(p *ast.Position) bool {
	return p != nil && p.Src != nil && p.Src.BuiltIn
}
