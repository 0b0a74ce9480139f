package course_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/ltipub/ltipub/internal/course"
)

// FuzzParseFile fuzzes the course file reader (imports come from anyone who may create a course), seeded with
// the example course and a few broken ones; the corpus of interesting inputs lives in testdata/fuzz/FuzzParseFile.
// Whatever it accepts must survive a round trip: what it parsed, written back out, parses again.
func FuzzParseFile(f *testing.F) {
	if b, err := os.ReadFile("../../examples/course.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"format":"ltipub-course/1","course":{"full_name":"A","short_name":"A"},"activities":[]}`))
	f.Add([]byte(`{"format":"ltipub-course/1","course":{"full_name":"Q","short_name":"Q"},"activities":[{"type":"quiz","name":"Q",` +
		`"max_grade":5,"questions":[{"type":"shortanswer","text":"2+2?","answers":["4","four"]},{"type":"multichoice","text":"Pick",` +
		`"choices":[{"text":"a","correct":true},{"text":"b","correct":true},{"text":"c"}]}]},{"type":"assignment","name":"Essay","max_grade":10,"due":"2026-03-01T17:00:00Z"}]}`))
	f.Add([]byte(`{"format":"ltipub-course/1","course":{},"activities":[{"type":"page"}]} trailing`))
	f.Add([]byte(`{"format":"ltipub-course/1","course":{"full_name":"A","short_name":"A"},"activities":[{"type":"quiz","name":"Q","max_grade":1e309}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, ins, err := course.ParseFile(data)
		if err != nil {
			return
		}
		if len(ins) != len(file.Activities) {
			t.Fatalf("%d activities parsed into %d inputs", len(file.Activities), len(ins))
		}
		again, err := json.Marshal(file)
		if err != nil {
			t.Fatalf("an accepted file does not encode: %v", err)
		}
		if _, _, err := course.ParseFile(again); err != nil {
			t.Fatalf("an accepted file, written back, is refused: %v\n%s", err, again)
		}
	})
}
