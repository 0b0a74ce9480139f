// Package chart draws small accessible charts as inline SVG, on the server: bar, stacked bar, horizontal bar and
// line charts with a title, a description and the numbers as a table, so that a page shows a picture to those who
// look and the same figures to those who read (or listen). It knows nothing of ltipub's data: callers give labels
// and series, and the words of the description and table in the reader's language (Words; English without).
//
// The SVG scales to its container (a viewBox and width 100%), uses presentation attributes only (the site's CSP
// allows no inline styles), and tells series apart by more than colour: bars of the second series are hatched,
// lines differ in dash and marker, and the legend names each series beside a swatch drawn the same way.
package chart

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Kind is a chart's shape.
type Kind int

const (
	// Bars draws the series side by side in each category.
	Bars Kind = iota
	// Stacked draws the series on top of each other in each category (the table adds a total).
	Stacked
	// HBars draws one horizontal bar per category (label on the left, value at the bar's end): ranked lists.
	HBars
	// Lines draws one line per series across the categories; NaN values are gaps (no point, the line goes on).
	Lines
)

// Series is one named row of values, one per category.
type Series struct {
	Name   string
	Values []float64
	// Style picks the colour, pattern, dash and marker (0: by the series' position).
	Style Style
}

// Chart is what to draw. ID must be unique on the page: the SVG's title, description and patterns derive their
// ids from it.
type Chart struct {
	ID    string
	Kind  Kind
	Title string
	// Desc says what the chart shows, in a sentence; the SVG's description adds the totals (or ranges) per series.
	Desc string
	// Labels name the categories (the table's first column); Ticks, when set, are shorter labels for the axis.
	Labels []string
	Ticks  []string
	// LabelHeader heads the table's first column ("Hour (UTC)").
	LabelHeader string
	Series      []Series
	// Unit names what is counted, for the description ("launches"; "launch" is said of one).
	Unit string
	// Each names one category, for the description ("hour": "48 hours, from … to …").
	Each string
	// Words, when set, say the description's sentences and the table's words in the reader's language (Unit and
	// Each are then unused: Words says them). Nil is English, from Unit and Each.
	Words *Words
}

// Words are the sentences a chart writes around the caller's labels and values, in one language. Every field is
// needed. Numbers come formatted (the chart's way, or Number's): the functions only place them.
type Words struct {
	// Span says how many categories there are, from the first to the last: "48 hours, from 1 Dec 00:00 to 2 Dec 23:00."
	Span func(n int, from, to string) string
	// Amount is a value with what is counted: "12 launches", "1 launch" (or the number alone, for no unit).
	Amount func(v float64, formatted string) string
	// Sum is a bar series' total: "Accepted: 12 launches in all"; Peak its largest category: ", most in 2 Dec (5)".
	Sum  func(series, amount string) string
	Peak func(label, value string) string
	// Trend is a line's first, last (an Amount), lowest and highest values:
	// "Biology: from 30 to 35 members (lowest 30, highest 35)"; NoValues a line without any: "Biology: no values".
	Trend    func(series, first, lastAmount, lowest, highest string) string
	NoValues func(series string) string
	// Total heads the stacked table's last column.
	Total string
	// Number formats a value for the description and the table (nil: the chart's own, 1234.5).
	Number func(v float64) string
}

// english are the chart's words without Words: what Unit and Each name, in English.
func (c Chart) english() *Words {
	return &Words{
		Span: func(n int, from, to string) string {
			each := c.Each
			if each == "" {
				each = "category"
			}
			return fmt.Sprintf("%d %s, from %s to %s.", n, plural(n, each), from, to)
		},
		Amount: func(v float64, formatted string) string {
			switch {
			case c.Unit == "":
				return formatted
			case v == 1:
				return formatted + " " + strings.TrimSuffix(c.Unit, "s")
			}
			return formatted + " " + c.Unit
		},
		Sum:  func(series, amount string) string { return series + ": " + amount + " in all" },
		Peak: func(label, value string) string { return ", most in " + label + " (" + value + ")" },
		Trend: func(series, first, last, lo, hi string) string {
			return fmt.Sprintf("%s: from %s to %s (lowest %s, highest %s)", series, first, last, lo, hi)
		},
		NoValues: func(series string) string { return series + ": no values" },
		Total:    "Total",
	}
}

