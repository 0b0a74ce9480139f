package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti/ltitest"
)

func boolp(b bool) *bool { return &b }

func dlSpec(sub string, dl *ltitest.DeepLinking) ltitest.LaunchSpec {
	return ltitest.LaunchSpec{
		MessageType: ltitest.MessageDeepLinkingRequest,
		User:        &ltitest.User{Sub: sub, Name: "Tina Teacher"},
		Roles:       []string{ltitest.RoleInstructor},
		Context:     &ltitest.Context{ID: "platform-course-1", Title: "Platform course"},
		DeepLinking: dl,
	}
}

// returnForm reads the auto-posting form of the deep linking return page.
func returnForm(t *testing.T, body string) (action, jwt string) {
	t.Helper()
	forms := ltitest.ParseForms(&url.URL{}, []byte(body))
	for _, f := range forms {
		if v := f.Values.Get("JWT"); v != "" {
			return f.Action, v
		}
	}
	t.Fatalf("no return form with a JWT in: %s", body)
	return "", ""
}

// postReturn sends the tool's answer to the platform, as the browser's auto-submit would.
func (b *browser) postReturn(body string) {
	b.t.Helper()
	action, jwt := returnForm(b.t, body)
	resp, err := b.client.PostForm(action, url.Values{"JWT": {jwt}})
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
}

