package course

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// QuestionType is the kind of a quiz question. The types are the ones Moodle teachers use most, with the same
// grading rules, so that questions imported from Moodle grade as they did there.
type QuestionType string

const (
	// MultiChoice has choices of which one (radio buttons) or several (check boxes) are right.
	MultiChoice QuestionType = "multichoice"
	// TrueFalse is a statement that is true or false.
	TrueFalse QuestionType = "truefalse"
	// ShortAnswer takes typed text compared with the accepted answers.
	ShortAnswer QuestionType = "shortanswer"
	// Numerical takes a number, right within a tolerance, with an optional unit.
	Numerical QuestionType = "numerical"
	// Matching pairs each item with one of the answers.
	Matching QuestionType = "matching"
	// Essay takes free text that a teacher grades.
	Essay QuestionType = "essay"
)

// QuestionTypes lists the question types, in the order the documentation gives them.
var QuestionTypes = []QuestionType{MultiChoice, TrueFalse, ShortAnswer, Numerical, Matching, Essay}

// TextFormat says how a question's texts are written.
type TextFormat string

const (
	// FormatPlain is text shown as it is (the default).
	FormatPlain TextFormat = "plain"
	// FormatMarkdown is Markdown rendered as pages are (raw HTML dropped); imports from Moodle write it.
	FormatMarkdown TextFormat = "markdown"
)

// Question is one quiz question. Only the fields of its type are used; validate clears the others.
type Question struct {
	ID   string       `json:"id"`
	Type QuestionType `json:"type"`
	// Name is a short title for teachers (Moodle's question name); students do not see it.
	Name string `json:"name,omitempty"`
	Text string `json:"text"`
	// Format applies to Text, GeneralFeedback, every feedback and GraderInfo.
	Format TextFormat `json:"format,omitempty"`
	Points float64    `json:"points"`
	// GeneralFeedback is shown after an attempt whatever the answer.
	GeneralFeedback string `json:"general_feedback,omitempty"`

	// Choices are a multiple-choice question's options.
	Choices []Choice `json:"choices,omitempty"`
	// Multiple makes a multiple-choice question take several answers (check boxes); when left out, it does when
	// more than one choice is correct or, with fractions, when no choice is worth the full points.
	Multiple *bool `json:"multiple,omitempty"`

	// CorrectAnswer is a true/false question's right answer, with the feedback for each answer.
	CorrectAnswer *bool  `json:"correct_answer,omitempty"`
	TrueFeedback  string `json:"true_feedback,omitempty"`
	FalseFeedback string `json:"false_feedback,omitempty"`

	// Answers are a short-answer question's accepted answers or a numerical question's numbers, tried in order.
	Answers []Answer `json:"answers,omitempty"`
	// CaseSensitive makes a short answer compare letter case.
	CaseSensitive bool `json:"case_sensitive,omitempty"`
	// Units are a numerical question's accepted units; see Unit.
	Units []Unit `json:"units,omitempty"`

	// Pairs are a matching question's items and their right answers.
	Pairs []Pair `json:"pairs,omitempty"`

	// GraderInfo is an essay's note for the teachers who grade it.
	GraderInfo string `json:"grader_info,omitempty"`
}

// Choice is one option of a multiple-choice question.
type Choice struct {
	Text string `json:"text"`
	// Correct marks a right choice in a question without fractions.
	Correct bool `json:"correct"`
	// Fraction is the share of the question's points this choice earns, from -1 to 1; see Question.Fraction.
	Fraction *float64 `json:"fraction,omitempty"`
	Feedback string   `json:"feedback,omitempty"`
}

// Answer is one accepted answer of a short-answer or numerical question. In JSON it may be a plain string, the
// course file format's first form: ["Paris", "paris city"].
type Answer struct {
	// Text is the answer (short answer, with * for any characters) or the number ("*" for any number).
	Text string `json:"text"`
	// Fraction is the share of the points it earns, 0 to 1; 1 when left out.
	Fraction *float64 `json:"fraction,omitempty"`
	// Tolerance is how far a numerical answer may be from Text and still match (±, absolute).
	Tolerance float64 `json:"tolerance,omitempty"`
	Feedback  string  `json:"feedback,omitempty"`
}

