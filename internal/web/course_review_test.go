package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
)

// TestQuizReviewMarksEachQuestion: after an attempt, the review marks each question the way Moodle does, with
// colour, an icon (both from the mark's class) and words, and the points it got: "Right, 1 of 1", "Partly right,
// 1 of 2", "Wrong, 0 of 1".
func TestQuizReviewMarksEachQuestion(t *testing.T) {
	t.Parallel()
	f := newCourseFixture(t)
	quiz := apptest.Activity(f.res, course.TypeQuiz)
	path := fmt.Sprintf("/activities/%d", quiz.ID)
	r := f.inst.PostForm(t, f.student, path+"/attempts", url.Values{"q_closest": {"1"}, "q_giants": {"0"}, "q_star": {"the moon"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit the attempt: %d %s", r.StatusCode, r.Body)
	}
	page := f.inst.Get(t, f.student, path)
	for _, want := range []string{
		`<li class="q-right" id="result-closest">`, `<span class="mark right" id="mark-closest">Right, 1 of 1</span>`,
		`<li class="q-partial" id="result-giants">`, `<span class="mark partial" id="mark-giants">Partly right, 1 of 2</span>`,
		`<li class="q-wrong" id="result-star">`, `<span class="mark wrong" id="mark-star">Wrong, 0 of 1</span>`,
	} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the review lacks %s", want)
		}
	}
	if t.Failed() {
		start := strings.Index(page.Body, `id="last-result"`)
		t.Logf("review:\n%s", page.Body[max(start, 0):])
	}
}
