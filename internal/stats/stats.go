// Package stats gathers the figures the admin and teacher pages chart: launches over time, grade distributions,
// scores delivered per platform and roster sizes. The database aggregates (GROUP BY over an index range), so a
// page costs a few small result sets however many rows lie behind them; this package fills the buckets nothing
// fell into and puts the series in order.
package stats

import (
	"context"
	"errors"
	"sort"
	"time"
)

// Store is what the figures are read from (sqlstore implements it). Every time is a bucket's start in UTC.
type Store interface {
	// LaunchBuckets counts the launch log's accepted launches and refused logins or launches since `since`, per
	// bucket of `bucket` (an hour or a day) and outcome, of one registration when registrationID is set.
	LaunchBuckets(ctx context.Context, since time.Time, bucket time.Duration, registrationID int64) ([]LaunchCount, error)
	// RefusalCodes ranks the codes of refused entries since `since`, the most frequent first (at most limit).
	RefusalCodes(ctx context.Context, since time.Time, registrationID int64, limit int) ([]CodeCount, error)
	// GradeBands counts, per visible graded activity of a course, its grades in each tenth of the maximum
	// (band 9 holds 90–100%).
	GradeBands(ctx context.Context, courseID int64) ([]GradeBand, error)
	// ScoreCounts sums the scores platforms accepted and refused since `since`, per platform and day.
	ScoreCounts(ctx context.Context, since time.Time) ([]ScoreCount, error)
	// RosterSizes gives, per resource link and day since `since`, the largest roster a complete listing found,
	// for the limit links whose latest day found most members (largest first, then by day), and how many links
	// have a sample since `since`.
	RosterSizes(ctx context.Context, since time.Time, limit int) (sizes []RosterSize, links int, err error)
}

// LaunchCount is how many launch log entries of one outcome fell in the bucket starting at At.
type LaunchCount struct {
	At      time.Time
	Outcome string
	Count   int
}

// CodeCount is how often a refusal code occurred.
type CodeCount struct {
	Code  string
	Count int
}

// GradeBand is how many grades of an activity fell in band Band (0: 0–9% … 9: 90–100%).
type GradeBand struct {
	ActivityID int64
	Band       int
	Count      int
}

// ScoreCount is what one platform accepted and refused on the day starting at Day.
type ScoreCount struct {
	Platform Platform
	Day      time.Time
	Sent     int
	Failed   int
}

// Platform names where scores went: a registration (LTI 1.3) or a consumer key (LTI 1.1).
type Platform struct {
	RegistrationID int64
	ConsumerKey    string
	// Name is the registration's name ("" when it was deleted since).
	Name string
}

// Label is the platform as an admin reads it.
func (p Platform) Label() string {
	switch {
	case p.RegistrationID == 0:
		return "LTI 1.1 consumer key " + p.ConsumerKey
	case p.Name == "":
		return "deleted registration"
	}
	return p.Name
}

// RosterSize is a resource link's roster size on the day starting at Day.
type RosterSize struct {
	Link    Link
	Day     time.Time
	Members int
}

// Link names a resource link: the published resource, where it lives on the platform, and the platform.
type Link struct {
	ID       int64
	Resource string
	Context  string // the platform course's title, else its id, else the link's
	Platform string
}

// Label is the link as an admin reads it.
func (l Link) Label() string {
	s := l.Resource
	if l.Context != "" {
		s += " in " + l.Context
	}
	if l.Platform != "" {
		s += " (" + l.Platform + ")"
	}
	return s
}

// Config wires a Service.
type Config struct {
	Store Store
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Service reads the figures.
type Service struct {
	store Store
	now   func() time.Time
}

// New checks cfg and builds the service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("stats: Config.Store is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{store: cfg.Store, now: cfg.Now}, nil
}

// Buckets are counts over consecutive, equal spans of time (oldest first), with none left out.
type Buckets struct {
	Starts []time.Time
	Span   time.Duration
}

// buckets are the n spans that end with the one holding now.
func buckets(now time.Time, span time.Duration, n int) Buckets {
	last := now.UTC().Truncate(span)
	b := Buckets{Span: span, Starts: make([]time.Time, n)}
	for i := range n {
		b.Starts[i] = last.Add(-time.Duration(n-1-i) * span)
	}
	return b
}

func (b Buckets) index(t time.Time) (int, bool) {
	if len(b.Starts) == 0 || t.Before(b.Starts[0]) {
		return 0, false
	}
	i := int(t.Sub(b.Starts[0]) / b.Span)
	return i, i < len(b.Starts)
}

// Launches are the launch log's accepted and refused entries per bucket.
type Launches struct {
	Buckets
	Accepted []int
	Refused  []int
}

func newLaunches(b Buckets) Launches {
	return Launches{Buckets: b, Accepted: make([]int, len(b.Starts)), Refused: make([]int, len(b.Starts))}
}

func (l Launches) add(c LaunchCount) {
	i, ok := l.index(c.At)
	if !ok {
		return
	}
	if c.Outcome == "refused" {
		l.Refused[i] += c.Count
	} else {
		l.Accepted[i] += c.Count
	}
}

