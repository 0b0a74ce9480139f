package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/course/moodle"
	"github.com/ltipub/ltipub/internal/i18n"
)

// courseRoutes adds the course, activity, enrolment and gradebook pages.
func (s *Server) courseRoutes(app *http.ServeMux) {
	u := func(h http.HandlerFunc) http.Handler { return s.requireUser(h) }
	app.Handle("GET /courses/new", u(s.courseNewForm))
	app.Handle("POST /courses/new", u(s.courseNewSubmit))
	app.Handle("GET /courses/import", u(s.courseImportForm))
	app.Handle("POST /courses/import", u(s.courseImportSubmit))
	app.Handle("GET /courses/{id}", u(s.courseView))
	app.Handle("GET /courses/{id}/edit", u(s.courseEditForm))
	app.Handle("POST /courses/{id}/edit", u(s.courseEditSubmit))
	app.Handle("GET /courses/{id}/export", u(s.courseExport))
	app.Handle("GET /courses/{id}/enrolments", u(s.enrolmentsPage))
	app.Handle("POST /courses/{id}/enrolments", u(s.enrolSubmit))
	app.Handle("POST /courses/{id}/enrolments/bulk", u(s.enrolmentsBulk))
	app.Handle("GET /courses/{id}/enrolments/{eid}", u(s.enrolmentEditForm))
	app.Handle("POST /courses/{id}/enrolments/{eid}", u(s.enrolmentUpdate))
	app.Handle("POST /courses/{id}/enrolments/{eid}/delete", u(s.enrolmentDelete))
	app.Handle("GET /courses/{id}/grades", u(s.graderReport))
	app.Handle("GET /courses/{id}/grades.csv", u(s.graderReportCSV))
	app.Handle("GET /courses/{id}/mygrades", u(s.myGrades))
	app.Handle("GET /courses/{id}/activities/new", u(s.activityNewForm))
	app.Handle("POST /courses/{id}/activities/new", u(s.activityNewSubmit))
	app.Handle("GET /activities/{id}", u(s.activityView))
	app.Handle("GET /activities/{id}/edit", u(s.activityEditForm))
	app.Handle("POST /activities/{id}/edit", u(s.activityEditSubmit))
	app.Handle("POST /activities/{id}/move", u(s.activityMove))
	app.Handle("POST /activities/{id}/attempts", u(s.quizSubmit))
	app.Handle("POST /activities/{id}/submission", u(s.assignmentSubmit))
	app.Handle("GET /submission-files/{fid}", u(s.submissionFileDownload))
	app.Handle("POST /activities/{id}/grades/{uid}", u(s.gradeSubmit))
	app.Handle("GET /activities/{id}/attempts", u(s.quizAttempts))
	app.Handle("POST /activities/{id}/attempts/{uid}/{n}/marks", u(s.attemptMark))
	app.Handle("POST /activities/{id}/regrade", u(s.quizRegrade))
	app.Handle("POST /courses/{id}/questions/import", u(s.questionImportSubmit))
	app.Handle("POST /markdown/preview", u(s.markdownPreview))
	app.Handle("GET /activities/{id}/questions", u(s.questionList))
	app.Handle("GET /activities/{id}/questions/new", u(s.questionNewForm))
	app.Handle("GET /activities/{id}/questions/{qid}/edit", u(s.questionEditForm))
	app.Handle("POST /activities/{id}/questions/save", u(s.questionSave))
	app.Handle("POST /activities/{id}/questions/{qid}/delete", u(s.questionDelete))
	app.Handle("POST /activities/{id}/questions/{qid}/move", u(s.questionMove))
	app.Handle("GET /activities/{id}/delete", u(s.activityDeleteForm))
	app.Handle("POST /activities/{id}/delete", u(s.activityDeleteSubmit))
	app.Handle("POST /activities/{id}/visibility", u(s.activityVisibility))
	app.Handle("GET /activities/{id}/questions.gift", u(s.questionsExport("gift")))
	app.Handle("GET /activities/{id}/questions.xml", u(s.questionsExport("xml")))
}

// fmtHelpers gives the course templates their formatting methods, in the page's language (render sets it).
type fmtHelpers struct{ tr *i18n.Printer }

func (f *fmtHelpers) setPrinter(tr *i18n.Printer) { f.tr = tr }

