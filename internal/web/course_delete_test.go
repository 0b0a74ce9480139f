package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/publish"
)

func TestActivityDeleteShowsDependentsAndRefusesPublished(t *testing.T) {
	t.Parallel()
	f := newCourseFixture(t)
	ctx := context.Background()
	quiz, asg := f.res.Activities[1], f.res.Activities[2]
	if r := f.inst.PostForm(t, f.student, fmt.Sprintf("/activities/%d/attempts", quiz.ID), url.Values{"q_closest": {"1"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("attempt: %d", r.StatusCode)
	}
	in := publish.NewInput(f.res.Course.ID)
	in.ActivityID, in.Name = asg.ID, "Report"
	res := f.inst.Publish(t, in)

	if r := f.inst.Get(t, f.student, fmt.Sprintf("/activities/%d/delete", quiz.ID)); r.StatusCode != http.StatusForbidden {
		t.Fatalf("a student opened the delete page: %d", r.StatusCode)
	}
	if r := f.inst.PostForm(t, f.student, fmt.Sprintf("/activities/%d/delete", quiz.ID), url.Values{"confirm": {"yes"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("a student deleted: %d", r.StatusCode)
	}
	page := f.inst.Get(t, f.teacher, fmt.Sprintf("/activities/%d/delete", quiz.ID))
	if !strings.Contains(page.Body, "1 grade (removed") || !strings.Contains(page.Body, "1 quiz attempt<") {
		t.Fatalf("dependents not shown:\n%s", page.Body)
	}
	page = f.inst.Get(t, f.teacher, fmt.Sprintf("/activities/%d/delete", asg.ID))
	if !strings.Contains(page.Body, "published as an LTI tool (1 published resource)") || strings.Contains(page.Body, "confirm-delete") {
		t.Fatalf("published activity's delete page:\n%s", page.Body)
	}
	if r := f.inst.PostForm(t, f.teacher, fmt.Sprintf("/activities/%d/delete", asg.ID), url.Values{"confirm": {"yes"}}); r.StatusCode != http.StatusConflict ||
		!strings.Contains(r.Body, "Delete its published resource") {
		t.Fatalf("deleting a published activity: %d %s", r.StatusCode, r.Body)
	}
	if _, err := f.inst.Store.ActivityByID(ctx, asg.ID); err != nil {
		t.Fatalf("the published activity is gone: %v", err)
	}
	// Unpublished, it can go.
	teacher, _ := f.inst.Store.UserByUsername(ctx, "teacher")
	if err := f.inst.App.Publish.Delete(ctx, &teacher, res.ID); err != nil {
		t.Fatal(err)
	}
	if r := f.inst.PostForm(t, f.teacher, fmt.Sprintf("/activities/%d/delete", asg.ID), url.Values{"confirm": {"yes"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("deleting the unpublished activity: %d %s", r.StatusCode, r.Body)
	}
	if r := f.inst.PostForm(t, f.teacher, fmt.Sprintf("/activities/%d/delete", quiz.ID), url.Values{"confirm": {"yes"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("deleting the quiz: %d", r.StatusCode)
	}
	if g, err := f.inst.Store.CourseGrades(ctx, f.res.Course.ID); err != nil || len(g) != 0 {
		t.Fatalf("grades left after deleting: %+v %v", g, err)
	}
	// Hide and show.
	page0 := f.res.Activities[0]
	if r := f.inst.PostForm(t, f.teacher, fmt.Sprintf("/activities/%d/visibility", page0.ID), url.Values{"visible": {"false"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("hide: %d", r.StatusCode)
	}
	if r := f.inst.Get(t, f.student, fmt.Sprintf("/activities/%d", page0.ID)); r.StatusCode != http.StatusNotFound {
		t.Fatalf("a hidden page is visible to the student: %d", r.StatusCode)
	}
}
