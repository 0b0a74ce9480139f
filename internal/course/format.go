package course

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/store"
)

// FormatVersion names the course file format (docs/course-format.md). Version 2 added the question types beyond
// multiple choice and short answer, fractions, feedback and text formats; version 3 added assignments'
// submission types and file limits. Each version's files are valid files of the next, so all are read. Export
// writes the oldest version that holds the course, so that older ltipub instances still read it (and refuse a
// newer file by its version, not by a field they do not know).
const FormatVersion = "ltipub-course/3"

// FormatVersion2 is the second version of the course file format, still read.
const FormatVersion2 = "ltipub-course/2"

// FormatVersion1 is the first version of the course file format, still read.
const FormatVersion1 = "ltipub-course/1"

// File is a whole course as JSON, for import and export.
type File struct {
	Format     string         `json:"format"`
	Course     FileCourse     `json:"course"`
	Activities []FileActivity `json:"activities"`
}

// FileCourse is the course part of a File.
type FileCourse struct {
	FullName  string `json:"full_name"`
	ShortName string `json:"short_name"`
	Summary   string `json:"summary,omitempty"`
	Visible   *bool  `json:"visible,omitempty"`
	// Language is the language the content is written in ("es", "pt-BR"); optional.
	Language string `json:"language,omitempty"`
}

// FileActivity is one activity of a File; the fields that do not belong to its type must be left out.
type FileActivity struct {
	Type        Type    `json:"type"`
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Visible     *bool   `json:"visible,omitempty"`
	MaxGrade    float64 `json:"max_grade,omitempty"`
	// Body is a page's Markdown.
	Body string `json:"body,omitempty"`
	// Quiz fields.
	AttemptsAllowed int           `json:"attempts_allowed,omitempty"`
	GradingMethod   GradingMethod `json:"grading_method,omitempty"`
	ShowAnswers     bool          `json:"show_answers,omitempty"`
	ShuffleAnswers  bool          `json:"shuffle_answers,omitempty"`
	HideFeedback    bool          `json:"hide_feedback,omitempty"`
	TimeLimit       int           `json:"time_limit_minutes,omitempty"`
	Questions       []Question    `json:"questions,omitempty"`
	// Due is an assignment's due date, RFC 3339 (2026-03-01T17:00:00Z).
	Due string `json:"due,omitempty"`
	// Cutoff is an assignment's cut-off date, RFC 3339: late submissions are taken until it.
	Cutoff string `json:"cutoff,omitempty"`
	// Assignment submission settings (version 3): "online_text", "file" or both (left out: online text), and
	// the file limits.
	SubmissionTypes []SubmissionType `json:"submission_types,omitempty"`
	MaxFiles        int              `json:"max_files,omitempty"`
	MaxFileBytes    int64            `json:"max_file_bytes,omitempty"`
}

// ImportResult is what an import made.
type ImportResult struct {
	Course     Course
	Activities []Activity
}

// ParseFile decodes and checks a course file. A syntax or type mistake is reported with its line and column; a
// rule broken is reported with the field's path (activities[2].questions[0].choices).
func ParseFile(data []byte) (File, []ActivityInput, error) {
	var f File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return File{}, nil, describeJSONError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		line, col := position(data, dec.InputOffset())
		return File{}, nil, &ValidationError{Field: fmt.Sprintf("line %d, column %d", line, col), Line: line, Column: col,
			Message: "expected the end of the file after the course object's closing brace }", Code: "format.trailing"}
	}
	ins, err := CheckFile(&f)
	if err != nil {
		return File{}, nil, err
	}
	return f, ins, nil
}