// Num prints a grade without trailing zeros, the language's way (2.5, 2,5).
func (f fmtHelpers) Num(v float64) string {
	s := course.FormatNumber(v)
	if f.tr != nil && f.tr.Tag() != i18n.Source {
		return f.tr.Decimal(s)
	}
	return s
}

// Field prints a number for a form field's value, min or max: always with a decimal point, as inputs of type
// number read it whatever the page's language.
func (fmtHelpers) Field(v float64) string { return course.FormatNumber(v) }

// Bytes prints a file size for people.
func (fmtHelpers) Bytes(n int64) string { return course.FormatBytes(n) }

// MiB prints a size in MiB for a form field, exactly, so that saving the form again keeps the size.
func (fmtHelpers) MiB(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64) }

// When prints a time in UTC, or a dash for none, with the month's name in the page's language.
func (f fmtHelpers) When(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if f.tr != nil && f.tr.Tag() != i18n.Source {
		return f.tr.Date(t.UTC()) + " " + t.UTC().Format("15:04") + " UTC"
	}
	return t.UTC().Format("2 Jan 2006 15:04 UTC")
}

// Local formats a time for a datetime-local input (in UTC).
func (fmtHelpers) Local(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04")
}

// courseProblem turns a course domain error into what the person reads; other errors stay internal.
func courseProblem(err error) error {
	var verr *course.ValidationError
	p := &Problem{Status: http.StatusBadRequest, Err: err}
	switch {
	case errors.As(err, &verr):
		p.Title, p.Cause, p.Fix = "That was not accepted", validationText(verr), "Go back, correct it and send again."
	case errors.Is(err, course.ErrNotFound):
		p.Status, p.Code, p.Title = http.StatusNotFound, "not_found", "Not found"
		p.Cause, p.Fix = "This course or activity does not exist, or it is not available to you.", "Go back to the course page, or to the dashboard."
	case errors.Is(err, course.ErrNotEnrolled):
		p.Status, p.Code, p.Title = http.StatusForbidden, "not_enrolled", "You are not enrolled in this course"
		p.Cause, p.Fix = "Only the course's members (and site administrators) can see it; your account holds no active enrolment in it.",
			"Ask one of the course's teachers to enrol you, or open the course from your learning platform."
	case errors.Is(err, course.ErrForbidden):
		p.Status, p.Code, p.Title = http.StatusForbidden, "forbidden", "Not allowed"
		p.Cause, p.Fix = strings.ToUpper(err.Error()[:1])+err.Error()[1:]+".", "Ask a teacher of the course if you need this done."
	case errors.Is(err, course.ErrCannotCreate):
		p.Status, p.Code, p.Title = http.StatusForbidden, "forbidden", "You cannot create courses"
		p.Cause, p.Fix = "Only site administrators and course creators may create or import courses.", "Ask a site administrator to make you a course creator."
	case errors.Is(err, course.ErrNoAttemptsLeft):
		p.Status, p.Code, p.Title = http.StatusConflict, "no_attempts_left", "No attempts left"
		p.Cause, p.Fix = strings.ToUpper(err.Error()[:1])+err.Error()[1:]+".", "Your grade is already recorded; open the quiz to see your results."
	case errors.Is(err, course.ErrPastDue):
		p.Status, p.Code, p.Title = http.StatusConflict, "past_due", "The due date has passed"
		p.Cause, p.Fix = "This assignment no longer takes submissions: "+err.Error()+".", "Ask your teacher if a late submission is possible."
	case errors.Is(err, course.ErrShortNameTaken), errors.Is(err, course.ErrAlreadyEnrolled), errors.Is(err, course.ErrConcurrentAttempt):
		p.Status, p.Code, p.Title = http.StatusConflict, "conflict", "That was not accepted"
		p.Cause, p.Fix = strings.ToUpper(err.Error()[:1])+err.Error()[1:]+".", "Go back, change it and send again."
	case errors.Is(err, course.ErrPublished):
		p.Status, p.Code, p.Title = http.StatusConflict, "published", "This activity is published"
		p.Cause, p.Fix = "Platforms link to it as an LTI tool, so deleting it would break their links and grade sync.",
			"Delete its published resource on the course's Published page first (platform links then stop working), then delete the activity."
	case errors.Is(err, course.ErrFileTooLarge):
		p.Status, p.Code, p.Title = http.StatusRequestEntityTooLarge, "too_large", "Nothing was saved: too large"
		p.Cause, p.Fix = "The upload is "+err.Error()+".", "Go back and send smaller files (a PDF export, a compressed archive), or ask your teacher."
	case errors.Is(err, course.ErrTooManyFiles):
		p.Status, p.Code, p.Title = http.StatusBadRequest, "too_many_files", "Nothing was saved: too many files"
		p.Cause, p.Fix = strings.ToUpper(err.Error()[:1])+err.Error()[1:]+".", "Go back, tick the files to remove or send fewer, and submit again."
	case errors.Is(err, course.ErrFileRefused):
		p.Status, p.Code, p.Title = http.StatusUnprocessableEntity, "file_refused", "Nothing was saved: a file was refused"
		p.Cause, p.Fix = "A file was "+err.Error()+".", "Check the file on your computer with a virus scanner, or ask your teacher to collect it another way."
	case errors.Is(err, course.ErrWrongType):
		p.Code, p.Title, p.Cause, p.Fix = "wrong_type", "Not possible here", "This action does not apply to this type of activity.", "Go back to the activity."
	default:
		return err
	}
	return p
}

