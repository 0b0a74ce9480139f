package web

import (
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/i18n"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/tool"
)

// TestPeopleWordsInSpanish: the words the people pages build in Go (not in a template) follow the page's language,
// and English stays as it was.
func TestPeopleWordsInSpanish(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	es, en := cat.Printer(cat.Choose("es")), cat.Printer(cat.Choose("en"))
	at := time.Date(2026, 12, 2, 15, 4, 0, 0, time.UTC)

	notes := sentNotes{7: {3: &sentNote{SentNote: jobs.SentNote{UserID: 7, ActivityID: 3, Platform: "Moodle", At: at}}}}
	if got, want := notes.Sent(7, 3).String(), "sent to Moodle at 2 Dec 2026 15:04 UTC"; got != want {
		t.Errorf("English note %q, want %q", got, want)
	}
	notes.localizeNotes(es)
	if got, want := notes.Sent(7, 3).String(), "enviada a Moodle el 2 dic 2026 15:04 UTC"; got != want {
		t.Errorf("Spanish note %q, want %q", got, want)
	}
	if notes.Sent(7, 4) != nil || notes.Sent(8, 3) != nil {
		t.Error("a grade never sent has a note")
	}

	p := &Page{tr: es}
	for _, tc := range []struct{ got, want string }{
		{p.RoleName(course.RoleTeacher), "profesor"},
		{p.StatusName(course.StatusSuspended), "suspendida"},
		{p.MethodName(course.Method("lti")), "LTI"},
		{p.MethodName(course.Method("carrier-pigeon")), "carrier-pigeon"}, // a value the catalog does not know stays as it is
		{bulkChangeLabel(es, course.BulkChange{Action: course.BulkRole, Role: course.RoleStudent}), "convertir en estudiante"},
		{bulkChangeLabel(en, course.BulkChange{Action: course.BulkRole, Role: course.RoleStudent}), "make student"},
		{accountError(es, account.ErrLastAdmin), "Este es el único administrador del sitio que puede iniciar sesión: convierta antes otra cuenta en administrador."},
		{accountError(en, account.ErrMergeSame), "Both names are the same account: choose two different accounts."},
		{mergedFlash(en, "b", "a", account.MergeReport{Moved: account.Dependents{Enrolments: 2}, Resolved: []string{"course \"X\": kept one"}}),
			"Merged b into a: moved 0 platform account(s), 2 enrolment(s), 0 grade(s), 0 submission(s), 0 quiz attempt(s); course \"X\": kept one."},
		{mergedFlash(es, "b", "a", account.MergeReport{Moved: account.Dependents{Enrolments: 1}, Resolved: []string{"course \"X\": kept one"}}),
			"Se ha fusionado b con a: se han movido 0 cuentas de plataforma, 1 matriculación, 0 calificaciones, 0 envíos y 0 intentos de cuestionario; 1 elemento que tenían ambas, se conservó uno."},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if got := (account.MergeReport{Moved: account.Dependents{Enrolments: 2}, Resolved: []string{"course \"X\": kept one"}}).Summary(); got !=
		"moved 0 platform account(s), 2 enrolment(s), 0 grade(s), 0 submission(s), 0 quiz attempt(s); course \"X\": kept one" {
		t.Errorf("the English flash no longer matches the merge summary the log writes: %q", got)
	}
}

// TestCheckStepNames: a registration check's steps are named in the page's language, the token request without a
// scope too (it once showed "Token de servicio: <no value>").
func TestCheckStepNames(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	es, en := &Page{tr: cat.Printer(cat.Choose("es"))}, &Page{tr: cat.Printer(cat.Choose("en"))}
	req := tool.CheckStep{Code: "token", Name: "Service token request"}
	if got := es.CheckStepName(req); got != "Solicitud de token de servicio" {
		t.Errorf("Spanish token request step: %q", got)
	}
	if got := en.CheckStepName(req); got != "Service token request" {
		t.Errorf("English token request step: %q", got)
	}
	score := tool.CheckStep{Code: "token:https://purl.imsglobal.org/spec/lti-ags/scope/score", Name: "Service token: score"}
	if got := es.CheckStepName(score); !strings.HasPrefix(got, "Token de servicio: ") || strings.Contains(got, "no value") {
		t.Errorf("Spanish scoped token step: %q", got)
	}
}
