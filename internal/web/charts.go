package web

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/ltipub/ltipub/internal/chart"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/stats"
)

// chartPanel is a section of charts as layout/chart.html draws it: a heading, the charts that have something to
// show, and a sentence for when none has.
type chartPanel struct {
	ID      string
	Heading string
	Intro   string
	Charts  []chart.Chart
	// More are the charts beyond Shown, folded under "Show N more charts" so that the page's table stays near.
	More  []chart.Chart
	Shown int // 0: every chart shown
	Empty string
	Note  string
}

// add keeps c unless it has nothing to show.
func (p *chartPanel) add(c chart.Chart) {
	switch {
	case c.Empty():
	case p.Shown > 0 && len(p.Charts) >= p.Shown:
		p.More = append(p.More, c)
	default:
		p.Charts = append(p.Charts, c)
	}
}

// Chart spans.
const (
	chartDays        = 30
	rosterChartLinks = 6 // lines beyond this many are unreadable; the rest are counted in a note
)

// Labels of hourly and daily buckets (UTC, as every time on the admin pages).
func hourLabels(b stats.Buckets) (labels, ticks []string) {
	for _, t := range b.Starts {
		labels = append(labels, t.Format("2 Jan 15:04"))
		ticks = append(ticks, t.Format("15:04"))
	}
	return labels, ticks
}

func dayLabels(b stats.Buckets) (labels []string) {
	for _, t := range b.Starts {
		labels = append(labels, t.Format("2 Jan"))
	}
	return labels
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
func (s *Server) launchCharts(ctx context.Context, registrationID int64) (*chartPanel, error) {
	p := &chartPanel{ID: "launch-charts", Heading: "Launches over time",
		Intro: "Accepted launches, and logins or launches refused, per hour and per day (UTC)" +
			map[bool]string{true: ", for the chosen registration.", false: "."}[registrationID != 0],
		Empty: "No launches in the last 30 days."}
	la, err := s.cfg.Stats.Launches(ctx, registrationID)
	if err != nil {
		return nil, err
	}
	hourly, daily := la.Hourly, la.Daily
	labels, ticks := hourLabels(hourly.Buckets)
	p.add(chart.Chart{ID: "launches-hourly", Kind: chart.Stacked, Title: "Launches per hour, last 48 hours",
		Desc: "Stacked bars of accepted and refused launches per hour (UTC)", Unit: "launches", Each: "hour", LabelHeader: "Hour (UTC)",
		Labels: labels, Ticks: ticks, Series: []chart.Series{
			{Name: "Accepted", Values: floats(hourly.Accepted), Style: chart.StyleGreen},
			{Name: "Refused", Values: floats(hourly.Refused), Style: chart.StyleRed}}})
	p.add(chart.Chart{ID: "launches-daily", Kind: chart.Stacked, Title: "Launches per day, last 30 days",
		Desc: "Stacked bars of accepted and refused launches per day (UTC)", Unit: "launches", Each: "day", LabelHeader: "Day (UTC)",
		Labels: dayLabels(daily.Buckets), Series: []chart.Series{
			{Name: "Accepted", Values: floats(daily.Accepted), Style: chart.StyleGreen},
			{Name: "Refused", Values: floats(daily.Refused), Style: chart.StyleRed}}})
	if len(la.Codes) > 0 {
		c := chart.Chart{ID: "refusal-codes", Kind: chart.HBars, Title: "Most frequent refusals, last 30 days",
			Desc: "Refused logins and launches by code, the most frequent first", LabelHeader: "Refusal code"}
		var vs []float64
		for _, cc := range la.Codes {
			code := cc.Code
			if code == "" {
				code = "(no code)"
			}
			c.Labels = append(c.Labels, code)
			vs = append(vs, float64(cc.Count))
		}
		c.Series = []chart.Series{{Name: "Refused", Values: vs, Style: chart.StyleRed}}
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
func (s *Server) gradeCharts(ctx context.Context, rep course.Report) (*chartPanel, error) {
	p := &chartPanel{ID: "grade-charts", Heading: "Grade distribution",
		Intro: "How the grades of each activity fall in tenths of its maximum grade (every grade recorded, as in the gradebook).",
		Empty: "No grades yet.", Shown: 4}
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
		p.add(chart.Chart{ID: fmt.Sprintf("grades-%d", a.ID), Kind: chart.Bars, Title: a.Name + ": " + strconv.Itoa(n) + " " + plural(n, "grade", "grades"),
			Desc: "Bars of how many grades in " + a.Name + " fall in each tenth of its maximum grade", Unit: "grades", Each: "grade band",
			LabelHeader: "Grade (of " + course.FormatNumber(a.MaxGrade) + ")", Labels: gradeBandLabels,
			Series: []chart.Series{{Name: "Grades", Values: vs, Style: chart.StyleBlue}}})
	}
	return p, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// syncCharts are the Sync page's charts: per platform the scores it accepted and refused per day, and the roster
// sizes of the resource links with the largest rosters.
func (s *Server) syncCharts(ctx context.Context) (*chartPanel, error) {
	p := &chartPanel{ID: "sync-charts", Heading: "Sync over time",
		Intro: "Scores each platform accepted and refused per day, and the number of active members each complete roster listing found (UTC days).",
		Empty: "Nothing sent or listed in the last 30 days.", Shown: 4}
	scores, err := s.cfg.Stats.Scores(ctx, chartDays)
	if err != nil {
		return nil, err
	}
	var platforms []chart.Chart
	for i, ps := range scores {
		platforms = append(platforms, chart.Chart{ID: fmt.Sprintf("scores-%d", i+1), Kind: chart.Stacked, Title: "Scores sent to " + ps.Platform.Label() + ", last 30 days",
			Desc: "Stacked bars of the scores " + ps.Platform.Label() + " accepted (sent) and refused (failed) per day", Unit: "scores", Each: "day",
			LabelHeader: "Day (UTC)", Labels: dayLabels(ps.Buckets), Series: []chart.Series{
				{Name: "Sent", Values: floats(ps.Sent), Style: chart.StyleGreen},
				{Name: "Failed", Values: floats(ps.Failed), Style: chart.StyleRed}}})
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
		c := chart.Chart{ID: "rosters", Kind: chart.Lines, Title: "Roster size per resource link, last 30 days",
			Desc: "Lines of the active members each resource link's roster listed, the largest listing of each day", Unit: "members", Each: "day",
			LabelHeader: "Day (UTC)", Labels: dayLabels(rosters.Buckets)}
		for _, lr := range rosters.Links {
			c.Series = append(c.Series, chart.Series{Name: lr.Link.Label(), Values: floats(lr.Members)})
		}
		p.add(c)
		if rosters.More > 0 {
			p.Note = fmt.Sprintf("The roster chart shows the %d links with the largest rosters; %d more %s listed in these days.",
				len(rosters.Links), rosters.More, plural(rosters.More, "link was", "links were"))
		}
	}
	for _, c := range platforms[first:] {
		p.add(c)
	}
	return p, nil
}
