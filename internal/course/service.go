package course

import (
	"context"
	"errors"
	"fmt"
	"golang.org/x/text/language"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/store"
)

// Service applies the course rules on top of a Store.
type Service struct {
	Store Store
	Users Users
	Now   func() time.Time
	// Scanner checks uploaded files (nil: every file is accepted).
	Scanner Scanner
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Access is what one user may do in one course.
type Access struct {
	// View: see the course and its visible activities.
	View bool
	// Edit: change the course, see hidden activities, manage enrolments, grade.
	Edit bool
	// Role is the user's role from an active enrolment; empty when not enrolled (a site admin, say).
	Role Role
}

// Enrolled reports whether the user holds an active enrolment.
func (a Access) Enrolled() bool { return a.Role != "" }

// IsStudent reports whether the user takes part as a student (and so gets grades).
func (a Access) IsStudent() bool { return a.Role == RoleStudent }

// Access works out what u may do in course c. This is the one place where course permissions are decided: site
// admins may do everything; an active teacher enrolment lets a user edit; an active student enrolment lets a
// user view a visible course. A nil user may do nothing.
func (s *Service) Access(ctx context.Context, u *account.User, c Course) (Access, error) {
	if u == nil {
		return Access{}, nil
	}
	var a Access
	es, err := s.Store.EnrolmentsOf(ctx, c.ID, u.ID)
	if err != nil {
		return Access{}, fmt.Errorf("load enrolments: %w", err)
	}
	now := s.now()
	for _, e := range es {
		if !e.ActiveAt(now) {
			continue
		}
		if e.Role == RoleTeacher {
			a.Role = RoleTeacher
		} else if a.Role == "" {
			a.Role = RoleStudent
		}
	}
	a.Edit = u.IsAdmin || a.Role == RoleTeacher
	a.View = a.Edit || (a.Role == RoleStudent && c.Visible)
	return a, nil
}

// CanView reports whether u may see course c.
func (s *Service) CanView(ctx context.Context, u *account.User, c Course) bool {
	a, err := s.Access(ctx, u, c)
	return err == nil && a.View
}

// CanEdit reports whether u may change course c.
func (s *Service) CanEdit(ctx context.Context, u *account.User, c Course) bool {
	a, err := s.Access(ctx, u, c)
	return err == nil && a.Edit
}

// CanCreate reports whether u may create courses.
func CanCreate(u *account.User) bool { return u != nil && (u.IsAdmin || u.IsCourseCreator) }

// canSeeActivity applies the activity's visibility on top of the course access.
func canSeeActivity(a Access, act Activity) bool { return a.Edit || (a.View && act.Visible) }

func storeErr(what string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("load %s: %w", what, err)
}

// Course loads a course that u may view.
func (s *Service) Course(ctx context.Context, u *account.User, id int64) (Course, Access, error) {
	c, err := s.Store.CourseByID(ctx, id)
	if err != nil {
		return Course{}, Access{}, storeErr("course", err)
	}
	a, err := s.Access(ctx, u, c)
	if err != nil {
		return Course{}, Access{}, err
	}
	if !a.View {
		return c, a, ErrNotEnrolled
	}
	return c, a, nil
}

// courseForEdit loads a course that u may edit.
func (s *Service) courseForEdit(ctx context.Context, u *account.User, id int64) (Course, Access, error) {
	c, a, err := s.Course(ctx, u, id)
	if err != nil {
		return c, a, err
	}
	if !a.Edit {
		return c, a, ErrForbidden
	}
	return c, a, nil
}

// CourseEntry is one line of a user's course list.
type CourseEntry struct {
	Course Course
	Role   Role
}

// Courses lists the courses u may see: every course for a site admin, otherwise those u is actively enrolled in.
func (s *Service) Courses(ctx context.Context, u *account.User) ([]CourseEntry, error) {
	if u == nil {
		return nil, nil
	}
	cs, es, err := s.Store.CoursesOfUser(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("list courses: %w", err)
	}
	now := s.now()
	roles := map[int64]Role{}
	for _, e := range es {
		if e.ActiveAt(now) && (roles[e.CourseID] == "" || e.Role == RoleTeacher) {
			roles[e.CourseID] = e.Role
		}
	}
	if u.IsAdmin {
		if cs, err = s.Store.ListCourses(ctx); err != nil {
			return nil, fmt.Errorf("list courses: %w", err)
		}
	}
	var out []CourseEntry
	for _, c := range cs {
		r := roles[c.ID]
		if u.IsAdmin || r == RoleTeacher || (r == RoleStudent && c.Visible) {
			out = append(out, CourseEntry{Course: c, Role: r})
		}
	}
	return out, nil
}

// CourseInput is what the course form edits.
type CourseInput struct {
	FullName  string
	ShortName string
	Summary   string
	Visible   bool
	// Language of the content, "" for not said; validated and written in canonical form (pt-br → pt-BR).
	Language string
}

func (in *CourseInput) validate(prefix string) error {
	in.FullName, in.ShortName = strings.TrimSpace(in.FullName), strings.TrimSpace(in.ShortName)
	if l := strings.TrimSpace(in.Language); l != "" {
		t, err := language.Parse(strings.ReplaceAll(l, "_", "-"))
		if err != nil {
			return invalid(prefix+"language", "course.language", "%q is not a language code like en, es or pt-BR", "Value", l)
		}
		in.Language = t.String()
	} else {
		in.Language = ""
	}
	switch {
	case in.FullName == "":
		return invalid(prefix+"full_name", "required", "is required")
	case len(in.FullName) > 254:
		return invalid(prefix+"full_name", "max_254_chars", "must be at most 254 characters long")
	case in.ShortName == "":
		return invalid(prefix+"short_name", "required", "is required")
	case len(in.ShortName) > 100:
		return invalid(prefix+"short_name", "max_100_chars", "must be at most 100 characters long")
	case len(in.Summary) > MaxSummaryBytes:
		return invalid(prefix+"summary", "max_kib", "must be at most %d KiB", "Max", MaxSummaryBytes>>10)
	}
	return nil
}

// Length limits of the free-text fields, so that a course file (or a form) cannot store or make every page render
// megabytes: far above what a real course holds.
const (
	MaxSummaryBytes      = 64 << 10 // course summary, activity description
	MaxBodyBytes         = 1 << 20  // a page's Markdown
	MaxQuestions         = 200      // per quiz
	MaxQuestionTextBytes = 16 << 10 // a question's text
	MaxChoices           = 50       // choices or accepted answers per question
	MaxChoiceBytes       = 4 << 10  // one choice or accepted answer
	MaxQuestionIDBytes   = 100      // a question's id
)

// CreateCourse makes a course; its creator becomes its teacher.
func (s *Service) CreateCourse(ctx context.Context, u *account.User, in CourseInput) (Course, error) {
	if !CanCreate(u) {
		return Course{}, ErrCannotCreate
	}
	if err := in.validate(""); err != nil {
		return Course{}, err
	}
	now := s.now()
	c := Course{FullName: in.FullName, ShortName: in.ShortName, Summary: in.Summary, Visible: in.Visible, Language: in.Language,
		CreatedBy: u.ID, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateCourse(ctx, &c, s.creatorEnrolment(u, now)); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return Course{}, ErrShortNameTaken
		}
		return Course{}, fmt.Errorf("create course: %w", err)
	}
	return c, nil
}

