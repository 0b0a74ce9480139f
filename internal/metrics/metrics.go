// Package metrics is what ltipub tells Prometheus: launches by outcome, request latency per route, grade scores
// and member sync per platform, the job queue, outgoing requests per platform host and the database pool. Every
// name starts with ltipub_. Each App has its own registry, so several instances in one test process do not mix.
package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/lti"
)

// Metrics holds the collectors of one ltipub instance.
type Metrics struct {
	reg *prometheus.Registry

	launches  *prometheus.CounterVec
	requests  *prometheus.HistogramVec
	outgoing  *prometheus.HistogramVec
	scores    *prometheus.CounterVec
	members   *prometheus.CounterVec
	syncRuns  *prometheus.HistogramVec
	runScores *prometheus.CounterVec
}

// New makes the collectors, with the Go runtime's and the process's under ltipub_ too.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	r := prometheus.WrapRegistererWithPrefix("ltipub_", reg)
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{reg: reg}
	m.launches = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ltipub_launches_total",
		Help: "LTI logins and launches (launch log lines) by stage, outcome and refusal code (empty when accepted)."},
		[]string{"stage", "outcome", "code"})
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ltipub_http_request_duration_seconds",
		Help:    "Time to answer a request, by route pattern, method and status code.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}},
		[]string{"route", "method", "code"})
	m.outgoing = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ltipub_outgoing_request_duration_seconds",
		Help:    "Requests to platforms (keys, tokens, grades, rosters, registration) by host and status code (\"error\" when none came back).",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}},
		[]string{"host", "code"})
	m.scores = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ltipub_grade_scores_total",
		Help: "AGS score posts to each platform host: sent (2xx) or failed (any other answer or none; a retried score counts each try)."},
		[]string{"platform", "result"})
	m.members = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ltipub_member_sync_members_total",
		Help: "Roster members that member sync processed, by what it did: created, updated, enrolled, unenrolled, skipped."},
		[]string{"outcome"})
	m.syncRuns = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ltipub_job_duration_seconds",
		Help:    "Duration of sync jobs by kind (grades, members) and status (ok, partial, failed).",
		Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900}},
		[]string{"kind", "status"})
	m.runScores = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ltipub_grade_sync_grades_total",
		Help: "Grades that grade sync runs handled: sent, unchanged (already on the platform), failed."},
		[]string{"result"})
	reg.MustRegister(m.launches, m.requests, m.outgoing, m.scores, m.members, m.syncRuns, m.runScores)
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ObserveRequest records one answered request under its route pattern (never the raw path, which would make a
// series per course and resource).
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

// LaunchStore counts every launch log line that s records.
func (m *Metrics) LaunchStore(s launch.Store) launch.Store { return launchStore{s, m} }

type launchStore struct {
	launch.Store
	m *Metrics
}

func (s launchStore) RecordLaunch(ctx context.Context, e *launch.LogEntry) error {
	err := s.Store.RecordLaunch(ctx, e)
	s.LaunchRecorded(e)
	return err
}

// LaunchRecorded counts a row the launch wrote in its provisioning transaction (not through RecordLaunch).
func (s launchStore) LaunchRecorded(e *launch.LogEntry) {
	s.m.launches.WithLabelValues(e.Stage, e.Outcome, e.Code).Inc()
}

// JobStore records the duration and counts of every sync run that s finishes.
func (m *Metrics) JobStore(s jobs.Store) jobs.Store { return jobStore{s, m} }

type jobStore struct {
	jobs.Store
	m *Metrics
}

func (s jobStore) FinishRun(ctx context.Context, r jobs.Run) error {
	err := s.Store.FinishRun(ctx, r)
	s.m.RunFinished(r)
	return err
}

// RunFinished records a finished sync run.
func (m *Metrics) RunFinished(r jobs.Run) {
	m.syncRuns.WithLabelValues(string(r.Kind), r.Status).Observe(r.FinishedAt.Sub(r.StartedAt).Seconds())
	switch r.Kind {
	case jobs.KindGrades:
		m.runScores.WithLabelValues("sent").Add(float64(r.Sent))
		m.runScores.WithLabelValues("unchanged").Add(float64(r.Unchanged))
		m.runScores.WithLabelValues("failed").Add(float64(r.Failed))
	case jobs.KindMembers:
		for outcome, n := range map[string]int{"created": r.Created, "updated": r.Updated, "enrolled": r.Enrolled,
			"unenrolled": r.Unenrolled, "skipped": r.Skipped} {
			m.members.WithLabelValues(outcome).Add(float64(n))
		}
	}
}

// Transport measures the requests rt sends to platforms, by host; score posts (AGS) also count per platform.
func (m *Metrics) Transport(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return roundTripper{rt, m}
}

type roundTripper struct {
	next http.RoundTripper
	m    *Metrics
}

func (t roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	host := req.URL.Host
	t.m.outgoing.WithLabelValues(host, code).Observe(time.Since(start).Seconds())
	if req.Method == http.MethodPost && strings.HasPrefix(req.Header.Get("Content-Type"), lti.MediaScore) {
		result := "failed"
		if err == nil && resp.StatusCode/100 == 2 {
			result = "sent"
		}
		t.m.scores.WithLabelValues(host, result).Inc()
	}
	return resp, err
}

// WatchDB reports the database pool and the job queue at every scrape.
func (m *Metrics) WatchDB(db *sql.DB) {
	m.reg.MustRegister(&dbCollector{db: db,
		open:    prometheus.NewDesc("ltipub_db_connections", "Connections of the database pool by state (in_use, idle).", []string{"state"}, nil),
		max:     prometheus.NewDesc("ltipub_db_connections_max", "The pool's limit on open connections (0: none).", nil, nil),
		waits:   prometheus.NewDesc("ltipub_db_wait_total", "Times a query waited for a free connection.", nil, nil),
		waited:  prometheus.NewDesc("ltipub_db_wait_seconds_total", "Time queries spent waiting for a free connection.", nil, nil),
		queue:   prometheus.NewDesc("ltipub_job_queue_jobs", "Jobs in the queue by state (available, scheduled, running, retryable).", []string{"state"}, nil),
		queueUp: prometheus.NewDesc("ltipub_job_queue_up", "1 when the queue could be read at this scrape.", nil, nil),
	})
}

// dbCollector reads the pool's statistics and counts the job queue's rows when scraped: a scrape costs one small
// query, and nothing runs between scrapes.
type dbCollector struct {
	db                                       *sql.DB
	open, max, waits, waited, queue, queueUp *prometheus.Desc
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.open, c.max, c.waits, c.waited, c.queue, c.queueUp} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.db.Stats()
	ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(s.InUse), "in_use")
	ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(s.Idle), "idle")
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(s.MaxOpenConnections))
	ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(s.WaitCount))
	ch <- prometheus.MustNewConstMetric(c.waited, prometheus.CounterValue, s.WaitDuration.Seconds())

	counts := map[string]float64{"available": 0, "scheduled": 0, "running": 0, "retryable": 0}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	up := 1.0
	rows, err := c.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM river_job
		WHERE state IN ('available', 'scheduled', 'running', 'retryable') GROUP BY state`)
	if err == nil {
		for rows.Next() {
			var state string
			var n float64
			if rows.Scan(&state, &n) == nil {
				counts[state] = n
			}
		}
		err = rows.Err()
		rows.Close()
	}
	if err != nil {
		up = 0 // the queue's tables are not there yet (a command that never started jobs), or the database is down
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.queue, prometheus.GaugeValue, n, state)
	}
	ch <- prometheus.MustNewConstMetric(c.queueUp, prometheus.GaugeValue, up)
}