// CheckFile applies the course file's rules to a decoded (or converted) file, as ParseFile does.
func CheckFile(f *File) ([]ActivityInput, error) {
	if f.Format != FormatVersion && f.Format != FormatVersion2 && f.Format != FormatVersion1 {
		return nil, invalid("format", "format.version", "must be %q (or the older %q or %q), not %q", "Want", FormatVersion, "Older2", FormatVersion2, "Older1", FormatVersion1, "Got", f.Format)
	}
	ci := CourseInput{FullName: f.Course.FullName, ShortName: f.Course.ShortName, Summary: f.Course.Summary, Language: f.Course.Language}
	if err := ci.validate("course."); err != nil {
		return nil, err
	}
	f.Course.Language = ci.Language
	if len(f.Activities) > 500 {
		return nil, invalid("activities", "format.max_activities", "at most 500 activities per course")
	}
	ins := make([]ActivityInput, len(f.Activities))
	for i, fa := range f.Activities {
		prefix := fmt.Sprintf("activities[%d].", i)
		in := ActivityInput{Type: fa.Type, Name: fa.Name, Description: fa.Description, Visible: fa.Visible == nil || *fa.Visible,
			MaxGrade: fa.MaxGrade, Body: fa.Body}
		if !fa.Type.Valid() {
			return nil, invalid(prefix+"type", "activity.type", "must be page, quiz or assignment, not %q", "Value", fa.Type)
		}
		if fa.Type != TypeQuiz && (fa.Questions != nil || fa.AttemptsAllowed != 0 || fa.GradingMethod != "" || fa.ShowAnswers || fa.ShuffleAnswers || fa.HideFeedback || fa.TimeLimit != 0) {
			return nil, invalid(prefix+"questions", "format.only_quiz", "only quizzes have questions, attempts and a grading method")
		}
		if fa.Type != TypePage && fa.Body != "" {
			return nil, invalid(prefix+"body", "format.only_page_body", "only pages have a body")
		}
		if fa.Type == TypePage && fa.MaxGrade != 0 {
			return nil, invalid(prefix+"max_grade", "format.page_not_graded", "pages are not graded")
		}
		if fa.Due != "" {
			if fa.Type != TypeAssignment {
				return nil, invalid(prefix+"due", "format.only_assignment_due", "only assignments have a due date")
			}
			t, err := time.Parse(time.RFC3339, fa.Due)
			if err != nil {
				return nil, invalid(prefix+"due", "format.due_time", "%q is not an RFC 3339 time such as 2026-03-01T17:00:00Z", "Value", fa.Due)
			}
			in.DueAt = t.UTC()
		}
		if fa.Cutoff != "" {
			if fa.Type != TypeAssignment {
				return nil, invalid(prefix+"cutoff", "format.only_assignment_cutoff", "only assignments have a cut-off date")
			}
			t, err := time.Parse(time.RFC3339, fa.Cutoff)
			if err != nil {
				return nil, invalid(prefix+"cutoff", "format.cutoff_time", "%q is not an RFC 3339 time such as 2026-03-08T17:00:00Z", "Value", fa.Cutoff)
			}
			in.CutoffAt = t.UTC()
		}
		if fa.SubmissionTypes != nil || fa.MaxFiles != 0 || fa.MaxFileBytes != 0 {
			if fa.Type != TypeAssignment {
				return nil, invalid(prefix+"submission_types", "format.only_assignment_submission", "only assignments have submission types and file limits")
			}
			if f.Format != FormatVersion {
				return nil, invalid(prefix+"submission_types", "format.submission_version", "needs format %q (submission types came in version 3)", "Want", FormatVersion)
			}
			in.Assignment = AssignmentSettings{SubmissionTypes: fa.SubmissionTypes, MaxFiles: fa.MaxFiles, MaxFileBytes: fa.MaxFileBytes}
		}
		if fa.Type == TypeQuiz {
			in.Quiz = QuizSettings{AttemptsAllowed: fa.AttemptsAllowed, GradingMethod: fa.GradingMethod,
				ShowAnswers: fa.ShowAnswers, ShuffleAnswers: fa.ShuffleAnswers, HideFeedback: fa.HideFeedback, TimeLimitMinutes: fa.TimeLimit, Questions: fa.Questions}
		}
		if err := in.validate(prefix); err != nil {
			return nil, err
		}
		ins[i] = in
	}
	return ins, nil
}

func describeJSONError(data []byte, err error) error { return DescribeJSONError(data, err, "") }