func (s *Service) creatorEnrolment(u *account.User, now time.Time) *Enrolment {
	if u == nil {
		return nil
	}
	return &Enrolment{UserID: u.ID, Role: RoleTeacher, Status: StatusActive, Method: MethodManual, CreatedAt: now, UpdatedAt: now}
}

// UpdateCourse saves the course form.
func (s *Service) UpdateCourse(ctx context.Context, u *account.User, id int64, in CourseInput) (Course, error) {
	c, _, err := s.courseForEdit(ctx, u, id)
	if err != nil {
		return Course{}, err
	}
	if err := in.validate(""); err != nil {
		return Course{}, err
	}
	c.FullName, c.ShortName, c.Summary, c.Visible, c.Language, c.UpdatedAt = in.FullName, in.ShortName, in.Summary, in.Visible, in.Language, s.now()
	if err := s.Store.UpdateCourse(ctx, c); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return Course{}, ErrShortNameTaken
		}
		return Course{}, fmt.Errorf("update course %d: %w", id, err)
	}
	return c, nil
}

// Activities lists the activities of a course that u may see, in order.
func (s *Service) Activities(ctx context.Context, u *account.User, courseID int64) ([]Activity, error) {
	c, a, err := s.Course(ctx, u, courseID)
	if err != nil {
		return nil, err
	}
	all, err := s.Store.ListActivities(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("list activities: %w", err)
	}
	out := all[:0]
	for _, act := range all {
		if canSeeActivity(a, act) {
			out = append(out, act)
		}
	}
	return out, nil
}