// LaunchActivity is the launch log over the last two days per hour and the last month per day, with the most
// frequent refusal codes of the month.
type LaunchActivity struct {
	Hourly Launches
	Daily  Launches
	Codes  []CodeCount
}

// Launch spans the pages show.
const (
	HourlyBuckets = 48 // hours
	DailyBuckets  = 30 // days
	TopCodes      = 5
)

// Launches counts the launch log (of one registration when registrationID is set). One pass over the month
// counts per hour; the days are sums of their hours (UTC days are whole hours).
func (s *Service) Launches(ctx context.Context, registrationID int64) (LaunchActivity, error) {
	now := s.now()
	a := LaunchActivity{Hourly: newLaunches(buckets(now, time.Hour, HourlyBuckets)), Daily: newLaunches(buckets(now, 24*time.Hour, DailyBuckets))}
	since := a.Daily.Starts[0]
	counts, err := s.store.LaunchBuckets(ctx, since, time.Hour, registrationID)
	if err != nil {
		return LaunchActivity{}, err
	}
	for _, c := range counts {
		a.Hourly.add(c)
		a.Daily.add(c)
	}
	if a.Codes, err = s.store.RefusalCodes(ctx, since, registrationID, TopCodes); err != nil {
		return LaunchActivity{}, err
	}
	return a, nil
}

// GradeDistribution is an activity's grades counted per tenth of its maximum.
type GradeDistribution struct {
	ActivityID int64
	Bands      [10]int
}

// GradeDistributions counts the grades of a course's visible graded activities per band, for the activities
// that have any. The caller has checked that the person may see the course's grades (the grader report).
func (s *Service) GradeDistributions(ctx context.Context, courseID int64) (map[int64]GradeDistribution, error) {
	bands, err := s.store.GradeBands(ctx, courseID)
	if err != nil {
		return nil, err
	}
	out := map[int64]GradeDistribution{}
	for _, b := range bands {
		d := out[b.ActivityID]
		d.ActivityID = b.ActivityID
		d.Bands[min(max(b.Band, 0), len(d.Bands)-1)] += b.Count
		out[b.ActivityID] = d
	}
	return out, nil
}

// PlatformScores is one platform's accepted and refused scores per day.
type PlatformScores struct {
	Platform Platform
	Buckets
	Sent   []int
	Failed []int
}

// Scores gives each platform's delivered and refused scores per day over the last `days` days, the platforms
// that sent most first.
func (s *Service) Scores(ctx context.Context, days int) ([]PlatformScores, error) {
	b := buckets(s.now(), 24*time.Hour, days)
	counts, err := s.store.ScoreCounts(ctx, b.Starts[0])
	if err != nil {
		return nil, err
	}
	type key struct {
		reg int64
		ck  string
	}
	by := map[key]*PlatformScores{}
	var order []*PlatformScores
	totals := map[*PlatformScores]int{}
	for _, c := range counts {
		i, ok := b.index(c.Day)
		if !ok {
			continue
		}
		k := key{c.Platform.RegistrationID, c.Platform.ConsumerKey}
		p := by[k]
		if p == nil {
			p = &PlatformScores{Platform: c.Platform, Buckets: b, Sent: make([]int, days), Failed: make([]int, days)}
			by[k] = p
			order = append(order, p)
		}
		p.Sent[i] += c.Sent
		p.Failed[i] += c.Failed
		totals[p] += c.Sent + c.Failed
	}
	sort.SliceStable(order, func(i, j int) bool {
		if totals[order[i]] != totals[order[j]] {
			return totals[order[i]] > totals[order[j]]
		}
		return order[i].Platform.Label() < order[j].Platform.Label()
	})
	out := make([]PlatformScores, len(order))
	for i, p := range order {
		out[i] = *p
	}
	return out, nil
}

// LinkRoster is one resource link's roster size per day (-1: no complete listing that day).
type LinkRoster struct {
	Link    Link
	Members []int
}

// Rosters are roster sizes over time, for the links with the largest latest rosters.
type Rosters struct {
	Buckets
	Links []LinkRoster
	// More counts the links with samples that were left out (beyond the limit).
	More int
}

// Rosters gives the roster sizes per day over the last `days` days of at most limit links: those whose latest
// listing found most members.
func (s *Service) Rosters(ctx context.Context, days, limit int) (Rosters, error) {
	b := buckets(s.now(), 24*time.Hour, days)
	sizes, links, err := s.store.RosterSizes(ctx, b.Starts[0], limit)
	if err != nil {
		return Rosters{}, err
	}
	out := Rosters{Buckets: b}
	var cur *LinkRoster
	for _, r := range sizes { // in rank order, each link's days together
		i, ok := b.index(r.Day)
		if !ok {
			continue
		}
		if cur == nil || cur.Link.ID != r.Link.ID {
			out.Links = append(out.Links, LinkRoster{Link: r.Link, Members: make([]int, days)})
			cur = &out.Links[len(out.Links)-1]
			for j := range cur.Members {
				cur.Members[j] = -1
			}
		}
		cur.Members[i] = r.Members
	}
	out.More = max(links-len(out.Links), 0)
	return out, nil
}
