package moodle

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/course"
)

// Error is a mistake in an imported file, with where it is: a line of a GIFT file, an XML path, a file inside a
// backup.
type Error struct {
	File    string // the file inside a backup; empty for a file given directly
	Where   string // "line 12" or "quiz/question[3]/answer[1]"
	Message string
	// Err is the kind of mistake when there is one to test for (ErrTooLarge).
	Err error
}

// Unwrap gives Err, so that errors.Is(err, ErrTooLarge) works.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	where := e.Where
	if e.File != "" {
		if where != "" {
			where = e.File + ", " + where
		} else {
			where = e.File
		}
	}
	if where == "" {
		return e.Message
	}
	return where + ": " + e.Message
}

func errAt(where, format string, args ...any) *Error {
	return &Error{Where: where, Message: fmt.Sprintf(format, args...)}
}

var giftID = regexp.MustCompile(`\[id:([^\]]+)\]`)

// ParseGIFT reads questions in Moodle's GIFT format: multiple choice (with =right, ~wrong, %weights%), true/false,
// short answer, numerical (with :tolerance and ranges), matching (item -> answer) and essay ({}); feedback after
// #, general feedback after ####, formats [html], [markdown], [plain] and [moodle], and question ids from
// Moodle's "// [id:…]" comments. GIFT has no points: every question is worth 1, as in Moodle.
func ParseGIFT(data []byte) (*Questions, error) {
	text := strings.ReplaceAll(strings.TrimPrefix(string(data), "\ufeff"), "\r\n", "\n")
	lines := strings.Split(text, "\n")
	type block struct {
		line int
		text string
		id   string
	}
	var blocks []block
	var cur []string
	start, depth := 0, 0
	id := ""
	flush := func() {
		if t := strings.TrimSpace(strings.Join(cur, "\n")); t != "" {
			blocks = append(blocks, block{line: start, text: t, id: id})
		}
		cur, id = nil, ""
	}
	for i, l := range lines {
		trimmed := strings.TrimSpace(l)
		if depth == 0 && strings.HasPrefix(trimmed, "//") {
			if m := giftID.FindStringSubmatch(trimmed); m != nil {
				id = strings.TrimSpace(m[1])
			}
			continue
		}
		if trimmed == "" && depth == 0 {
			flush()
			continue
		}
		if len(cur) == 0 {
			start = i + 1
		}
		cur = append(cur, l)
		depth += braceDelta(l)
		if depth < 0 {
			return nil, errAt(fmt.Sprintf("line %d", i+1), "a } without its {: write \\} for a literal brace")
		}
	}
	if depth > 0 {
		return nil, errAt(fmt.Sprintf("line %d", start), "this question's { is never closed with }")
	}
	flush()

	out := &Questions{}
	for _, b := range blocks {
		if c, ok := strings.CutPrefix(b.text, "$CATEGORY:"); ok {
			c, rest, _ := strings.Cut(c, "\n") // a question may follow on the next line
			if out.Category == "" {
				out.Category = strings.TrimSpace(c)
			}
			if strings.TrimSpace(rest) == "" {
				continue
			}
			b.text, b.line = strings.TrimSpace(rest), b.line+1
		}
		q, err := parseGIFTQuestion(b.text)
		if err != nil {
			return nil, errAt(fmt.Sprintf("line %d", b.line), "%s", err.Error())
		}
		q.ID = b.id
		out.List = append(out.List, q)
		out.Where = append(out.Where, fmt.Sprintf("line %d", b.line))
	}
	if len(out.List) == 0 {
		return nil, errAt("", "the file holds no GIFT questions")
	}
	return out, nil
}

// Questions are the questions of a GIFT or Moodle XML file, with where each one is in it.
type Questions struct {
	List  []course.Question
	Where []string
	// Category is the file's first category ($CATEGORY or a category record), for a new quiz's name.
	Category string
}

func braceDelta(l string) int {
	d := 0
	for i := 0; i < len(l); i++ {
		switch l[i] {
		case '\\':
			i++
		case '{':
			d++
		case '}':
			d--
		}
	}
	return d
}

// indexUnescaped finds sep in s outside backslash escapes.
func indexUnescaped(s, sep string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if strings.HasPrefix(s[i:], sep) {
			return i
		}
	}
	return -1
}