// UnmarshalJSON accepts an answer object or a plain string.
func (a *Answer) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*a = Answer{Text: s}
		return nil
	}
	type plain Answer
	var p plain
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*a = Answer(p)
	return nil
}

// MarshalJSON writes an answer with nothing but its text as a plain string, as version 1 of the format did.
func (a Answer) MarshalJSON() ([]byte, error) {
	if a.Fraction == nil && a.Tolerance == 0 && a.Feedback == "" {
		return json.Marshal(a.Text)
	}
	type plain Answer
	return json.Marshal(plain(a))
}

// Frac is the answer's fraction, 1 when not given.
func (a Answer) Frac() float64 {
	if a.Fraction == nil {
		return 1
	}
	return *a.Fraction
}

// Unit is a unit a numerical answer may be given in. The answers are in the unit of multiplier 1; a value given in
// a unit of multiplier m is divided by m before comparing (with "m" as 1 and "cm" as 100, "150 cm" is 1.5).
type Unit struct {
	Unit       string  `json:"unit"`
	Multiplier float64 `json:"multiplier"`
}

// Pair is one item of a matching question and its right answer. A pair without an item is a wrong answer
// offered as a distractor.
type Pair struct {
	Item   string `json:"item"`
	Answer string `json:"answer"`
}

func ptr[T any](v T) *T { return &v }

const fractionSlack = 0.0001 // Moodle stores fractions with 7 decimals: 0.3333333 × 3 is right enough.

func (q *Question) validate(field string) error {
	if strings.TrimSpace(q.Text) == "" {
		return invalid(field+".text", "required", "is required")
	}
	switch q.Format {
	case "":
		q.Format = FormatPlain
	case FormatPlain, FormatMarkdown:
	default:
		return invalid(field+".format", "question.format", "must be plain or markdown, not %q", "Value", q.Format)
	}
	if q.Points == 0 {
		q.Points = 1
	}
	if q.Points < 0 || math.IsNaN(q.Points) || math.IsInf(q.Points, 0) || q.Points > 10000 {
		return invalid(field+".points", "question.points", "must be above 0 (and at most 10000)")
	}
	keep := *q
	*q = Question{ID: keep.ID, Type: keep.Type, Name: strings.TrimSpace(keep.Name), Text: keep.Text, Format: keep.Format,
		Points: keep.Points, GeneralFeedback: keep.GeneralFeedback}
	switch keep.Type {
	case MultiChoice:
		return q.validateChoices(field, keep)
	case TrueFalse:
		if keep.CorrectAnswer == nil {
			return invalid(field+".correct_answer", "question.truefalse", "a true/false question needs correct_answer: true or false")
		}
		q.CorrectAnswer, q.TrueFeedback, q.FalseFeedback = keep.CorrectAnswer, keep.TrueFeedback, keep.FalseFeedback
	case ShortAnswer:
		q.CaseSensitive = keep.CaseSensitive
		return q.validateAnswers(field, keep.Answers, false)
	case Numerical:
		if err := q.validateAnswers(field, keep.Answers, true); err != nil {
			return err
		}
		seen := map[string]bool{}
		for j, u := range keep.Units {
			f := fmt.Sprintf("%s.units[%d]", field, j)
			u.Unit = strings.TrimSpace(u.Unit)
			if u.Unit == "" || strings.ContainsAny(u.Unit, "0123456789") {
				return invalid(f+".unit", "question.unit", "is required, and cannot contain digits")
			}
			if seen[u.Unit] {
				return invalid(f+".unit", "listed_twice", "%q is listed twice", "Value", u.Unit)
			}
			seen[u.Unit] = true
			if !(u.Multiplier > 0) || math.IsInf(u.Multiplier, 0) {
				return invalid(f+".multiplier", "above_0", "must be above 0")
			}
			q.Units = append(q.Units, u)
		}
	case Matching:
		items := 0
		for j, p := range keep.Pairs {
			p.Item, p.Answer = strings.TrimSpace(p.Item), strings.TrimSpace(p.Answer)
			if p.Answer == "" {
				return invalid(fmt.Sprintf("%s.pairs[%d].answer", field, j), "required", "is required")
			}
			if p.Item != "" {
				items++
			}
			q.Pairs = append(q.Pairs, p)
		}
		if items < 2 {
			return invalid(field+".pairs", "question.matching_pairs", "a matching question needs at least two items with their answers")
		}
	case Essay:
		q.GraderInfo = keep.GraderInfo
	default:
		return invalid(field+".type", "question.type", "must be one of multichoice, truefalse, shortanswer, numerical, matching or essay, not %q", "Value", keep.Type)
	}
	return nil
}

