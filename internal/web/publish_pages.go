package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/i18n"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/publish"
)

// publishRoutes adds the Published as LTI tools pages of a course and the admin launch log.
func (s *Server) publishRoutes(app *http.ServeMux) {
	u := func(h http.HandlerFunc) http.Handler { return s.requireUser(h) }
	app.Handle("GET /courses/{id}/published", u(s.publishedList))
	app.Handle("GET /courses/{id}/published/new", u(s.publishNewForm))
	app.Handle("POST /courses/{id}/published/new", u(s.publishNewSubmit))
	app.Handle("GET /courses/{id}/published/{rid}/edit", u(s.publishEditForm))
	app.Handle("POST /courses/{id}/published/{rid}/edit", u(s.publishEditSubmit))
	app.Handle("POST /courses/{id}/published/{rid}/status", u(s.publishStatus))
	app.Handle("GET /courses/{id}/published/{rid}/delete", u(s.publishDeleteForm))
	app.Handle("POST /courses/{id}/published/{rid}/delete", u(s.publishDeleteSubmit))
	app.Handle("GET /admin/launches", s.requireAdmin(http.HandlerFunc(s.launchLog)))
}

// publishProblem turns a publishing error into what the person reads; the rest goes through courseProblem.
func publishProblem(err error) error {
	var verr *publish.ValidationError
	switch {
	case errors.As(err, &verr):
		return &Problem{Status: http.StatusBadRequest, Title: "That was not accepted", Err: err,
			Cause: fieldMessage(verr), Fix: "Go back, correct it and send again."}
	case errors.Is(err, publish.ErrForbidden):
		return &Problem{Status: http.StatusForbidden, Code: "forbidden", Title: "Not allowed", Err: err,
			Cause: "Only the course's teachers and site administrators manage its published LTI tools.",
			Fix:   "Ask a teacher of the course if you need a resource published."}
	case errors.Is(err, publish.ErrNotFound):
		return &Problem{Status: http.StatusNotFound, Code: "not_found", Title: "Not found", Err: err,
			Cause: "This published resource does not exist (it may have been deleted), or it belongs to another course.",
			Fix:   "Go back to the course's Published as LTI tools page."}
	}
	return courseProblem(err)
}

func (s *Server) publishFail(w http.ResponseWriter, r *http.Request, err error) {
	s.fail(w, r, publishProblem(err))
}

// publishFields names the form's fields as the form labels them, for validation messages.
var publishFields = map[string]string{
	"course":           "Course",
	"activity":         "Tool to be published",
	"name":             "Name",
	"member_sync_mode": "Member synchronisation mode",
	"student_mode":     "Student first launch provisioning mode",
	"teacher_mode":     "Teacher first launch provisioning mode",
	"enrol_start":      "Enrolment start",
	"enrol_end":        "Enrolment end",
	"max_enrolled":     "Maximum enrolled users",
	"learner_role":     "Role for learners",
	"instructor_role":  "Role for instructors",
	"lang":             "Language",
	"timezone":         "Timezone",
	"institution":      "Institution",
	"country":          "Country",
}

func fieldMessage(verr *publish.ValidationError) string {
	label, ok := publishFields[verr.Field]
	if !ok {
		label = verr.Field
	}
	return label + ": " + verr.Message + "."
}

// manageableCourse loads the course of the request for someone who may manage its published resources.
func (s *Server) manageableCourse(w http.ResponseWriter, r *http.Request) (course.Course, bool) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return course.Course{}, false
	}
	c, acc, err := s.cfg.Courses.Course(r.Context(), currentUser(r), id)
	if err == nil && !acc.Edit {
		err = publish.ErrForbidden
	}
	if err != nil {
		s.publishFail(w, r, err)
		return course.Course{}, false
	}
	return c, true
}

