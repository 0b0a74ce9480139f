package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/tool"
)

// publishSite is an instance with the example course imported by its teacher, a student enrolled, and an
// outsider who is neither.
type publishSite struct {
	inst    *apptest.Instance
	course  course.Course
	quiz    course.Activity
	other   course.Course
	otherAc course.Activity
}

func newPublishSite(t *testing.T) *publishSite {
	t.Helper()
	inst := apptest.Start(t, apptest.Options{})
	ctx := context.Background()
	teacher := inst.EnsureUser(t, account.NewUser{Username: "teacher", FullName: "Tess Teacher", Password: "teacher-password", IsCourseCreator: true})
	inst.EnsureUser(t, account.NewUser{Username: "student", FullName: "Stu Student", Password: "student-password"})
	inst.EnsureUser(t, account.NewUser{Username: "outsider", FullName: "Olly Outsider", Password: "outsider-password"})
	data, err := os.ReadFile("../../examples/course.json")
	if err != nil {
		t.Fatal(err)
	}
	imported, err := inst.App.Courses.Import(ctx, &teacher, data)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if _, err := inst.App.Courses.Enrol(ctx, &teacher, imported.Course.ID, course.EnrolInput{Username: "student", Role: course.RoleStudent}); err != nil {
		t.Fatal(err)
	}
	admin := inst.Admin
	other, err := inst.App.Courses.Import(ctx, &admin, []byte(strings.Replace(string(data), `"ASTRO101"`, `"ASTRO102"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	s := &publishSite{inst: inst, course: imported.Course, other: other.Course, otherAc: other.Activities[0]}
	for _, a := range imported.Activities {
		if a.Type == course.TypeQuiz {
			s.quiz = a
		}
	}
	return s
}

func (s *publishSite) client(t *testing.T, username, password string) *http.Client {
	t.Helper()
	c := s.inst.Client(t)
	s.inst.Login(t, c, username, password)
	return c
}

func (s *publishSite) resources(t *testing.T) []publish.Resource {
	t.Helper()
	list, err := s.inst.App.Publish.List(context.Background(), nil, s.course.ID)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// publishForm is a complete, valid publish form; tests change what they need.
func publishForm(activityID int64) url.Values {
	return url.Values{
		"activity": {fmt.Sprint(activityID)}, "name": {"Quiz for the platform"}, "enabled": {"on"},
		"grade_sync": {"on"}, "member_sync": {"on"}, "member_sync_mode": {"enrol_only"},
		"student_mode": {"prompt"}, "teacher_mode": {"existing"},
		"enrol_start": {"2030-01-01T08:00"}, "enrol_end": {"2030-06-30T18:30"}, "max_enrolled": {"30"},
		"learner_role": {"student"}, "instructor_role": {"teacher"},
		"lang": {"fr"}, "timezone": {"Europe/Paris"}, "institution": {"Lycée Hubble"}, "country": {"fr"},
	}
}

func TestPublishedPagesTeacherManagesResources(t *testing.T) {
	t.Parallel()
	s := newPublishSite(t)
	c := s.client(t, "teacher", "teacher-password")
	base := fmt.Sprintf("/courses/%d/published", s.course.ID)

	if r := s.inst.Get(t, c, fmt.Sprintf("/courses/%d", s.course.ID)); !strings.Contains(r.Body, `href="`+base+`"`) {
		t.Fatalf("the course page does not link to the published tools page for its teacher: %s", r.Body)
	}
	if r := s.inst.Get(t, c, base); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Nothing of this course is published yet") {
		t.Fatalf("empty list: %d %s", r.StatusCode, r.Body)
	}

	// The new form offers every setting with Moodle's labels and defaults.
	r := s.inst.Get(t, c, base+"/new")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("new form: %d %s", r.StatusCode, r.Body)
	}
	for _, want := range []string{
		`<option value="auto" selected>New accounts only (automatic)</option>`,
		`<option value="prompt" selected>Existing and new accounts (prompt)</option>`,
		"Existing accounts only (prompt)", `name="grade_sync" checked`, "Enrol new and unenrol missing users",
		`name="enrol_start"`, `name="enrol_end"`, `name="max_enrolled"`, `name="learner_role"`, `name="instructor_role"`,
		`name="lang"`, `name="timezone"`, `name="institution"`, `name="country"`, `name="enabled" checked`,
		fmt.Sprintf(`<option value="%d">Activity: %s (quiz)</option>`, s.quiz.ID, s.quiz.Name), "Whole course: " + s.course.FullName,
	} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("new form lacks %q", want)
		}
	}

	// Create.
	r = s.inst.PostForm(t, c, base+"/new", publishForm(s.quiz.ID))
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), base+"#resource-") {
		t.Fatalf("publish: %d %q %s", r.StatusCode, r.Header.Get("Location"), r.Body)
	}
	list := s.resources(t)
	if len(list) != 1 {
		t.Fatalf("%d resources, want 1", len(list))
	}
	res := list[0]
	want := publish.Resource{ActivityID: s.quiz.ID, Name: "Quiz for the platform", Enabled: true, GradeSync: true, MemberSync: true,
		MemberSyncMode: publish.SyncEnrolOnly, StudentMode: publish.ModePrompt, TeacherMode: publish.ModeExisting, MaxEnrolled: 30,
		LearnerRole: course.RoleStudent, InstructorRole: course.RoleTeacher,
		Defaults: publish.AccountDefaults{Language: "fr", Timezone: "Europe/Paris", Institution: "Lycée Hubble", Country: "FR"}}
	got := res
	got.ID, got.UUID, got.CourseID, got.EnrolStart, got.EnrolEnd, got.CreatedAt, got.UpdatedAt, got.LegacySecret = 0, "", 0, time.Time{}, time.Time{}, time.Time{}, time.Time{}, ""
	if got != want {
		t.Fatalf("saved\n%+v\nwant\n%+v", got, want)
	}
	if !res.EnrolStart.Equal(time.Date(2030, 1, 1, 8, 0, 0, 0, time.UTC)) || !res.EnrolEnd.Equal(time.Date(2030, 6, 30, 18, 30, 0, 0, time.UTC)) {
		t.Fatalf("enrolment window %v – %v, want the form's times in UTC", res.EnrolStart, res.EnrolEnd)
	}

	// The list shows it, with the launch URL and custom properties ready to copy.
	r = s.inst.Get(t, c, base)
	for _, want := range []string{
		"Quiz for the platform", "Activity: " + s.quiz.Name + " (quiz)", "Enabled", "Enrol new users only",
		"Existing and new accounts (prompt)", "Existing accounts only (prompt)", res.UUID,
		`value="` + s.inst.URL + `/lti/launch" data-copy="launch URL of Quiz for the platform"`,
		`value="id=` + res.UUID + `" data-copy="custom properties of Quiz for the platform"`,
		"Only needed when linking manually", "Content selection (Deep Linking) needs neither", `/static/copy.js?v=`,
	} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("list lacks %q", want)
		}
	}
	if js := regexp.MustCompile(`/static/copy\.js\?v=\w+`).FindString(r.Body); js == "" {
		t.Error("no copy script")
	} else if a := s.inst.Get(t, c, js); a.StatusCode != http.StatusOK || !strings.Contains(a.Body, "clipboard") {
		t.Errorf("copy.js: %d", a.StatusCode)
	}
	if strings.Contains(r.Body, "onclick") {
		t.Error("inline handlers break the CSP")
	}

	// Edit: the form holds the saved values; what it publishes stays.
	edit := fmt.Sprintf("%s/%d/edit", base, res.ID)
	r = s.inst.Get(t, c, edit)
	for _, want := range []string{`value="Europe/Paris"`, `value="2030-01-01T08:00"`, `value="30"`, `value="id=` + res.UUID + `"`,
		`<option value="existing" selected>Existing accounts only (prompt)</option>`, "Activity: " + s.quiz.Name} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("edit form lacks %q", want)
		}
	}
	form := publishForm(0)
	form.Set("name", "Renamed quiz")
	form.Del("grade_sync")
	form.Set("max_enrolled", "0")
	form.Set("enrol_start", "")
	form.Set("student_mode", "auto")
	if r = s.inst.PostForm(t, c, edit, form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", r.StatusCode, r.Body)
	}
	res2 := s.resources(t)[0]
	if res2.Name != "Renamed quiz" || res2.GradeSync || res2.MaxEnrolled != 0 || !res2.EnrolStart.IsZero() ||
		res2.StudentMode != publish.ModeAuto || res2.ActivityID != s.quiz.ID || res2.UUID != res.UUID {
		t.Fatalf("after edit: %+v", res2)
	}

	// Disable and enable.
	status := fmt.Sprintf("%s/%d/status", base, res.ID)
	if r = s.inst.PostForm(t, c, status, url.Values{"enabled": {"0"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d %s", r.StatusCode, r.Body)
	}
	if s.resources(t)[0].Enabled {
		t.Fatal("still enabled")
	}
	if r = s.inst.Get(t, c, base); !strings.Contains(r.Body, `<td class="status">Disabled</td>`) || !strings.Contains(r.Body, fmt.Sprintf(`id="enable-%d"`, res.ID)) {
		t.Fatalf("list after disabling: %s", r.Body)
	}
	s.inst.PostForm(t, c, status, url.Values{"enabled": {"1"}})
	if !s.resources(t)[0].Enabled {
		t.Fatal("not enabled again")
	}

	// Delete asks first, and says the enrolments stay.
	del := fmt.Sprintf("%s/%d/delete", base, res.ID)
	if r = s.inst.Get(t, c, del); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "The enrolments it made stay") {
		t.Fatalf("delete confirmation: %d %s", r.StatusCode, r.Body)
	}
	if len(s.resources(t)) != 1 {
		t.Fatal("the confirmation page deleted")
	}
	if r = s.inst.PostForm(t, c, del, nil); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != base {
		t.Fatalf("delete: %d %s", r.StatusCode, r.Body)
	}
	if len(s.resources(t)) != 0 {
		t.Fatal("not deleted")
	}
	if r = s.inst.Get(t, c, edit); r.StatusCode != http.StatusNotFound {
		t.Fatalf("a deleted resource's edit page: %d", r.StatusCode)
	}

	// The whole course, with the form's defaults.
	whole := publishForm(0)
	whole.Set("name", "")
	if r = s.inst.PostForm(t, c, base+"/new", whole); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish the course: %d %s", r.StatusCode, r.Body)
	}
	if l := s.resources(t); len(l) != 1 || l[0].ActivityID != 0 || l[0].Name != s.course.FullName {
		t.Fatalf("course resource: %+v", l)
	}
	if r = s.inst.Get(t, c, base); !strings.Contains(r.Body, "Whole course") {
		t.Fatal("the list does not say it publishes the whole course")
	}
}

func TestPublishedPagesValidation(t *testing.T) {
	t.Parallel()
	s := newPublishSite(t)
	c := s.client(t, "teacher", "teacher-password")
	base := fmt.Sprintf("/courses/%d/published", s.course.ID)

	tests := []struct {
		name  string
		field string
		value string
		want  string
	}{
		{"end before start", "enrol_end", "2029-12-31T00:00", "Enrolment end: must be after the enrolment start."},
		{"bad start", "enrol_start", "next monday", `Enrolment start: &#34;next monday&#34; is not a date and time`},
		{"negative maximum", "max_enrolled", "-1", "Maximum enrolled users: must be 0 (unlimited) or more."},
		{"maximum not a number", "max_enrolled", "lots", "Maximum enrolled users: &#34;lots&#34; is not a whole number"},
		{"unknown student mode", "student_mode", "sometimes", "Student first launch provisioning mode: &#34;sometimes&#34; is not a provisioning mode"},
		{"unknown teacher mode", "teacher_mode", "never", "Teacher first launch provisioning mode:"},
		{"unknown sync mode", "member_sync_mode", "all", "Member synchronisation mode:"},
		{"unknown role", "learner_role", "owner", "Role for learners: must be student or teacher."},
		{"another course's activity", "activity", fmt.Sprint(s.otherAc.ID), "Tool to be published: course"},
		{"country", "country", "France", "Country: &#34;FRANCE&#34; is not a two-letter country code"},
		{"language", "lang", "french!", "Language: &#34;french!&#34; is not a language code"},
		{"timezone", "timezone", "Paris time", "Timezone: &#34;Paris time&#34; is not a time zone name"},
		{"name too long", "name", strings.Repeat("n", 256), "Name: must be at most 255 characters."},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := publishForm(s.quiz.ID)
			form.Set(tt.field, tt.value)
			kept := fmt.Sprintf("Kept name %d", i)
			if tt.field != "name" {
				form.Set("name", kept)
			}
			r := s.inst.PostForm(t, c, base+"/new", form)
			if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, tt.want) {
				t.Fatalf("status %d, want 400 with %q: %s", r.StatusCode, tt.want, r.Body)
			}
			if !strings.Contains(r.Body, `data-field="`+tt.field+`"`) {
				t.Errorf("the error does not name the field %s", tt.field)
			}
			if tt.field != "name" && !strings.Contains(r.Body, `value="`+kept+`"`) {
				t.Error("the form lost what was typed")
			}
		})
	}
	if n := len(s.resources(t)); n != 0 {
		t.Fatalf("invalid forms published %d resources", n)
	}

	// The edit form re-renders its errors too.
	res, err := s.inst.App.Publish.Publish(context.Background(), nil, publish.NewInput(s.course.ID))
	if err != nil {
		t.Fatal(err)
	}
	form := publishForm(0)
	form.Set("max_enrolled", "-5")
	r := s.inst.PostForm(t, c, fmt.Sprintf("%s/%d/edit", base, res.ID), form)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "Maximum enrolled users: must be 0") || !strings.Contains(r.Body, "id="+res.UUID) {
		t.Fatalf("edit error: %d %s", r.StatusCode, r.Body)
	}
}