func (q *Question) validateChoices(field string, keep Question) error {
	if len(keep.Choices) < 2 {
		return invalid(field+".choices", "question.two_choices", "a multiple-choice question needs at least two choices")
	}
	withFractions := false
	for _, c := range keep.Choices {
		withFractions = withFractions || c.Fraction != nil
	}
	right := 0
	var best, positive float64
	for j, c := range keep.Choices {
		f := fmt.Sprintf("%s.choices[%d]", field, j)
		if strings.TrimSpace(c.Text) == "" {
			return invalid(f+".text", "required", "is required")
		}
		if withFractions {
			if c.Fraction == nil {
				c.Fraction = ptr(0.0)
			}
			v := *c.Fraction
			if math.IsNaN(v) || v < -1 || v > 1 {
				return invalid(f+".fraction", "fraction.signed", "must be from -1 to 1")
			}
			c.Correct = v > 0
			best = math.Max(best, v)
			if v > 0 {
				positive += v
			}
		}
		if c.Correct {
			right++
		}
		q.Choices = append(q.Choices, c)
	}
	if right == 0 {
		return invalid(field+".choices", "question.no_correct", "at least one choice must be marked correct (or have a fraction above 0)")
	}
	q.Multiple = keep.Multiple
	if withFractions {
		if q.Multiple == nil { // one choice worth the full points makes radio buttons; shares make check boxes
			q.Multiple = ptr(math.Abs(best-1) > fractionSlack)
		}
		if !*q.Multiple && math.Abs(best-1) > fractionSlack {
			return invalid(field+".choices", "question.single_full", "with one answer allowed, one choice must have fraction 1 (the full points)")
		}
		if *q.Multiple && math.Abs(positive-1) > fractionSlack {
			return invalid(field+".choices", "question.multi_sum", "with several answers allowed, the positive fractions must add up to 1, not %s", "Sum", strconv.FormatFloat(positive, 'f', -1, 64))
		}
	}
	return nil
}

func (q *Question) validateAnswers(field string, answers []Answer, numeric bool) error {
	for j, a := range answers {
		f := fmt.Sprintf("%s.answers[%d]", field, j)
		a.Text = strings.TrimSpace(a.Text)
		if a.Text == "" {
			continue // an empty line in a form
		}
		if a.Fraction != nil && (math.IsNaN(*a.Fraction) || *a.Fraction < 0 || *a.Fraction > 1) {
			return invalid(f+".fraction", "fraction", "must be from 0 to 1")
		}
		if numeric {
			if a.Text != "*" {
				if _, err := strconv.ParseFloat(a.Text, 64); err != nil {
					return invalid(f+".text", "question.numerical_answer", "%q is not a number (or * for any number)", "Value", a.Text)
				}
			}
			if a.Tolerance < 0 || math.IsNaN(a.Tolerance) || math.IsInf(a.Tolerance, 0) {
				return invalid(f+".tolerance", "zero_or_more", "must be 0 or more")
			}
		} else if a.Tolerance != 0 {
			return invalid(f+".tolerance", "question.tolerance", "only numerical answers have a tolerance")
		}
		q.Answers = append(q.Answers, a)
	}
	best := 0.0
	for _, a := range q.Answers {
		best = math.Max(best, a.Frac())
	}
	if len(q.Answers) == 0 {
		return invalid(field+".answers", "question.no_answer", "needs at least one accepted answer")
	}
	if math.Abs(best-1) > fractionSlack {
		return invalid(field+".answers", "question.answer_full", "one answer must have fraction 1 (the full points)")
	}
	return nil
}

// IsMultiple reports whether a multiple-choice question takes several answers (check boxes, not radio buttons).
func (q Question) IsMultiple() bool {
	if q.Multiple != nil {
		return *q.Multiple
	}
	n := 0
	for _, c := range q.Choices {
		if c.Correct {
			n++
		}
	}
	return n > 1
}

