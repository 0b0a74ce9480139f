package chart

import (
	"encoding/xml"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden SVG files in testdata")

// examples are charts of known data, one per kind, as the pages draw them.
func examples() map[string]Chart {
	nan := math.NaN()
	return map[string]Chart{
		"stacked": {ID: "launches", Kind: Stacked, Title: "Launches per hour", Desc: "Accepted and refused launches per hour",
			LabelHeader: "Hour (UTC)", Unit: "launches", Each: "hour",
			Labels: []string{"1 Dec 10:00", "1 Dec 11:00", "1 Dec 12:00", "1 Dec 13:00", "1 Dec 14:00", "1 Dec 15:00"},
			Ticks:  []string{"10:00", "11:00", "12:00", "13:00", "14:00", "15:00"},
			Series: []Series{{Name: "Accepted", Values: []float64{3, 0, 7, 12, 5, 1}, Style: StyleGreen},
				{Name: "Refused", Values: []float64{1, 2, 0, 4, 0, 0}, Style: StyleRed}}},
		"bars": {ID: "grades-7", Kind: Bars, Title: "Quiz 1: grade distribution", Desc: "Learners per grade band",
			LabelHeader: "Grade", Unit: "learners",
			Labels: []string{"0–9%", "10–19%", "20–29%", "30–39%", "40–49%", "50–59%", "60–69%", "70–79%", "80–89%", "90–100%"},
			Series: []Series{{Name: "Learners", Values: []float64{0, 1, 0, 2, 3, 5, 8, 13, 7, 4}}}},
		"hbars": {ID: "codes", Kind: HBars, Title: "Top refusal codes", Desc: "Refused launches by cause", LabelHeader: "Code",
			Labels: []string{"state_expired", "platform_unknown", "nonce_reused"},
			Series: []Series{{Name: "Refused", Values: []float64{9, 4, 1}, Style: StyleRed}}},
		"lines": {ID: "roster", Kind: Lines, Title: "Roster size", Desc: "Members per resource link", LabelHeader: "Day (UTC)",
			Unit: "members", Each: "day", Labels: []string{"28 Nov", "29 Nov", "30 Nov", "1 Dec"},
			Series: []Series{{Name: "Biology (Moodle)", Values: []float64{30, 32, nan, 35}},
				{Name: "Chemistry (Canvas)", Values: []float64{nan, 12, 12, 9}}}},
	}
}

// TestGolden: each example draws exactly the SVG in testdata (go test ./internal/chart -update rewrites them
// after a deliberate change; look at them in a browser before committing).
func TestGolden(t *testing.T) {
	for name, c := range examples() {
		t.Run(name, func(t *testing.T) {
			got := string(c.SVG())
			path := filepath.Join("testdata", name+".svg")
			if *update {
				if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got+"\n" != string(want) {
				t.Errorf("%s differs from the chart drawn now; got:\n%s", path, got)
			}
		})
	}
}

// svgDoc is the part of the SVG the checks read.
type svgDoc struct {
	Role     string `xml:"role,attr"`
	Labelled string `xml:"aria-labelledby,attr"`
	ViewBox  string `xml:"viewBox,attr"`
	Width    string `xml:"width,attr"`
	Title    struct {
		ID   string `xml:"id,attr"`
		Text string `xml:",chardata"`
	} `xml:"title"`
	Desc struct {
		ID   string `xml:"id,attr"`
		Text string `xml:",chardata"`
	} `xml:"desc"`
	Groups []struct {
		Class  string `xml:"class,attr"`
		Series string `xml:"data-series,attr"`
		Marks  []struct {
			XMLName xml.Name
			Value   string `xml:"data-value,attr"`
			Height  string `xml:"height,attr"`
			Y       string `xml:"y,attr"`
		} `xml:",any"`
	} `xml:"g"`
}

func parse(t *testing.T, c Chart) svgDoc {
	t.Helper()
	var d svgDoc
	if err := xml.Unmarshal([]byte(c.SVG()), &d); err != nil {
		t.Fatalf("the SVG is not well-formed XML: %v\n%s", err, c.SVG())
	}
	return d
}

// TestMarksHoldTheData: every non-zero value is one bar (or point) of its series carrying that value, and nothing
// else is drawn; a taller value draws a taller bar.
func TestMarksHoldTheData(t *testing.T) {
	for name, c := range examples() {
		t.Run(name, func(t *testing.T) {
			d := parse(t, c)
			if d.Role != "img" || d.Labelled != c.ID+"-title "+c.ID+"-desc" || d.Title.ID != c.ID+"-title" || d.Desc.ID != c.ID+"-desc" {
				t.Errorf("not labelled as an image by its title and description: %+v", d)
			}
			if d.Width != "100%" || !strings.HasPrefix(d.ViewBox, "0 0 400 ") {
				t.Errorf("does not scale to its container: width %q, viewBox %q", d.Width, d.ViewBox)
			}
			if d.Title.Text != c.Title {
				t.Errorf("title %q", d.Title.Text)
			}
			got := map[string][]string{}
			for _, g := range d.Groups {
				if g.Class != "series" {
					continue
				}
				for _, m := range g.Marks {
					if m.Value != "" {
						got[g.Series] = append(got[g.Series], m.Value)
					}
				}
			}
			want := map[string][]string{}
			for _, s := range c.Series {
				for _, v := range s.Values {
					if math.IsNaN(v) || (v == 0 && c.Kind != HBars && c.Kind != Lines) {
						continue
					}
					want[s.Name] = append(want[s.Name], strconv.FormatFloat(v, 'f', -1, 64))
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("marks per series:\n got %v\nwant %v", got, want)
			}
		})
	}
	// Heights follow the values: the learners chart's 13 is the tallest bar, 1 the shortest.
	d := parse(t, examples()["bars"])
	heights := map[string]float64{}
	for _, g := range d.Groups {
		for _, m := range g.Marks {
			h, _ := strconv.ParseFloat(m.Height, 64)
			heights[m.Value] = h
		}
	}
	if !(heights["13"] > heights["8"] && heights["8"] > heights["1"] && heights["1"] > 0) {
		t.Errorf("bar heights do not follow the values: %v", heights)
	}
	if r := heights["8"] / heights["4"]; math.Abs(r-2) > 0.01 {
		t.Errorf("a value twice another is not twice as tall: ratio %v", r)
	}
}

// TestTextAlternative: the table and the description say what the picture shows.
func TestTextAlternative(t *testing.T) {
	ex := examples()
	st := ex["stacked"]
	if cols := st.Columns(); !reflect.DeepEqual(cols, []string{"Hour (UTC)", "Accepted", "Refused", "Total"}) {
		t.Errorf("stacked columns %v", cols)
	}
	rows := st.Rows()
	if len(rows) != 6 || rows[3].Label != "1 Dec 13:00" || !reflect.DeepEqual(rows[3].Cells, []string{"12", "4", "16"}) {
		t.Errorf("stacked rows %+v", rows)
	}
	if d := st.Description(); !strings.Contains(d, "Accepted: 28 launches in all, most in 1 Dec 13:00 (12)") ||
		!strings.Contains(d, "Refused: 7 launches in all") || !strings.Contains(d, "6 hours, from 1 Dec 10:00 to 1 Dec 15:00") {
		t.Errorf("stacked description %q", d)
	}
	ln := ex["lines"]
	if rows := ln.Rows(); !reflect.DeepEqual(rows[2], Row{Label: "30 Nov", Cells: []string{"—", "12"}}) {
		t.Errorf("a missing value is not a dash: %+v", rows[2])
	}
	if d := ln.Description(); !strings.Contains(d, "Biology (Moodle): from 30 to 35 members (lowest 30, highest 35)") ||
		!strings.Contains(d, "Chemistry (Canvas): from 12 to 9 members (lowest 9, highest 12)") {
		t.Errorf("lines description %q", d)
	}
	hb := ex["hbars"]
	if d := hb.Description(); !strings.Contains(d, "state_expired: 9; platform_unknown: 4; nonce_reused: 1") {
		t.Errorf("ranked description %q", d)
	}
	// The SVG's own description is the same text.
	if d := parse(t, hb); d.Desc.Text != hb.Description() {
		t.Errorf("SVG desc %q, Description %q", d.Desc.Text, hb.Description())
	}
}

// TestLegendNotByColourAlone: the second series' bars are patterned, lines differ in dash, and each legend entry
// names its series beside the same drawing.
func TestLegendNotByColourAlone(t *testing.T) {
	ex := examples()
	st := ex["stacked"]
	lg := st.Legend()
	if len(lg) != 2 || lg[0].Name != "Accepted" || lg[1].Name != "Refused" || !strings.Contains(string(lg[1].Swatch), "url(#launches-p1)") {
		t.Fatalf("legend %+v", lg)
	}
	if !strings.Contains(string(st.SVG()), `<pattern id="launches-p1"`) {
		t.Errorf("the refused bars have no pattern")
	}
	ln := ex["lines"]
	a, b := string(ln.Legend()[0].Swatch), string(ln.Legend()[1].Swatch)
	if strings.Contains(a, "stroke-dasharray") || !strings.Contains(b, "stroke-dasharray") || !strings.Contains(a, "<circle") || !strings.Contains(b, "<rect") {
		t.Errorf("line swatches alike but for colour:\n%s\n%s", a, b)
	}
	if g := ex["bars"].Legend(); g != nil {
		t.Errorf("a single series has a legend: %+v", g)
	}
}

// TestContrast: WCAG 2.2 1.4.11 asks 3:1 for the parts of a graphic needed to understand it, 1.4.3 asks 4.5:1 for
// text; against the white page every series colour and the text colour pass both.
func TestContrast(t *testing.T) {
	for st, lk := range looks {
		if r := contrast(lk.color, "#ffffff"); r < 4.5 {
			t.Errorf("style %d colour %s: %.2f:1 against white", st, lk.color, r)
		}
	}
	for _, c := range []string{textColor, axisColor} {
		if r := contrast(c, "#ffffff"); r < 4.5 {
			t.Errorf("text colour %s: %.2f:1", c, r)
		}
	}
}

func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(hex string) float64 {
	ch := func(i int) float64 {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(0) + 0.7152*ch(1) + 0.0722*ch(2)
}

func TestEmpty(t *testing.T) {
	c := Chart{ID: "e", Labels: []string{"a", "b"}, Series: []Series{{Name: "x", Values: []float64{0, math.NaN()}}}}
	if !c.Empty() {
		t.Error("zeros and gaps are not empty")
	}
	c.Series[0].Values[0] = 1
	if c.Empty() {
		t.Error("a value is empty")
	}
}

// TestEscapes: labels from the database (link titles, codes) cannot break out of the SVG.
func TestEscapes(t *testing.T) {
	c := Chart{ID: `x"y`, Kind: Lines, Title: "<script>alert(1)</script>", Desc: "a & b", Labels: []string{`"><b>`},
		Series: []Series{{Name: "</g><script>", Values: []float64{1}}}}
	s := string(c.SVG())
	if strings.Contains(s, "<script>") || strings.Contains(s, "<b>") || strings.Contains(s, `x"y`) {
		t.Errorf("unescaped: %s", s)
	}
	parse(t, c)
}

// TestWords: a chart with Words says its description and table in the caller's words (here a made-up
// language), and none of the English ones; without Words it is English (TestGolden).
func TestWords(t *testing.T) {
	ex := examples()
	w := &Words{
		Span:   func(n int, from, to string) string { return "SPAN " + strconv.Itoa(n) + " " + from + ".." + to + "." },
		Amount: func(v float64, f string) string { return f + " UNITS" },
		Sum:    func(series, amount string) string { return series + " SUM " + amount },
		Peak:   func(label, value string) string { return " PEAK " + label + "=" + value },
		Trend: func(series, first, last, lo, hi string) string {
			return series + " TREND " + first + ">" + last + " " + lo + "/" + hi
		},
		NoValues: func(series string) string { return series + " NONE" },
		Total:    "TOTAL",
		Number:   func(v float64) string { return "#" + strconv.FormatFloat(v, 'f', -1, 64) },
	}
	st := ex["stacked"]
	st.Words = w
	d := st.Description()
	if !strings.Contains(d, "SPAN 6 1 Dec 10:00..1 Dec 15:00.") || !strings.Contains(d, "Accepted SUM #28 UNITS PEAK 1 Dec 13:00=#12") {
		t.Errorf("stacked description %q", d)
	}
	for _, english := range []string{"in all", "most in", "hours", "from"} {
		if strings.Contains(d, english) {
			t.Errorf("description with Words still says %q: %q", english, d)
		}
	}
	if cols := st.Columns(); cols[len(cols)-1] != "TOTAL" {
		t.Errorf("columns %v", cols)
	}
	if rows := st.Rows(); rows[3].Cells[0] != "#12" || rows[3].Cells[2] != "#16" {
		t.Errorf("rows %v", rows[3])
	}
	ln := ex["lines"]
	ln.Words = w
	if d := ln.Description(); !strings.Contains(d, "Biology (Moodle) TREND #30>#35 UNITS #30/#35") {
		t.Errorf("lines description %q", d)
	}
	if d := parse(t, st); d.Desc.Text != st.Description() {
		t.Errorf("SVG desc %q, Description %q", d.Desc.Text, st.Description())
	}
}