func (c Chart) words() *Words {
	if c.Words != nil {
		return c.Words
	}
	return c.english()
}

// format prints a value for the description and the table.
func (c Chart) format(v float64) string {
	if w := c.words(); w.Number != nil {
		return w.Number(v)
	}
	return num(v)
}

// Style is a series' look: a colour that meets WCAG's 3:1 against white, and a second cue that is not colour.
type Style int

const (
	StyleAuto Style = iota
	StyleBlue
	StyleRed
	StyleGreen
	StyleBrown
	StylePurple
	StyleTeal
)

// look is what a style draws with.
type look struct {
	color   string
	pattern string // "", "hatch", "dots", "cross": bars' second cue
	dash    string // lines' second cue
	marker  string // "circle", "square", "triangle", "diamond"
}

// Palette colours, each at least 5:1 against white (chart_test.go checks them): bars and lines need 3:1, and the
// value labels drawn in the same colour need 4.5:1.
var looks = map[Style]look{
	StyleBlue:   {"#1f5fbf", "", "", "circle"},
	StyleRed:    {"#b3261e", "hatch", "6 3", "square"},
	StyleGreen:  {"#1b6e3a", "", "2 2", "triangle"},
	StyleBrown:  {"#8a4b00", "dots", "8 3 2 3", "diamond"},
	StylePurple: {"#6b3fa0", "cross", "1 3", "circle"},
	StyleTeal:   {"#00707a", "hatch", "10 4", "square"},
}

var autoOrder = []Style{StyleBlue, StyleRed, StyleGreen, StyleBrown, StylePurple, StyleTeal}

// Text colours: axis text and labels, and the baseline (both well over 4.5:1 on white); grid lines are lighter,
// they only help the eye (the values are in the table).
const (
	textColor = "#1d2430"
	axisColor = "#5b6474"
	gridColor = "#d8dde6"
)

func (c Chart) look(i int) look {
	st := c.Series[i].Style
	if st == StyleAuto {
		st = autoOrder[i%len(autoOrder)]
	}
	return looks[st]
}

// Empty reports whether there is nothing to draw (no category, or every value zero or missing).
func (c Chart) Empty() bool {
	for _, s := range c.Series {
		for _, v := range s.Values {
			if !math.IsNaN(v) && v != 0 {
				return false
			}
		}
	}
	return true
}

func (c Chart) value(si, ci int) float64 {
	vs := c.Series[si].Values
	if ci >= len(vs) {
		return math.NaN()
	}
	return vs[ci]
}

// Geometry of the viewBox: narrow enough that its 11-unit text stays near 10 px when a phone draws the chart
// 350 px wide (and near 14 px in a 530 px column on a wide screen).
const (
	width     = 400.0
	height    = 220.0
	fontSize  = 11.0
	charWidth = 6.6 // an average character at fontSize, for fitting labels
)

// SVG draws the chart.
func (c Chart) SVG() template.HTML {
	var b strings.Builder
	h := height
	if c.Kind == HBars {
		h = float64(len(c.Labels))*22 + 16
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %s %s" width="100%%" role="img" aria-labelledby="%s-title %s-desc" font-family="system-ui, sans-serif" font-size="%s">`,
		num(width), num(h), esc(c.ID), esc(c.ID), num(fontSize))
	fmt.Fprintf(&b, "\n<title id=\"%s-title\">%s</title>\n<desc id=\"%s-desc\">%s</desc>\n", esc(c.ID), esc(c.Title), esc(c.ID), esc(c.Description()))
	c.defs(&b)
	switch c.Kind {
	case HBars:
		c.hbars(&b, h)
	case Lines:
		c.lines(&b)
	default:
		c.bars(&b)
	}
	b.WriteString("</svg>")
	return template.HTML(b.String()) //nolint:gosec // every text in it went through esc
}

