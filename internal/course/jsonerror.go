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
		msg := syntaxMessage(syn.Error())
		ve := &ValidationError{Field: positionField(field, line, col), Line: line, Column: col, Message: msg.English + near(data, offset),
			Code: msg.Code, Args: msg.Args}
		if text := nearText(data, offset); text != "" && msg.Code != "" {
			ve.Args = map[string]any{"Message": msg, "Near": text}
			ve.Code = "json.near"
		}
		return ve
	case errors.As(err, &typ):
		line, col := position(data, typ.Offset) // just after the value
		f := typ.Field
		if f == "" {
			f = "(top level)"
		}
		if field != "" {
			f = field + ": " + f
		}
		want, got := goTypeWords(typ.Type.Kind().String(), typ.Type.String()), jsonValueWords(typ.Value)
		return &ValidationError{Field: f, Line: line, Column: col,
			Message: fmt.Sprintf("expected %s, found %s", want, got), Code: "json.type", Args: map[string]any{"Want": want, "Found": got}}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		if field != "" {
			return &ValidationError{Field: field, Message: "is empty or ends too early: expected JSON", Code: "json.empty_field"}
		}
		return &ValidationError{Field: "file", Message: "is empty or ends too early", Code: "json.empty"}
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &ValidationError{Field: name, Message: "unknown field (check its spelling against docs/course-format.md)", Code: "json.unknown_field"}
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

// Phrase is words of a message with their own catalog code ("validation.<code>") and args, such as what a JSON
// error found where: an arg of a ValidationError that a page words in the reader's language too. English is the
// source words, as Message has them.
type Phrase struct {
	English string
	Code    string
	Args    map[string]any
}

func (p Phrase) String() string { return p.English }

func phrase(code, english string, args ...any) Phrase {
	p := Phrase{English: english, Code: code}
	if len(args) > 0 {
		p.Args = make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			k, _ := args[i].(string)
			p.Args[k] = args[i+1]
		}
	}
	return p
}

var syntaxRe = regexp.MustCompile(`^invalid character '(.+)' (.+)$`)

// syntaxMessage rewrites encoding/json's syntax error text as what was expected and what was found.
func syntaxMessage(msg string) Phrase {
	if msg == "unexpected end of JSON input" {
		return phrase("json.ends_early", "the text ends too early: expected more (a closing brace } or bracket ], or the rest of a value)")
	}
	m := syntaxRe.FindStringSubmatch(msg)
	if m == nil {
		return Phrase{English: msg}
	}
	found, where := charWords(m[1]), m[2]
	f := found.English
	switch {
	case where == "looking for beginning of value":
		if m[1] == "]" || m[1] == "}" {
			return phrase("json.trailing_comma", "expected a value, found "+f+" (JSON allows no comma after the last item)", "Found", found)
		}
		if m[1] == "'" || m[1] == `\'` {
			return phrase("json.single_quote", "expected a value, found a single quote: JSON text goes in double quotes \"…\"")
		}
		return phrase("json.value", "expected a value (text in double quotes, a number, true, false, null, an object {…} or a list […]), found "+f, "Found", found)
	case where == "after object key":
		return phrase("json.colon", "expected a colon : after the field's name, found "+f, "Found", found)
	case where == "after object key:value pair":
		return phrase("json.comma_brace", "expected a comma or a closing brace } after the field's value, found "+f, "Found", found)
	case where == "after array element":
		return phrase("json.comma_bracket", "expected a comma or a closing bracket ] after the list item, found "+f, "Found", found)
	case where == "looking for beginning of object key string":
		if m[1] == "}" {
			return phrase("json.trailing_comma_field", "expected a field name in double quotes, found a closing brace } (JSON allows no comma after the last field)")
		}
		return phrase("json.field_name", "expected a field name in double quotes, found "+f, "Found", found)
	case where == "in string literal":
		return phrase("json.string", "expected the text to go on or a closing double quote, found "+f+" (write a line break as \\n, a tab as \\t)", "Found", found)
	case where == "in string escape code":
		return phrase("json.escape", "expected an escape such as \\n, \\\" or \\\\ after the backslash, found "+f, "Found", found)
	case where == "in numeric literal":
		return phrase("json.digit", "expected a digit in the number, found "+f, "Found", found)
	case where == "after top-level value":
		return phrase("json.after_end", "expected the end of the text after the last closing brace, found "+f, "Found", found)
	case strings.HasPrefix(where, "in literal "):
		// "in literal true (expecting 'r')"
		word := strings.Fields(strings.TrimPrefix(where, "in literal "))[0]
		return phrase("json.literal", "expected "+word+", found "+f+" (text needs double quotes)", "Word", word, "Found", found)
	}
	return Phrase{English: "found " + f + " " + where}
}

func charWords(c string) Phrase {
	switch c {
	case `\n`, "\n":
		return phrase("json.char.line_break", "a line break")
	case `\t`, "\t":
		return phrase("json.char.tab", "a tab")
	case `\r`:
		return phrase("json.char.carriage_return", "a carriage return")
	case `\'`, "'":
		return phrase("json.char.single_quote", "a single quote '")
	case `"`, `\"`:
		return phrase("json.char.double_quote", `a double quote "`)
	}
	if len(c) == 1 && (c[0] >= 'a' && c[0] <= 'z' || c[0] >= 'A' && c[0] <= 'Z') {
		return phrase("json.char.letter", "the letter "+c, "Char", c)
	}
	if strings.HasPrefix(c, `\x`) || strings.HasPrefix(c, `\u`) {
		return phrase("json.char.control", "the control character "+c, "Char", c)
	}
	return Phrase{English: c}
}

// near quotes the line the error is on, up to the error, so the person can find it.
func near(data []byte, offset int64) string {
	text := nearText(data, offset)
	if text == "" {
		return ""
	}
	return " (the line so far: " + text + ")"
}

// nearText is the line the error is on, up to the error (its last 60 characters).
func nearText(data []byte, offset int64) string {
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
	return text
}

func goTypeWords(kind, name string) Phrase {
	switch kind {
	case "string":
		return phrase("json.want.string", "text in double quotes")
	case "bool":
		return phrase("json.want.bool", "true or false")
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return phrase("json.want.int", "a whole number")
	case "float32", "float64":
		return phrase("json.want.number", "a number")
	case "slice", "array":
		return phrase("json.want.list", "a list […]")
	case "struct", "map":
		return phrase("json.want.object", "an object {…}")
	}
	return Phrase{English: name}
}

func jsonValueWords(v string) Phrase {
	switch {
	case v == "string":
		return phrase("json.found.string", "text in quotes")
	case v == "bool":
		return phrase("json.want.bool", "true or false")
	case v == "array":
		return phrase("json.want.list", "a list […]")
	case v == "object":
		return phrase("json.want.object", "an object {…}")
	case strings.HasPrefix(v, "number"):
		return phrase("json.found.number", "a number"+strings.TrimPrefix(v, "number"), "Value", strings.TrimPrefix(v, "number"))
	}
	return Phrase{English: v}
}
