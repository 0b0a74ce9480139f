package lti

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/ltipub/ltipub/lti/ltitest"
)

func ptr(f float64) *float64 { return &f }

func TestAGSLineItemsAndScores(t *testing.T) {
	t.Parallel()
	e := newServiceEnv(t, ltitest.Config{ServiceQuery: "type_id=3", RejectStaleScores: true})
	ctx := context.Background()
	c := e.client(ScopeLineItem, ScopeScore, ScopeResultReadOnly)
	container := e.p.BaseURL() + "/ags/ctx-1/lineitems?type_id=3"
	coupled := e.p.AddLineItem("tool-1", "ctx-1", ltitest.LineItem{Label: "Coupled", ScoreMaximum: 10, ResourceLinkID: "rl-1"})

	created, err := c.CreateLineItem(ctx, container, AGSLineItem{Label: "Quiz 1", ScoreMaximum: 100, ResourceID: "uuid-1", ResourceLinkID: "rl-2", Tag: "grade"})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == "" || created.ResourceID != "uuid-1" {
		t.Fatalf("created %+v", created)
	}
	found, err := c.LineItems(ctx, container, LineItemQuery{ResourceID: "uuid-1", Limit: 1})
	if err != nil || len(found) != 1 || found[0].ID != created.ID {
		t.Fatalf("found %+v, %v", found, err)
	}
	all, err := c.LineItems(ctx, container, LineItemQuery{Limit: 1}) // two pages
	if err != nil || len(all) != 2 {
		t.Fatalf("all %+v, %v", all, err)
	}
	got, err := c.LineItem(ctx, coupled)
	if err != nil || got.Label != "Coupled" {
		t.Fatalf("line item %+v, %v", got, err)
	}

	ts := time.Date(2026, 3, 1, 10, 0, 0, 123456000, time.UTC)
	s := Score{UserID: "u1", ScoreGiven: ptr(7.5), ScoreMaximum: 10, Comment: "Well done", Timestamp: ts,
		ActivityProgress: ActivityCompleted, GradingProgress: GradingFullyGraded}
	if err := c.PostScore(ctx, coupled, s); err != nil {
		t.Fatal(err)
	}
	rec, ok := e.p.LatestScore(coupled, "u1")
	if !ok || *rec.ScoreGiven != 7.5 || *rec.ScoreMaximum != 10 || rec.Comment != "Well done" || !rec.Timestamp.Equal(ts) ||
		rec.ActivityProgress != "Completed" || rec.GradingProgress != "FullyGraded" {
		t.Fatalf("platform holds %+v", rec)
	}
	var raw map[string]any
	_ = json.Unmarshal(rec.Raw, &raw)
	if raw["timestamp"] != "2026-03-01T10:00:00.123456Z" {
		t.Fatalf("timestamp sent as %v", raw["timestamp"])
	}
	// The same score again: Moodle-like 409 → ErrStaleScore.
	if err := c.PostScore(ctx, coupled, s); !errors.Is(err, ErrStaleScore) {
		t.Fatalf("re-send: %v", err)
	}
	// Pending, without a grade.
	if err := c.PostScore(ctx, created.ID, Score{UserID: "u2", Timestamp: ts, ActivityProgress: ActivitySubmitted, GradingProgress: GradingPending}); err != nil {
		t.Fatal(err)
	}
	if rec, _ := e.p.LatestScore(created.ID, "u2"); rec.ScoreGiven != nil || rec.ScoreMaximum != nil || rec.GradingProgress != "Pending" {
		t.Fatalf("pending score %+v", rec)
	}
	res, err := c.Results(ctx, coupled, "u1")
	if err != nil || len(res) != 1 || *res[0].ResultScore != 7.5 {
		t.Fatalf("results %+v, %v", res, err)
	}
}