// defs declares the fill patterns of the series that use one.
func (c Chart) defs(b *strings.Builder) {
	var defs strings.Builder
	for i := range c.Series {
		lk := c.look(i)
		if lk.pattern == "" || c.Kind == Lines {
			continue
		}
		id := c.patternID(i)
		switch lk.pattern {
		case "hatch":
			fmt.Fprintf(&defs, `<pattern id="%s" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="%s"/><rect width="2" height="6" fill="#fff"/></pattern>`, id, lk.color)
		case "dots":
			fmt.Fprintf(&defs, `<pattern id="%s" width="5" height="5" patternUnits="userSpaceOnUse"><rect width="5" height="5" fill="%s"/><circle cx="2.5" cy="2.5" r="1" fill="#fff"/></pattern>`, id, lk.color)
		case "cross":
			fmt.Fprintf(&defs, `<pattern id="%s" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="%s"/><path d="M0 3H6M3 0V6" stroke="#fff" stroke-width="1"/></pattern>`, id, lk.color)
		}
		defs.WriteString("\n")
	}
	if defs.Len() > 0 {
		b.WriteString("<defs>\n" + defs.String() + "</defs>\n")
	}
}

func (c Chart) patternID(i int) string { return esc(c.ID) + "-p" + strconv.Itoa(i) }

// fill is a series' bar fill: its pattern, else its colour.
func (c Chart) fill(i int) string {
	if lk := c.look(i); lk.pattern != "" {
		return "url(#" + c.patternID(i) + ")"
	}
	return c.look(i).color
}

// plot is the drawing area inside the axes.
type plot struct{ left, top, right, bottom float64 }

func (p plot) w() float64 { return p.right - p.left }
func (p plot) h() float64 { return p.bottom - p.top }

// scaleMax is the top of the value axis: the largest value (or stack) rounded up to 1, 2 or 5 times a power of
// ten, so that the four grid lines fall on round numbers.
func (c Chart) scaleMax() float64 {
	top := 0.0
	for ci := range c.Labels {
		stack := 0.0
		for si := range c.Series {
			v := c.value(si, ci)
			if math.IsNaN(v) {
				continue
			}
			if c.Kind == Stacked {
				stack += v
			} else {
				top = max(top, v)
			}
		}
		top = max(top, stack)
	}
	return niceCeil(top)
}

func niceCeil(v float64) float64 {
	if v <= 4 {
		return 4 // counts: grid lines at 1, 2, 3, 4
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 4, 5, 8, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// axes draws the value grid and labels, and returns the plot area.
func (c Chart) axes(b *strings.Builder, top float64) plot {
	left := charWidth*float64(len(num(top))) + 10
	p := plot{left: left, top: 8, right: width - 8, bottom: height - 24}
	b.WriteString(`<g class="grid">` + "\n")
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		y := p.bottom - p.h()*float64(i)/4
		stroke := gridColor
		if i == 0 {
			stroke = axisColor
		}
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`, num(p.left), num(y), num(p.right), num(y), stroke)
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="end" fill="%s">%s</text>`+"\n", num(p.left-4), num(y+4), textColor, num(v))
	}
	b.WriteString("</g>\n")
	c.ticks(b, p)
	return p
}

