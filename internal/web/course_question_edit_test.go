package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/course"
)

func TestQuestionEditor(t *testing.T) {
	t.Parallel()
	f := newCourseFixture(t)
	ctx := context.Background()
	quiz := f.res.Activities[1]
	base := fmt.Sprintf("/activities/%d/questions", quiz.ID)
	load := func() course.Activity {
		t.Helper()
		a, err := f.inst.Store.ActivityByID(ctx, quiz.ID)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	before := len(load().Quiz.Questions)
	if r := f.inst.Get(t, f.student, base); r.StatusCode != http.StatusForbidden {
		t.Fatalf("a student opened the editor: %d", r.StatusCode)
	}
	for _, typ := range course.QuestionTypes {
		if r := f.inst.Get(t, f.teacher, base+"/new?type="+string(typ)); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `id="question-form"`) {
			t.Fatalf("new %s form: %d %s", typ, r.StatusCode, r.Body)
		}
	}
	save := func(form url.Values) *http.Response {
		t.Helper()
		r := f.inst.PostForm(t, f.teacher, base+"/save", form)
		return &http.Response{StatusCode: r.StatusCode, Status: r.Body}
	}
	// A multiple-answer question with partial credit and feedback.
	r := save(url.Values{"type": {"multichoice"}, "id": {"vec"}, "text": {"Vectors?"}, "points": {"2"}, "multiple": {"on"},
		"row_text": {"Velocity", "Mass", "Force", ""}, "row_percent": {"50", "-50", "50", ""}, "row_feedback": {"yes", "no: scalar", "", ""},
		"general_feedback": {"Magnitude and direction"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save multichoice: %d %s", r.StatusCode, r.Status)
	}
	// A numerical question with a unit, and a true/false.
	if r := save(url.Values{"type": {"numerical"}, "id": {"len"}, "text": {"1.5 m?"}, "row_text": {"1.5"}, "row_tolerance": {"0.01"}, "row_percent": {""},
		"unit_name": {"m", "cm", ""}, "unit_multiplier": {"1", "100", ""}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save numerical: %d %s", r.StatusCode, r.Status)
	}
	if r := save(url.Values{"type": {"truefalse"}, "text": {"The Sun is a star"}, "correct_answer": {"true"}, "false_feedback": {"It is"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save truefalse: %d %s", r.StatusCode, r.Status)
	}
	a := load()
	if len(a.Quiz.Questions) != before+3 {
		t.Fatalf("%d questions", len(a.Quiz.Questions))
	}
	vec, num, tf := a.Quiz.Questions[before], a.Quiz.Questions[before+1], a.Quiz.Questions[before+2]
	if vec.Fraction([]string{"0", "2"}) != 1 || vec.Fraction([]string{"0"}) != 0.5 || vec.Choices[1].Feedback != "no: scalar" || !vec.IsMultiple() || vec.Points != 2 {
		t.Fatalf("multichoice saved as %+v", vec)
	}
	if num.Fraction([]string{"150 cm"}) != 1 || num.Fraction([]string{"1.6"}) != 0 {
		t.Fatalf("numerical saved as %+v", num)
	}
	if tf.ID == "" || tf.Fraction([]string{"true"}) != 1 || tf.FalseFeedback != "It is" {
		t.Fatalf("truefalse saved as %+v", tf)
	}
	// A mistake comes back in the form with the field named, and changes nothing.
	bad := f.inst.PostForm(t, f.teacher, base+"/save", url.Values{"type": {"multichoice"}, "text": {"Pick"}, "row_text": {"a", "b"}, "row_percent": {"0", "0"}})
	if bad.StatusCode != http.StatusBadRequest || !strings.Contains(bad.Body, "choices: at least one choice must be marked correct") || !strings.Contains(bad.Body, `value="a"`) {
		t.Fatalf("bad question: %d %s", bad.StatusCode, bad.Body)
	}
	// Edit keeps the question's place; move and delete.
	edit := f.inst.Get(t, f.teacher, base+"/vec/edit")
	if !strings.Contains(edit.Body, `value="Velocity"`) || !strings.Contains(edit.Body, `value="-50"`) {
		t.Fatalf("edit form:\n%s", edit.Body)
	}
	if r := save(url.Values{"old_id": {"vec"}, "type": {"multichoice"}, "id": {"vec"}, "text": {"Which are vectors?"}, "points": {"2"}, "multiple": {"on"},
		"row_text": {"Velocity", "Mass", "Force"}, "row_percent": {"50", "-50", "50"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", r.StatusCode, r.Status)
	}
	if r := f.inst.PostForm(t, f.teacher, base+"/vec/move", url.Values{"direction": {"up"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("move: %d", r.StatusCode)
	}
	a = load()
	if a.Quiz.Questions[before-1].ID != "vec" || a.Quiz.Questions[before-1].Text != "Which are vectors?" {
		t.Fatalf("after edit and move: %+v", a.Quiz.Questions)
	}
	if r := f.inst.PostForm(t, f.teacher, base+"/len/delete", url.Values{"confirm": {"yes"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	if len(load().Quiz.Questions) != before+2 {
		t.Fatal("question not deleted")
	}
	preview := f.inst.Get(t, f.teacher, base+"?preview=1")
	if !strings.Contains(preview.Body, "Which are vectors?") || !strings.Contains(preview.Body, `type="checkbox" name="q_vec"`) || strings.Contains(preview.Body, "Right answer") {
		t.Fatalf("preview:\n%s", preview.Body)
	}
}

func TestPagePreview(t *testing.T) {
	t.Parallel()
	f := newCourseFixture(t)
	page := f.res.Activities[0]
	body := "# Title\n\n**bold** <script>alert(1)</script> [x](javascript:alert(2))"
	r := f.inst.PostForm(t, f.teacher, fmt.Sprintf("/activities/%d/edit", page.ID), url.Values{"name": {"Changed"}, "body": {body}, "preview": {"1"}})
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "<h1>Title</h1>") || !strings.Contains(r.Body, "<strong>bold</strong>") ||
		strings.Contains(r.Body, "alert(1)</script>") || strings.Contains(r.Body, `href="javascript`) {
		t.Fatalf("preview: %d %s", r.StatusCode, r.Body)
	}
	if a, _ := f.inst.Store.ActivityByID(context.Background(), page.ID); a.Name == "Changed" {
		t.Fatal("the preview saved the page")
	}
	live := f.inst.PostForm(t, f.teacher, "/markdown/preview", url.Values{"body": {body}})
	if live.StatusCode != http.StatusOK || !strings.HasPrefix(live.Body, "<h1>Title</h1>") || strings.Contains(live.Body, "<script") {
		t.Fatalf("live preview: %d %s", live.StatusCode, live.Body)
	}
	if r := f.inst.PostForm(t, f.inst.Client(t), "/markdown/preview", url.Values{"body": {"x"}}); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous preview: %d", r.StatusCode)
	}
}
