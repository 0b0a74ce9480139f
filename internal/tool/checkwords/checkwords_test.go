package checkwords

import (
	"testing"

	"github.com/ltipub/ltipub/internal/i18n"
	"github.com/ltipub/ltipub/internal/tool"
)

// TestWords: a check step reads in Spanish from the platforms catalog, with its values worded too; English, steps
// without ids and ids the catalog lacks keep the recorded words.
func TestWords(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	es, en := cat.Printer(cat.Choose("es")), cat.Printer(cat.Choose("en"))
	algs := tool.CheckStep{Code: "keys", Name: "Platform key set", Detail: "kid1: any RSA algorithm.", DetailID: "algs_ok",
		Args: tool.CheckArgs{Algs: "kid1: any RSA algorithm"}}
	token := tool.CheckStep{Code: "token", Name: "Service token request"}
	score := tool.CheckStep{Code: "token:https://purl.imsglobal.org/spec/lti-ags/scope/score", Name: "Service token: score"}
	old := tool.CheckStep{Code: "keys", Name: "Platform key set", Detail: "recorded before ids"}
	unknown := tool.CheckStep{Code: "nobody-knows", Name: "A new step", Detail: "as recorded", DetailID: "nobody_knows"}
	for _, tc := range []struct{ what, got, want string }{
		{"Spanish detail with its values", Detail(es, algs), "kid1: " + es.T("platforms.check.any_rsa") + "."},
		{"English detail", Detail(en, algs), "kid1: any RSA algorithm."},
		{"no printer", Detail(nil, algs), "kid1: any RSA algorithm."},
		{"a step without ids", Detail(es, old), "recorded before ids"},
		{"an id the catalog lacks", Detail(es, unknown), "as recorded"},
		{"the token request", StepName(es, token), "Solicitud de token de servicio"},
		{"a scoped token", StepName(es, score), "Token de servicio: " + es.T("platforms.check.scope.score")},
		{"an unknown step", StepName(es, unknown), "A new step"},
		{"English name", StepName(en, score), "Service token: score"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.what, tc.got, tc.want)
		}
	}
}