// ticks labels the categories under the plot, as many as fit without overlapping, spread evenly.
func (c Chart) ticks(b *strings.Builder, p plot) {
	ticks := c.Ticks
	if len(ticks) != len(c.Labels) {
		ticks = c.Labels
	}
	n := len(ticks)
	if n == 0 {
		return
	}
	longest := 0
	for _, t := range ticks {
		longest = max(longest, len([]rune(t)))
	}
	slot := p.w() / float64(n)
	every := max(1, int(math.Ceil((float64(longest)*charWidth+8)/slot)))
	b.WriteString(`<g class="ticks">` + "\n")
	// Counted from the last category: the latest hour or day is always labelled.
	for i := (n - 1) % every; i < n; i += every {
		// Centred under its category, but kept inside the picture at both ends.
		half := float64(len([]rune(ticks[i])))*charWidth/2 + 1
		x := min(max(p.left+slot*(float64(i)+0.5), half), width-half)
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle" fill="%s">%s</text>`+"\n", num(x), num(p.bottom+15), textColor, esc(ticks[i]))
	}
	b.WriteString("</g>\n")
}

func (c Chart) bars(b *strings.Builder) {
	top := c.scaleMax()
	p := c.axes(b, top)
	n := len(c.Labels)
	if n == 0 {
		return
	}
	slot := p.w() / float64(n)
	gap := min(slot*0.2, 6)
	groups := len(c.Series)
	if c.Kind == Stacked {
		groups = 1
	}
	bw := (slot - gap) / float64(max(groups, 1))
	for si, s := range c.Series {
		fmt.Fprintf(b, `<g class="series" data-series="%s" fill="%s">`+"\n", esc(s.Name), c.fill(si))
		for ci := range c.Labels {
			v := c.value(si, ci)
			if math.IsNaN(v) || v <= 0 {
				continue
			}
			base := 0.0
			x := p.left + slot*float64(ci) + gap/2
			if c.Kind == Stacked {
				for sj := 0; sj < si; sj++ {
					if u := c.value(sj, ci); !math.IsNaN(u) {
						base += u
					}
				}
			} else {
				x += bw * float64(si)
			}
			y0 := p.bottom - p.h()*base/top
			y1 := p.bottom - p.h()*(base+v)/top
			// A thin white edge parts stacked segments and neighbouring bars.
			fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" stroke="#fff" stroke-width="0.5" data-value="%s"><title>%s: %s %s</title></rect>`+"\n",
				num(x), num(y1), num(bw), num(y0-y1), num(v), esc(c.Labels[ci]), esc(s.Name), num(v))
		}
		b.WriteString("</g>\n")
	}
}

func (c Chart) hbars(b *strings.Builder, h float64) {
	longest := 0
	for _, l := range c.Labels {
		longest = max(longest, len([]rune(l)))
	}
	left := min(float64(longest)*charWidth+8, width/2)
	top := 0.0
	for ci := range c.Labels {
		if v := c.value(0, ci); !math.IsNaN(v) {
			top = max(top, v)
		}
	}
	if top == 0 {
		top = 1
	}
	// Room on the right for the largest value's label.
	right := width - 8 - charWidth*float64(len(num(top))) - 6
	fmt.Fprintf(b, `<line x1="%s" y1="4" x2="%s" y2="%s" stroke="%s"/>`+"\n", num(left), num(left), num(h-4), axisColor)
	if len(c.Series) == 0 {
		return
	}
	fmt.Fprintf(b, `<g class="series" data-series="%s" fill="%s">`+"\n", esc(c.Series[0].Name), c.fill(0))
	for ci, l := range c.Labels {
		v := c.value(0, ci)
		if math.IsNaN(v) {
			v = 0
		}
		y := 8 + float64(ci)*22
		w := (right - left) * v / top
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="end" fill="%s">%s</text>`, num(left-6), num(y+12), textColor, esc(l))
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="16" data-value="%s"><title>%s: %s</title></rect>`, num(left), num(y), num(w), num(v), esc(l), num(v))
		fmt.Fprintf(b, `<text x="%s" y="%s" fill="%s">%s</text>`+"\n", num(left+w+4), num(y+12), textColor, num(v))
	}
	b.WriteString("</g>\n")
}

