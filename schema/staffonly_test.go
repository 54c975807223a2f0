package schema

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode"

	"github.com/vektah/gqlparser/v2/ast"
)

// staffOnlyVehicleFields are the Vehicle fields the help article says a
// customer never sees; each must carry @staffOnly (STYLE.md rule 4).
var staffOnlyVehicleFields = []string{
	"vin", "stockNumber", "customer", "notes", "costs", "agreedSalePrice", "payments",
}

// publicTypes are the types reviewed as safe to reach from PublicTracking.
// A type reached from it that is on neither this list nor privateTypes fails
// the walk: add it here only after checking it exposes nothing private.
var publicTypes = map[string]bool{
	"PublicTracking":     true,
	"PublicOrganization": true,
	"PublicVehicle":      true,
	"PublicPhoto":        true,
	"PublicNote":         true,
	"Progress":           true,
	"ProgressStage":      true,
	"Stage":              true,
	"Date":               true,
	"Time":               true,
}

// privateTypes are the staff side's types: reaching any of them from
// PublicTracking would let the public page resolve staff data. ID is here
// because internal ids let a page be correlated with staff objects (the slug
// is the only public handle); Decimal because the page shows no money.
var privateTypes = map[string]bool{
	"Viewer": true, "AuthPayload": true, "User": true, "Role": true,
	"Organization": true, "SubscriptionStatus": true, "UpdateOrganizationInput": true,
	"Customer": true, "CustomerInput": true, "CustomerConnection": true, "CustomerEdge": true,
	"Vehicle": true, "CreateVehicleInput": true, "UpdateVehicleInput": true,
	"VehicleConnection": true, "VehicleEdge": true, "PageInfo": true,
	"Photo": true, "Note": true, "NoteScope": true,
	"Money": true, "MoneyInput": true, "CostItem": true, "CostInput": true,
	"Payment": true, "PaymentInput": true,
	"TrackingLink": true, "TrackingLinkOptionsInput": true,
	"ID": true, "Decimal": true, "Upload": true,
}

// privateWords are words that, anywhere in a field or argument name reached
// from PublicTracking (names are split into camelCase words, so
// "customerEmail" and "agreedSalePrice" match), name something the help
// article keeps from the customer:
//   - identity of the car and its buyer: vin, stock(Number), customer;
//   - money: cost, payment, price, sale, amount, margin, profit, invoice,
//     balance, deposit (the page shows no financials at all);
//   - contact details: email, phone, address;
//   - internal notes: internal, scope (a note's scope says internal ones exist);
//   - credentials: token, password, hash, secret, key;
//   - slug: the link's secret; echoing it invites it into logs and caches;
//   - id: internal ids tie the page to staff objects;
//   - staff and billing: author, user, staff, owner, role, subscription.
var privateWords = map[string]bool{
	"vin": true, "stock": true, "customer": true, "customers": true,
	"cost": true, "costs": true, "payment": true, "payments": true,
	"price": true, "prices": true, "sale": true, "amount": true, "amounts": true,
	"margin": true, "profit": true, "invoice": true, "balance": true, "deposit": true,
	"email": true, "phone": true, "address": true,
	"internal": true, "scope": true,
	"token": true, "password": true, "hash": true, "secret": true, "key": true,
	"slug": true, "id": true, "ids": true,
	"author": true, "user": true, "staff": true, "owner": true, "role": true,
	"subscription": true,
}

func TestVehicleSensitiveFieldsAreStaffOnly(t *testing.T) {
	s := loadProject(t, nil)
	for _, p := range staffOnlyProblems(s) {
		t.Error(p)
	}
}

func TestPublicTrackingQuery(t *testing.T) {
	s := loadProject(t, nil)
	for _, p := range publicTrackingQueryProblems(s) {
		t.Error(p)
	}
}

func TestNothingPrivateReachableFromPublicTracking(t *testing.T) {
	s := loadProject(t, nil)
	leaks, reached := publicLeaks(s, "PublicTracking")
	for _, p := range leaks {
		t.Error(p)
	}
	// The walk must actually have gone through the public side, or an empty
	// result would prove nothing.
	for name := range publicTypes {
		if !slices.Contains(reached, name) {
			t.Errorf("walk from PublicTracking never reached %s", name)
		}
	}
}

