// Package schema holds the GraphQL schema, one .graphqls file per area.
//
// gqlgen reads these files by path (gqlgen.yml: schema/*.graphqls) when it
// generates graph/. The same files are embedded here so that tests and tools
// load exactly the schema gqlgen compiled, not a copy that could drift.
package schema

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
)

// Files holds every *.graphqls file of this directory.
//
//go:embed *.graphqls
var Files embed.FS

// Load parses and validates all the embedded .graphqls files as one schema,
// the way gqlgen does.
func Load() (*ast.Schema, error) {
	return load(Files)
}

// load parses every *.graphqls file at the root of fsys, one ast.Source per
// file (named schema/<file>, as gqlgen names them), in file-name order.
// Tests call it with edited copies of the files.
func load(fsys fs.FS) (*ast.Schema, error) {
	names, err := fs.Glob(fsys, "*.graphqls")
	if err != nil {
		return nil, fmt.Errorf("list schema files: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("load schema: no .graphqls files")
	}
	sources := make([]*ast.Source, 0, len(names))
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read schema file %s: %w", name, err)
		}
		sources = append(sources, &ast.Source{Name: "schema/" + name, Input: string(b)})
	}
	s, err := gqlparser.LoadSchema(sources...)
	if err != nil {
		return nil, fmt.Errorf("load schema: %w", err)
	}
	return s, nil
}

// SDL is the whole schema as one document, definitions sorted by name, for
// client code generators (importops schema, and schema.graphql at the
// repository root).
func SDL() (string, error) {
	s, err := Load()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatSchema(s)
	return b.String(), nil
}