func TestAGSFaults(t *testing.T) {
	t.Parallel()
	e := newServiceEnv(t, ltitest.Config{})
	ctx := context.Background()
	c := e.client(ScopeLineItem, ScopeScore)
	li := e.p.AddLineItem("tool-1", "ctx-1", ltitest.LineItem{Label: "L", ScoreMaximum: 1})
	s := Score{UserID: "u1", ScoreGiven: ptr(1), ScoreMaximum: 1, Timestamp: time.Now(), ActivityProgress: ActivityCompleted, GradingProgress: GradingFullyGraded}

	// Expired token: one refresh, then success.
	if err := c.PostScore(ctx, li, s); err != nil {
		t.Fatal(err)
	}
	e.p.ExpireTokens()
	s.Timestamp = s.Timestamp.Add(time.Second)
	if err := c.PostScore(ctx, li, s); err != nil {
		t.Fatalf("after token expiry: %v", err)
	}
	if n := len(e.p.TokenRequests()); n != 2 {
		t.Fatalf("%d token requests, want 2", n)
	}

	tests := []struct {
		name      string
		fault     ltitest.Fault
		want      error
		retryable bool
		after     time.Duration
	}{
		{"429", ltitest.Fault{Kind: ltitest.FaultTooManyRequests, RetryAfter: 3}, ErrServiceRetry, true, 3 * time.Second},
		{"500", ltitest.Fault{Kind: ltitest.FaultServerError}, ErrServiceRetry, true, 0},
		{"400", ltitest.Fault{Kind: ltitest.FaultStatus, Status: 400, Body: `{"error":"Incorrect score received"}`}, ErrServiceRefused, false, 0},
		{"403", ltitest.Fault{Kind: ltitest.FaultStatus, Status: 403, Body: `nope`}, ErrServiceRefused, false, 0},
		{"404", ltitest.Fault{Kind: ltitest.FaultStatus, Status: 404, Body: `{}`}, ErrServiceNotFound, false, 0},
		{"slow", ltitest.Fault{Kind: ltitest.FaultSlow, Delay: 5 * time.Second}, ErrServiceRetry, true, 0},
	}
	for _, tt := range tests {
		tt.fault.Service = ltitest.ServiceAGS
		e.p.InjectFault(tt.fault)
		s.Timestamp = s.Timestamp.Add(time.Second)
		err := c.PostScore(ctx, li, s)
		if !errors.Is(err, tt.want) || Retryable(err) != tt.retryable {
			t.Errorf("%s: err = %v", tt.name, err)
		}
		if d, _ := RetryAfter(err); d != tt.after {
			t.Errorf("%s: retry after %v, want %v", tt.name, d, tt.after)
		}
	}
	if err := c.PostScore(ctx, li, s); err != nil { // and it works again
		t.Fatal(err)
	}
	// Garbage and a paging loop on the container.
	container := e.p.BaseURL() + "/ags/ctx-1/lineitems"
	e.p.InjectFault(ltitest.Fault{Service: ltitest.ServiceAGS, Kind: ltitest.FaultGarbageJSON})
	if _, err := c.LineItems(ctx, container, LineItemQuery{}); !errors.Is(err, ErrServiceResponse) || !Retryable(err) {
		t.Fatalf("garbage: %v", err)
	}
	e.p.InjectFault(ltitest.Fault{Service: ltitest.ServiceAGS, Kind: ltitest.FaultPagingLoop, Count: -1})
	if _, err := c.LineItems(ctx, container, LineItemQuery{Limit: 1}); !errors.Is(err, ErrPagingLoop) {
		t.Fatalf("loop: %v", err)
	}
	e.p.ClearFaults()
}

func TestServiceURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://m/mod/lti/services.php/2/lineitems/7/lineitem?type_id=3": "https://m/mod/lti/services.php/2/lineitems/7/lineitem/scores?type_id=3",
		"https://p/li/1":  "https://p/li/1/scores",
		"https://p/li/1/": "https://p/li/1/scores",
	} {
		if got := ServiceURL(in, "scores"); got != want {
			t.Errorf("ServiceURL(%q) = %q, want %q", in, got, want)
		}
	}
}