// ChoiceFraction is what choice i is worth: its fraction, or, in a question without fractions, 1 for the right
// choice of a single-answer question and an equal share per right choice (minus that share per wrong one) of a
// several-answer question.
func (q Question) ChoiceFraction(i int) float64 {
	c := q.Choices[i]
	if c.Fraction != nil {
		return *c.Fraction
	}
	right := 0
	for _, c := range q.Choices {
		if c.Correct {
			right++
		}
	}
	if right == 0 {
		return 0
	}
	if !q.IsMultiple() {
		if c.Correct {
			return 1
		}
		return 0
	}
	if c.Correct {
		return 1 / float64(right)
	}
	return -1 / float64(right)
}

// ManuallyGraded reports whether a teacher grades the question.
func (q Question) ManuallyGraded() bool { return q.Type == Essay }

// Items are a matching question's items, in order; the student's answers are given in the same order.
func (q Question) Items() []Pair {
	var out []Pair
	for _, p := range q.Pairs {
		if p.Item != "" {
			out = append(out, p)
		}
	}
	return out
}

// AnswerOptions are a matching question's answers to pick from, each once, in their first order.
func (q Question) AnswerOptions() []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range q.Pairs {
		if !seen[p.Answer] {
			seen[p.Answer] = true
			out = append(out, p.Answer)
		}
	}
	return out
}

// RightAnswer describes the right answer for people.
func (q Question) RightAnswer() string {
	switch q.Type {
	case ShortAnswer, Numerical:
		var right []string
		for _, a := range q.Answers {
			if a.Frac() >= 1-fractionSlack && a.Text != "*" {
				s := a.Text
				if a.Tolerance > 0 {
					s += " ± " + strconv.FormatFloat(a.Tolerance, 'f', -1, 64)
				}
				right = append(right, s)
			}
		}
		return strings.Join(right, " / ")
	case TrueFalse:
		if q.CorrectAnswer != nil && *q.CorrectAnswer {
			return "True"
		}
		return "False"
	case Matching:
		var right []string
		for _, p := range q.Items() {
			right = append(right, p.Item+" → "+p.Answer)
		}
		return strings.Join(right, "; ")
	case Essay:
		return "(graded by a teacher)"
	}
	var right []string
	for i, c := range q.Choices {
		if q.ChoiceFraction(i) > 0 {
			right = append(right, c.Text)
		}
	}
	return strings.Join(right, "; ")
}

// Fraction is how right an answer to q is, from 0 to 1, with Moodle's rules:
//   - multiple choice, one answer: the chosen choice's fraction (none chosen, or several: 0);
//   - multiple choice, several answers: the sum of the chosen choices' fractions, kept within 0 and 1, so that
//     with negative fractions on the wrong choices ticking everything earns nothing;
//   - true/false: 1 or 0;
//   - short answer: the fraction of the first accepted answer that matches, where * stands for any characters,
//     runs of spaces count as one and letter case is ignored unless the question is case sensitive;
//   - numerical: the fraction of the first answer within its tolerance ("*" matches any number), the value
//     given in one of the question's units converted first;
//   - matching: the share of items matched rightly;
//   - essay: 0 here; the teacher's mark counts (see QuizSettings.Score).
func (q Question) Fraction(given []string) float64 {
	first := ""
	if len(given) > 0 {
		first = given[0]
	}
	switch q.Type {
	case ShortAnswer:
		g := normalise(first, q.CaseSensitive)
		if g == "" {
			return 0
		}
		for _, a := range q.Answers {
			if wildcard(normalise(a.Text, q.CaseSensitive)).MatchString(g) {
				return a.Frac()
			}
		}
		return 0
	case Numerical:
		v, ok := q.parseNumber(first)
		if !ok {
			return 0
		}
		for _, a := range q.Answers {
			if a.Text == "*" {
				return a.Frac()
			}
			want, _ := strconv.ParseFloat(a.Text, 64)
			if math.Abs(v-want) <= a.Tolerance+1e-9*math.Max(1, math.Abs(want)) {
				return a.Frac()
			}
		}
		return 0
	case TrueFalse:
		if q.CorrectAnswer == nil || (first != "true" && first != "false") {
			return 0
		}
		if (first == "true") == *q.CorrectAnswer {
			return 1
		}
		return 0
	case Matching:
		items := q.Items()
		if len(items) == 0 {
			return 0
		}
		right := 0
		for i, p := range items {
			if i < len(given) && given[i] == p.Answer {
				right++
			}
		}
		return float64(right) / float64(len(items))
	case MultiChoice:
		chosen := map[int]bool{}
		for _, v := range given {
			if i, err := strconv.Atoi(v); err == nil && i >= 0 && i < len(q.Choices) {
				chosen[i] = true
			}
		}
		if !q.IsMultiple() {
			if len(chosen) != 1 {
				return 0
			}
			for i := range chosen {
				return math.Max(0, q.ChoiceFraction(i))
			}
		}
		sum := 0.0
		for i := range chosen {
			sum += q.ChoiceFraction(i)
		}
		return math.Min(1, math.Max(0, round(sum)))
	}
	return 0
}