func (c Chart) lines(b *strings.Builder) {
	top := c.scaleMax()
	p := c.axes(b, top)
	n := len(c.Labels)
	if n == 0 {
		return
	}
	slot := p.w() / float64(n)
	for si, s := range c.Series {
		lk := c.look(si)
		var d strings.Builder
		var pts [][2]float64
		for ci := range c.Labels {
			v := c.value(si, ci)
			if math.IsNaN(v) {
				continue
			}
			x, y := p.left+slot*(float64(ci)+0.5), p.bottom-p.h()*v/top
			cmd := "L"
			if len(pts) == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%s %s", cmd, num(x), num(y))
			pts = append(pts, [2]float64{x, y})
		}
		fmt.Fprintf(b, `<g class="series" data-series="%s" fill="%s" stroke="%s">`+"\n", esc(s.Name), lk.color, lk.color)
		if len(pts) > 1 {
			dash := ""
			if lk.dash != "" {
				dash = ` stroke-dasharray="` + lk.dash + `"`
			}
			fmt.Fprintf(b, `<path d="%s" fill="none" stroke-width="2"%s/>`+"\n", d.String(), dash)
		}
		i := 0
		for ci := range c.Labels {
			v := c.value(si, ci)
			if math.IsNaN(v) {
				continue
			}
			b.WriteString(marker(lk.marker, pts[i][0], pts[i][1], num(v), esc(c.Labels[ci])+": "+esc(s.Name)+" "+num(v)))
			b.WriteString("\n")
			i++
		}
		b.WriteString("</g>\n")
	}
}

// marker draws a point of a line (with its value as a tooltip).
func marker(shape string, x, y float64, value, tip string) string {
	attrs := fmt.Sprintf(` data-value="%s"`, value)
	t := "<title>" + tip + "</title>"
	switch shape {
	case "square":
		return fmt.Sprintf(`<rect x="%s" y="%s" width="7" height="7"%s>%s</rect>`, num(x-3.5), num(y-3.5), attrs, t)
	case "triangle":
		return fmt.Sprintf(`<path d="M%s %sL%s %sL%s %sZ"%s>%s</path>`, num(x), num(y-4.5), num(x+4.5), num(y+3.5), num(x-4.5), num(y+3.5), attrs, t)
	case "diamond":
		return fmt.Sprintf(`<path d="M%s %sL%s %sL%s %sL%s %sZ"%s>%s</path>`, num(x), num(y-5), num(x+5), num(y), num(x), num(y+5), num(x-5), num(y), attrs, t)
	}
	return fmt.Sprintf(`<circle cx="%s" cy="%s" r="3.5"%s>%s</circle>`, num(x), num(y), attrs, t)
}

// Description is the SVG's description: Desc, then per series its total (bars) or its range and latest value
// (lines), so that a screen reader hears the gist without the table.
func (c Chart) Description() string {
	w := c.words()
	parts := []string{strings.TrimSuffix(c.Desc, ".") + "."}
	if len(c.Labels) > 0 && c.Kind != HBars {
		parts = append(parts, w.Span(len(c.Labels), c.Labels[0], c.Labels[len(c.Labels)-1]))
	}
	amount := func(v float64) string { return w.Amount(v, c.format(v)) }
	var sums []string
	for si, s := range c.Series {
		switch c.Kind {
		case Lines:
			first, last, lo, hi, seen := 0.0, 0.0, math.Inf(1), math.Inf(-1), 0
			for ci := range c.Labels {
				v := c.value(si, ci)
				if math.IsNaN(v) {
					continue
				}
				if seen == 0 {
					first = v
				}
				last, lo, hi = v, min(lo, v), max(hi, v)
				seen++
			}
			if seen == 0 {
				sums = append(sums, w.NoValues(s.Name))
				continue
			}
			sums = append(sums, w.Trend(s.Name, c.format(first), amount(last), c.format(lo), c.format(hi)))
		case HBars:
			for ci, l := range c.Labels {
				sums = append(sums, fmt.Sprintf("%s: %s", l, c.format(c.value(si, ci))))
			}
		default:
			total, best, bestAt := 0.0, 0.0, -1
			for ci := range c.Labels {
				v := c.value(si, ci)
				if math.IsNaN(v) {
					continue
				}
				total += v
				if v > best {
					best, bestAt = v, ci
				}
			}
			line := w.Sum(s.Name, amount(total))
			if bestAt >= 0 {
				line += w.Peak(c.Labels[bestAt], c.format(best))
			}
			sums = append(sums, line)
		}
	}
	if len(sums) > 0 {
		parts = append(parts, strings.Join(sums, "; ")+".")
	}
	return strings.Join(parts, " ")
}