// manageableResource loads the course and the published resource of the request; a resource of another course
// is not found.
func (s *Server) manageableResource(w http.ResponseWriter, r *http.Request) (course.Course, publish.Resource, bool) {
	c, ok := s.manageableCourse(w, r)
	if !ok {
		return c, publish.Resource{}, false
	}
	rid, ok := s.pathID(w, r, "rid")
	if !ok {
		return c, publish.Resource{}, false
	}
	res, err := s.cfg.Publish.Resource(r.Context(), currentUser(r), rid)
	// The person manages this course, so a resource they may not manage, or one of another course, is simply
	// not one of this course's.
	if errors.Is(err, publish.ErrForbidden) || (err == nil && res.CourseID != c.ID) {
		err = publish.ErrNotFound
	}
	if err != nil {
		s.publishFail(w, r, err)
		return c, publish.Resource{}, false
	}
	return c, res, true
}

// publishedItem is a published resource as the pages show it.
type publishedItem struct {
	publish.Resource
	// Target says what the resource publishes: the course, or which activity.
	Target string
	// LaunchURL is the URL platforms launch, for linking manually.
	LaunchURL string
	// Legacy are the LTI 1.1 details (lti_legacy.go).
	Legacy legacyDetails
	// Warnings are the syncs its links cannot do (grade_delivery.go).
	Warnings []jobs.Warning

	tr *i18n.Printer
}

// T is a message in the page's language, for the partials that show one item ({{template "publish_links" .Item}}).
func (it publishedItem) T(id string, args ...any) string {
	if it.tr == nil {
		return id
	}
	return it.tr.T(id, args...)
}

func (s *Server) publishedItem(r *http.Request, res publish.Resource, acts []course.Activity) publishedItem {
	tr := s.printer(r)
	it := publishedItem{Resource: res, Target: tr.T("publish.target.course"), LaunchURL: publish.LaunchURL(s.cfg.BaseURL), tr: tr}
	it.Legacy = s.legacyDetails(res)
	if res.ActivityID != 0 {
		it.Target = tr.T("publish.target.activity_id", "ID", res.ActivityID)
		for _, a := range acts {
			if a.ID == res.ActivityID {
				it.Target = tr.T("publish_form.activity", "Name", a.Name, "Type", tr.T("activity.type."+string(a.Type)))
			}
		}
	}
	return it
}

type publishedListPage struct {
	Page
	fmtHelpers
	Course    course.Course
	Items     []publishedItem
	LaunchURL string
	Filter    publish.ResourceFilter
	Pager     pager
}