// Activity loads an activity that u may see, with its course and u's access. A hidden activity is "not found"
// for students, so that its name is not revealed.
func (s *Service) Activity(ctx context.Context, u *account.User, id int64) (Activity, Course, Access, error) {
	act, err := s.Store.ActivityByID(ctx, id)
	if err != nil {
		return Activity{}, Course{}, Access{}, storeErr("activity", err)
	}
	c, a, err := s.Course(ctx, u, act.CourseID)
	if err != nil {
		return Activity{}, c, a, err
	}
	if !canSeeActivity(a, act) {
		return Activity{}, c, a, fmt.Errorf("activity: %w", ErrNotFound)
	}
	return act, c, a, nil
}

// ActivityInput is what the activity forms edit.
type ActivityInput struct {
	Type        Type
	Name        string
	Description string
	Visible     bool
	MaxGrade    float64
	Body        string
	Quiz        QuizSettings
	DueAt       time.Time
	CutoffAt    time.Time
	Assignment  AssignmentSettings
}

func (in *ActivityInput) validate(prefix string) error {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case !in.Type.Valid():
		return invalid(prefix+"type", "activity.type", "must be page, quiz or assignment, not %q", "Value", in.Type)
	case in.Name == "":
		return invalid(prefix+"name", "required", "is required")
	case len(in.Name) > 254:
		return invalid(prefix+"name", "max_254_chars", "must be at most 254 characters long")
	case len(in.Description) > MaxSummaryBytes:
		return invalid(prefix+"description", "max_kib", "must be at most %d KiB", "Max", MaxSummaryBytes>>10)
	case len(in.Body) > MaxBodyBytes:
		return invalid(prefix+"body", "max_mib", "must be at most %d MiB", "Max", MaxBodyBytes>>20)
	}
	if in.Type == TypePage {
		in.MaxGrade, in.Quiz, in.DueAt, in.CutoffAt, in.Assignment = 0, QuizSettings{}, time.Time{}, time.Time{}, AssignmentSettings{}
		return nil
	}
	if !(in.MaxGrade > 0) || in.MaxGrade > 100000 {
		return invalid(prefix+"max_grade", "activity.max_grade", "must be a number above 0 (and at most 100000)")
	}
	if in.Type == TypeQuiz {
		in.Body, in.DueAt, in.CutoffAt, in.Assignment = "", time.Time{}, time.Time{}, AssignmentSettings{}
		return in.Quiz.validate(prefix)
	}
	in.Body, in.Quiz = "", QuizSettings{}
	if !in.CutoffAt.IsZero() && !in.DueAt.IsZero() && in.CutoffAt.Before(in.DueAt) {
		return invalid(prefix+"cutoff", "activity.cutoff_before_due", "must not be before the due date")
	}
	if err := in.Assignment.validate(prefix); err != nil {
		return err
	}
	return nil
}

// Validate checks the input as the forms and imports do, filling in defaults (question ids, points).
func (in *ActivityInput) Validate() error { return in.validate("") }

func (in ActivityInput) apply(a *Activity) {
	a.Type, a.Name, a.Description, a.Visible = in.Type, in.Name, in.Description, in.Visible
	a.MaxGrade, a.Body, a.Quiz, a.DueAt, a.CutoffAt = in.MaxGrade, in.Body, in.Quiz, in.DueAt, in.CutoffAt
	a.Assignment = in.Assignment
}