func (s *Server) courseFail(w http.ResponseWriter, r *http.Request, err error) {
	s.fail(w, r, courseProblem(err))
}

// pathID reads a numeric path value; a malformed one is a 404.
func (s *Server) pathID(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return 0, false
	}
	return id, true
}

func (s *Server) flash(r *http.Request, msg string) { s.sessions.Put(r.Context(), "flash", msg) }

// parseLocalTime reads a datetime-local field as UTC; empty is the zero time.
func parseLocalTime(field, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, &course.ValidationError{Field: field, Message: fmt.Sprintf("%q is not a date and time like 2026-03-01T17:00", v),
		Code: "datetime", Args: map[string]any{"Value": v}}
}

type courseFormPage struct {
	Page
	Course course.Course
	Input  course.CourseInput
	Error  string
	// ErrorField is the form field Error is about (the page marks it invalid and ties the message to it).
	ErrorField string
}

func courseInput(r *http.Request) course.CourseInput {
	return course.CourseInput{FullName: r.PostFormValue("full_name"), ShortName: r.PostFormValue("short_name"),
		Summary: r.PostFormValue("summary"), Visible: r.PostFormValue("visible") == "on", Language: r.PostFormValue("language")}
}

func (s *Server) courseNewForm(w http.ResponseWriter, r *http.Request) {
	if !course.CanCreate(currentUser(r)) {
		s.courseFail(w, r, course.ErrCannotCreate)
		return
	}
	s.render(w, r, http.StatusOK, "course_form", &courseFormPage{Page: Page{Title: s.t(r, "course_form.new"), Embedded: isEmbedded(r)},
		Input: course.CourseInput{Visible: true}})
}

func (s *Server) courseNewSubmit(w http.ResponseWriter, r *http.Request) {
	in := courseInput(r)
	c, err := s.cfg.Courses.CreateCourse(r.Context(), currentUser(r), in)
	if err != nil {
		if msg := s.formError(r, err); msg != "" {
			s.render(w, r, http.StatusBadRequest, "course_form", &courseFormPage{Page: Page{Title: s.t(r, "course_form.new"), Embedded: isEmbedded(r)},
				Input: in, Error: msg, ErrorField: errorField(err)})
			return
		}
		s.courseFail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "course created", slog.Int64("course_id", c.ID), slog.Int64("user_id", currentUser(r).ID))
	s.flash(r, s.t(r, "course_form.flash.created"))
	http.Redirect(w, r, fmt.Sprintf("/courses/%d", c.ID), http.StatusSeeOther)
}

// validationText says what is wrong and where: "Line 1, column 11: expected a comma or a closing brace } after
// the field's value, found …." for a place in a file, "The field activities[2].type must be …." for a field.
func validationText(verr *course.ValidationError) string {
	msg := strings.TrimSuffix(verr.Message, ".")
	switch {
	case verr.Line > 0 && strings.HasSuffix(verr.Field, fmt.Sprintf("line %d, column %d", verr.Line, verr.Column)):
		where := strings.ToUpper(verr.Field[:1]) + verr.Field[1:]
		return where + ": " + msg + "."
	case verr.Line > 0:
		return fmt.Sprintf("Line %d, column %d, field %s: %s.", verr.Line, verr.Column, verr.Field, msg)
	}
	return "The field " + verr.Field + " " + msg + "."
}