// position turns a byte offset into a 1-based line and column.
func position(data []byte, offset int64) (int, int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// Import creates a whole course from a course file in one transaction: on any error nothing is stored. u becomes
// the course's teacher; a nil u is the command line, a trusted operator, and enrols nobody.
func (s *Service) Import(ctx context.Context, u *account.User, data []byte) (ImportResult, error) {
	if u != nil && !CanCreate(u) {
		return ImportResult{}, ErrCannotCreate
	}
	f, ins, err := ParseFile(data)
	if err != nil {
		return ImportResult{}, err
	}
	return s.importChecked(ctx, u, f, ins)
}

// ImportFile creates a course from a File made by a converter (a Moodle backup, say), with the same checks and
// the same single transaction as Import.
func (s *Service) ImportFile(ctx context.Context, u *account.User, f File) (ImportResult, error) {
	if u != nil && !CanCreate(u) {
		return ImportResult{}, ErrCannotCreate
	}
	ins, err := CheckFile(&f)
	if err != nil {
		return ImportResult{}, err
	}
	return s.importChecked(ctx, u, f, ins)
}

func (s *Service) importChecked(ctx context.Context, u *account.User, f File, ins []ActivityInput) (ImportResult, error) {
	now := s.now()
	c := Course{FullName: strings.TrimSpace(f.Course.FullName), ShortName: strings.TrimSpace(f.Course.ShortName),
		Summary: f.Course.Summary, Visible: f.Course.Visible == nil || *f.Course.Visible, Language: f.Course.Language, CreatedAt: now, UpdatedAt: now}
	if u != nil {
		c.CreatedBy = u.ID
	}
	acts := make([]*Activity, len(ins))
	for i, in := range ins {
		a := &Activity{CreatedAt: now, UpdatedAt: now}
		in.apply(a)
		acts[i] = a
	}
	if err := s.Store.ImportCourse(ctx, &c, acts, s.creatorEnrolment(u, now)); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return ImportResult{}, fmt.Errorf("%w: %q (change course.short_name in the file)", ErrShortNameTaken, c.ShortName)
		}
		return ImportResult{}, fmt.Errorf("import course: %w", err)
	}
	res := ImportResult{Course: c}
	for _, a := range acts {
		res.Activities = append(res.Activities, *a)
	}
	return res, nil
}

// Export gives a course as a course file; a nil u is the command line.
func (s *Service) Export(ctx context.Context, u *account.User, courseID int64) (File, error) {
	var c Course
	var err error
	if u == nil {
		if c, err = s.Store.CourseByID(ctx, courseID); err != nil {
			return File{}, storeErr("course", err)
		}
	} else if c, _, err = s.courseForEdit(ctx, u, courseID); err != nil {
		return File{}, err
	}
	acts, err := s.Store.ListActivities(ctx, c.ID)
	if err != nil {
		return File{}, err
	}
	vis := c.Visible
	f := File{Format: FormatVersion1, Course: FileCourse{FullName: c.FullName, ShortName: c.ShortName, Summary: c.Summary, Visible: &vis, Language: c.Language},
		Activities: []FileActivity{}}
	version := 1
	for _, a := range acts {
		v := a.Visible
		fa := FileActivity{Type: a.Type, Name: a.Name, Description: a.Description, Visible: &v, MaxGrade: a.MaxGrade, Body: a.Body}
		if a.Type == TypeQuiz {
			fa.AttemptsAllowed, fa.GradingMethod, fa.ShowAnswers, fa.Questions =
				a.Quiz.AttemptsAllowed, a.Quiz.GradingMethod, a.Quiz.ShowAnswers, a.Quiz.Questions
			fa.ShuffleAnswers, fa.HideFeedback, fa.TimeLimit = a.Quiz.ShuffleAnswers, a.Quiz.HideFeedback, a.Quiz.TimeLimitMinutes
		}
		if !a.DueAt.IsZero() {
			fa.Due = a.DueAt.UTC().Format(time.RFC3339)
		}
		need := 1
		if !a.CutoffAt.IsZero() {
			fa.Cutoff = a.CutoffAt.UTC().Format(time.RFC3339)
			need = 2
		}
		if !fitsVersion1(a.Quiz.Questions) || a.Quiz.ShuffleAnswers || a.Quiz.HideFeedback || a.Quiz.TimeLimitMinutes != 0 {
			need = 2
		}
		if a.Type == TypeAssignment && !a.Assignment.IsDefault() {
			fa.SubmissionTypes, fa.MaxFiles, fa.MaxFileBytes = a.Assignment.SubmissionTypes, a.Assignment.MaxFiles, a.Assignment.MaxFileBytes
			need = 3
		}
		version = max(version, need)
		f.Activities = append(f.Activities, fa)
	}
	f.Format = []string{FormatVersion1, FormatVersion2, FormatVersion}[version-1]
	return f, nil
}

// fitsVersion1 reports whether the questions use only what version 1 of the format had: multiple choice with
// correct flags and short answers as plain strings, in plain text.
func fitsVersion1(qs []Question) bool {
	for _, q := range qs {
		if (q.Type != MultiChoice && q.Type != ShortAnswer) || (q.Format != "" && q.Format != FormatPlain) ||
			q.Name != "" || q.GeneralFeedback != "" || q.Multiple != nil || q.CaseSensitive {
			return false
		}
		for _, c := range q.Choices {
			if c.Fraction != nil || c.Feedback != "" {
				return false
			}
		}
		for _, a := range q.Answers {
			if a.Fraction != nil || a.Feedback != "" || a.Tolerance != 0 || strings.Contains(a.Text, "*") {
				return false
			}
		}
	}
	return true
}
