package i18n

import (
	"go/ast"
	"go/token"
	"maps"
	"slices"
	"testing"
)

// validationPackages make the validation errors a form shows (course, publish, account and tool, and the web
// handlers that check what the domain cannot see), relative to this package.
var validationPackages = []string{"../course", "../publish", "../account", "../tool", "../web", "../cli"}

// TestValidationCodesTranslated: every code a validation error carries has its message ("validation.<code>") in
// every language, so that no form mistake falls back to English for a reader of another language. The codes are
// read from the source: the code argument of invalid(…), fieldError(…), add(…) and phrase(…), the Code of a
// ValidationError or Phrase literal, and the codes checkURL returns.
func TestValidationCodesTranslated(t *testing.T) {
	codes := validationCodes(t)
	if len(codes) < 100 {
		t.Fatalf("found only %d validation codes in %v: is the scan still reading the right calls?", len(codes), validationPackages)
	}
	byLang, err := catalogsByLanguage(t)
	if err != nil {
		t.Fatal(err)
	}
	names := slices.Sorted(maps.Keys(codes))
	for lang, cat := range byLang {
		for _, code := range names {
			if _, ok := cat["validation."+code]; !ok {
				t.Errorf("%s: validation code %q (%s) has no message %q", lang, code, codes[code], "validation."+code)
			}
		}
	}
}

func validationCodes(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, dir := range validationPackages {
		for _, af := range parseSources(t, fset, dir) {
			add := func(e ast.Expr) {
				if v, ok := stringLit(e); ok && v != "" {
					out[v] = fset.Position(e.Pos()).String()
				}
			}
			ast.Inspect(af, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.FuncDecl:
					if n.Name.Name == "checkURL" && n.Body != nil {
						ast.Inspect(n.Body, func(m ast.Node) bool {
							if r, ok := m.(*ast.ReturnStmt); ok && len(r.Results) == 3 {
								add(r.Results[1])
							}
							return true
						})
					}
				case *ast.CallExpr:
					name := ""
					switch fn := n.Fun.(type) {
					case *ast.Ident:
						name = fn.Name
					case *ast.SelectorExpr:
						name = fn.Sel.Name
					}
					switch {
					case (name == "invalid" || name == "fieldError" || name == "add") && len(n.Args) >= 3:
						add(n.Args[1])
					case name == "phrase" && len(n.Args) >= 2:
						add(n.Args[0])
					}
				case *ast.CompositeLit:
					if tn := typeName(n.Type); tn != "ValidationError" && tn != "Phrase" {
						return true
					}
					for _, el := range n.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Code" {
								add(kv.Value)
							}
						}
					}
				}
				return true
			})
		}
	}
	return out
}
