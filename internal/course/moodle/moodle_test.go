package moodle_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/course/moodle"
)

// testdata is a copy of shared/testdata/moodle (made by Moodle 4.3; see its MANIFEST.md for the sha256 of each file),
// kept in the repository so that the tests do not depend on where shared/ is.
const testdata = "testdata/"

type manifestQuestion struct {
	IDNumber        string  `json:"idnumber"`
	Name            string  `json:"name"`
	QType           string  `json:"qtype"`
	DefaultMark     float64 `json:"defaultmark"`
	MaxMark         float64 `json:"maxmark"`
	QuestionText    string  `json:"questiontext"`
	GeneralFeedback string  `json:"generalfeedback"`
	Single          *bool   `json:"single"`
	Answers         []struct {
		Answer    string  `json:"answer"`
		Fraction  float64 `json:"fraction"`
		Feedback  string  `json:"feedback"`
		Tolerance float64 `json:"tolerance"`
	} `json:"answers"`
	CorrectAnswer *bool  `json:"correctanswer"`
	FeedbackTrue  string `json:"feedbacktrue"`
	FeedbackFalse string `json:"feedbackfalse"`
	Pairs         []struct {
		Question string `json:"question"`
		Answer   string `json:"answer"`
	} `json:"pairs"`
	GraderInfo string `json:"graderinfo"`
}

type manifest struct {
	Course struct {
		FullName  string `json:"fullname"`
		ShortName string `json:"shortname"`
		Summary   string `json:"summary"`
	} `json:"course"`
	Sections []struct {
		Section     int      `json:"section"`
		DisplayName string   `json:"displayname"`
		Activities  []string `json:"activities"`
	} `json:"sections"`
	Activities []struct {
		Type       string             `json:"type"`
		Name       string             `json:"name"`
		Role       string             `json:"role"`
		Intro      string             `json:"intro"`
		Content    string             `json:"content"`
		Grade      float64            `json:"grade"`
		Attempts   int                `json:"attempts"`
		GradeName  string             `json:"grademethod_name"`
		Shuffle    int                `json:"shuffleanswers"`
		DueDate    string             `json:"duedate"`
		Questions  []manifestQuestion `json:"questions"`
		Files      []map[string]any   `json:"files"`
		Visible    bool               `json:"visible"`
		ExternalID string             `json:"externalurl"`
		// Plugins is the assignment's submission plugins' settings.
		Plugins map[string]map[string]any `json:"submissionplugins"`
	} `json:"activities"`
}