// errorField names the form field a course mistake is about, or "": the first part of the mistake's field path
// ("questions" for "questions, line 3, column 7" or "questions[0].choices").
func errorField(err error) string {
	var verr *course.ValidationError
	switch {
	case errors.As(err, &verr):
		f := verr.Field
		if i := strings.IndexAny(f, ",:[."); i >= 0 {
			f = f[:i]
		}
		return f
	case errors.Is(err, course.ErrShortNameTaken):
		return "short_name"
	}
	return ""
}

// formError gives the message to show beside a form for mistakes the person can fix there, or "".
func formError(err error) string {
	var verr *course.ValidationError
	if errors.As(err, &verr) {
		return validationText(verr)
	}
	if errors.Is(err, course.ErrShortNameTaken) {
		return strings.ToUpper(err.Error()[:1]) + err.Error()[1:] + "."
	}
	return ""
}

// editableCourse loads the course named by the request's {id} for someone who may edit it; otherwise it has
// answered (a bad id, no such course, not allowed) and returns false.
func (s *Server) editableCourse(w http.ResponseWriter, r *http.Request) (course.Course, bool) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return course.Course{}, false
	}
	c, acc, err := s.cfg.Courses.Course(r.Context(), currentUser(r), id)
	if err == nil && !acc.Edit {
		err = course.ErrForbidden
	}
	if err != nil {
		s.courseFail(w, r, err)
		return course.Course{}, false
	}
	return c, true
}

func (s *Server) courseEditForm(w http.ResponseWriter, r *http.Request) {
	c, ok := s.editableCourse(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "course_form", &courseFormPage{Page: Page{Title: s.t(r, "activity_form.edit_name", "Name", c.FullName), Embedded: isEmbedded(r)},
		Course: c, Input: course.CourseInput{FullName: c.FullName, ShortName: c.ShortName, Summary: c.Summary, Visible: c.Visible,
			Language: c.Language}})
}

func (s *Server) courseEditSubmit(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	in := courseInput(r)
	c, err := s.cfg.Courses.UpdateCourse(r.Context(), currentUser(r), id, in)
	if err != nil {
		if msg := s.formError(r, err); msg != "" {
			s.render(w, r, http.StatusBadRequest, "course_form", &courseFormPage{Page: Page{Title: s.t(r, "course.edit"), Embedded: isEmbedded(r)},
				Course: course.Course{ID: id}, Input: in, Error: msg, ErrorField: errorField(err)})
			return
		}
		s.courseFail(w, r, err)
		return
	}
	s.flash(r, s.t(r, "course_form.flash.saved"))
	http.Redirect(w, r, fmt.Sprintf("/courses/%d", c.ID), http.StatusSeeOther)
}

type courseImportPage struct {
	Page
	JSON  string
	Error string
}

func (s *Server) courseImportForm(w http.ResponseWriter, r *http.Request) {
	if !course.CanCreate(currentUser(r)) {
		s.courseFail(w, r, course.ErrCannotCreate)
		return
	}
	s.render(w, r, http.StatusOK, "course_import", &courseImportPage{Page: Page{Title: s.t(r, "course_import.title"), Embedded: isEmbedded(r)}})
}

// maxImport bounds an uploaded course file or Moodle backup.
var maxImport = moodle.DefaultLimits.Upload

// readUpload reads the form's file (or its pasted text field), refusing an upload over limit with a message.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request, limit int64, textField string) ([]byte, string) {
	r.Body = http.MaxBytesReader(w, r.Body, limit+64<<10)
	var data []byte
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, s.t(r, "upload.too_large", "MiB", limit>>20)
		}
	} else if f, _, err := r.FormFile("file"); err == nil {
		data, err = moodle.ReadUpload(f, limit)
		f.Close()
		if err != nil {
			return nil, s.t(r, "upload.unreadable", "Reason", err.Error())
		}
	}
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll() // temporary files of a large upload go at once
	}
	if len(data) == 0 && textField != "" {
		data = []byte(r.FormValue(textField))
	}
	return data, ""
}

