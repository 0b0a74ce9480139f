package web

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/ltipub/ltipub/internal/chart"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/i18n"
	"github.com/ltipub/ltipub/internal/stats"
)

// chartPanel is a section of charts as layout/chart.html draws it: a heading, the charts that have something to
// show, and a sentence for when none has, all in the page's language (tr).
type chartPanel struct {
	ID      string
	Heading string
	Intro   string
	Charts  []panelChart
	// More are the charts beyond Shown, folded under "Show N more charts" so that the page's table stays near.
	More  []panelChart
	Shown int // 0: every chart shown
	Empty string
	Note  string

	tr *i18n.Printer
}

// panelChart is a chart with the words its figure says around it ("Show the numbers").
type panelChart struct {
	chart.Chart
	ShowNumbers string
}

// add keeps c unless it has nothing to show.
func (p *chartPanel) add(c chart.Chart) {
	pc := panelChart{Chart: c, ShowNumbers: p.tr.T("layout.chart.show_numbers")}
	switch {
	case c.Empty():
	case p.Shown > 0 && len(p.Charts) >= p.Shown:
		p.More = append(p.More, pc)
	default:
		p.Charts = append(p.Charts, pc)
	}
}

// ShowMore is the summary of the folded charts: "Show 3 more charts".
func (p *chartPanel) ShowMore() string {
	return p.tr.T("layout.chart.show_more", "Count", len(p.More), "N", p.tr.N(len(p.More)))
}

// Chart spans.
const (
	chartDays        = 30
	rosterChartLinks = 6 // lines beyond this many are unreadable; the rest are counted in a note
)

// Labels of hourly and daily buckets (UTC, as every time on the admin pages), with the month's name in the page's
// language ("2 Jan 15:04", "2 ene 15:04").
func hourLabels(tr *i18n.Printer, b stats.Buckets) (labels, ticks []string) {
	for _, t := range b.Starts {
		labels = append(labels, shortDay(tr, t)+" "+t.Format("15:04"))
		ticks = append(ticks, t.Format("15:04"))
	}
	return labels, ticks
}

func dayLabels(tr *i18n.Printer, b stats.Buckets) (labels []string) {
	for _, t := range b.Starts {
		labels = append(labels, shortDay(tr, t))
	}
	return labels
}

// shortDay is a day without its year: "2 Jan".
func shortDay(tr *i18n.Printer, t time.Time) string {
	return strconv.Itoa(t.Day()) + " " + tr.T("date.month."+strconv.Itoa(int(t.Month())))
}

// chartWords are a chart's words in the page's language (layout.chart.*): unitKey is a plural message saying a
// number of what the chart counts ("{{.N}} launches"), eachKey one naming its categories ("hour", "hours").
func chartWords(tr *i18n.Printer, unitKey, eachKey string) *chart.Words {
	number := func(v float64) string {
		if tr.Tag() == i18n.Source || v != math.Trunc(v) {
			return tr.Decimal(strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64))
		}
		return tr.N(int64(v))
	}
	return &chart.Words{
		Span: func(n int, from, to string) string {
			each := tr.T("layout.chart.category", "Count", n)
			if eachKey != "" {
				each = tr.T(eachKey, "Count", n)
			}
			return tr.T("layout.chart.span", "N", tr.N(n), "Each", each, "From", from, "To", to)
		},
		Amount: func(v float64, formatted string) string {
			if unitKey == "" {
				return formatted
			}
			return tr.T(unitKey, "Count", strconv.FormatFloat(v, 'f', -1, 64), "N", formatted)
		},
		Sum: func(series, amount string) string {
			return tr.T("layout.chart.sum", "Series", series, "Amount", amount)
		},
		Peak: func(label, value string) string { return tr.T("layout.chart.peak", "Label", label, "Value", value) },
		Trend: func(series, first, last, lo, hi string) string {
			return tr.T("layout.chart.trend", "Series", series, "First", first, "Last", last, "Lowest", lo, "Highest", hi)
		},
		NoValues: func(series string) string { return tr.T("layout.chart.no_values", "Series", series) },
		Total:    tr.T("layout.chart.total"),
		Number:   number,
	}
}

func floats(vs []int) []float64 {
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = float64(v)
		if v < 0 {
			out[i] = math.NaN()
		}
	}
	return out
}

