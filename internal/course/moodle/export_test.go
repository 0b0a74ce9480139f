package moodle_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/course/moodle"
)

// validated runs the questions through the quiz rules, as an import does, so that both sides of a comparison
// have their defaults filled in.
func validated(t *testing.T, qs []course.Question) []course.Question {
	t.Helper()
	in := course.ActivityInput{Type: course.TypeQuiz, Name: "Q", MaxGrade: 10, Quiz: course.QuizSettings{Questions: append([]course.Question(nil), qs...)}}
	if err := in.Validate(); err != nil {
		t.Fatal(err)
	}
	return in.Quiz.Questions
}

func same(t *testing.T, what string, got, want []course.Question) {
	t.Helper()
	g, _ := json.MarshalIndent(got, "", " ")
	w, _ := json.MarshalIndent(want, "", " ")
	if string(g) != string(w) {
		t.Fatalf("%s changed the questions:\ngot  %s\nwant %s", what, g, w)
	}
}

// extra are questions with what the PHYS101 files lack: units, case sensitivity, plain text, distractors.
var extra = []course.Question{
	{ID: "u", Type: course.Numerical, Text: "How long: 1.5 m?", Points: 3, Answers: []course.Answer{{Text: "1.5", Tolerance: 0.01, Feedback: "Yes"}},
		Units: []course.Unit{{Unit: "m", Multiplier: 1}, {Unit: "cm", Multiplier: 100}}},
	{ID: "c", Type: course.ShortAnswer, Name: "Sodium", Text: "Symbol of sodium? {braces} = # ~ :", CaseSensitive: true,
		Answers: []course.Answer{{Text: "Na"}, {Text: "N*", Fraction: f(0.25), Feedback: "Close: two letters"}}},
	{ID: "m", Type: course.Matching, Text: "Match", Points: 2, GeneralFeedback: "See unit 2",
		Pairs: []course.Pair{{Item: "Momentum", Answer: "m v"}, {Item: "Weight", Answer: "m g"}, {Answer: "m a²"}}},
	{ID: "t", Type: course.TrueFalse, Text: "The Sun is a planet", CorrectAnswer: ptrB(false), TrueFeedback: "No: a star", FalseFeedback: "Right"},
	{ID: "e", Type: course.Essay, Text: "Why?", Points: 4, GraderInfo: "Look for a reason"},
	{ID: "old", Type: course.MultiChoice, Text: "Giants?", Choices: []course.Choice{{Text: "Jupiter", Correct: true}, {Text: "Mars"}, {Text: "Saturn", Correct: true}}},
}

func f(v float64) *float64 { return &v }
func ptrB(b bool) *bool    { return &b }

func TestXMLRoundTrip(t *testing.T) {
	t.Parallel()
	data, _ := os.ReadFile(testdata + "PHYS101-questions.xml")
	qs, err := moodle.ParseXML(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range [][]course.Question{qs.List, extra} {
		want := validated(t, set)
		out, err := moodle.WriteXML("ltipub", want)
		if err != nil {
			t.Fatal(err)
		}
		back, err := moodle.ParseXML(out)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if back.Category != "ltipub" {
			t.Fatalf("category %q", back.Category)
		}
		// Version-1 choices come back with the fractions they were worth.
		same(t, "Moodle XML export and import", validated(t, back.List), withFractions(want))
	}
}

func TestGIFTRoundTrip(t *testing.T) {
	t.Parallel()
	data, _ := os.ReadFile(testdata + "PHYS101-questions.gift.txt")
	qs, err := moodle.ParseGIFT(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range [][]course.Question{qs.List, extra} {
		want := validated(t, set)
		back, err := moodle.ParseGIFT(moodle.WriteGIFT("ltipub", want))
		if err != nil {
			t.Fatalf("%v\n%s", err, moodle.WriteGIFT("ltipub", want))
		}
		// GIFT cannot say points, case sensitivity, units or grader information (nor can Moodle's own GIFT).
		exp := withFractions(want)
		for i := range exp {
			exp[i].Points, exp[i].CaseSensitive, exp[i].Units, exp[i].GraderInfo = 1, false, nil, ""
			if exp[i].Name == "" {
				exp[i].Name = exp[i].ID
			}
		}
		same(t, "GIFT export and import", validated(t, back.List), exp)
	}
}

// withFractions spells out the fractions of version-1 questions (choices marked correct, answers without a
// fraction), as the exports write them.
func withFractions(qs []course.Question) []course.Question {
	out := make([]course.Question, len(qs))
	for i, q := range qs {
		b, _ := json.Marshal(q)
		var c course.Question
		_ = json.Unmarshal(b, &c)
		for j := range c.Choices {
			c.Choices[j].Fraction = f(q.ChoiceFraction(j))
			c.Choices[j].Correct = *c.Choices[j].Fraction > 0
		}
		if c.Type == course.MultiChoice {
			c.Multiple = ptrB(q.IsMultiple())
		}
		for j := range c.Answers {
			c.Answers[j].Fraction = f(c.Answers[j].Frac())
		}
		if c.Name == "" {
			c.Name = c.ID
		}
		out[i] = c
	}
	return out
}