func (s *Server) courseImportSubmit(w http.ResponseWriter, r *http.Request) {
	data, problem := s.readUpload(w, r, maxImport, "json")
	page := &courseImportPage{Page: Page{Title: s.t(r, "course_import.title"), Embedded: isEmbedded(r)}}
	if problem != "" {
		page.Error = problem
		s.render(w, r, http.StatusRequestEntityTooLarge, "course_import", page)
		return
	}
	if len(data) < 64<<10 && !bytes.HasPrefix(data, []byte{0x1f, 0x8b}) && !bytes.HasPrefix(data, []byte("PK")) {
		page.JSON = r.FormValue("json")
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		page.Error = s.t(r, "upload.choose_course")
		s.render(w, r, http.StatusBadRequest, "course_import", page)
		return
	}
	rep, err := moodle.ImportCourse(r.Context(), s.cfg.Courses, currentUser(r), data, moodle.DefaultLimits)
	if err != nil {
		var merr *moodle.Error
		if errors.As(err, &merr) {
			page.Error = s.t(r, "upload.nothing_imported", "Reason", merr.Error())
			s.render(w, r, http.StatusBadRequest, "course_import", page)
			return
		}
		if msg := s.formError(r, err); msg != "" {
			page.Error = s.t(r, "upload.nothing_imported", "Reason", msg)
			s.render(w, r, http.StatusBadRequest, "course_import", page)
			return
		}
		s.courseFail(w, r, err)
		return
	}
	res := rep.Result
	s.log.InfoContext(r.Context(), "course imported", slog.Int64("course_id", res.Course.ID), slog.Int("activities", len(res.Activities)),
		slog.String("from", string(rep.Kind)), slog.Int("skipped", len(rep.Skipped)))
	msg := s.t(r, "course_import.flash.imported", "Name", res.Course.FullName, "Count", len(res.Activities))
	if len(rep.Skipped) > 0 {
		var names []string
		for _, sk := range rep.Skipped {
			names = append(names, fmt.Sprintf("%s %q", sk.Type, sk.Name))
		}
		msg += " " + s.t(r, "course_import.flash.skipped", "List", strings.Join(names, ", "))
	}
	if len(rep.Notes) > 0 {
		msg += " " + s.t(r, "course_import.flash.not_kept", "List", strings.Join(rep.Notes, "; "))
	}
	s.flash(r, msg)
	http.Redirect(w, r, fmt.Sprintf("/courses/%d", res.Course.ID), http.StatusSeeOther)
}

// questionImportSubmit adds a GIFT or Moodle XML file's questions to the quiz {qid}, or to a new quiz of course
// {id} when the form's quiz is empty.
func (s *Server) questionImportSubmit(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	data, problem := s.readUpload(w, r, moodle.DefaultLimits.Entry, "")
	if problem != "" {
		s.fail(w, r, &Problem{Status: http.StatusRequestEntityTooLarge, Title: s.t(r, "upload.questions_too_large.title"), Cause: problem,
			Fix: s.t(r, "upload.questions_too_large.fix")})
		return
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		s.courseFail(w, r, &course.ValidationError{Field: "file", Message: "choose a GIFT or Moodle XML question file", Code: "questions.file_missing"})
		return
	}
	var quizID int64
	if v := strings.TrimSpace(r.FormValue("quiz")); v != "" {
		var err error
		if quizID, err = strconv.ParseInt(v, 10, 64); err != nil {
			s.courseFail(w, r, &course.ValidationError{Field: "quiz", Message: "must be a quiz's id", Code: "questions.quiz_id"})
			return
		}
	}
	act, kind, err := moodle.ImportQuestions(r.Context(), s.cfg.Courses, currentUser(r), id, quizID, r.FormValue("name"), data, moodle.DefaultLimits)
	if err != nil {
		var merr *moodle.Error
		if errors.As(err, &merr) {
			s.fail(w, r, &Problem{Status: http.StatusBadRequest, Title: s.t(r, "upload.nothing.title"), Cause: s.t(r, "upload.file_error", "Kind", kind, "Reason", merr.Error()),
				Fix: s.t(r, "upload.fix_file"), Err: err})
			return
		}
		s.courseFail(w, r, err)
		return
	}
	s.flash(r, s.t(r, "questions.import.flash", "Kind", kind, "Name", act.Name, "Count", len(act.Quiz.Questions)))
	http.Redirect(w, r, fmt.Sprintf("/activities/%d", act.ID), http.StatusSeeOther)
}