// launchCharts are the launch log's charts: launches per hour over two days and per day over a month, accepted
// and refused, and the refusals' most frequent causes (of one registration when registrationID is set).
func (s *Server) launchCharts(ctx context.Context, tr *i18n.Printer, registrationID int64) (*chartPanel, error) {
	intro := "ops.charts.launches.intro"
	if registrationID != 0 {
		intro = "ops.charts.launches.intro_registration"
	}
	p := &chartPanel{ID: "launch-charts", Heading: tr.T("ops.charts.launches.heading"), Intro: tr.T(intro),
		Empty: tr.T("ops.charts.launches.empty"), tr: tr}
	la, err := s.cfg.Stats.Launches(ctx, registrationID)
	if err != nil {
		return nil, err
	}
	hourly, daily := la.Hourly, la.Daily
	labels, ticks := hourLabels(tr, hourly.Buckets)
	accepted, refused := tr.T("ops.charts.accepted"), tr.T("ops.charts.refused")
	p.add(chart.Chart{ID: "launches-hourly", Kind: chart.Stacked, Title: tr.T("ops.charts.launches.hourly.title"),
		Desc: tr.T("ops.charts.launches.hourly.desc"), Words: chartWords(tr, "ops.charts.unit.launches", "ops.charts.each.hour"),
		LabelHeader: tr.T("ops.charts.hour_utc"), Labels: labels, Ticks: ticks, Series: []chart.Series{
			{Name: accepted, Values: floats(hourly.Accepted), Style: chart.StyleGreen},
			{Name: refused, Values: floats(hourly.Refused), Style: chart.StyleRed}}})
	p.add(chart.Chart{ID: "launches-daily", Kind: chart.Stacked, Title: tr.T("ops.charts.launches.daily.title"),
		Desc: tr.T("ops.charts.launches.daily.desc"), Words: chartWords(tr, "ops.charts.unit.launches", "ops.charts.each.day"),
		LabelHeader: tr.T("ops.charts.day_utc"), Labels: dayLabels(tr, daily.Buckets), Series: []chart.Series{
			{Name: accepted, Values: floats(daily.Accepted), Style: chart.StyleGreen},
			{Name: refused, Values: floats(daily.Refused), Style: chart.StyleRed}}})
	if len(la.Codes) > 0 {
		c := chart.Chart{ID: "refusal-codes", Kind: chart.HBars, Title: tr.T("ops.charts.codes.title"),
			Desc: tr.T("ops.charts.codes.desc"), LabelHeader: tr.T("ops.charts.codes.header"), Words: chartWords(tr, "", "")}
		var vs []float64
		for _, cc := range la.Codes {
			code := cc.Code
			if code == "" {
				code = tr.T("ops.charts.codes.none")
			}
			c.Labels = append(c.Labels, code)
			vs = append(vs, float64(cc.Count))
		}
		c.Series = []chart.Series{{Name: refused, Values: vs, Style: chart.StyleRed}}
		p.add(c)
	}
	return p, nil
}

// gradeBandLabels name the ten bands of a grade distribution.
var gradeBandLabels = func() []string {
	var out []string
	for i := range 10 {
		if i == 9 {
			out = append(out, "90–100%")
			continue
		}
		out = append(out, strconv.Itoa(i*10)+"–"+strconv.Itoa(i*10+9)+"%")
	}
	return out
}()

// gradeCharts are the grader report's charts: per visible graded activity with grades, how its grades spread over
// tenths of the maximum. The caller has loaded the grader report (the person may see it).
func (s *Server) gradeCharts(ctx context.Context, tr *i18n.Printer, rep course.Report) (*chartPanel, error) {
	p := &chartPanel{ID: "grade-charts", Heading: tr.T("ops.charts.grades.heading"), Intro: tr.T("ops.charts.grades.intro"),
		Empty: tr.T("ops.charts.grades.empty"), Shown: 4, tr: tr}
	dists, err := s.cfg.Stats.GradeDistributions(ctx, rep.Course.ID)
	if err != nil {
		return nil, err
	}
	for _, a := range rep.Activities {
		d, ok := dists[a.ID]
		if !ok {
			continue
		}
		n := 0
		vs := make([]float64, len(d.Bands))
		for i, v := range d.Bands {
			vs[i], n = float64(v), n+v
		}
		max := course.FormatNumber(a.MaxGrade)
		if tr.Tag() != i18n.Source {
			max = tr.Decimal(max)
		}
		p.add(chart.Chart{ID: fmt.Sprintf("grades-%d", a.ID), Kind: chart.Bars,
			Title: tr.T("ops.charts.grades.title", "Name", a.Name, "Count", n, "N", tr.N(n)),
			Desc:  tr.T("ops.charts.grades.desc", "Name", a.Name), Words: chartWords(tr, "ops.charts.unit.grades", "ops.charts.each.grade_band"),
			LabelHeader: tr.T("ops.charts.grades.header", "Max", max), Labels: gradeBandLabels,
			Series: []chart.Series{{Name: tr.T("ops.charts.grades.series"), Values: vs, Style: chart.StyleBlue}}})
	}
	return p, nil
}