// TestChecksCatchLeaks proves the three checks above can fail: each case
// edits or extends the project's schema files and the check must name it.
func TestChecksCatchLeaks(t *testing.T) {
	type edit struct{ file, old, new string }
	tests := []struct {
		name  string
		edits []edit
		extra string // appended as another schema file
		check func(*ast.Schema) []string
		want  []string
	}{
		{
			name:  "@staffOnly dropped from Vehicle.costs",
			edits: []edit{{"vehicles.graphqls", "costs: [CostItem!]! @staffOnly", "costs: [CostItem!]!"}},
			check: staffOnlyProblems,
			want:  []string{"Vehicle.costs: does not carry @staffOnly"},
		},
		{
			name:  "publicTracking made non-null",
			edits: []edit{{"public.graphqls", "publicTracking(slug: String!): PublicTracking", "publicTracking(slug: String!): PublicTracking!"}},
			check: publicTrackingQueryProblems,
			want:  []string{"Query.publicTracking: returns PublicTracking!, want PublicTracking (nullable: null for every unavailable link)"},
		},
		{
			name:  "publicTracking marked @staffOnly",
			edits: []edit{{"public.graphqls", "publicTracking(slug: String!): PublicTracking", "publicTracking(slug: String!): PublicTracking @staffOnly"}},
			check: publicTrackingQueryProblems,
			want:  []string{"Query.publicTracking: carries @staffOnly, but it is the public entry point"},
		},
		{
			name:  "private field name on a public type",
			extra: "extend type PublicVehicle { vin: String }",
			check: walkPublic,
			want:  []string{"PublicTracking.vehicle → PublicVehicle.vin: name names a private value (vin)"},
		},
		{
			name:  "private word inside a camelCase name",
			extra: "extend type PublicPhoto { internalCaption: String }",
			check: walkPublic,
			want:  []string{"PublicTracking.heroPhoto → PublicPhoto.internalCaption: name names a private value (internal)"},
		},
		{
			name:  "@staffOnly field on a public type",
			extra: "extend type PublicNote { edited: Boolean @staffOnly }",
			check: walkPublic,
			want:  []string{"PublicTracking.notes → PublicNote.edited: carries @staffOnly"},
		},
		{
			name:  "staff type reachable",
			extra: "extend type PublicTracking { record: Vehicle }",
			check: walkPublic,
			want:  []string{"PublicTracking.record: reaches private type Vehicle"},
		},
		{
			name:  "private type reachable deep down",
			extra: "extend type ProgressStage { reachedBy: Organization }",
			check: walkPublic,
			want:  []string{"PublicTracking.progress → Progress.stages → ProgressStage.reachedBy: reaches private type Organization"},
		},
		{
			name:  "private input type reachable through an argument",
			extra: "extend type PublicTracking { photosMatching(filter: CostInput): [PublicPhoto!]! }",
			check: walkPublic,
			want:  []string{"PublicTracking.photosMatching(filter:): reaches private type CostInput"},
		},
		{
			name:  "private argument name",
			extra: "extend type PublicTracking { note(id: String): PublicNote }",
			check: walkPublic,
			want:  []string{"PublicTracking.note(id:): name names a private value (id)"},
		},
		{
			name:  "private type reachable through a union",
			extra: "union PublicItem = PublicPhoto | Customer\nextend type PublicTracking { items: [PublicItem!]! }",
			check: walkPublic,
			want: []string{
				"PublicTracking.items: reaches type PublicItem, which is not on the reviewed public list",
				"PublicTracking.items → PublicItem: reaches private type Customer",
			},
		},
		{
			name:  "unreviewed type with a private field",
			extra: "type PublicDealer { name: String!, phone: String }\nextend type PublicOrganization { dealer: PublicDealer }",
			check: walkPublic,
			want: []string{
				"PublicTracking.organization → PublicOrganization.dealer: reaches type PublicDealer, which is not on the reviewed public list",
				"PublicTracking.organization → PublicOrganization.dealer → PublicDealer.phone: name names a private value (phone)",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := loadProject(t, func(fsys fstest.MapFS) {
				for _, e := range tt.edits {
					f := fsys[e.file]
					if f == nil {
						t.Fatalf("case edits %s, which is not a schema file", e.file)
					}
					f.Data = []byte(replaceOnce(t, e.file, string(f.Data), e.old, e.new))
				}
				if tt.extra != "" {
					fsys["zz_test_extra.graphqls"] = &fstest.MapFile{Data: []byte(tt.extra)}
				}
			})
			got := tt.check(s)
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("check did not report %q; it reported:\n  %s", w, strings.Join(got, "\n  "))
				}
			}
		})
	}
}

func TestNameWords(t *testing.T) {
	for in, want := range map[string][]string{
		"vin":             {"vin"},
		"stockNumber":     {"stock", "number"},
		"agreedSalePrice": {"agreed", "sale", "price"},
		"photoIds":        {"photo", "ids"},
		"logoURL":         {"logo", "url"},
		"customerID":      {"customer", "id"},
		"internal_notes":  {"internal", "notes"},
		"HTTPStatus":      {"http", "status"},
	} {
		if got := nameWords(in); !slices.Equal(got, want) {
			t.Errorf("nameWords(%q) = %q, want %q", in, got, want)
		}
	}
}