func TestPublishedPagesRefuseOthers(t *testing.T) {
	t.Parallel()
	s := newPublishSite(t)
	ctx := context.Background()
	res, err := s.inst.App.Publish.Publish(ctx, nil, publish.NewInput(s.course.ID))
	if err != nil {
		t.Fatal(err)
	}
	otherRes, err := s.inst.App.Publish.Publish(ctx, nil, publish.NewInput(s.other.ID))
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("/courses/%d/published", s.course.ID)
	gets := []string{base, base + "/new", fmt.Sprintf("%s/%d/edit", base, res.ID), fmt.Sprintf("%s/%d/delete", base, res.ID)}
	posts := []string{base + "/new", fmt.Sprintf("%s/%d/edit", base, res.ID), fmt.Sprintf("%s/%d/status", base, res.ID),
		fmt.Sprintf("%s/%d/delete", base, res.ID)}

	for _, who := range []struct{ username, password, want string }{
		{"student", "student-password", "Only the course&#39;s teachers and site administrators"},
		{"outsider", "outsider-password", "You are not enrolled in this course"},
	} {
		t.Run(who.username, func(t *testing.T) {
			c := s.client(t, who.username, who.password)
			if r := s.inst.Get(t, c, fmt.Sprintf("/courses/%d", s.course.ID)); strings.Contains(r.Body, "published-link") {
				t.Error("the course page links to the published tools page for someone who cannot edit")
			}
			for _, p := range gets {
				if r := s.inst.Get(t, c, p); r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, who.want) {
					t.Errorf("GET %s: %d, want 403 with %q", p, r.StatusCode, who.want)
				}
			}
			for _, p := range posts {
				if r := s.inst.PostForm(t, c, p, url.Values{"enabled": {"0"}, "name": {"taken over"}}); r.StatusCode != http.StatusForbidden {
					t.Errorf("POST %s: %d, want 403", p, r.StatusCode)
				}
			}
		})
	}
	got, err := s.inst.App.Publish.Resource(ctx, nil, res.ID)
	if err != nil || !got.Enabled || got.Name != res.Name {
		t.Fatalf("refused people changed the resource: %+v %v", got, err)
	}

	// Anonymous visitors are sent to sign in; the teacher cannot reach another course's resource through theirs.
	if r := s.inst.Get(t, s.inst.Client(t), base); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous: %d", r.StatusCode)
	}
	c := s.client(t, "teacher", "teacher-password")
	if r := s.inst.Get(t, c, fmt.Sprintf("%s/%d/edit", base, otherRes.ID)); r.StatusCode != http.StatusNotFound {
		t.Fatalf("another course's resource through this course: %d", r.StatusCode)
	}
	if r := s.inst.PostForm(t, c, fmt.Sprintf("%s/%d/delete", base, otherRes.ID), nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("deleting another course's resource through this course: %d", r.StatusCode)
	}
	// Site admins manage every course's resources.
	admin := s.client(t, "admin", apptest.AdminPassword)
	if r := s.inst.Get(t, admin, base); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, res.UUID) {
		t.Fatalf("admin: %d", r.StatusCode)
	}
}