func (s *Server) courseExport(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	f, err := s.cfg.Courses.Export(r.Context(), currentUser(r), id)
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="course-%d.json"`, id))
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(f)
}

type activityLine struct {
	course.Activity
	Completed bool
}

type courseViewPage struct {
	Page
	fmtHelpers
	Course     course.Course
	Access     course.Access
	Activities []activityLine
	Types      []course.Type
}

func (s *Server) courseView(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	u := currentUser(r)
	c, acc, err := s.cfg.Courses.Course(r.Context(), u, id)
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	acts, err := s.cfg.Courses.Activities(r.Context(), u, id)
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	done, err := s.cfg.Courses.Completions(r.Context(), u, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := &courseViewPage{Page: Page{Title: c.FullName, Embedded: isEmbedded(r)}, Course: c, Access: acc, Types: course.Types}
	for _, a := range acts {
		_, completed := done[a.ID]
		p.Activities = append(p.Activities, activityLine{Activity: a, Completed: completed})
	}
	s.render(w, r, http.StatusOK, "course_view", p)
}

func enrolInput(r *http.Request) (course.EnrolInput, error) {
	in := course.EnrolInput{Username: r.PostFormValue("username"), Role: course.Role(r.PostFormValue("role")),
		Status: course.Status(r.PostFormValue("status"))}
	var err error
	if in.Start, err = parseLocalTime("start", r.PostFormValue("start")); err != nil {
		return in, err
	}
	in.End, err = parseLocalTime("end", r.PostFormValue("end"))
	return in, err
}

func (s *Server) enrolSubmit(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	in, err := enrolInput(r)
	if err == nil {
		var e course.Enrolment
		e, err = s.cfg.Courses.Enrol(r.Context(), currentUser(r), id, in)
		if err == nil {
			s.flash(r, s.t(r, "enrolments.flash.enrolled", "Name", e.DisplayName(), "Role", s.t(r, "role."+string(e.Role))))
		}
	}
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/courses/%d/enrolments", id), http.StatusSeeOther)
}

func (s *Server) enrolmentUpdate(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	eid, ok := s.pathID(w, r, "eid")
	if !ok {
		return
	}
	in, err := enrolInput(r)
	if err == nil {
		_, err = s.cfg.Courses.UpdateEnrolment(r.Context(), currentUser(r), id, eid, in)
	}
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	s.flash(r, s.t(r, "enrolments.flash.saved"))
	http.Redirect(w, r, enrolmentsBack(id, r.PostFormValue("back")), http.StatusSeeOther)
}

func (s *Server) enrolmentDelete(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	eid, ok := s.pathID(w, r, "eid")
	if !ok {
		return
	}
	if r.PostFormValue("confirm") != "yes" { // not confirmed: the enrolment's page, with its confirmation open
		s.enrolmentPage(w, r, id, eid, r.PostFormValue("back"), true)
		return
	}
	if err := s.cfg.Courses.Unenrol(r.Context(), currentUser(r), id, eid); err != nil {
		s.courseFail(w, r, err)
		return
	}
	s.flash(r, s.t(r, "enrolments.flash.removed"))
	http.Redirect(w, r, enrolmentsBack(id, r.PostFormValue("back")), http.StatusSeeOther)
}

type gradesPage struct {
	Page
	fmtHelpers
	sentNotes // "sent to <platform> at <time>" beside each grade (grade_delivery.go)
	Report    course.Report
	Mine      course.GradeRow
}

func safeFileName(v string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, v)
}

func (s *Server) myGrades(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "id")
	if !ok {
		return
	}
	rep, mine, err := s.cfg.Courses.MyGrades(r.Context(), currentUser(r), id)
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "course_mygrades", &gradesPage{Page: Page{Title: s.t(r, "mygrades.title") + " · " + rep.Course.FullName,
		Embedded: isEmbedded(r)}, Report: rep, Mine: mine})
}
