package course_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/course"
)

// TestDescribeJSONErrorSaysWhereAndWhatWasExpected: each kind of JSON mistake a person makes by hand reads as its
// line and column, what was expected there and what was found, never encoding/json's wording.
func TestDescribeJSONErrorSaysWhereAndWhatWasExpected(t *testing.T) {
	t.Parallel()
	type target struct {
		Name   string   `json:"name"`
		Grade  float64  `json:"grade"`
		Tags   []string `json:"tags"`
		Active bool     `json:"active"`
	}
	tests := []struct {
		name, data string
		line, col  int
		want       string
	}{
		{"missing comma", `{"name": "a" "grade": 1}`, 1, 14, `expected a comma or a closing brace } after the field's value, found a double quote "`},
		{"the issue's example", `{"name": 1x}`, 1, 11, "expected a comma or a closing brace } after the field's value, found the letter x"},
		{"missing colon", "{\n  \"name\" \"a\"}", 2, 10, "expected a colon : after the field's name"},
		{"trailing comma in an object", "{\"name\": \"a\",\n}", 2, 1, "JSON allows no comma after the last field"},
		{"trailing comma in a list", `{"tags": ["a",]}`, 1, 15, "JSON allows no comma after the last item"},
		{"single quotes", `{"name": 'a'}`, 1, 10, "JSON text goes in double quotes"},
		{"unquoted text", `{"name": hello}`, 1, 10, "expected a value (text in double quotes, a number, true, false, null, an object {…} or a list […]), found the letter h"},
		{"list item", `{"tags": ["a" "b"]}`, 1, 15, "expected a comma or a closing bracket ] after the list item"},
		{"ends early", "{\"name\": \"a\",\n \"grade\": 1", 2, 12, "the text ends too early"},
		{"line break in text", "{\"name\": \"a\nb\"}", 1, 12, "write a line break as \\n"},
		{"wrong type", "{\n\"grade\": \"ten\"}", 2, 15, "expected a number, found text in quotes"},
		{"text for a list", `{"tags": "a"}`, 1, 13, "expected a list […], found text in quotes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v target
			err := json.Unmarshal([]byte(tt.data), &v)
			if err == nil {
				t.Fatal("no error")
			}
			verr := course.DescribeJSONError([]byte(tt.data), err, "")
			if verr.Line != tt.line || verr.Column != tt.col || !strings.Contains(verr.Message, tt.want) {
				t.Fatalf("line %d, column %d: %s\nwant line %d, column %d: …%s…", verr.Line, verr.Column, verr.Message, tt.line, tt.col, tt.want)
			}
			if strings.Contains(verr.Message, "invalid character") || strings.Contains(verr.Message, "looking for") {
				t.Errorf("encoding/json's wording leaks: %s", verr.Message)
			}
		})
	}
}

// FuzzDescribeJSONError: any bytes a person uploads get a message that places the mistake in the text (never a
// panic, never encoding/json's wording).
func FuzzDescribeJSONError(f *testing.F) {
	for _, seed := range []string{`{"name": "a" "grade": 1}`, `{"tags": ["a",]}`, "{\"name\": \"a\nb\"}", `{"grade": "x"}`, ``, `[`, `{"a":tru}`, "\xff"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v struct {
			Name  string   `json:"name"`
			Grade float64  `json:"grade"`
			Tags  []string `json:"tags"`
		}
		err := json.Unmarshal(data, &v)
		if err == nil {
			return
		}
		verr := course.DescribeJSONError(data, err, "")
		if verr == nil || verr.Message == "" {
			t.Fatalf("no message for %v", err)
		}
		var syn *json.SyntaxError
		if errors.As(err, &syn) && (verr.Line < 1 || verr.Column < 1 || strings.Contains(verr.Message, "invalid character")) {
			t.Fatalf("syntax error %v described as line %d, column %d: %s", err, verr.Line, verr.Column, verr.Message)
		}
	})
}