func TestDeepLinkingEndToEnd(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	teacher := w.inst.EnsureUser(t, account.NewUser{Username: "tina", FullName: "Tina Teacher", Password: "tina-password-1"})
	if _, err := w.inst.App.Courses.Enrol(ctx, &w.inst.Admin, w.course.ID, course.EnrolInput{Username: "tina", Role: course.RoleTeacher, Status: course.StatusActive}); err != nil {
		t.Fatal(err)
	}

	// The request: the teacher has no link yet, so the selection page asks for their existing account.
	b := w.browser(t)
	resp := b.launch(dlSpec("tina-at-platform", &ltitest.DeepLinking{}))
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, "needs <strong>your existing account") {
		t.Fatalf("selection sign-in page: %d %s", resp.StatusCode, resp.Body)
	}
	if r := b.post("/launch/select/signin", url.Values{"username": {"tina"}, "password": {"tina-password-1"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d %s", r.StatusCode, r.Body)
	}
	if lu, err := w.inst.Store.LTIUser(ctx, w.p.Issuer(), "tina-at-platform"); err != nil || lu.UserID != teacher.ID {
		t.Fatalf("the platform user was not linked to tina: %+v %v", lu, err)
	}
	page := b.get("/launch/select")
	for _, want := range []string{w.courseR.Name, w.quizR.Name, "Add to gradebook", `type="checkbox" name="resource"`} {
		if !strings.Contains(page.Body, want) {
			t.Fatalf("selection page lacks %q: %s", want, page.Body)
		}
	}
	// Select the course and the quiz, the quiz with a gradebook column.
	resp = b.post("/launch/select", url.Values{"action": {"add"}, "resource": {fmt.Sprint(w.courseR.ID), fmt.Sprint(w.quizR.ID)},
		"gradebook_" + fmt.Sprint(w.quizR.ID): {"on"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `id="dl-return"`) {
		t.Fatalf("selection answer: %d %s", resp.StatusCode, resp.Body)
	}
	b.postReturn(resp.Body)

	returns := w.p.DeepLinkReturns()
	if len(returns) != 1 || returns[0].Err != "" {
		t.Fatalf("the platform refused the response: %+v", returns)
	}
	ret := returns[0]
	if len(ret.Links) != 2 {
		t.Fatalf("platform recorded %d links, want 2: %+v", len(ret.Links), ret.ContentItems)
	}
	var quizLink ltitest.StoredLink
	for _, l := range ret.Links {
		switch l.Custom["id"] {
		case w.quizR.UUID:
			quizLink = l
		case w.courseR.UUID:
			if l.LineItemURL != "" {
				t.Fatal("the course was added without asking for a gradebook column, yet got one")
			}
		default:
			t.Fatalf("unexpected link %+v", l)
		}
		if l.URL != w.inst.URL+"/lti/launch" {
			t.Fatalf("item url %q", l.URL)
		}
	}
	if quizLink.LineItemURL == "" {
		t.Fatal("the quiz asked for a gradebook column but the platform made none")
	}
	items := w.p.LineItems("platform-course-1")
	found := false
	for _, li := range items {
		// The quiz's column declares submission review, so the gradebook can open an attempt in ltipub.
		if li.ResourceID == w.quizR.UUID && li.ScoreMaximum == w.quiz.MaxGrade && li.Tag == "ltipub" && li.Label == w.quizR.Name &&
			li.SubmissionReview != nil && li.SubmissionReview.Label != "" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no line item for the quiz (scoreMaximum %v, resourceId %s): %+v", w.quiz.MaxGrade, w.quizR.UUID, items)
	}

	// A student's later launch of that item lands in the quiz and stores the coupled line item.
	s, err := w.p.LaunchSpecForLink(quizLink.ID, &ltitest.User{Sub: "student-x", Name: "Stu X"}, ltitest.RoleLearner)
	if err != nil {
		t.Fatal(err)
	}
	land := w.browser(t).launch(s)
	if land.StatusCode != http.StatusOK || !strings.Contains(land.Body, w.quiz.Name) {
		t.Fatalf("launch of the deep-linked item: %d %s", land.StatusCode, land.Body)
	}
	links, _ := w.inst.Store.ResourceLinks(ctx, w.quizR.ID)
	coupled := false
	for _, l := range links {
		if l.LinkID == quizLink.ID && l.LineItemURL == quizLink.LineItemURL {
			coupled = true
		}
	}
	if !coupled {
		t.Fatalf("the coupled line item %s was not stored: %+v", quizLink.LineItemURL, links)
	}

	// The second content selection of the now linked teacher goes straight to the list.
	again := w.browser(t).launch(dlSpec("tina-at-platform", &ltitest.DeepLinking{}))
	if !strings.Contains(again.Body, `name="resource"`) {
		t.Fatalf("a linked teacher should see the list at once: %s", again.Body)
	}
}

func TestDeepLinkingSettingsAndRefusals(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.inst.EnsureUser(t, account.NewUser{Username: "tom", Password: "tom-password-12"})
	if _, err := w.inst.App.Courses.Enrol(ctx, &w.inst.Admin, w.course.ID, course.EnrolInput{Username: "tom", Role: course.RoleTeacher, Status: course.StatusActive}); err != nil {
		t.Fatal(err)
	}
	signedIn := func(t *testing.T, sub string, dl *ltitest.DeepLinking) *browser {
		b := w.browser(t)
		b.launch(dlSpec(sub, dl))
		b.post("/launch/select/signin", url.Values{"username": {"tom"}, "password": {"tom-password-12"}})
		return b
	}

	t.Run("accept_multiple=false", func(t *testing.T) {
		b := signedIn(t, "tom-1", &ltitest.DeepLinking{Multiple: boolp(false)})
		page := b.get("/launch/select")
		if !strings.Contains(page.Body, `type="radio" name="resource"`) {
			t.Fatalf("single selection should offer radio buttons: %s", page.Body)
		}
		r := b.post("/launch/select", url.Values{"action": {"add"}, "resource": {fmt.Sprint(w.courseR.ID), fmt.Sprint(w.quizR.ID)}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "one item at a time") {
			t.Fatalf("two items with accept_multiple=false: %d %s", r.StatusCode, r.Body)
		}
	})
	t.Run("accept_lineitem=false", func(t *testing.T) {
		b := signedIn(t, "tom-2", &ltitest.DeepLinking{LineItem: boolp(false)})
		if page := b.get("/launch/select"); strings.Contains(page.Body, "Add to gradebook") {
			t.Fatal("the gradebook checkbox shows although the platform accepts no line items")
		}
		r := b.post("/launch/select", url.Values{"action": {"add"}, "resource": {fmt.Sprint(w.quizR.ID)}, "gradebook_" + fmt.Sprint(w.quizR.ID): {"on"}})
		before := len(w.p.DeepLinkReturns())
		b.postReturn(r.Body)
		ret := w.p.DeepLinkReturns()[before]
		if ret.Err != "" || len(ret.ContentItems) != 1 || ret.ContentItems[0]["lineItem"] != nil {
			t.Fatalf("a line item was sent although not accepted: %+v", ret)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		b := signedIn(t, "tom-3", &ltitest.DeepLinking{})
		r := b.post("/launch/select", url.Values{"action": {"cancel"}})
		before := len(w.p.DeepLinkReturns())
		b.postReturn(r.Body)
		ret := w.p.DeepLinkReturns()[before]
		if ret.Err != "" || len(ret.ContentItems) != 0 || ret.Claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"] == nil {
			t.Fatalf("cancel should send an empty content_items list: %+v", ret)
		}
	})
	t.Run("learner role", func(t *testing.T) {
		s := dlSpec("learner-1", &ltitest.DeepLinking{})
		s.Roles = []string{ltitest.RoleLearner}
		b := w.browser(t)
		r := b.launch(s)
		if r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "Content selection is for teachers") {
			t.Fatalf("learner: %d %s", r.StatusCode, r.Body)
		}
		before := len(w.p.DeepLinkReturns())
		b.postReturn(r.Body)
		if ret := w.p.DeepLinkReturns()[before]; ret.Err != "" || !strings.Contains(ret.ErrorMsg, "for teachers") {
			t.Fatalf("the platform should get an errormsg: %+v", ret)
		}
	})
	t.Run("accept_types without ltiResourceLink", func(t *testing.T) {
		r := w.browser(t).launch(dlSpec("tom-4", &ltitest.DeepLinking{AcceptTypes: []string{"file", "html"}}))
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "ltiResourceLink") {
			t.Fatalf("accept_types: %d %s", r.StatusCode, r.Body)
		}
	})
	t.Run("missing return URL", func(t *testing.T) {
		s := dlSpec("tom-5", &ltitest.DeepLinking{})
		s.Mutate = func(c map[string]any) {
			if st, ok := c["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"].(map[string]any); ok {
				delete(st, "deep_link_return_url")
			}
		}
		r := w.browser(t).launch(s)
		if r.StatusCode < 400 || r.StatusCode >= 500 || !strings.Contains(r.Body, "deep_link_return_url") {
			t.Fatalf("missing return URL: %d %s", r.StatusCode, r.Body)
		}
	})
	t.Run("resource disabled meanwhile", func(t *testing.T) {
		in := publish.NewInput(w.course.ID)
		in.Name = "Soon disabled"
		r := w.publish(t, in)
		b := signedIn(t, "tom-6", &ltitest.DeepLinking{})
		if page := b.get("/launch/select"); !strings.Contains(page.Body, "Soon disabled") {
			t.Fatal("the resource is not offered")
		}
		if _, err := w.inst.App.Publish.SetEnabled(ctx, nil, r.ID, false); err != nil {
			t.Fatal(err)
		}
		resp := b.post("/launch/select", url.Values{"action": {"add"}, "resource": {fmt.Sprint(r.ID)}})
		if resp.StatusCode != http.StatusConflict || !strings.Contains(resp.Body, "no longer available") {
			t.Fatalf("disabled meanwhile: %d %s", resp.StatusCode, resp.Body)
		}
		before := len(w.p.DeepLinkReturns())
		b.postReturn(resp.Body)
		if ret := w.p.DeepLinkReturns()[before]; !strings.Contains(ret.ErrorMsg, "no longer available") {
			t.Fatalf("the platform should get an errormsg: %+v", ret)
		}
	})
	t.Run("student of the course sees nothing to add", func(t *testing.T) {
		w.inst.EnsureUser(t, account.NewUser{Username: "stan", Password: "stan-password-1"})
		b := w.browser(t)
		b.launch(dlSpec("stan-at-platform", &ltitest.DeepLinking{}))
		b.post("/launch/select/signin", url.Values{"username": {"stan"}, "password": {"stan-password-1"}})
		if page := b.get("/launch/select"); !strings.Contains(page.Body, `id="no-resources"`) {
			t.Fatalf("a user who teaches nothing should be told so: %s", page.Body)
		}
	})
}
