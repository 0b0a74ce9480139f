package course

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/store"
)

// GradeRow is one student's line in the gradebook.
type GradeRow struct {
	Student Enrolment
	// Grades has one entry per column of the report, nil where there is no grade yet.
	Grades []*Grade
	// Total is the course total out of 100; HasTotal is false while there is no grade at all.
	Total    float64
	HasTotal bool
	// Pending is true while a grade the total counts waits for a teacher (see Grade.Pending): Total holds what
	// is marked so far, not the student's total yet.
	Pending bool
}

// Report is the gradebook of a course: graded activities as columns, students as rows.
type Report struct {
	Course     Course
	Activities []Activity
	Rows       []GradeRow
}

// CourseTotal is the mean of the percentages of the graded activities, out of 100. Activities without a grade yet
// are left out (rather than counted as 0), so that a student's total reflects the work marked so far.
func CourseTotal(grades []*Grade) (float64, bool) {
	var sum float64
	n := 0
	for _, g := range grades {
		if g != nil && g.MaxGrade > 0 {
			sum += g.Percent()
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return math.Round(sum/float64(n)*100) / 100, true
}

// CourseTotalPending reports whether a grade CourseTotal counts waits for a teacher (an essay not marked yet):
// the total is then partial, shown and sent as pending until the marking comes.
func CourseTotalPending(grades []*Grade) bool {
	for _, g := range grades {
		if g != nil && g.MaxGrade > 0 && g.Pending {
			return true
		}
	}
	return false
}

func (s *Service) students(ctx context.Context, courseID int64) ([]Enrolment, error) {
	all, err := s.Store.ListEnrolments(ctx, courseID)
	if err != nil {
		return nil, fmt.Errorf("list enrolments: %w", err)
	}
	var out []Enrolment
	seen := map[int64]bool{}
	for _, e := range all {
		if e.Role == RoleStudent && !seen[e.UserID] {
			seen[e.UserID] = true
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].DisplayName() < out[j].DisplayName() })
	return out, nil
}

// report builds the gradebook of the visible graded activities for the given students. Hidden activities are
// left out of the report and of the totals: students cannot see them, and the totals must agree for both.
func (s *Service) report(ctx context.Context, c Course, students []Enrolment) (Report, error) {
	acts, err := s.Store.ListActivities(ctx, c.ID)
	if err != nil {
		return Report{}, err
	}
	r := Report{Course: c}
	col := map[int64]int{}
	for _, a := range acts {
		if a.Graded() && a.Visible {
			col[a.ID] = len(r.Activities)
			r.Activities = append(r.Activities, a)
		}
	}
	grades, err := s.Store.CourseGrades(ctx, c.ID)
	if err != nil {
		return Report{}, err
	}
	byUser := map[int64][]*Grade{}
	for i := range grades {
		g := &grades[i]
		j, ok := col[g.ActivityID]
		if !ok {
			continue
		}
		if byUser[g.UserID] == nil {
			byUser[g.UserID] = make([]*Grade, len(r.Activities))
		}
		byUser[g.UserID][j] = g
	}
	for _, st := range students {
		row := GradeRow{Student: st, Grades: byUser[st.UserID]}
		if row.Grades == nil {
			row.Grades = make([]*Grade, len(r.Activities))
		}
		row.Total, row.HasTotal = CourseTotal(row.Grades)
		row.Pending = CourseTotalPending(row.Grades)
		r.Rows = append(r.Rows, row)
	}
	return r, nil
}

// GraderReport is the teachers' gradebook: every student × every visible graded activity.
func (s *Service) GraderReport(ctx context.Context, u *account.User, courseID int64) (Report, error) {
	c, _, err := s.courseForEdit(ctx, u, courseID)
	if err != nil {
		return Report{}, err
	}
	students, err := s.students(ctx, c.ID)
	if err != nil {
		return Report{}, err
	}
	return s.report(ctx, c, students)
}

// MyGrades is u's own line of the gradebook.
func (s *Service) MyGrades(ctx context.Context, u *account.User, courseID int64) (Report, GradeRow, error) {
	c, _, err := s.Course(ctx, u, courseID)
	if err != nil {
		return Report{}, GradeRow{}, err
	}
	r, err := s.report(ctx, c, []Enrolment{{UserID: u.ID, Username: u.Username, FullName: u.FullName}})
	if err != nil {
		return Report{}, GradeRow{}, err
	}
	return r, r.Rows[0], nil
}

// MyGrade is u's own grade in activity a, as u's line of the gradebook (MyGrades) shows it: nil when a has no
// column there (not graded, or hidden) or u has no grade in it yet. It reads that one grade, where MyGrades reads
// every activity of the course and every grade given in it.
func (s *Service) MyGrade(ctx context.Context, u *account.User, a Activity) (*Grade, error) {
	if _, _, err := s.Course(ctx, u, a.CourseID); err != nil {
		return nil, err
	}
	if !a.Graded() || !a.Visible {
		return nil, nil
	}
	g, err := s.Store.GradeOf(ctx, a.ID, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// WriteCSV writes the report as CSV: one line per student, a column per activity (as a grade out of its maximum)
// and the course total out of 100.
func (r Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(r.csvHead()); err != nil {
		return err
	}
	for _, row := range r.Rows {
		if err := cw.Write(row.csvLine()); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func (r Report) csvHead() []string {
	head := []string{"username", "full name"}
	for _, a := range r.Activities {
		head = append(head, fmt.Sprintf("%s (/%s)", a.Name, FormatNumber(a.MaxGrade)))
	}
	return append(head, "course total (/100)")
}

func (row GradeRow) csvLine() []string {
	line := []string{csvSafe(row.Student.Username), csvSafe(row.Student.FullName)}
	for _, g := range row.Grades {
		if g == nil {
			line = append(line, "")
		} else {
			line = append(line, FormatNumber(g.Grade))
		}
	}
	if row.HasTotal {
		return append(line, FormatNumber(row.Total))
	}
	return append(line, "")
}

// csvSafe defuses values a spreadsheet would run as a formula.
func csvSafe(v string) string {
	if v != "" && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@') {
		return "'" + v
	}
	return v
}

// Sync contract, for the grade sync jobs. Every change of a grade increments its Revision inside the writing
// transaction (the row lock orders concurrent writers). A sync target (one line item, say) records the revision
// it last sent per grade with MarkGradeSynced, and GradesToSync returns the grades whose revision is above that
// mark. Unlike "modified after T" or "id after N" cursors, this cannot miss a change that committed late, in the
// same microsecond as another, or on another instance: a change is pending until a revision at least as new has
// been marked sent. The cost is one small row per grade and target.

// GradesToSync lists up to limit grades of a course (0: any course) changed since they were last sent to target.
func (s *Service) GradesToSync(ctx context.Context, target string, courseID int64, limit int) ([]Grade, error) {
	return s.Store.GradesToSync(ctx, target, courseID, limit)
}

// MarkGradeSynced records that target now holds revision of the grade; an older revision never overwrites a
// newer mark.
func (s *Service) MarkGradeSynced(ctx context.Context, target string, gradeID, revision int64) error {
	return s.Store.MarkGradeSynced(ctx, target, gradeID, revision)
}
