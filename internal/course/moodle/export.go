package moodle

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/course"
)

// What GIFT cannot say, so that the export does not pretend otherwise: question points (Moodle reads every
// GIFT question worth 1), case sensitivity of short answers, units of numerical questions and an essay's
// information for graders. Moodle XML keeps all of them.

func percent(f float64) string {
	return strconv.FormatFloat(math.Round(f*100*100000)/100000, 'f', -1, 64)
}

// escapeGIFT escapes GIFT's special characters; line breaks become \n.
func escapeGIFT(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "~", `\~`, "=", `\=`, "#", `\#`, "{", `\{`, "}", `\}`, ":", `\:`, "\r\n", `\n`, "\n", `\n`)
	return r.Replace(s)
}

// WriteGIFT writes questions as GIFT, in the format Moodle's importer reads: ids in "// [id:…]" comments, names
// as ::titles::, Markdown questions marked [markdown].
func WriteGIFT(category string, qs []course.Question) []byte {
	var b bytes.Buffer
	if category != "" {
		fmt.Fprintf(&b, "$CATEGORY: %s\n\n", category)
	}
	for _, q := range qs {
		fmt.Fprintf(&b, "// [id:%s]\n", q.ID)
		name := q.Name
		if name == "" {
			name = q.ID
		}
		b.WriteString("::" + escapeGIFT(name) + "::")
		if q.Format == course.FormatMarkdown {
			b.WriteString("[markdown]")
		}
		b.WriteString(escapeGIFT(q.Text))
		b.WriteString("{")
		fb := func(s string) string {
			if s == "" {
				return ""
			}
			return "#" + escapeGIFT(s)
		}
		switch q.Type {
		case course.MultiChoice:
			for i, c := range q.Choices {
				f := q.ChoiceFraction(i)
				switch {
				case f >= 1 && !q.IsMultiple():
					b.WriteString("\n\t=" + escapeGIFT(c.Text) + fb(c.Feedback))
				case f == 0:
					b.WriteString("\n\t~" + escapeGIFT(c.Text) + fb(c.Feedback))
				default:
					b.WriteString("\n\t~%" + percent(f) + "%" + escapeGIFT(c.Text) + fb(c.Feedback))
				}
			}
		case course.TrueFalse:
			right := q.CorrectAnswer != nil && *q.CorrectAnswer
			// Moodle: the feedback for a wrong answer first, then for the right one.
			wrong, rightFB := q.FalseFeedback, q.TrueFeedback
			word := "TRUE"
			if !right {
				wrong, rightFB, word = q.TrueFeedback, q.FalseFeedback, "FALSE"
			}
			b.WriteString(word)
			if wrong != "" || rightFB != "" {
				b.WriteString("#" + escapeGIFT(wrong) + "#" + escapeGIFT(rightFB))
			}
		case course.ShortAnswer:
			for _, a := range q.Answers {
				b.WriteString("\n\t=%" + percent(a.Frac()) + "%" + escapeGIFT(a.Text) + fb(a.Feedback))
			}
		case course.Numerical:
			b.WriteString("#")
			for _, a := range q.Answers {
				if a.Text == "*" && a.Frac() == 0 {
					b.WriteString("\n\t~" + fb(a.Feedback))
					continue
				}
				b.WriteString("\n\t=%" + percent(a.Frac()) + "%" + a.Text)
				if a.Tolerance != 0 {
					b.WriteString(":" + strconv.FormatFloat(a.Tolerance, 'f', -1, 64))
				}
				b.WriteString(fb(a.Feedback))
			}
		case course.Matching:
			for _, p := range q.Pairs {
				b.WriteString("\n\t=" + escapeGIFT(p.Item) + " -> " + escapeGIFT(p.Answer))
			}
		case course.Essay:
		}
		if q.GeneralFeedback != "" {
			if q.Type == course.Essay || q.Type == course.TrueFalse {
				b.WriteString("####" + escapeGIFT(q.GeneralFeedback))
			} else {
				b.WriteString("\n\t####" + escapeGIFT(q.GeneralFeedback))
			}
		}
		if q.Type != course.Essay && q.Type != course.TrueFalse {
			b.WriteString("\n")
		}
		b.WriteString("}\n\n")
	}
	return b.Bytes()
}

type oText struct {
	Format string `xml:"format,attr,omitempty"`
	Text   string `xml:"text"`
}

type oAnswer struct {
	Fraction  string `xml:"fraction,attr"`
	Format    string `xml:"format,attr,omitempty"`
	Text      string `xml:"text"`
	Feedback  *oText `xml:"feedback,omitempty"`
	Tolerance string `xml:"tolerance,omitempty"`
}

