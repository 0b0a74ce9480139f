package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Destructive buttons confirm first (issue 18): removing an enrolment and deleting a question each sit behind a
// <details> confirmation, and a POST without confirm=yes (a stale form, a script, a double click) changes nothing
// and shows the confirmation open instead.
func TestRemoveEnrolmentAsksFirst(t *testing.T) {
	t.Parallel()
	f := newCourseFixture(t)
	ctx := context.Background()
	cid := f.res.Course.ID
	es, err := f.inst.Store.EnrolmentsOf(ctx, cid, f.studentID)
	if err != nil || len(es) != 1 {
		t.Fatalf("the student's enrolment: %v %v", es, err)
	}
	page := fmt.Sprintf("/courses/%d/enrolments/%d", cid, es[0].ID)
	shown := f.inst.Get(t, f.teacher, page)
	if !strings.Contains(shown.Body, `<details class="confirm" id="remove-confirm">`) || !strings.Contains(shown.Body, `name="confirm" value="yes"`) ||
		!strings.Contains(shown.Body, "Yes, remove the enrolment of Sam Student") {
		t.Fatalf("the enrolment page has no closed confirmation:\n%s", shown.Body)
	}
	back := "q=sam&page=1"
	r := f.inst.PostForm(t, f.teacher, page+"/delete", url.Values{"back": {back}})
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `<details class="confirm" open id="remove-confirm">`) ||
		!strings.Contains(r.Body, `name="back" value="q=sam&amp;page=1"`) {
		t.Fatalf("a removal without confirm: %d\n%s", r.StatusCode, r.Body)
	}
	if still, _ := f.inst.Store.EnrolmentsOf(ctx, cid, f.studentID); len(still) != 1 {
		t.Fatal("the enrolment went without a confirmation")
	}
	if r := f.inst.PostForm(t, f.student, page+"/delete", url.Values{"confirm": {"yes"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("a student removed an enrolment: %d", r.StatusCode)
	}
	r = f.inst.PostForm(t, f.teacher, page+"/delete", url.Values{"confirm": {"yes"}, "back": {back}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != fmt.Sprintf("/courses/%d/enrolments?page=1&q=sam", cid) {
		t.Fatalf("the confirmed removal: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	if gone, _ := f.inst.Store.EnrolmentsOf(ctx, cid, f.studentID); len(gone) != 0 {
		t.Fatal("the confirmed removal left the enrolment")
	}
}

func TestDeleteQuestionAsksFirst(t *testing.T) {
	t.Parallel()
	f := newCourseFixture(t)
	ctx := context.Background()
	quiz := f.res.Activities[1]
	count := func() int {
		t.Helper()
		a, err := f.inst.Store.ActivityByID(ctx, quiz.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(a.Quiz.Questions)
	}
	before := count()
	qid := quiz.Quiz.Questions[0].ID
	base := fmt.Sprintf("/activities/%d/questions", quiz.ID)
	list := f.inst.Get(t, f.teacher, base)
	closed := fmt.Sprintf(`<details class="confirm" id="delete-confirm-%s">`, qid)
	if !strings.Contains(list.Body, closed) || !strings.Contains(list.Body, `id="confirm-delete-`+qid+`">Yes, delete question 1</button>`) ||
		!strings.Contains(list.Body, `aria-label="Delete question 1…"`) {
		t.Fatalf("the question list has no closed confirmation:\n%s", list.Body)
	}
	r := f.inst.PostForm(t, f.teacher, base+"/"+qid+"/delete", nil)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, fmt.Sprintf(`<details class="confirm" open id="delete-confirm-%s">`, qid)) ||
		strings.Count(r.Body, `<details class="confirm" open`) != 1 {
		t.Fatalf("a deletion without confirm: %d\n%s", r.StatusCode, r.Body)
	}
	if count() != before {
		t.Fatal("the question went without a confirmation")
	}
	if r := f.inst.PostForm(t, f.teacher, base+"/"+qid+"/delete", url.Values{"confirm": {"yes"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the confirmed deletion: %d", r.StatusCode)
	}
	if count() != before-1 {
		t.Fatal("the confirmed deletion left the question")
	}
	// In Spanish.
	es := f.inst.Client(t)
	es.Jar = f.teacher.Jar
	req, _ := http.NewRequest(http.MethodGet, f.inst.URL+base, nil)
	req.Header.Set("Accept-Language", "es")
	if r := f.inst.Do(t, es, req); !strings.Contains(r.Body, "Sí, eliminar la pregunta 1") {
		t.Fatal("the confirmation is not in Spanish")
	}
}