// Feedback is the feedback for the answer given: the chosen choices', the matching answer's, or the true or
// false feedback.
func (q Question) Feedback(given []string) []string {
	var out []string
	first := ""
	if len(given) > 0 {
		first = given[0]
	}
	switch q.Type {
	case MultiChoice:
		for _, v := range given {
			if i, err := strconv.Atoi(v); err == nil && i >= 0 && i < len(q.Choices) && q.Choices[i].Feedback != "" {
				out = append(out, q.Choices[i].Feedback)
			}
		}
	case TrueFalse:
		if first == "true" && q.TrueFeedback != "" {
			out = append(out, q.TrueFeedback)
		} else if first == "false" && q.FalseFeedback != "" {
			out = append(out, q.FalseFeedback)
		}
	case ShortAnswer, Numerical:
		if a, ok := q.matchingAnswer(first); ok && a.Feedback != "" {
			out = append(out, a.Feedback)
		}
	}
	return out
}

func (q Question) matchingAnswer(first string) (Answer, bool) {
	if q.Type == ShortAnswer {
		g := normalise(first, q.CaseSensitive)
		for _, a := range q.Answers {
			if g != "" && wildcard(normalise(a.Text, q.CaseSensitive)).MatchString(g) {
				return a, true
			}
		}
		return Answer{}, false
	}
	v, ok := q.parseNumber(first)
	if !ok {
		return Answer{}, false
	}
	for _, a := range q.Answers {
		want, _ := strconv.ParseFloat(a.Text, 64)
		if a.Text == "*" || math.Abs(v-want) <= a.Tolerance+1e-9*math.Max(1, math.Abs(want)) {
			return a, true
		}
	}
	return Answer{}, false
}

var numberPrefix = regexp.MustCompile(`^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?`)

// parseNumber reads a number, with a decimal point or comma, and an optional unit after it. A unit the question
// does not list makes the answer wrong; with no unit given the number is taken in the unit of multiplier 1.
func (q Question) parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	m := numberPrefix.FindString(s)
	if m == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.Replace(m, ",", ".", 1), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, false
	}
	unit := strings.TrimSpace(s[len(m):])
	if unit == "" {
		return v, true
	}
	for _, u := range q.Units {
		if u.Unit == unit {
			return v / u.Multiplier, true
		}
	}
	return 0, false
}

// normalise trims an answer, makes runs of spaces one and, unless case matters, lowers its case.
func normalise(s string, caseSensitive bool) string {
	s = strings.Join(strings.Fields(s), " ")
	if !caseSensitive {
		s = strings.ToLower(s)
	}
	return s
}

// wildcard turns an accepted answer into a whole-string pattern where * stands for any characters and \* for a
// star.
func wildcard(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	for i := 0; i < len(pattern); i++ {
		switch {
		case pattern[i] == '\\' && i+1 < len(pattern) && pattern[i+1] == '*':
			b.WriteString(`\*`)
			i++
		case pattern[i] == '*':
			b.WriteString(`.*`)
		default:
			j := i
			for j < len(pattern) && pattern[j] != '*' && pattern[j] != '\\' {
				j++
			}
			if j == i {
				j++
			}
			b.WriteString(regexp.QuoteMeta(pattern[i:j]))
			i = j - 1
		}
	}
	b.WriteString(`)$`)
	return regexp.MustCompile(b.String())
}