func readManifest(t *testing.T) manifest {
	t.Helper()
	data, err := os.ReadFile(testdata + "MANIFEST.json")
	if err != nil {
		t.Fatalf("the Moodle test data is missing (%v): it comes from shared/testdata/moodle", err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func (m manifest) quiz() []manifestQuestion {
	for _, a := range m.Activities {
		if a.Type == "quiz" {
			return a.Questions
		}
	}
	return nil
}

var qtypes = map[string]course.QuestionType{"multichoice": course.MultiChoice, "truefalse": course.TrueFalse,
	"shortanswer": course.ShortAnswer, "numerical": course.Numerical, "match": course.Matching, "essay": course.Essay}

func md(html string) string { return moodle.HTMLToMarkdown(html, nil) }

// checkQuestion compares an imported question with the manifest's, field by field.
func checkQuestion(t *testing.T, got course.Question, want manifestQuestion, points float64) {
	t.Helper()
	where := want.IDNumber + " " + want.Name
	if got.ID != want.IDNumber || got.Name != want.Name || got.Type != qtypes[want.QType] {
		t.Errorf("%s: id %q name %q type %q", where, got.ID, got.Name, got.Type)
	}
	if got.Text != md(want.QuestionText) || got.Format != course.FormatMarkdown || got.GeneralFeedback != md(want.GeneralFeedback) {
		t.Errorf("%s: text %q (want %q), general feedback %q", where, got.Text, md(want.QuestionText), got.GeneralFeedback)
	}
	if got.Points != points {
		t.Errorf("%s: points %v, want %v", where, got.Points, points)
	}
	switch got.Type {
	case course.MultiChoice:
		if len(got.Choices) != len(want.Answers) || got.IsMultiple() == *want.Single {
			t.Fatalf("%s: choices %+v, multiple %v", where, got.Choices, got.IsMultiple())
		}
		for i, a := range want.Answers {
			c := got.Choices[i]
			if c.Text != a.Answer || c.Fraction == nil || math.Abs(*c.Fraction-a.Fraction) > 1e-7 || c.Feedback != md(a.Feedback) {
				t.Errorf("%s: choice %d = %+v (fraction %v), want %+v", where, i, c, deref(c.Fraction), a)
			}
		}
	case course.ShortAnswer, course.Numerical:
		if len(got.Answers) != len(want.Answers) {
			t.Fatalf("%s: answers %+v", where, got.Answers)
		}
		for i, a := range want.Answers {
			g := got.Answers[i]
			if g.Text != a.Answer || math.Abs(g.Frac()-a.Fraction) > 1e-7 || g.Feedback != md(a.Feedback) || g.Tolerance != a.Tolerance {
				t.Errorf("%s: answer %d = %+v, want %+v", where, i, g, a)
			}
		}
	case course.TrueFalse:
		if got.CorrectAnswer == nil || *got.CorrectAnswer != *want.CorrectAnswer || got.TrueFeedback != md(want.FeedbackTrue) || got.FalseFeedback != md(want.FeedbackFalse) {
			t.Errorf("%s: %+v", where, got)
		}
	case course.Matching:
		if len(got.Pairs) != len(want.Pairs) {
			t.Fatalf("%s: pairs %+v", where, got.Pairs)
		}
		for i, p := range want.Pairs {
			if got.Pairs[i].Item != p.Question || got.Pairs[i].Answer != p.Answer {
				t.Errorf("%s: pair %d = %+v, want %+v", where, i, got.Pairs[i], p)
			}
		}
	}
}

func deref(f *float64) float64 {
	if f == nil {
		return math.NaN()
	}
	return *f
}

func byID(qs []course.Question) map[string]course.Question {
	out := map[string]course.Question{}
	for _, q := range qs {
		out[q.ID] = q
	}
	return out
}

func TestGIFTMatchesManifest(t *testing.T) {
	t.Parallel()
	m := readManifest(t)
	data, _ := os.ReadFile(testdata + "PHYS101-questions.gift.txt")
	qs, err := moodle.ParseGIFT(data)
	if err != nil {
		t.Fatal(err)
	}
	// MANIFEST.md: 7 questions, in this order.
	order := []string{"Third law in everyday life", "Quantities and formulas", "SI unit of force", "Vector quantities", "Average speed", "Force opposing sliding", "Gravity near the Earth"}
	if len(qs.List) != len(order) || qs.Category != "$module$/top/Default for Forces and Motion Check" {
		t.Fatalf("%d questions, category %q", len(qs.List), qs.Category)
	}
	for i, name := range order {
		if qs.List[i].Name != name {
			t.Errorf("question %d is %q, want %q", i, qs.List[i].Name, name)
		}
	}
	got := byID(qs.List)
	for _, want := range m.quiz() {
		// GIFT has no marks: Moodle itself reads every question back worth 1 (MANIFEST.md).
		checkQuestion(t, got[want.IDNumber], want, 1)
	}
	if got["PHYS101-Q1"].Text != "What is the SI unit of **force**?" {
		t.Errorf("Q1 text %q", got["PHYS101-Q1"].Text)
	}
	// GIFT loses the essay's grader information (as Moodle does).
	if got["PHYS101-Q7"].GraderInfo != "" {
		t.Errorf("grader info from GIFT: %q", got["PHYS101-Q7"].GraderInfo)
	}
}

func TestXMLMatchesManifest(t *testing.T) {
	t.Parallel()
	m := readManifest(t)
	data, _ := os.ReadFile(testdata + "PHYS101-questions.xml")
	qs, err := moodle.ParseXML(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs.List) != 7 || qs.Where[0] != "quiz/question[2]" {
		t.Fatalf("%d questions, first at %v", len(qs.List), qs.Where)
	}
	got := byID(qs.List)
	for _, want := range m.quiz() {
		checkQuestion(t, got[want.IDNumber], want, want.DefaultMark)
		if want.QType == "essay" && got[want.IDNumber].GraderInfo != md(want.GraderInfo) {
			t.Errorf("grader info %q", got[want.IDNumber].GraderInfo)
		}
	}
}

func TestBackupMatchesManifest(t *testing.T) {
	t.Parallel()
	m := readManifest(t)
	data, _ := os.ReadFile(testdata + "PHYS101.mbz")
	b, err := moodle.ReadBackup(data, moodle.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	f := b.File
	if f.Course.FullName != m.Course.FullName || f.Course.ShortName != m.Course.ShortName || f.Course.Summary != moodle.PlainText(m.Course.Summary) {
		t.Fatalf("course %+v", f.Course)
	}
	if !strings.HasPrefix(f.Course.Summary, "An introductory course on forces, motion and energy") {
		t.Fatalf("summary %q", f.Course.Summary)
	}
	if len(b.Sections) != len(m.Sections) {
		t.Fatalf("sections %+v", b.Sections)
	}
	for i, s := range m.Sections {
		var names []string
		for _, a := range s.Activities {
			names = append(names, a[strings.Index(a, ": ")+2:])
		}
		if b.Sections[i].Name != s.DisplayName || strings.Join(b.Sections[i].Activities, "|") != strings.Join(names, "|") {
			t.Errorf("section %d = %+v, want %s %v", i, b.Sections[i], s.DisplayName, names)
		}
	}
	var convert []string
	var skipped []moodle.Skipped
	for _, a := range m.Activities {
		if a.Role == "convert" {
			convert = append(convert, a.Name)
		} else {
			skipped = append(skipped, moodle.Skipped{Name: a.Name, Type: a.Type})
		}
	}
	if len(b.Skipped) != len(skipped) {
		t.Fatalf("skipped %+v, want %+v", b.Skipped, skipped)
	}
	for i := range skipped {
		if b.Skipped[i] != skipped[i] {
			t.Errorf("skipped %d = %+v, want %+v", i, b.Skipped[i], skipped[i])
		}
	}
	if len(f.Activities) != len(convert) {
		t.Fatalf("activities %d, want %v", len(f.Activities), convert)
	}
	for i, a := range m.Activities {
		_ = i
		var got *course.FileActivity
		for j := range f.Activities {
			if f.Activities[j].Name == a.Name {
				got = &f.Activities[j]
			}
		}
		if a.Role != "convert" {
			continue
		}
		if got == nil {
			t.Fatalf("%s %q not converted", a.Type, a.Name)
		}
		if got.Description != moodle.PlainText(a.Intro) || got.Visible == nil || *got.Visible != a.Visible {
			t.Errorf("%q: description %q visible %v", a.Name, got.Description, got.Visible)
		}
		switch a.Type {
		case "page":
			for _, want := range []string{"### Newton's three laws", "**forces**", "1. **First law (inertia):**", "*F = m · a*",
				"| Quantity | Symbol | SI unit |", "| Force | F | newton (N) |", "- Weight (*mg*) acts downwards.",
				"[Newton's laws of motion on Wikipedia](https://en.wikipedia.org/wiki/Newton%27s_laws_of_motion)",
				"![Free-body diagram: a block on a table with four force arrows](data:image/png;base64,iVBORw0KGgo"} {
				if !strings.Contains(got.Body, want) {
					t.Errorf("page body lacks %q:\n%s", want, got.Body)
				}
			}
			if html := course.RenderMarkdown(got.Body); !strings.Contains(string(html), `<img src="data:image/png;base64,`) || !strings.Contains(string(html), "<table>") {
				t.Errorf("rendered page loses the image or the table:\n%s", html)
			}
		case "quiz":
			if got.MaxGrade != a.Grade || got.AttemptsAllowed != a.Attempts || string(got.GradingMethod) != a.GradeName || len(got.Questions) != len(a.Questions) ||
				got.ShuffleAnswers != (a.Shuffle == 1) {
				t.Errorf("quiz settings %+v", got)
			}
			for k, want := range a.Questions {
				checkQuestion(t, got.Questions[k], want, want.MaxMark)
			}
		case "assign":
			if got.MaxGrade != a.Grade || got.Due != a.DueDate {
				t.Errorf("assignment %+v", got)
			}
			// Online text and file on: both types, with the file plugin's count and per-file size.
			want := []course.SubmissionType{}
			if a.Plugins["onlinetext"]["enabled"] == 1.0 {
				want = append(want, course.SubmitText)
			}
			if a.Plugins["file"]["enabled"] == 1.0 {
				want = append(want, course.SubmitFile)
			}
			if fmt.Sprint(got.SubmissionTypes) != fmt.Sprint(want) || float64(got.MaxFiles) != a.Plugins["file"]["maxfilesubmissions"] ||
				float64(got.MaxFileBytes) != a.Plugins["file"]["maxsubmissionsizebytes"] {
				t.Errorf("assignment submissions %v, %d files, %d bytes; manifest %v", got.SubmissionTypes, got.MaxFiles, got.MaxFileBytes, a.Plugins)
			}
		}
	}
	// What Moodle's assignment has and ltipub does not: the accepted file types and the word limit.
	if len(b.Notes) != 2 || !strings.Contains(b.Notes[0], "accepted file types (.pdf,.csv,.xlsx) are not kept") ||
		!strings.Contains(b.Notes[1], "word limit (800) is not kept") {
		t.Errorf("notes %q", b.Notes)
	}
	// The converted file passes the course file's own rules.
	if _, err := course.CheckFile(&f); err != nil {
		t.Fatal(err)
	}
}
