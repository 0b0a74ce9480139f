package course_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/course"
)

// TestCourseFileLengthLimits: every free-text field of a course file has a length limit, and going over it names
// the field.
func TestCourseFileLengthLimits(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n+1) }
	quiz := func(q map[string]any) map[string]any {
		base := map[string]any{"id": "q1", "type": "multichoice", "text": "Q?", "choices": []map[string]any{{"text": "a", "correct": true}, {"text": "b"}}}
		for k, v := range q {
			base[k] = v
		}
		return map[string]any{"type": "quiz", "name": "Quiz", "max_grade": 10, "questions": []any{base}}
	}
	manyQuestions := []any{}
	for range course.MaxQuestions + 1 {
		manyQuestions = append(manyQuestions, map[string]any{"type": "shortanswer", "text": "Q?", "answers": []string{"a"}})
	}
	manyChoices := []map[string]any{{"text": "a", "correct": true}}
	for range course.MaxChoices {
		manyChoices = append(manyChoices, map[string]any{"text": "b"})
	}
	tests := []struct {
		name      string
		course    map[string]any
		activity  map[string]any
		wantField string
	}{
		{"summary", map[string]any{"summary": long(course.MaxSummaryBytes)}, nil, "course.summary"},
		{"description", nil, map[string]any{"type": "page", "name": "P", "description": long(course.MaxSummaryBytes)}, "activities[0].description"},
		{"body", nil, map[string]any{"type": "page", "name": "P", "body": long(course.MaxBodyBytes)}, "activities[0].body"},
		{"question text", nil, quiz(map[string]any{"text": long(course.MaxQuestionTextBytes)}), "activities[0].questions[0].text"},
		{"question id", nil, quiz(map[string]any{"id": long(course.MaxQuestionIDBytes)}), "activities[0].questions[0].id"},
		{"choice text", nil, quiz(map[string]any{"choices": []map[string]any{{"text": long(course.MaxChoiceBytes), "correct": true}, {"text": "b"}}}),
			"activities[0].questions[0].choices[0].text"},
		{"choices", nil, quiz(map[string]any{"choices": manyChoices}), "activities[0].questions[0]"},
		{"questions", nil, map[string]any{"type": "quiz", "name": "Quiz", "max_grade": 10, "questions": manyQuestions}, "activities[0].questions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := map[string]any{"full_name": "Limits", "short_name": "LIM"}
			for k, v := range tt.course {
				c[k] = v
			}
			f := map[string]any{"format": course.FormatVersion, "course": c, "activities": []any{}}
			if tt.activity != nil {
				f["activities"] = []any{tt.activity}
			}
			data, _ := json.Marshal(f)
			_, _, err := course.ParseFile(data)
			var verr *course.ValidationError
			if !errors.As(err, &verr) || verr.Field != tt.wantField {
				t.Fatalf("got %v, want a ValidationError on %q", err, tt.wantField)
			}
		})
	}
}
