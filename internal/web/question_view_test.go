package web

import (
	"reflect"
	"testing"

	"github.com/ltipub/ltipub/internal/course"
)

// TestQuestionViewRepeatsTheQuestion: the fields questionView repeats at its top (for html/template's lookups) hold
// the question's own values, whatever fields it repeats.
func TestQuestionViewRepeatsTheQuestion(t *testing.T) {
	qs := course.QuizSettings{Questions: []course.Question{
		{ID: "q1", Type: course.QuestionType("multichoice"), Name: "N1", Text: "What?", Points: 2.5, GeneralFeedback: "G",
			Choices: []course.Choice{{Text: "a", Correct: true}, {Text: "b"}}},
		{ID: "q2", Type: course.QuestionType("essay"), Text: "Why?", Points: 1},
	}}
	vt := reflect.TypeFor[questionView]()
	qt := reflect.TypeFor[course.Question]()
	repeated := 0
	for _, v := range questionViews(qs, nil, nil) {
		vv, qv := reflect.ValueOf(v), reflect.ValueOf(v.Question)
		for i := range vt.NumField() {
			f := vt.Field(i)
			qf, ok := qt.FieldByName(f.Name)
			if f.Anonymous || !ok || qf.Type != f.Type {
				continue // a field of the view's own (Choices and Multiple are views of the question's, by design)
			}
			repeated++
			if got, want := vv.Field(i).Interface(), qv.FieldByIndex(qf.Index).Interface(); !reflect.DeepEqual(got, want) {
				t.Errorf("question %s: questionView.%s = %v, the question's is %v", v.Question.ID, f.Name, got, want)
			}
		}
	}
	if repeated == 0 {
		t.Error("questionView repeats none of the question's fields")
	}
}