// CreateActivity adds an activity at the end of a course.
func (s *Service) CreateActivity(ctx context.Context, u *account.User, courseID int64, in ActivityInput) (Activity, error) {
	c, _, err := s.courseForEdit(ctx, u, courseID)
	if err != nil {
		return Activity{}, err
	}
	if err := in.validate(""); err != nil {
		return Activity{}, err
	}
	now := s.now()
	a := Activity{CourseID: c.ID, CreatedAt: now, UpdatedAt: now}
	in.apply(&a)
	if err := s.Store.CreateActivity(ctx, &a); err != nil {
		return Activity{}, fmt.Errorf("create activity: %w", err)
	}
	return a, nil
}

// UpdateActivity saves an activity's form; its type does not change.
func (s *Service) UpdateActivity(ctx context.Context, u *account.User, id int64, in ActivityInput) (Activity, error) {
	a, _, acc, err := s.Activity(ctx, u, id)
	if err != nil {
		return Activity{}, err
	}
	if !acc.Edit {
		return Activity{}, ErrForbidden
	}
	in.Type = a.Type
	if err := in.validate(""); err != nil {
		return Activity{}, err
	}
	in.apply(&a)
	a.UpdatedAt = s.now()
	if err := s.Store.UpdateActivity(ctx, a); err != nil {
		return Activity{}, fmt.Errorf("update activity %d: %w", id, err)
	}
	return a, nil
}

// MoveActivity moves an activity one place up (delta < 0) or down.
func (s *Service) MoveActivity(ctx context.Context, u *account.User, id int64, delta int) (Activity, error) {
	a, _, acc, err := s.Activity(ctx, u, id)
	if err != nil {
		return Activity{}, err
	}
	if !acc.Edit {
		return Activity{}, ErrForbidden
	}
	if err := s.Store.MoveActivity(ctx, id, delta); err != nil {
		return Activity{}, fmt.Errorf("move activity %d: %w", id, err)
	}
	return a, nil
}

// ActivityDependents loads an activity for deletion with what depends on it, for its teachers.
func (s *Service) ActivityDependents(ctx context.Context, u *account.User, id int64) (Activity, Dependents, error) {
	a, _, acc, err := s.Activity(ctx, u, id)
	if err != nil {
		return Activity{}, Dependents{}, err
	}
	if !acc.Edit {
		return Activity{}, Dependents{}, ErrForbidden
	}
	d, err := s.Store.ActivityDependents(ctx, id)
	return a, d, err
}

// DeleteActivity deletes an activity with its grades, attempts, submissions and completions; a published
// activity is refused (ErrPublished) until its published resource is deleted.
func (s *Service) DeleteActivity(ctx context.Context, u *account.User, id int64) (Activity, error) {
	a, _, acc, err := s.Activity(ctx, u, id)
	if err != nil {
		return Activity{}, err
	}
	if !acc.Edit {
		return Activity{}, ErrForbidden
	}
	if err := s.Store.DeleteActivity(ctx, id); err != nil {
		if errors.Is(err, ErrPublished) {
			return a, err
		}
		return a, storeErr("activity", err)
	}
	return a, nil
}

// SetActivityVisible hides an activity from students or shows it again.
func (s *Service) SetActivityVisible(ctx context.Context, u *account.User, id int64, visible bool) (Activity, error) {
	a, _, acc, err := s.Activity(ctx, u, id)
	if err != nil {
		return Activity{}, err
	}
	if !acc.Edit {
		return Activity{}, ErrForbidden
	}
	a.Visible, a.UpdatedAt = visible, s.now()
	if err := s.Store.UpdateActivity(ctx, a); err != nil {
		return Activity{}, fmt.Errorf("update activity %d: %w", id, err)
	}
	return a, nil
}

// Completions gives when u completed each activity of a course.
func (s *Service) Completions(ctx context.Context, u *account.User, courseID int64) (map[int64]time.Time, error) {
	if u == nil {
		return nil, nil
	}
	return s.Store.Completions(ctx, courseID, u.ID)
}