func (s *Server) publishedList(w http.ResponseWriter, r *http.Request) {
	c, ok := s.manageableCourse(w, r)
	if !ok {
		return
	}
	u := currentUser(r)
	q := r.URL.Query()
	req, err := readPage(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := publish.ResourceFilter{Query: strings.TrimSpace(q.Get("q")), Enabled: q.Get("enabled"), Offset: req.Offset(), Limit: req.Size}
	if f.Enabled != "" && f.Enabled != "yes" && f.Enabled != "no" {
		s.fail(w, r, badFilter("enabled", f.Enabled, "yes or no"))
		return
	}
	list, total, err := s.cfg.Publish.ListPage(r.Context(), u, c.ID, f)
	if err != nil {
		s.publishFail(w, r, err)
		return
	}
	acts, err := s.cfg.Courses.Activities(r.Context(), u, c.ID)
	if err != nil {
		s.publishFail(w, r, err)
		return
	}
	p := &publishedListPage{Page: Page{Title: s.t(r, "course.published") + " · " + c.FullName, Embedded: isEmbedded(r)}, Course: c,
		LaunchURL: publish.LaunchURL(s.cfg.BaseURL), Filter: f,
		Pager: newPager(fmt.Sprintf("/courses/%d/published", c.ID), q, req, total, len(list), s.t(r, "people.pager.published"), f.Query != "" || f.Enabled != "")}
	for _, res := range list {
		it := s.publishedItem(r, res, acts)
		if it.Legacy.ToolProxies, err = s.cfg.Publish.ToolProxiesOf(r.Context(), res); err != nil {
			s.publishFail(w, r, err)
			return
		}
		if d := s.gradeDelivery(); d != nil {
			if it.Warnings, err = d.ResourceWarnings(r.Context(), res); err != nil {
				s.publishFail(w, r, err)
				return
			}
			it.Warnings = localizeWarnings(s.printer(r), it.Warnings)
		}
		p.Items = append(p.Items, it)
	}
	s.render(w, r, http.StatusOK, "publish_list", p)
}

type publishFormPage struct {
	Page
	fmtHelpers
	Course     course.Course
	Item       publishedItem // ID 0: a new resource
	Input      publish.Input
	Activities []course.Activity
	Modes      []publish.Mode
	SyncModes  []publish.SyncMode
	Roles      []course.Role
	LaunchURL  string
	Error      string
	ErrorField string
}

func (s *Server) publishForm(w http.ResponseWriter, r *http.Request, status int, c course.Course, res publish.Resource, in publish.Input, verr *publish.ValidationError) {
	acts, err := s.cfg.Courses.Activities(r.Context(), currentUser(r), c.ID)
	if err != nil {
		s.publishFail(w, r, err)
		return
	}
	title := s.t(r, "publish_form.title_new") + " · " + c.FullName
	if res.ID != 0 {
		title = s.t(r, "activity_form.edit_name", "Name", res.Name) + " · " + c.FullName
	}
	p := &publishFormPage{Page: Page{Title: title, Embedded: isEmbedded(r)}, Course: c, Item: s.publishedItem(r, res, acts),
		Input: in, Activities: acts, Modes: publish.Modes,
		SyncModes: []publish.SyncMode{publish.SyncEnrolAndUnenrol, publish.SyncEnrolOnly, publish.SyncUnenrolOnly},
		Roles:     []course.Role{course.RoleStudent, course.RoleTeacher}, LaunchURL: publish.LaunchURL(s.cfg.BaseURL)}
	if verr != nil {
		p.Error, p.ErrorField = localFieldMessage(s.printer(r), verr), verr.Field
	}
	s.render(w, r, status, "publish_form", p)
}

var (
	languageTag  = regexp.MustCompile(`^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$`)
	countryCode  = regexp.MustCompile(`^[A-Za-z]{2}$`)
	timezoneName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$`)
)

// publishInput reads the publish form. Mistakes in what the domain cannot see (numbers, dates, the defaults'
// shapes) are reported as *publish.ValidationError, like the domain's own.
func publishInput(r *http.Request, courseID int64) (publish.Input, error) {
	f := r.PostFormValue
	in := publish.Input{CourseID: courseID, Name: f("name"), Enabled: f("enabled") == "on",
		GradeSync: f("grade_sync") == "on", MemberSync: f("member_sync") == "on", MemberSyncMode: publish.SyncMode(f("member_sync_mode")),
		StudentMode: publish.Mode(f("student_mode")), TeacherMode: publish.Mode(f("teacher_mode")),
		LearnerRole: course.Role(f("learner_role")), InstructorRole: course.Role(f("instructor_role")),
		Defaults: publish.AccountDefaults{Language: strings.TrimSpace(f("lang")), Timezone: strings.TrimSpace(f("timezone")),
			Institution: strings.TrimSpace(f("institution")), Country: strings.ToUpper(strings.TrimSpace(f("country")))}}
	var err error
	if v := strings.TrimSpace(f("activity")); v != "" && v != "0" {
		if in.ActivityID, err = strconv.ParseInt(v, 10, 64); err != nil || in.ActivityID < 0 {
			return in, &publish.ValidationError{Field: "activity", Message: fmt.Sprintf("%q is not an activity of this course", v),
				Code: "publish.activity", Args: map[string]any{"Value": v}}
		}
	}
	if v := strings.TrimSpace(f("max_enrolled")); v != "" {
		if in.MaxEnrolled, err = strconv.Atoi(v); err != nil {
			return in, &publish.ValidationError{Field: "max_enrolled", Message: fmt.Sprintf("%q is not a whole number (0 means unlimited)", v),
				Code: "publish.max_enrolled_number", Args: map[string]any{"Value": v}}
		}
	}
	for _, t := range []struct {
		field string
		dst   *time.Time
	}{{"enrol_start", &in.EnrolStart}, {"enrol_end", &in.EnrolEnd}} {
		v, perr := parseLocalTime(t.field, f(t.field))
		if perr != nil {
			return in, &publish.ValidationError{Field: t.field, Message: fmt.Sprintf("%q is not a date and time like 2026-03-01T17:00 (UTC)", f(t.field)),
				Code: "datetime_utc", Args: map[string]any{"Value": f(t.field)}}
		}
		*t.dst = v
	}
	d := in.Defaults
	switch {
	case d.Language != "" && !languageTag.MatchString(d.Language):
		return in, &publish.ValidationError{Field: "lang", Message: fmt.Sprintf("%q is not a language code like en or pt-BR", d.Language),
			Code: "publish.lang", Args: map[string]any{"Value": d.Language}}
	case d.Timezone != "" && (len(d.Timezone) > 64 || !timezoneName.MatchString(d.Timezone)):
		return in, &publish.ValidationError{Field: "timezone", Message: fmt.Sprintf("%q is not a time zone name like Europe/Paris or UTC", d.Timezone),
			Code: "publish.timezone", Args: map[string]any{"Value": d.Timezone}}
	case len(d.Institution) > 255:
		return in, &publish.ValidationError{Field: "institution", Message: "must be at most 255 characters", Code: "max_255"}
	case d.Country != "" && !countryCode.MatchString(d.Country):
		return in, &publish.ValidationError{Field: "country", Message: fmt.Sprintf("%q is not a two-letter country code like FR", d.Country),
			Code: "publish.country", Args: map[string]any{"Value": d.Country}}
	}
	return in, nil
}

func (s *Server) publishNewForm(w http.ResponseWriter, r *http.Request) {
	c, ok := s.manageableCourse(w, r)
	if !ok {
		return
	}
	s.publishForm(w, r, http.StatusOK, c, publish.Resource{}, publish.NewInput(c.ID), nil)
}

func (s *Server) publishNewSubmit(w http.ResponseWriter, r *http.Request) {
	c, ok := s.manageableCourse(w, r)
	if !ok {
		return
	}
	in, err := publishInput(r, c.ID)
	var res publish.Resource
	if err == nil {
		res, err = s.cfg.Publish.Publish(r.Context(), currentUser(r), in)
	}
	var verr *publish.ValidationError
	if errors.As(err, &verr) {
		s.publishForm(w, r, http.StatusBadRequest, c, publish.Resource{}, in, verr)
		return
	}
	if err != nil {
		s.publishFail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "resource published", slog.Int64("course_id", c.ID), slog.Int64("resource_id", res.ID),
		slog.Int64("activity_id", res.ActivityID), slog.Int64("user_id", currentUser(r).ID))
	s.flash(r, s.t(r, "publish_form.flash.published", "Name", res.Name))
	http.Redirect(w, r, fmt.Sprintf("/courses/%d/published#resource-%d", c.ID, res.ID), http.StatusSeeOther)
}

func inputOf(res publish.Resource) publish.Input {
	return publish.Input{CourseID: res.CourseID, ActivityID: res.ActivityID, Name: res.Name, Enabled: res.Enabled,
		GradeSync: res.GradeSync, MemberSync: res.MemberSync, MemberSyncMode: res.MemberSyncMode,
		StudentMode: res.StudentMode, TeacherMode: res.TeacherMode, EnrolStart: res.EnrolStart, EnrolEnd: res.EnrolEnd,
		MaxEnrolled: res.MaxEnrolled, LearnerRole: res.LearnerRole, InstructorRole: res.InstructorRole, Defaults: res.Defaults}
}

func (s *Server) publishEditForm(w http.ResponseWriter, r *http.Request) {
	c, res, ok := s.manageableResource(w, r)
	if !ok {
		return
	}
	s.publishForm(w, r, http.StatusOK, c, res, inputOf(res), nil)
}

func (s *Server) publishEditSubmit(w http.ResponseWriter, r *http.Request) {
	c, res, ok := s.manageableResource(w, r)
	if !ok {
		return
	}
	in, err := publishInput(r, c.ID)
	// What a resource publishes stays as it was made: platforms' links and enrolments refer to it.
	in.ActivityID = res.ActivityID
	saved := res
	if err == nil {
		saved, err = s.cfg.Publish.Update(r.Context(), currentUser(r), res.ID, in)
	}
	var verr *publish.ValidationError
	if errors.As(err, &verr) {
		s.publishForm(w, r, http.StatusBadRequest, c, res, in, verr)
		return
	}
	if err != nil {
		s.publishFail(w, r, err)
		return
	}
	s.flash(r, s.t(r, "publish_form.flash.saved", "Name", saved.Name))
	http.Redirect(w, r, fmt.Sprintf("/courses/%d/published#resource-%d", c.ID, saved.ID), http.StatusSeeOther)
}

func (s *Server) publishStatus(w http.ResponseWriter, r *http.Request) {
	c, res, ok := s.manageableResource(w, r)
	if !ok {
		return
	}
	enabled := r.PostFormValue("enabled") == "1"
	res, err := s.cfg.Publish.SetEnabled(r.Context(), currentUser(r), res.ID, enabled)
	if err != nil {
		s.publishFail(w, r, err)
		return
	}
	if enabled {
		s.flash(r, s.t(r, "publish.flash.enabled", "Name", res.Name))
	} else {
		s.flash(r, s.t(r, "publish.flash.disabled", "Name", res.Name))
	}
	http.Redirect(w, r, fmt.Sprintf("/courses/%d/published#resource-%d", c.ID, res.ID), http.StatusSeeOther)
}

type publishDeletePage struct {
	Page
	Course      course.Course
	Item        publishedItem
	Enrolments  int
	LinkedTimes int
}

func (s *Server) publishDeleteForm(w http.ResponseWriter, r *http.Request) {
	c, res, ok := s.manageableResource(w, r)
	if !ok {
		return
	}
	acts, err := s.cfg.Courses.Activities(r.Context(), currentUser(r), c.ID)
	if err != nil {
		s.publishFail(w, r, err)
		return
	}
	n, err := s.cfg.Publish.Store.CountResourceEnrolments(r.Context(), res.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	links, err := s.cfg.Publish.Store.ResourceLinks(r.Context(), res.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "publish_delete", &publishDeletePage{Page: Page{Title: s.t(r, "activity_delete.confirm", "Name", res.Name), Embedded: isEmbedded(r)},
		Course: c, Item: s.publishedItem(r, res, acts), Enrolments: n, LinkedTimes: len(links)})
}

func (s *Server) publishDeleteSubmit(w http.ResponseWriter, r *http.Request) {
	c, res, ok := s.manageableResource(w, r)
	if !ok {
		return
	}
	if err := s.cfg.Publish.Delete(r.Context(), currentUser(r), res.ID); err != nil {
		s.publishFail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "published resource deleted", slog.Int64("course_id", c.ID), slog.Int64("resource_id", res.ID),
		slog.Int64("user_id", currentUser(r).ID))
	s.flash(r, s.t(r, "publish_delete.flash.deleted", "Name", res.Name))
	http.Redirect(w, r, fmt.Sprintf("/courses/%d/published", c.ID), http.StatusSeeOther)
}