func TestLaunchLogPage(t *testing.T) {
	t.Parallel()
	s := newPublishSite(t)
	ctx := context.Background()
	moodle := tool.Registration{Name: "School Moodle", Issuer: "https://moodle.school.example", ClientID: "m-1"}
	canvas := tool.Registration{Name: "District Canvas", Issuer: "https://canvas.district.example", ClientID: "c-1"}
	for _, reg := range []*tool.Registration{&moodle, &canvas} {
		if err := s.inst.Store.CreateRegistration(ctx, reg); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Now().Add(-time.Hour)
	entries := []launch.LogEntry{
		{At: t0, RegistrationID: moodle.ID, Issuer: moodle.Issuer, DeploymentID: "dep-m", MessageType: "LtiResourceLinkRequest",
			Subject: "moodle-user-1", Stage: launch.StageLaunch, Outcome: launch.Accepted, Path: launch.PathCookie, RequestID: "req-m-ok"},
		{At: t0.Add(time.Minute), RegistrationID: moodle.ID, Issuer: moodle.Issuer, Stage: launch.StageLaunch, Outcome: launch.Refused,
			Code: "state_cookie_missing", Reason: "The browser did not send back the login cookie", Path: launch.PathCookie, RequestID: "req-m-refused"},
		{At: t0.Add(2 * time.Minute), RegistrationID: canvas.ID, Issuer: canvas.Issuer, DeploymentID: "dep-c", MessageType: "LtiResourceLinkRequest",
			Subject: "canvas-user-1", Stage: launch.StageLaunch, Outcome: launch.Accepted, Path: launch.PathCookie, RequestID: "req-c-ok"},
		{At: t0.Add(3 * time.Minute), Issuer: "https://stranger.example", Stage: launch.StageLogin, Outcome: launch.Refused,
			Code: "platform_unknown", Reason: "No platform with issuer \"https://stranger.example\" is registered on this tool.", RequestID: "req-unknown"},
	}
	for i := range entries {
		if err := s.inst.Store.RecordLaunch(ctx, &entries[i]); err != nil {
			t.Fatal(err)
		}
	}
	admin := s.client(t, "admin", apptest.AdminPassword)
	if r := s.inst.Get(t, admin, "/"); !strings.Contains(r.Body, `href="/admin/launches"`) {
		t.Fatal("the admin dashboard does not link to the launch log")
	}
	requestIDs := regexp.MustCompile(`<code>(req-[a-z-]+)</code>`)
	shown := func(query string) []string {
		t.Helper()
		r := s.inst.Get(t, admin, "/admin/launches"+query)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", query, r.StatusCode, r.Body)
		}
		var ids []string
		for _, m := range requestIDs.FindAllStringSubmatch(r.Body, -1) {
			ids = append(ids, m[1])
		}
		return ids
	}
	tests := []struct {
		query string
		want  []string // newest first
	}{
		{"", []string{"req-unknown", "req-c-ok", "req-m-refused", "req-m-ok"}},
		{"?outcome=refused", []string{"req-unknown", "req-m-refused"}},
		{"?outcome=accepted", []string{"req-c-ok", "req-m-ok"}},
		{fmt.Sprintf("?registration=%d", moodle.ID), []string{"req-m-refused", "req-m-ok"}},
		{fmt.Sprintf("?registration=%d&outcome=accepted", canvas.ID), []string{"req-c-ok"}},
		{fmt.Sprintf("?registration=%d&outcome=refused", canvas.ID), nil},
	}
	for _, tt := range tests {
		if got := shown(tt.query); strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%q shows %v, want %v", tt.query, got, tt.want)
		}
	}
	r := s.inst.Get(t, admin, "/admin/launches")
	for _, want := range []string{"School Moodle", "District Canvas", "The browser did not send back the login cookie", "state_cookie_missing",
		"unknown platform", "https://stranger.example", "moodle-user-1", "dep-m", "LtiResourceLinkRequest", ">cookie<",
		fmt.Sprintf(`<option value="%d">School Moodle (https://moodle.school.example)</option>`, moodle.ID)} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("launch log lacks %q", want)
		}
	}
	if r := s.inst.Get(t, admin, fmt.Sprintf("/admin/launches?registration=%d&outcome=refused", canvas.ID)); !strings.Contains(r.Body, "No launches match these filters") ||
		!strings.Contains(r.Body, fmt.Sprintf(`<option value="%d" selected>`, canvas.ID)) || !strings.Contains(r.Body, `<option value="refused" selected>`) {
		t.Error("filters are not kept in the form, or the empty result says nothing")
	}
	if r := s.inst.Get(t, admin, "/admin/launches?outcome=maybe"); r.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown outcome: %d", r.StatusCode)
	}

	// Admins only.
	for _, who := range [][2]string{{"teacher", "teacher-password"}, {"student", "student-password"}} {
		if r := s.inst.Get(t, s.client(t, who[0], who[1]), "/admin/launches"); r.StatusCode != http.StatusForbidden || strings.Contains(r.Body, "req-m-ok") {
			t.Errorf("%s: %d, want 403", who[0], r.StatusCode)
		}
	}
	if r := s.inst.Get(t, s.inst.Client(t), "/admin/launches"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("anonymous: %d", r.StatusCode)
	}
}
