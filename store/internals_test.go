package store

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The store uses its dependencies through their public APIs only: it does
// not import unsafe, nor read a value's fields through reflection (a
// driver's unexported fields change with any release of it, and the
// compiler cannot tell).
func TestNoReachingIntoDependencies(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); path == "unsafe" {
				t.Errorf("%s imports unsafe", fset.Position(imp.Pos()))
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			switch sel.Sel.Name {
			case "Field", "FieldByName", "FieldByIndex", "FieldByNameFunc", "UnsafePointer", "UnsafeAddr", "NewAt":
				t.Errorf("%s reads a value's fields through reflection (%s)", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
}
