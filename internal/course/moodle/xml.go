package moodle

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/course"
)

// checkXML refuses what a hostile XML file uses to hurt its reader: a DOCTYPE (with it, entity declarations and
// the "billion laughs" expansion), and nesting deeper than any Moodle file. encoding/xml never expands entities
// it does not know, so this turns that later failure into a clear refusal before anything is decoded.
func checkXML(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return xmlSyntax(err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			line, _ := d.InputPos()
			return errAt(fmt.Sprintf("line %d", line), "a DOCTYPE or entity declaration (<!%s…>) is refused: Moodle never writes one, and entities can expand a small file into gigabytes", firstWords(string(t)))
		case xml.StartElement:
			depth++
			if depth > 64 {
				line, _ := d.InputPos()
				return errAt(fmt.Sprintf("line %d", line), "elements nested more than 64 deep: this is not a Moodle file")
			}
		case xml.EndElement:
			depth--
		}
	}
}

func xmlSyntax(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return errAt(fmt.Sprintf("line %d", se.Line), "XML syntax: %s", se.Msg)
	}
	return errAt("", "XML: %v", err)
}

type xText struct {
	Format string `xml:"format,attr"`
	Text   string `xml:"text"`
}

type xAnswer struct {
	Fraction  string `xml:"fraction,attr"`
	Format    string `xml:"format,attr"`
	Text      string `xml:"text"`
	Feedback  xText  `xml:"feedback"`
	Tolerance string `xml:"tolerance"`
}

type xQuestion struct {
	Type            string    `xml:"type,attr"`
	Name            xText     `xml:"name"`
	QuestionText    xText     `xml:"questiontext"`
	GeneralFeedback xText     `xml:"generalfeedback"`
	DefaultGrade    string    `xml:"defaultgrade"`
	IDNumber        string    `xml:"idnumber"`
	Single          string    `xml:"single"`
	UseCase         string    `xml:"usecase"`
	Answers         []xAnswer `xml:"answer"`
	Subquestions    []struct {
		Format string `xml:"format,attr"`
		Text   string `xml:"text"`
		Answer xText  `xml:"answer"`
	} `xml:"subquestion"`
	Units []struct {
		Multiplier string `xml:"multiplier"`
		Name       string `xml:"unit_name"`
	} `xml:"units>unit"`
	GraderInfo xText `xml:"graderinfo"`
}