// syncCharts are the Sync page's charts: per platform the scores it accepted and refused per day, and the roster
// sizes of the resource links with the largest rosters.
func (s *Server) syncCharts(ctx context.Context, tr *i18n.Printer) (*chartPanel, error) {
	p := &chartPanel{ID: "sync-charts", Heading: tr.T("ops.charts.sync.heading"), Intro: tr.T("ops.charts.sync.intro"),
		Empty: tr.T("ops.charts.sync.empty"), Shown: 4, tr: tr}
	scores, err := s.cfg.Stats.Scores(ctx, chartDays)
	if err != nil {
		return nil, err
	}
	var platforms []chart.Chart
	for i, ps := range scores {
		platforms = append(platforms, chart.Chart{ID: fmt.Sprintf("scores-%d", i+1), Kind: chart.Stacked,
			Title: tr.T("ops.charts.scores.title", "Platform", scoresPlatformLabel(tr, ps.Platform)),
			Desc:  tr.T("ops.charts.scores.desc", "Platform", scoresPlatformLabel(tr, ps.Platform)), Words: chartWords(tr, "ops.charts.unit.scores", "ops.charts.each.day"),
			LabelHeader: tr.T("ops.charts.day_utc"), Labels: dayLabels(tr, ps.Buckets), Series: []chart.Series{
				{Name: tr.T("ops.charts.scores.sent"), Values: floats(ps.Sent), Style: chart.StyleGreen},
				{Name: tr.T("ops.charts.scores.failed"), Values: floats(ps.Failed), Style: chart.StyleRed}}})
	}
	// The busiest platforms first, then the rosters (shown whatever the number of platforms), then the rest.
	first := min(len(platforms), p.Shown-1)
	for _, c := range platforms[:first] {
		p.add(c)
	}
	rosters, err := s.cfg.Stats.Rosters(ctx, chartDays, rosterChartLinks)
	if err != nil {
		return nil, err
	}
	if len(rosters.Links) > 0 {
		c := chart.Chart{ID: "rosters", Kind: chart.Lines, Title: tr.T("ops.charts.rosters.title"),
			Desc: tr.T("ops.charts.rosters.desc"), Words: chartWords(tr, "ops.charts.unit.members", "ops.charts.each.day"),
			LabelHeader: tr.T("ops.charts.day_utc"), Labels: dayLabels(tr, rosters.Buckets)}
		for _, lr := range rosters.Links {
			c.Series = append(c.Series, chart.Series{Name: linkLabel(tr, lr.Link), Values: floats(lr.Members)})
		}
		p.add(c)
		if rosters.More > 0 {
			p.Note = tr.T("ops.charts.rosters.note", "Shown", tr.N(len(rosters.Links)), "Count", rosters.More, "More", tr.N(rosters.More))
		}
	}
	for _, c := range platforms[first:] {
		p.add(c)
	}
	return p, nil
}

// scoresPlatformLabel is stats.Platform.Label in the page's language.
func scoresPlatformLabel(tr *i18n.Printer, p stats.Platform) string {
	switch {
	case p.RegistrationID == 0:
		return tr.T("ops.charts.platform.lti11", "Key", p.ConsumerKey)
	case p.Name == "":
		return tr.T("ops.charts.platform.deleted")
	}
	return p.Name
}

// linkLabel is stats.Link.Label in the page's language: "Astronomy in Year 1 (Moodle)".
func linkLabel(tr *i18n.Printer, l stats.Link) string {
	s := l.Resource
	if l.Context != "" {
		s = tr.T("ops.charts.link.in", "Resource", l.Resource, "Context", l.Context)
	}
	if l.Platform != "" {
		s += " (" + l.Platform + ")"
	}
	return s
}
