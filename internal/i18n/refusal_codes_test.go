package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// refusalPackages are the packages that say no to a person with a refusal code (internal/refusal, the domain
// packages that use it, and the protocol packages whose failures a launch page or an administrator reads),
// relative to this package.
var refusalPackages = []string{"../refusal", "../launch", "../publish", "../tool", "../notice", "../../lti", "../../lti/lti11"}

// TestRefusalCodesTranslated: every refusal code the domain packages define has its words in every language
// ("problem.<code>.title", ".cause" and ".fix"), so that no page or launch inspector shows an administrator, a
// teacher or a learner a refusal left in English. The codes are read from the source: the first argument of
// refuse(…)/storageRefusal(…)/refusal.New(…), the Code of a Refusal literal, and the string constants named
// Code… (a code passed through a variable is caught where its constant is defined).
func TestRefusalCodesTranslated(t *testing.T) {
	codes := refusalCodes(t)
	for code := range codes {
		// The service codes name a platform service's failures (token, roster, scores) in sync runs and the log,
		// which record the platform's own answer; no page shows them as a refusal.
		if strings.HasPrefix(code, "service_") {
			delete(codes, code)
		}
	}
	if len(codes) < 20 {
		t.Fatalf("found only %d refusal codes in %v: is the scan still reading the right packages?", len(codes), refusalPackages)
	}
	byLang, err := catalogsByLanguage(t)
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range slices.Sorted(maps.Keys(codes)) {
		for _, lang := range slices.Sorted(maps.Keys(byLang)) {
			for _, part := range []string{"title", "cause", "fix"} {
				if _, ok := byLang[lang]["problem."+code+"."+part]; !ok {
					t.Errorf("%s: refusal code %q (%s) has no %q", lang, code, codes[code], "problem."+code+"."+part)
				}
			}
		}
	}
}

// refusalCodes maps each code to where it is defined (file:line).
func refusalCodes(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, dir := range refusalPackages {
		consts := map[string]string{} // constant name → value, for codes named by a constant
		parsed := parseSources(t, fset, dir)
		for _, af := range parsed {
			for _, d := range af.Decls {
				gd, ok := d.(*ast.GenDecl)
				if !ok || gd.Tok != token.CONST {
					continue
				}
				for _, s := range gd.Specs {
					vs := s.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							if v, ok := stringLit(vs.Values[i]); ok {
								consts[n.Name] = v
								if strings.HasPrefix(n.Name, "Code") {
									out[v] = fset.Position(n.Pos()).String()
								}
							}
						}
					}
				}
			}
		}
		value := func(e ast.Expr) (string, bool) {
			if v, ok := stringLit(e); ok {
				return v, true
			}
			if id, ok := e.(*ast.Ident); ok {
				v, ok := consts[id.Name]
				return v, ok
			}
			return "", false
		}
		for _, af := range parsed {
			ast.Inspect(af, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					name := ""
					switch fn := n.Fun.(type) {
					case *ast.Ident:
						name = fn.Name
					case *ast.SelectorExpr:
						if x, ok := fn.X.(*ast.Ident); ok {
							name = x.Name + "." + fn.Sel.Name
						}
					}
					if (name == "refuse" || name == "storageRefusal" || name == "refusal.New") && len(n.Args) > 0 {
						if v, ok := value(n.Args[0]); ok {
							out[v] = fset.Position(n.Pos()).String()
						}
					}
				case *ast.CompositeLit:
					if !strings.HasSuffix(typeName(n.Type), "Refusal") {
						return true
					}
					for _, el := range n.Elts {
						kv, ok := el.(*ast.KeyValueExpr)
						if k, isID := kv.Key.(*ast.Ident); ok && isID && k.Name == "Code" {
							if v, ok := value(kv.Value); ok {
								out[v] = fset.Position(kv.Pos()).String()
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

func stringLit(e ast.Expr) (string, bool) {
	bl, ok := e.(*ast.BasicLit)
	if !ok || bl.Kind != token.STRING {
		return "", false
	}
	v, err := strconv.Unquote(bl.Value)
	return v, err == nil
}

func typeName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	}
	return ""
}

// parseSources parses the Go files of dir that are not tests: the code that defines what the scans look for.
func parseSources(t *testing.T, fset *token.FileSet, dir string) []*ast.File {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []*ast.File
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, af)
	}
	return out
}