// ParseXML reads questions in the Moodle XML format: multichoice, truefalse, shortanswer, numerical (with
// units), matching and essay, with their fractions, feedback, general feedback, marks (defaultgrade) and id
// numbers. Category records are read past; any other question type is refused with its place, so that nothing
// is silently lost.
func ParseXML(data []byte) (*Questions, error) {
	if err := checkXML(data); err != nil {
		return nil, err
	}
	var doc struct {
		XMLName   xml.Name `xml:"quiz"`
		Questions []struct {
			xQuestion
			Category string `xml:"category>text"`
		} `xml:"question"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		if strings.Contains(err.Error(), "expected element type <quiz>") {
			return nil, errAt("/", "this is not a Moodle XML question file: its root element must be <quiz>")
		}
		return nil, xmlSyntax(err)
	}
	out := &Questions{}
	for i, xq := range doc.Questions {
		path := fmt.Sprintf("quiz/question[%d]", i+1)
		if xq.Type == "category" {
			if out.Category == "" {
				out.Category = strings.TrimSpace(xq.Category)
			}
			continue
		}
		q, err := xq.question(path)
		if err != nil {
			return nil, err
		}
		out.List = append(out.List, q)
		out.Where = append(out.Where, path)
	}
	if len(out.List) == 0 {
		return nil, errAt("quiz", "the file holds no questions")
	}
	return out, nil
}

// moodleText converts a Moodle text in its format: HTML to Markdown, Markdown kept, plain text (and Moodle's
// auto format) as plain text escaped for Markdown, since the question's format is Markdown.
func moodleText(format, s string) string {
	switch format {
	case "html", "1", "":
		return HTMLToMarkdown(s, nil)
	case "markdown", "4":
		return strings.TrimSpace(s)
	}
	return escapeMarkdown(strings.TrimSpace(s))
}

func moodlePlain(format, s string) string {
	switch format {
	case "html", "1":
		return PlainText(s)
	}
	return strings.TrimSpace(s)
}

func parseFraction(path, s string) (*float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return nil, errAt(path+"/@fraction", "%q is not a number (a percentage, 100 for full marks)", s)
	}
	v /= 100
	return &v, nil
}

func (xq xQuestion) question(path string) (course.Question, error) {
	// A question written in plain text stays plain text (ltipub's own exports write plain_text); any other is
	// converted to Markdown.
	moodleText := moodleText
	format := course.FormatMarkdown
	if xq.QuestionText.Format == "plain_text" {
		format = course.FormatPlain
		moodleText = func(f, s string) string { return moodlePlain(f, s) }
	}
	q := course.Question{ID: strings.TrimSpace(xq.IDNumber), Name: strings.TrimSpace(xq.Name.Text), Format: format,
		Text: moodleText(xq.QuestionText.Format, xq.QuestionText.Text), GeneralFeedback: moodleText(xq.GeneralFeedback.Format, xq.GeneralFeedback.Text)}
	if q.Text == "" {
		return q, errAt(path+"/questiontext", "the question has no text")
	}
	q.Points = 1
	if g := strings.TrimSpace(xq.DefaultGrade); g != "" {
		v, err := strconv.ParseFloat(g, 64)
		if err != nil || v < 0 {
			return q, errAt(path+"/defaultgrade", "%q is not a mark", g)
		}
		if v > 0 {
			q.Points = v
		}
	}
	switch xq.Type {
	case "multichoice":
		q.Type = course.MultiChoice
		single := strings.TrimSpace(xq.Single) != "false" && strings.TrimSpace(xq.Single) != "0"
		multiple := !single
		q.Multiple = &multiple
		for j, a := range xq.Answers {
			p := fmt.Sprintf("%s/answer[%d]", path, j+1)
			f, err := parseFraction(p, a.Fraction)
			if err != nil {
				return q, err
			}
			q.Choices = append(q.Choices, course.Choice{Text: moodlePlain(a.Format, a.Text), Fraction: f,
				Feedback: moodleText(a.Feedback.Format, a.Feedback.Text)})
		}
	case "truefalse":
		q.Type = course.TrueFalse
		for j, a := range xq.Answers {
			p := fmt.Sprintf("%s/answer[%d]", path, j+1)
			f, err := parseFraction(p, a.Fraction)
			if err != nil {
				return q, err
			}
			fb := moodleText(a.Feedback.Format, a.Feedback.Text)
			switch strings.ToLower(strings.TrimSpace(a.Text)) {
			case "true":
				q.TrueFeedback = fb
				if *f > 0.5 {
					q.CorrectAnswer = ptrBool(true)
				}
			case "false":
				q.FalseFeedback = fb
				if *f > 0.5 {
					q.CorrectAnswer = ptrBool(false)
				}
			default:
				return q, errAt(p+"/text", "a true/false answer is true or false, not %q", a.Text)
			}
		}
	case "shortanswer":
		q.Type = course.ShortAnswer
		q.CaseSensitive = strings.TrimSpace(xq.UseCase) == "1"
		for j, a := range xq.Answers {
			f, err := parseFraction(fmt.Sprintf("%s/answer[%d]", path, j+1), a.Fraction)
			if err != nil {
				return q, err
			}
			q.Answers = append(q.Answers, course.Answer{Text: strings.TrimSpace(a.Text), Fraction: f,
				Feedback: moodleText(a.Feedback.Format, a.Feedback.Text)})
		}
	case "numerical":
		q.Type = course.Numerical
		for j, a := range xq.Answers {
			p := fmt.Sprintf("%s/answer[%d]", path, j+1)
			f, err := parseFraction(p, a.Fraction)
			if err != nil {
				return q, err
			}
			ans := course.Answer{Text: strings.TrimSpace(a.Text), Fraction: f, Feedback: moodleText(a.Feedback.Format, a.Feedback.Text)}
			if t := strings.TrimSpace(a.Tolerance); t != "" {
				if ans.Tolerance, err = strconv.ParseFloat(t, 64); err != nil {
					return q, errAt(p+"/tolerance", "%q is not a number", t)
				}
			}
			q.Answers = append(q.Answers, ans)
		}
		for j, u := range xq.Units {
			m, err := strconv.ParseFloat(strings.TrimSpace(u.Multiplier), 64)
			if err != nil {
				return q, errAt(fmt.Sprintf("%s/units/unit[%d]/multiplier", path, j+1), "%q is not a number", u.Multiplier)
			}
			q.Units = append(q.Units, course.Unit{Unit: strings.TrimSpace(u.Name), Multiplier: m})
		}
	case "matching":
		q.Type = course.Matching
		for _, sq := range xq.Subquestions {
			q.Pairs = append(q.Pairs, course.Pair{Item: moodlePlain(sq.Format, sq.Text), Answer: strings.TrimSpace(sq.Answer.Text)})
		}
	case "essay":
		q.Type = course.Essay
		q.GraderInfo = moodleText(xq.GraderInfo.Format, xq.GraderInfo.Text)
	default:
		return q, errAt(path+"/@type", "question type %q is not one ltipub has (multichoice, truefalse, shortanswer, numerical, matching, essay); remove it from the file or change it in Moodle", xq.Type)
	}
	return q, nil
}

func ptrBool(b bool) *bool { return &b }