func unescapeGIFT(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			if s[i] == 'n' {
				b.WriteByte('\n')
			} else {
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return strings.TrimSpace(b.String())
}

type giftText struct {
	html bool
	md   bool
}

// rich converts a GIFT text in the question's format to what ltipub keeps (Markdown for HTML and Markdown, plain
// text otherwise).
func (f giftText) rich(s string) string {
	s = unescapeGIFT(s)
	if f.html {
		return HTMLToMarkdown(s, nil)
	}
	return s
}

func (f giftText) plain(s string) string {
	s = unescapeGIFT(s)
	if f.html {
		return PlainText(s)
	}
	return s
}

var giftWeight = regexp.MustCompile(`^%(-?\d+(?:\.\d+)?)%`)

func parseGIFTQuestion(s string) (course.Question, error) {
	var q course.Question
	if strings.HasPrefix(s, "::") {
		end := indexUnescaped(s[2:], "::")
		if end < 0 {
			return q, fmt.Errorf("the title is not closed: write ::title:: before the question")
		}
		q.Name = unescapeGIFT(s[2 : 2+end])
		s = strings.TrimSpace(s[2+end+2:])
	}
	var f giftText
	if m := regexp.MustCompile(`^\[(html|markdown|plain|moodle)\]`).FindStringSubmatch(s); m != nil {
		f = giftText{html: m[1] == "html", md: m[1] == "markdown"}
		s = strings.TrimSpace(s[len(m[0]):])
	}
	open := indexUnescaped(s, "{")
	if open < 0 {
		return q, fmt.Errorf("no answers in braces { }: descriptions (text without a question) are not imported; make it a question or remove it")
	}
	closeAt := open + 1 + indexUnescaped(s[open+1:], "}")
	if closeAt <= open {
		return q, fmt.Errorf("the answers' { is never closed with }")
	}
	before, body, after := s[:open], strings.TrimSpace(s[open+1:closeAt]), strings.TrimSpace(s[closeAt+1:])
	if after != "" { // a missing-word question: the blank goes where the answers were
		before = strings.TrimSpace(before) + " _____ " + after
	}
	q.Text = f.rich(before)
	if q.Text == "" {
		return q, fmt.Errorf("the question has no text")
	}
	if f.html || f.md {
		q.Format = course.FormatMarkdown
	}
	if i := indexUnescaped(body, "####"); i >= 0 {
		q.GeneralFeedback = f.rich(body[i+4:])
		body = strings.TrimSpace(body[:i])
	}
	q.Points = 1

	switch {
	case body == "":
		q.Type = course.Essay
		return q, nil
	case strings.HasPrefix(body, "#"):
		return q, parseGIFTNumerical(&q, f, strings.TrimSpace(body[1:]))
	}
	head := body
	if i := indexUnescaped(body, "#"); i >= 0 {
		head = body[:i]
	}
	switch strings.ToUpper(strings.TrimSpace(head)) {
	case "T", "TRUE", "F", "FALSE":
		right := strings.HasPrefix(strings.ToUpper(strings.TrimSpace(head)), "T")
		q.Type, q.CorrectAnswer = course.TrueFalse, &right
		var fb []string
		rest := body[len(head):]
		for rest != "" {
			rest = rest[1:] // the #
			j := indexUnescaped(rest, "#")
			if j < 0 {
				fb = append(fb, rest)
				break
			}
			fb = append(fb, rest[:j])
			rest = rest[j:]
		}
		// Moodle writes the feedback for a wrong answer first, then for the right one.
		var wrong, rightFB string
		if len(fb) > 0 {
			wrong = f.rich(fb[0])
		}
		if len(fb) > 1 {
			rightFB = f.rich(fb[1])
		}
		if right {
			q.TrueFeedback, q.FalseFeedback = rightFB, wrong
		} else {
			q.TrueFeedback, q.FalseFeedback = wrong, rightFB
		}
		return q, nil
	}

	answers, err := splitGIFTAnswers(body)
	if err != nil {
		return q, err
	}
	wrongs, matching := 0, true
	for _, a := range answers {
		if a.marker == '~' {
			wrongs++
		}
		if a.marker != '=' || indexUnescaped(a.text, "->") < 0 {
			matching = false
		}
	}
	switch {
	case matching:
		q.Type = course.Matching
		for _, a := range answers {
			i := indexUnescaped(a.text, "->")
			q.Pairs = append(q.Pairs, course.Pair{Item: f.plain(a.text[:i]), Answer: f.plain(a.text[i+2:])})
		}
	case wrongs == 0 && !anyWeightBelow(answers):
		q.Type = course.ShortAnswer
		for _, a := range answers {
			q.Answers = append(q.Answers, course.Answer{Text: f.plain(a.text), Fraction: a.fraction(), Feedback: f.rich(a.feedback)})
		}
	default:
		q.Type = course.MultiChoice
		full := false
		for _, a := range answers {
			fr := a.fraction()
			full = full || *fr >= 1
			q.Choices = append(q.Choices, course.Choice{Text: f.plain(a.text), Fraction: fr, Feedback: f.rich(a.feedback)})
		}
		multiple := !full // as Moodle reads GIFT: no choice worth the full mark means several answers
		q.Multiple = &multiple
	}
	return q, nil
}

func anyWeightBelow(as []giftAnswer) bool {
	for _, a := range as {
		if a.weight != nil && *a.weight < 0 {
			return true
		}
	}
	return false
}

type giftAnswer struct {
	marker   byte
	weight   *float64
	text     string
	feedback string
}

// fraction is the answer's share: its %weight%, or 1 for = and 0 for ~.
func (a giftAnswer) fraction() *float64 {
	if a.weight != nil {
		v := *a.weight / 100
		return &v
	}
	v := 0.0
	if a.marker == '=' {
		v = 1
	}
	return &v
}

func splitGIFTAnswers(body string) ([]giftAnswer, error) {
	var out []giftAnswer
	starts := []int{}
	for i := 0; i < len(body); i++ {
		if body[i] == '\\' {
			i++
			continue
		}
		if body[i] == '=' || body[i] == '~' {
			if body[i] == '=' && i > 0 && body[i-1] == '-' { // never: -> has no =, but a stray one is text
				continue
			}
			starts = append(starts, i)
		}
	}
	if len(starts) == 0 || strings.TrimSpace(body[:starts[0]]) != "" {
		return nil, fmt.Errorf("answers start with = (right) or ~ (wrong): %q", firstWords(body))
	}
	for k, st := range starts {
		end := len(body)
		if k+1 < len(starts) {
			end = starts[k+1]
		}
		a := giftAnswer{marker: body[st]}
		rest := strings.TrimSpace(body[st+1 : end])
		if m := giftWeight.FindStringSubmatch(rest); m != nil {
			v, _ := strconv.ParseFloat(m[1], 64)
			a.weight = &v
			rest = strings.TrimSpace(rest[len(m[0]):])
		}
		if i := indexUnescaped(rest, "#"); i >= 0 {
			a.text, a.feedback = rest[:i], rest[i+1:]
		} else {
			a.text = rest
		}
		out = append(out, a)
	}
	return out, nil
}

func parseGIFTNumerical(q *course.Question, f giftText, body string) error {
	q.Type = course.Numerical
	if !strings.ContainsAny(body, "=~") {
		body = "=" + body // {#3.14:0.01}: one answer without a marker
	}
	answers, err := splitGIFTAnswers(body)
	if err != nil {
		return err
	}
	for _, a := range answers {
		t := strings.TrimSpace(unescapeGIFT(a.text))
		ans := course.Answer{Fraction: a.fraction(), Feedback: f.rich(a.feedback)}
		switch {
		case t == "" || t == "*":
			ans.Text = "*"
		case strings.Contains(t, ".."):
			parts := strings.SplitN(t, "..", 2)
			lo, err1 := strconv.ParseFloat(strings.TrimSpace(parts[0]), 64)
			hi, err2 := strconv.ParseFloat(strings.TrimSpace(parts[1]), 64)
			if err1 != nil || err2 != nil || hi < lo {
				return fmt.Errorf("numerical range %q is not min..max", t)
			}
			ans.Text = strconv.FormatFloat((lo+hi)/2, 'f', -1, 64)
			ans.Tolerance = (hi - lo) / 2
		default:
			val, tol := t, ""
			if i := strings.Index(t, ":"); i >= 0 {
				val, tol = t[:i], t[i+1:]
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
			if err != nil {
				return fmt.Errorf("numerical answer %q is not a number (or number:tolerance, or min..max)", t)
			}
			ans.Text = strconv.FormatFloat(v, 'f', -1, 64)
			if tol != "" {
				if ans.Tolerance, err = strconv.ParseFloat(strings.TrimSpace(tol), 64); err != nil {
					return fmt.Errorf("tolerance %q of %q is not a number", tol, t)
				}
			}
		}
		q.Answers = append(q.Answers, ans)
	}
	return nil
}

func firstWords(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