// loadProject loads the embedded schema files, after edit (if any) has
// changed a copy of them.
func loadProject(t *testing.T, edit func(fstest.MapFS)) *ast.Schema {
	t.Helper()
	fsys := fstest.MapFS{}
	entries, err := Files.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := Files.ReadFile(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		fsys[e.Name()] = &fstest.MapFile{Data: b}
	}
	if edit != nil {
		edit(fsys)
	}
	s, err := load(fsys)
	if err != nil {
		t.Fatalf("load project schema: %v", err)
	}
	return s
}

func staffOnlyProblems(s *ast.Schema) []string {
	vehicle := s.Types["Vehicle"]
	if vehicle == nil {
		return []string{"type Vehicle: missing"}
	}
	var problems []string
	for _, name := range staffOnlyVehicleFields {
		f := vehicle.Fields.ForName(name)
		switch {
		case f == nil:
			problems = append(problems, "Vehicle."+name+": field missing")
		case f.Directives.ForName("staffOnly") == nil:
			problems = append(problems, "Vehicle."+name+": does not carry @staffOnly")
		}
	}
	return problems
}

func publicTrackingQueryProblems(s *ast.Schema) []string {
	if s.Query == nil {
		return []string{"schema: no query root"}
	}
	f := s.Query.Fields.ForName("publicTracking")
	if f == nil {
		return []string{"Query.publicTracking: missing"}
	}
	var problems []string
	if got := f.Type.String(); got != "PublicTracking" {
		problems = append(problems, "Query.publicTracking: returns "+got+", want PublicTracking (nullable: null for every unavailable link)")
	}
	if f.Directives.ForName("staffOnly") != nil {
		problems = append(problems, "Query.publicTracking: carries @staffOnly, but it is the public entry point")
	}
	if a := f.Arguments.ForName("slug"); a == nil || a.Type.String() != "String!" {
		problems = append(problems, "Query.publicTracking: want argument slug: String!")
	}
	return problems
}

// walkPublic adapts publicLeaks to the shape of the other checks.
func walkPublic(s *ast.Schema) []string {
	leaks, _ := publicLeaks(s, "PublicTracking")
	return leaks
}

// publicLeaks walks every type reachable from root, through field types,
// argument types, input fields, implemented interfaces and the members of
// unions and interfaces, and reports each reachable field or argument that
// carries @staffOnly or names a private value, and each reachable type that
// is private or not reviewed as public. Problems are prefixed with the path
// of fields that leads to them. It also returns the names of the types it
// reached, in the order reached.
func publicLeaks(s *ast.Schema, root string) (problems []string, reached []string) {
	type step struct{ name, path string }
	seen := map[string]bool{root: true}
	queue := []step{{root, ""}} // the root's path is empty: its fields start paths
	visit := func(name, path string) {
		if !seen[name] {
			seen[name] = true
			queue = append(queue, step{name, path})
		}
	}
	report := func(path, msg string) {
		if path == "" {
			path = root
		}
		problems = append(problems, path+": "+msg)
	}
	join := func(path, next string) string {
		if path == "" {
			return next
		}
		return path + " → " + next
	}

	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		reached = append(reached, cur.name)

		def := s.Types[cur.name]
		switch {
		case def == nil:
			report(cur.path, "reaches undefined type "+cur.name)
			continue
		case privateTypes[def.Name]:
			report(cur.path, "reaches private type "+def.Name)
		case !publicTypes[def.Name] && !(def.BuiltIn && def.Kind == ast.Scalar):
			report(cur.path, "reaches type "+def.Name+", which is not on the reviewed public list")
		}

		for _, f := range def.Fields {
			fpath := join(cur.path, def.Name+"."+f.Name)
			checkName(fpath, f.Name, f.Directives, report)
			for _, a := range f.Arguments {
				apath := fpath + "(" + a.Name + ":)"
				checkName(apath, a.Name, a.Directives, report)
				visit(a.Type.Name(), apath)
			}
			visit(f.Type.Name(), fpath)
		}
		for _, iface := range def.Interfaces {
			visit(iface, join(cur.path, def.Name))
		}
		if def.IsAbstractType() {
			for _, p := range s.PossibleTypes[def.Name] {
				visit(p.Name, join(cur.path, def.Name))
			}
		}
	}
	return problems, reached
}

func checkName(path, name string, directives ast.DirectiveList, report func(path, msg string)) {
	if directives.ForName("staffOnly") != nil {
		report(path, "carries @staffOnly")
	}
	for _, w := range nameWords(name) {
		if privateWords[w] {
			report(path, "name names a private value ("+w+")")
			return
		}
	}
}

// nameWords splits a GraphQL name into lower-case words at underscores and
// camelCase boundaries: "agreedSalePrice" → agreed sale price, "logoURL" →
// logo url, "HTTPStatus" → http status.
func nameWords(name string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		if r == '_' {
			flush()
			continue
		}
		if unicode.IsUpper(r) && i > 0 {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return words
}