// plural is an English noun for n of them ("day", "days"; "category", "categories").
func plural(n int, one string) string {
	switch {
	case n == 1:
		return one
	case strings.HasSuffix(one, "y"):
		return strings.TrimSuffix(one, "y") + "ies"
	}
	return one + "s"
}

// Columns are the headers of the table of numbers.
func (c Chart) Columns() []string {
	cols := []string{c.LabelHeader}
	for _, s := range c.Series {
		cols = append(cols, s.Name)
	}
	if c.Kind == Stacked && len(c.Series) > 1 {
		cols = append(cols, c.words().Total)
	}
	return cols
}

// Row is one category in the table of numbers: its label and a cell per column after it.
type Row struct {
	Label string
	Cells []string
}

// Rows are the table of numbers: one row per category, "—" where a line has no value.
func (c Chart) Rows() []Row {
	rows := make([]Row, 0, len(c.Labels))
	for ci, l := range c.Labels {
		r := Row{Label: l}
		total := 0.0
		for si := range c.Series {
			v := c.value(si, ci)
			if math.IsNaN(v) {
				r.Cells = append(r.Cells, "—")
				continue
			}
			total += v
			r.Cells = append(r.Cells, c.format(v))
		}
		if c.Kind == Stacked && len(c.Series) > 1 {
			r.Cells = append(r.Cells, c.format(total))
		}
		rows = append(rows, r)
	}
	return rows
}

// LegendItem is a series' name with a small drawing of how the chart shows it.
type LegendItem struct {
	Name   string
	Swatch template.HTML
}

// Legend lists the series (none for a single-series chart: its title says what the bars are).
func (c Chart) Legend() []LegendItem {
	if len(c.Series) < 2 {
		return nil
	}
	var out []LegendItem
	for si, s := range c.Series {
		lk := c.look(si)
		var sw string
		if c.Kind == Lines {
			dash := ""
			if lk.dash != "" {
				dash = ` stroke-dasharray="` + lk.dash + `"`
			}
			sw = fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" class="swatch" viewBox="0 0 28 12" width="28" height="12" aria-hidden="true" focusable="false"><g fill="%s" stroke="%s"><path d="M1 6H27" stroke-width="2"%s/>%s</g></svg>`,
				lk.color, lk.color, dash, marker(lk.marker, 14, 6, "", ""))
			sw = strings.Replace(sw, ` data-value=""`, "", 1)
			sw = strings.Replace(sw, "<title></title>", "", 1)
		} else {
			sw = fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" class="swatch" viewBox="0 0 14 14" width="14" height="14" aria-hidden="true" focusable="false"><rect width="14" height="14" fill="%s"/></svg>`, c.fill(si))
		}
		out = append(out, LegendItem{Name: s.Name, Swatch: template.HTML(sw)}) //nolint:gosec // built from constants
	}
	return out
}

// num prints a number the way the charts show it: no trailing zeros, at most two decimals.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

func esc(s string) string { return escaper.Replace(s) }
