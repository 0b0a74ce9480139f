package metrics

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// The Grafana dashboard in docs/ uses only metrics that ltipub exports.
func TestDashboardUsesExportedMetrics(t *testing.T) {
	m := New()
	names := map[string]bool{}
	fq := regexp.MustCompile(`fqName: "([a-z_]+)"`)
	ch := make(chan *prometheus.Desc, 100)
	for _, c := range []prometheus.Collector{m.launches, m.requests, m.outgoing, m.scores, m.members, m.syncRuns, m.runScores, &dbCollector{
		open: prometheus.NewDesc("x", "", nil, nil), max: prometheus.NewDesc("x", "", nil, nil), waits: prometheus.NewDesc("x", "", nil, nil),
		waited: prometheus.NewDesc("x", "", nil, nil), queue: prometheus.NewDesc("x", "", nil, nil), queueUp: prometheus.NewDesc("x", "", nil, nil)}} {
		c.Describe(ch)
	}
	close(ch)
	for d := range ch {
		if sm := fq.FindStringSubmatch(d.String()); sm != nil {
			names[sm[1]] = true
		}
	}
	// The pool and queue names as WatchDB declares them.
	src, _ := os.ReadFile("metrics.go")
	for _, sm := range regexp.MustCompile(`NewDesc\("(ltipub_[a-z_]+)"`).FindAllStringSubmatch(string(src), -1) {
		names[sm[1]] = true
	}
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		names[f.GetName()] = true
	}
	dash, err := os.ReadFile("../../docs/grafana-ltipub.json")
	if err != nil {
		t.Fatal(err)
	}
	used := regexp.MustCompile(`ltipub_[a-z_]+`).FindAllString(string(dash), -1)
	if len(used) < 10 {
		t.Fatalf("the dashboard uses only %d metrics", len(used))
	}
	for _, u := range used {
		base := u
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			base = strings.TrimSuffix(base, suffix)
		}
		if !names[u] && !names[base] {
			t.Errorf("the dashboard uses %s, which ltipub does not export", u)
		}
	}
}