// ViewPage records that u viewed a page, which completes it for enrolled users.
func (s *Service) ViewPage(ctx context.Context, u *account.User, a Activity, acc Access) error {
	if a.Type != TypePage || !acc.Enrolled() {
		return nil
	}
	return s.Store.MarkComplete(ctx, a.ID, u.ID, s.now())
}

// EnrolInput is what the enrolment form sends.
type EnrolInput struct {
	Username string
	Role     Role
	Status   Status
	Start    time.Time
	End      time.Time
}

func (in *EnrolInput) validate() error {
	if in.Role != RoleTeacher && in.Role != RoleStudent {
		return invalid("role", "enrolment.role", "must be teacher or student, not %q", "Value", in.Role)
	}
	if in.Status == "" {
		in.Status = StatusActive
	}
	if in.Status != StatusActive && in.Status != StatusSuspended {
		return invalid("status", "enrolment.status", "must be active or suspended, not %q", "Value", in.Status)
	}
	if !in.Start.IsZero() && !in.End.IsZero() && !in.End.After(in.Start) {
		return invalid("end", "enrolment.end", "must be after the start")
	}
	return nil
}

// Enrol enrols a user by username, manually.
func (s *Service) Enrol(ctx context.Context, u *account.User, courseID int64, in EnrolInput) (Enrolment, error) {
	c, _, err := s.courseForEdit(ctx, u, courseID)
	if err != nil {
		return Enrolment{}, err
	}
	if err := in.validate(); err != nil {
		return Enrolment{}, err
	}
	who, err := s.Users.UserByUsername(ctx, strings.TrimSpace(in.Username))
	if errors.Is(err, store.ErrNotFound) {
		return Enrolment{}, invalid("username", "enrolment.no_account", "there is no account %q", "Value", in.Username)
	}
	if err != nil {
		return Enrolment{}, fmt.Errorf("find user: %w", err)
	}
	now := s.now()
	e := Enrolment{CourseID: c.ID, UserID: who.ID, Role: in.Role, Status: in.Status, Start: in.Start, End: in.End,
		Method: MethodManual, CreatedAt: now, UpdatedAt: now, Username: who.Username, FullName: who.FullName}
	if err := s.Store.CreateEnrolment(ctx, &e); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return Enrolment{}, ErrAlreadyEnrolled
		}
		return Enrolment{}, fmt.Errorf("enrol: %w", err)
	}
	return e, nil
}

// UpdateEnrolment changes an enrolment's role, status and window.
func (s *Service) UpdateEnrolment(ctx context.Context, u *account.User, courseID, id int64, in EnrolInput) (Enrolment, error) {
	e, err := s.enrolmentForEdit(ctx, u, courseID, id)
	if err != nil {
		return Enrolment{}, err
	}
	if err := in.validate(); err != nil {
		return Enrolment{}, err
	}
	e.Role, e.Status, e.Start, e.End, e.UpdatedAt = in.Role, in.Status, in.Start, in.End, s.now()
	if err := s.Store.UpdateEnrolment(ctx, e); err != nil {
		return Enrolment{}, fmt.Errorf("update enrolment: %w", err)
	}
	return e, nil
}

// Unenrol removes an enrolment.
func (s *Service) Unenrol(ctx context.Context, u *account.User, courseID, id int64) error {
	if _, err := s.enrolmentForEdit(ctx, u, courseID, id); err != nil {
		return err
	}
	return s.Store.DeleteEnrolment(ctx, id)
}

func (s *Service) enrolmentForEdit(ctx context.Context, u *account.User, courseID, id int64) (Enrolment, error) {
	if _, _, err := s.courseForEdit(ctx, u, courseID); err != nil {
		return Enrolment{}, err
	}
	e, err := s.Store.EnrolmentByID(ctx, id)
	if err != nil || e.CourseID != courseID {
		return Enrolment{}, fmt.Errorf("enrolment: %w", ErrNotFound)
	}
	return e, nil
}

// Enrolments lists a course's enrolments for its teachers.
func (s *Service) Enrolments(ctx context.Context, u *account.User, courseID int64) ([]Enrolment, error) {
	if _, _, err := s.courseForEdit(ctx, u, courseID); err != nil {
		return nil, err
	}
	return s.Store.ListEnrolments(ctx, courseID)
}
