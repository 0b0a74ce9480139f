package course

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// DescribeJSONError turns a decoding error of data into a ValidationError a person can act on: the line and
// column, what was expected there and what was found ("Line 1, column 11: expected a comma or a closing brace }
// after the field's value, found the letter x"), never encoding/json's wording. field names the form field the
// JSON came from ("" for a whole file).
func DescribeJSONError(data []byte, err error, field string) *ValidationError {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		offset := syn.Offset - 1 // Offset counts the offending byte
		if syn.Error() == "unexpected end of JSON input" {
			offset = int64(len(data))
		}
		line, col := position(data, offset)
		return &ValidationError{Field: positionField(field, line, col), Line: line, Column: col,
			Message: syntaxMessage(syn.Error()) + near(data, offset)}
	case errors.As(err, &typ):
		line, col := position(data, typ.Offset) // just after the value
		f := typ.Field
		if f == "" {
			f = "(top level)"
		}
		if field != "" {
			f = field + ": " + f
		}
		return &ValidationError{Field: f, Line: line, Column: col,
			Message: fmt.Sprintf("expected %s, found %s", goTypeWords(typ.Type.Kind().String(), typ.Type.String()), jsonValueWords(typ.Value))}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		if field != "" {
			return &ValidationError{Field: field, Message: "is empty or ends too early: expected JSON"}
		}
		return &ValidationError{Field: "file", Message: "is empty or ends too early"}
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &ValidationError{Field: name, Message: "unknown field (check its spelling against docs/course-format.md)"}
	}
	if field == "" {
		field = "file"
	}
	return &ValidationError{Field: field, Message: err.Error()}
}

func positionField(field string, line, col int) string {
	if field != "" {
		return fmt.Sprintf("%s, line %d, column %d", field, line, col)
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}

var syntaxRe = regexp.MustCompile(`^invalid character '(.+)' (.+)$`)

// syntaxMessage rewrites encoding/json's syntax error text as what was expected and what was found.
func syntaxMessage(msg string) string {
	if msg == "unexpected end of JSON input" {
		return "the text ends too early: expected more (a closing brace } or bracket ], or the rest of a value)"
	}
	m := syntaxRe.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	found, where := charWords(m[1]), m[2]
	switch {
	case where == "looking for beginning of value":
		if m[1] == "]" || m[1] == "}" {
			return "expected a value, found " + found + " (JSON allows no comma after the last item)"
		}
		if m[1] == "'" || m[1] == `\'` {
			return "expected a value, found a single quote: JSON text goes in double quotes \"…\""
		}
		return "expected a value (text in double quotes, a number, true, false, null, an object {…} or a list […]), found " + found
	case where == "after object key":
		return "expected a colon : after the field's name, found " + found
	case where == "after object key:value pair":
		return "expected a comma or a closing brace } after the field's value, found " + found
	case where == "after array element":
		return "expected a comma or a closing bracket ] after the list item, found " + found
	case where == "looking for beginning of object key string":
		if m[1] == "}" {
			return "expected a field name in double quotes, found a closing brace } (JSON allows no comma after the last field)"
		}
		return "expected a field name in double quotes, found " + found
	case where == "in string literal":
		return "expected the text to go on or a closing double quote, found " + found + " (write a line break as \\n, a tab as \\t)"
	case where == "in string escape code":
		return "expected an escape such as \\n, \\\" or \\\\ after the backslash, found " + found
	case where == "in numeric literal":
		return "expected a digit in the number, found " + found
	case where == "after top-level value":
		return "expected the end of the text after the last closing brace, found " + found
	case strings.HasPrefix(where, "in literal "):
		// "in literal true (expecting 'r')"
		word := strings.Fields(strings.TrimPrefix(where, "in literal "))[0]
		return "expected " + word + ", found " + found + " (text needs double quotes)"
	}
	return "found " + found + " " + where
}

func charWords(c string) string {
	switch c {
	case `\n`, "\n":
		return "a line break"
	case `\t`, "\t":
		return "a tab"
	case `\r`:
		return "a carriage return"
	case `\'`, "'":
		return "a single quote '"
	case `"`, `\"`:
		return `a double quote "`
	}
	if len(c) == 1 && (c[0] >= 'a' && c[0] <= 'z' || c[0] >= 'A' && c[0] <= 'Z') {
		return "the letter " + c
	}
	if strings.HasPrefix(c, `\x`) || strings.HasPrefix(c, `\u`) {
		return "the control character " + c
	}
	return c
}

// near quotes the line the error is on, up to the error, so the person can find it.
func near(data []byte, offset int64) string {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	start := bytes.LastIndexByte(data[:offset], '\n') + 1
	end := int(offset) + 1
	if end > len(data) {
		end = len(data)
	}
	if nl := bytes.IndexByte(data[start:end], '\n'); nl >= 0 {
		end = start + nl
	}
	text := strings.TrimSpace(string(data[start:end]))
	if r := []rune(text); len(r) > 60 {
		text = "…" + string(r[len(r)-60:])
	}
	if text == "" {
		return ""
	}
	return " (the line so far: " + text + ")"
}

func goTypeWords(kind, name string) string {
	switch kind {
	case "string":
		return "text in double quotes"
	case "bool":
		return "true or false"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number"
	case "float32", "float64":
		return "a number"
	case "slice", "array":
		return "a list […]"
	case "struct", "map":
		return "an object {…}"
	}
	return name
}

func jsonValueWords(v string) string {
	switch {
	case v == "string":
		return "text in quotes"
	case v == "bool":
		return "true or false"
	case v == "array":
		return "a list […]"
	case v == "object":
		return "an object {…}"
	case strings.HasPrefix(v, "number"):
		return "a number" + strings.TrimPrefix(v, "number")
	}
	return v
}
