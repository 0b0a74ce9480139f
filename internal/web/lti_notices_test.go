package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/notice"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti/ltitest"
)

type noticeBody struct {
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
	Results          []notice.Result `json:"results"`
}

func decodeNoticeBody(t *testing.T, d ltitest.NoticeDelivery) noticeBody {
	t.Helper()
	var b noticeBody
	if err := json.Unmarshal([]byte(d.Body), &b); err != nil {
		t.Fatalf("the answer to a notice is not JSON: %d %q", d.Status, d.Body)
	}
	return b
}

// TestPlatformNotifications runs the Platform Notification Service against the reference platform (strict, as Canvas
// runs it): a launch offering the service makes ltipub register its handlers in the background with a scoped
// service token; the hello world notice that follows is recorded for the admin; a course copy's notice makes the
// copied course's links (copied without their custom id, and unknown to ltipub) land on the same published resource;
// forged notices are refused with a JSON reason and logged; an unknown type is acknowledged.
func TestPlatformNotifications(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	inst := apptest.Start(t, apptest.Options{Jobs: true, LogOutput: logs, Configure: func(c *config.Config) {
		c.JobPollInterval = 100 * time.Millisecond
	}})
	p := ltitest.NewServer(t, ltitest.Config{PNS: true})
	reg := inst.Platform(t, p, "client-1")
	ctx := context.Background()
	imported := inst.ExampleCourse(t, "")
	r := inst.Publish(t, publish.NewInput(imported.Course.ID))
	handlerURL := fmt.Sprintf("%s/lti/notices/%d", inst.URL, reg.ID)

	// A link placed by hand in the origin course, launched once: ltipub records it.
	origin := "course-A"
	linkID, err := p.PlaceLink(ltitest.StoredLink{ContextID: origin, Title: "Astronomy", Custom: map[string]string{"id": r.UUID}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.LaunchSpecForLink(linkID, &ltitest.User{Sub: "stu-1", Name: "Stu One"}, ltitest.RoleLearner)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := p.Launch(ctx, newLaunchClient(), s); err != nil || res.Response.StatusCode != http.StatusOK {
		t.Fatalf("launch in the origin course: %v %+v", err, res)
	}

	// The launch carried the PNS claim: the job registers both handlers with the platform.
	waitFor(t, "notice handlers registered at the platform", func() bool {
		return p.NoticeHandler("deployment-1", ltitest.NoticeContextCopy) == handlerURL &&
			p.NoticeHandler("deployment-1", ltitest.NoticeHelloWorld) == handlerURL
	})
	for _, put := range p.HandlerPuts() {
		if put.Status != http.StatusOK {
			t.Fatalf("the platform refused a handler registration: %+v", put)
		}
	}
	scoped := false
	for _, tr := range p.TokenRequests() {
		if strings.Contains(tr.Scope, ltitest.ScopeNoticeHandlers) && tr.Error == "" {
			scoped = true
		}
	}
	if !scoped {
		t.Fatalf("no service token with the noticehandlers scope was issued: %+v", p.TokenRequests())
	}
	// Another launch does not register again (the handlers are known to be registered).
	puts := len(p.HandlerPuts())
	if res, err := p.Launch(ctx, newLaunchClient(), s); err != nil || res.Response.StatusCode != http.StatusOK {
		t.Fatalf("second launch: %v", err)
	}

	// The platform greets the hello world subscription; ltipub records it, and the admin sees it.
	waitFor(t, "the hello world notice recorded", func() bool {
		recs, _ := inst.Store.Notices(ctx, reg.ID, 10)
		for _, rec := range recs {
			if rec.Type == ltitest.NoticeHelloWorld && rec.Outcome == notice.Handled {
				return true
			}
		}
		return false
	})
	admin := inst.Client(t)
	inst.Login(t, admin, "admin", apptest.AdminPassword)
	page := inst.Get(t, admin, fmt.Sprintf("/admin/platforms/%d/notices", reg.ID))
	for _, want := range []string{"LtiHelloWorldNotice", "You have successfully subscribed", "LtiContextCopyNotice", "registered"} {
		if !strings.Contains(page.Body, want) {
			t.Fatalf("the admin's notices page lacks %q:\n%s", want, page.Body)
		}
	}

	// A course copied while its notice was lost: its link (new id, custom id dropped) reaches nothing.
	lost, _, err := p.CopyContext(ctx, origin, ltitest.Context{ID: "course-lost", Title: "Lost copy"}, ltitest.CopyOptions{DropCustom: true, NoNotice: true})
	if err != nil || len(lost) != 1 {
		t.Fatalf("copy: %v %+v", err, lost)
	}
	ls, _ := p.LaunchSpecForLink(lost[0].ID, &ltitest.User{Sub: "stu-2", Name: "Stu Two"}, ltitest.RoleLearner)
	if res, err := p.Launch(ctx, newLaunchClient(), ls); err != nil || res.Response.StatusCode == http.StatusOK ||
		!strings.Contains(string(res.Body), "does not say which published resource") {
		t.Fatalf("a copied link without a notice should be refused: %v %d", err, res.Response.StatusCode)
	}

	// A copy with its signed notice: the copied course's link lands on the same published resource.
	copied, deliveries, err := p.CopyContext(ctx, origin, ltitest.Context{ID: "course-B", Title: "Astronomy, next term"}, ltitest.CopyOptions{DropCustom: true})
	if err != nil || len(copied) != 1 || len(deliveries) != 1 || deliveries[0].Status != http.StatusOK {
		t.Fatalf("copy with notice: %v links %+v deliveries %+v", err, copied, deliveries)
	}
	if b := decodeNoticeBody(t, deliveries[0]); len(b.Results) != 1 || b.Results[0].Outcome != notice.Handled {
		t.Fatalf("the copy notice's answer: %+v", b)
	}
	cs, _ := p.LaunchSpecForLink(copied[0].ID, &ltitest.User{Sub: "stu-3", Name: "Stu Three"}, ltitest.RoleLearner)
	if cs.Custom["id"] != "" || copied[0].ID == linkID {
		t.Fatalf("the copied link should be new and without the custom id: %+v", cs)
	}
	res, err := p.Launch(ctx, newLaunchClient(), cs)
	if err != nil || res.Response.StatusCode != http.StatusOK || !strings.Contains(string(res.Body), "Introduction to Astronomy") {
		t.Fatalf("launch from the copied course: %v %d %s", err, res.Response.StatusCode, res.Body)
	}
	links, _ := inst.Store.ResourceLinks(ctx, r.ID)
	inCopy := false
	for _, l := range links {
		if l.LinkID == copied[0].ID && l.ContextID == "course-B" {
			inCopy = true
		}
	}
	if !inCopy {
		t.Fatalf("the copied course's link was not recorded on the same published resource: %+v", links)
	}
	// The lost copy's notice, sent late, repairs that course too.
	if d, err := p.SendNotice(ctx, ltitest.NoticeSpec{Type: ltitest.NoticeContextCopy, Context: &ltitest.Context{ID: "course-lost"}, Origins: []string{origin}}); err != nil || d.Status != http.StatusOK {
		t.Fatalf("late notice: %v %+v", err, d)
	}
	if res, err := p.Launch(ctx, newLaunchClient(), ls); err != nil || res.Response.StatusCode != http.StatusOK {
		t.Fatalf("launch from the repaired copy: %v %d", err, res.Response.StatusCode)
	}

	// Forged notices: refused with a JSON body naming the cause, logged, and not acted on.
	evil := &ltitest.Context{ID: "course-evil"}
	forged := []struct {
		tamper ltitest.Tamper
		code   string
	}{
		{ltitest.TamperForeignKey, "bad_signature"},
		{ltitest.TamperUnknownKID, "kid_unknown"},
		{ltitest.TamperAlgNone, "alg_not_allowed"},
		{ltitest.TamperModifiedPayload, "bad_signature"},
		{ltitest.TamperExpired, "token_expired"},
		{ltitest.TamperWrongIssuer, "iss_mismatch"},
		{ltitest.TamperWrongAudience, "aud_mismatch"},
		{ltitest.TamperNonceMissing, "nonce_missing"},
		{ltitest.TamperDeploymentUnknown, "deployment_id_unknown"},
	}
	for _, f := range forged {
		jwt, err := p.MintNotice(ltitest.NoticeSpec{Type: ltitest.NoticeContextCopy, Context: evil, Origins: []string{origin}, Tamper: f.tamper})
		if err != nil {
			t.Fatal(err)
		}
		d, err := p.PostNotices(ctx, handlerURL, nil, jwt)
		if err != nil {
			t.Fatal(err)
		}
		b := decodeNoticeBody(t, d)
		if d.Status != http.StatusUnauthorized || b.Error != f.code || b.ErrorDescription == "" {
			t.Errorf("%v: status %d, body %s; want 401 %s", f.tamper, d.Status, d.Body, f.code)
		}
	}
	// A replayed notice (the same JWT again) is refused too.
	jwt, _ := p.MintNotice(ltitest.NoticeSpec{Type: ltitest.NoticeHelloWorld})
	if d, _ := p.PostNotices(ctx, handlerURL, nil, jwt); d.Status != http.StatusOK {
		t.Fatalf("fresh notice: %+v", d)
	}
	if d, _ := p.PostNotices(ctx, handlerURL, nil, jwt); d.Status != http.StatusUnauthorized || decodeNoticeBody(t, d).Error != "nonce_reused" {
		t.Fatalf("replayed notice: %+v", d)
	}
	// The same notice (its id) sent again, freshly signed: acknowledged, not acted on twice.
	for i, want := range []string{notice.Handled, notice.Duplicate} {
		d, err := p.SendNotice(ctx, ltitest.NoticeSpec{Type: ltitest.NoticeHelloWorld, ID: "notice-twice"})
		if err != nil || d.Status != http.StatusOK || decodeNoticeBody(t, d).Results[0].Outcome != want {
			t.Fatalf("delivery %d of one notice: %v %+v, want %s", i+1, err, d, want)
		}
	}
	evilSpec, _ := p.LaunchSpecForLink(copied[0].ID, &ltitest.User{Sub: "stu-4"}, ltitest.RoleLearner)
	evilSpec.Context = evil
	evilSpec.ResourceLink = &ltitest.ResourceLink{ID: "rl-evil", Title: "Astronomy"}
	if res, _ := p.Launch(ctx, newLaunchClient(), evilSpec); res.Response.StatusCode == http.StatusOK {
		t.Fatal("a forged copy notice mapped a course")
	}
	if !strings.Contains(logs.String(), "PNS notice refused") {
		t.Fatal("forged notices are not in the log")
	}
	// Not JSON at all: a JSON answer too.
	req, _ := http.NewRequest(http.MethodPost, handlerURL, strings.NewReader("notices=1"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("a malformed batch: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// An unknown notice type is acknowledged (2xx) and logged.
	jwt, _ = p.MintNotice(ltitest.NoticeSpec{Type: ltitest.NoticeAssetProcessorSubmission})
	d, err := p.PostNotices(ctx, handlerURL, nil, jwt)
	if err != nil || d.Status != http.StatusOK || decodeNoticeBody(t, d).Results[0].Outcome != notice.Acknowledged {
		t.Fatalf("unknown type: %v %+v", err, d)
	}
	if !strings.Contains(logs.String(), "PNS notice of an unhandled type acknowledged") {
		t.Fatal("the unknown notice type is not in the log")
	}
	if n := len(p.HandlerPuts()); n != puts {
		t.Fatalf("later launches registered the handlers again: %d puts, had %d", n, puts)
	}
}

// TestNoticeHandlerRegistrationRetried: the platform's notice handler service fails at first (500); the background
// job retries until both handlers are registered, and the admin sees them registered.
func TestNoticeHandlerRegistrationRetried(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{Jobs: true, Configure: func(c *config.Config) { c.JobPollInterval = 100 * time.Millisecond }})
	p := ltitest.NewServer(t, ltitest.Config{PNS: true})
	reg := inst.Platform(t, p, "client-1")
	r := inst.Publish(t, publish.NewInput(inst.ExampleCourse(t, "").Course.ID))
	p.InjectFault(ltitest.Fault{Service: ltitest.ServicePNS, Kind: ltitest.FaultServerError, Count: 2})
	s := ltitest.LaunchSpec{User: &ltitest.User{Sub: "stu-1"}, Roles: []string{ltitest.RoleLearner},
		Context: &ltitest.Context{ID: "course-A"}, Custom: map[string]string{"id": r.UUID}}
	if res, err := p.Launch(context.Background(), newLaunchClient(), s); err != nil || res.Response.StatusCode != http.StatusOK {
		t.Fatalf("launch: %v", err)
	}
	waitFor(t, "both handlers registered after the platform's failures", func() bool {
		hs, _ := inst.Store.NoticeHandlers(context.Background(), reg.ID, "deployment-1")
		return len(hs) == 2 && hs[0].Registered() && hs[1].Registered()
	})
	if got := p.NoticeHandler("deployment-1", ltitest.NoticeContextCopy); got != fmt.Sprintf("%s/lti/notices/%d", inst.URL, reg.ID) {
		t.Fatalf("the platform holds handler %q", got)
	}
}

// TestContextCopyWithLinkHistory: when the origin course has two links with the same title to different published
// resources, a copied link is traced through $ResourceLink.id.history (which ltipub's Canvas configuration asks
// for, and the platform substitutes) to its own origin link; without the history the tool refuses rather than guess.
func TestContextCopyWithLinkHistory(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{Jobs: true, Configure: func(c *config.Config) { c.JobPollInterval = 100 * time.Millisecond }})
	p := ltitest.NewServer(t, ltitest.Config{PNS: true})
	reg := inst.Platform(t, p, "client-1")
	ctx := context.Background()
	imported := inst.ExampleCourse(t, "")
	courseR := inst.Publish(t, publish.NewInput(imported.Course.ID))
	quizIn := publish.NewInput(imported.Course.ID)
	quizIn.ActivityID = apptest.Activity(imported, "quiz").ID
	quizR := inst.Publish(t, quizIn)
	var ids []string
	for _, r := range []publish.Resource{courseR, quizR} {
		id, err := p.PlaceLink(ltitest.StoredLink{ContextID: "course-A", Title: "Week 1", Custom: map[string]string{"id": r.UUID}})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := p.LaunchSpecForLink(id, &ltitest.User{Sub: "stu-1"}, ltitest.RoleLearner)
		if res, err := p.Launch(ctx, newLaunchClient(), s); err != nil || res.Response.StatusCode != http.StatusOK {
			t.Fatalf("origin launch: %v", err)
		}
		ids = append(ids, id)
	}
	waitFor(t, "the context copy handler registered", func() bool {
		return p.NoticeHandler("deployment-1", ltitest.NoticeContextCopy) == fmt.Sprintf("%s/lti/notices/%d", inst.URL, reg.ID)
	})

	copyAndLaunch := func(to string) (*ltitest.LaunchResult, ltitest.StoredLink) {
		copied, ds, err := p.CopyContext(ctx, "course-A", ltitest.Context{ID: to}, ltitest.CopyOptions{DropCustom: true})
		if err != nil || len(copied) != 2 || len(ds) != 1 || ds[0].Status != http.StatusOK {
			t.Fatalf("copy: %v %+v %+v", err, copied, ds)
		}
		quizCopy := copied[1]
		if quizCopy.History[0] != ids[1] {
			t.Fatalf("copied link history %v, want %s first", quizCopy.History, ids[1])
		}
		s, _ := p.LaunchSpecForLink(quizCopy.ID, &ltitest.User{Sub: "stu-2"}, ltitest.RoleLearner)
		res, err := p.Launch(ctx, newLaunchClient(), s)
		if err != nil {
			t.Fatal(err)
		}
		return res, quizCopy
	}
	// No history: two origin links share the title, so the copy cannot be traced; refused with the reason.
	res, _ := copyAndLaunch("course-B")
	if res.Response.StatusCode == http.StatusOK || !strings.Contains(string(res.Body), "several published resources") {
		t.Fatalf("an untraceable copied link: %d %s", res.Response.StatusCode, res.Body)
	}
	// With the history variable in the tool's custom fields (as ltipub's Canvas configuration has it).
	tc, _ := p.Tool("client-1")
	tc.Custom = map[string]string{"resource_link_id_history": "$ResourceLink.id.history"}
	if err := p.RegisterTool(tc); err != nil {
		t.Fatal(err)
	}
	res, quizCopy := copyAndLaunch("course-C")
	if res.Response.StatusCode != http.StatusOK || !strings.Contains(string(res.Body), "Solar System quiz") {
		t.Fatalf("the copied quiz link: %d %s", res.Response.StatusCode, res.Body)
	}
	links, _ := inst.Store.ResourceLinks(ctx, quizR.ID)
	found := false
	for _, l := range links {
		found = found || (l.LinkID == quizCopy.ID && l.ContextID == "course-C")
	}
	if !found {
		t.Fatalf("the copied quiz link is not on the quiz's published resource: %+v", links)
	}
}