type oQuestion struct {
	Type            string    `xml:"type,attr"`
	Name            oText     `xml:"name"`
	QuestionText    oText     `xml:"questiontext"`
	GeneralFeedback *oText    `xml:"generalfeedback,omitempty"`
	DefaultGrade    string    `xml:"defaultgrade"`
	IDNumber        string    `xml:"idnumber"`
	Single          string    `xml:"single,omitempty"`
	UseCase         string    `xml:"usecase,omitempty"`
	Answers         []oAnswer `xml:"answer"`
	Subquestions    []struct {
		Format string `xml:"format,attr"`
		Text   string `xml:"text"`
		Answer oText  `xml:"answer"`
	} `xml:"subquestion"`
	Units *struct {
		Unit []struct {
			Multiplier string `xml:"multiplier"`
			Name       string `xml:"unit_name"`
		} `xml:"unit"`
	} `xml:"units,omitempty"`
	GraderInfo *oText `xml:"graderinfo,omitempty"`
}

// WriteXML writes questions as Moodle XML, which keeps everything ltipub has: points, fractions, feedback,
// case sensitivity, units and grader information.
func WriteXML(category string, qs []course.Question) ([]byte, error) {
	var doc struct {
		XMLName   xml.Name `xml:"quiz"`
		Questions []any    `xml:"question"`
	}
	if category != "" {
		doc.Questions = append(doc.Questions, struct {
			Type     string `xml:"type,attr"`
			Category oText  `xml:"category"`
		}{"category", oText{Text: category}})
	}
	for _, q := range qs {
		format := "plain_text"
		if q.Format == course.FormatMarkdown {
			format = "markdown"
		}
		text := func(s string) *oText {
			if s == "" {
				return nil
			}
			return &oText{Format: format, Text: s}
		}
		o := oQuestion{Name: oText{Text: q.Name}, QuestionText: oText{Format: format, Text: q.Text},
			GeneralFeedback: text(q.GeneralFeedback), DefaultGrade: strconv.FormatFloat(q.Points, 'f', -1, 64), IDNumber: q.ID}
		if o.Name.Text == "" {
			o.Name.Text = q.ID
		}
		switch q.Type {
		case course.MultiChoice:
			o.Type, o.Single = "multichoice", strconv.FormatBool(!q.IsMultiple())
			for i, c := range q.Choices {
				o.Answers = append(o.Answers, oAnswer{Fraction: percent(q.ChoiceFraction(i)), Format: "plain_text", Text: c.Text, Feedback: text(c.Feedback)})
			}
		case course.TrueFalse:
			o.Type = "truefalse"
			right := q.CorrectAnswer != nil && *q.CorrectAnswer
			t, f := "0", "100"
			if right {
				t, f = "100", "0"
			}
			o.Answers = []oAnswer{{Fraction: t, Text: "true", Feedback: text(q.TrueFeedback)}, {Fraction: f, Text: "false", Feedback: text(q.FalseFeedback)}}
		case course.ShortAnswer:
			o.Type, o.UseCase = "shortanswer", "0"
			if q.CaseSensitive {
				o.UseCase = "1"
			}
			for _, a := range q.Answers {
				o.Answers = append(o.Answers, oAnswer{Fraction: percent(a.Frac()), Text: a.Text, Feedback: text(a.Feedback)})
			}
		case course.Numerical:
			o.Type = "numerical"
			for _, a := range q.Answers {
				o.Answers = append(o.Answers, oAnswer{Fraction: percent(a.Frac()), Text: a.Text, Feedback: text(a.Feedback),
					Tolerance: strconv.FormatFloat(a.Tolerance, 'f', -1, 64)})
			}
			if len(q.Units) > 0 {
				o.Units = &struct {
					Unit []struct {
						Multiplier string `xml:"multiplier"`
						Name       string `xml:"unit_name"`
					} `xml:"unit"`
				}{}
				for _, u := range q.Units {
					o.Units.Unit = append(o.Units.Unit, struct {
						Multiplier string `xml:"multiplier"`
						Name       string `xml:"unit_name"`
					}{strconv.FormatFloat(u.Multiplier, 'f', -1, 64), u.Unit})
				}
			}
		case course.Matching:
			o.Type = "matching"
			for _, p := range q.Pairs {
				o.Subquestions = append(o.Subquestions, struct {
					Format string `xml:"format,attr"`
					Text   string `xml:"text"`
					Answer oText  `xml:"answer"`
				}{"plain_text", p.Item, oText{Text: p.Answer}})
			}
		case course.Essay:
			o.Type = "essay"
			o.GraderInfo = text(q.GraderInfo)
		default:
			return nil, fmt.Errorf("question %s: type %q has no Moodle XML form", q.ID, q.Type)
		}
		doc.Questions = append(doc.Questions, o)
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}
