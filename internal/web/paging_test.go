package web

import (
	"errors"
	"net/url"
	"testing"
)

func TestReadPage(t *testing.T) {
	tests := []struct {
		query    string
		want     pageReq
		wantFail bool
	}{
		{"", pageReq{Page: 1, Size: 50}, false},
		{"page=3&size=25", pageReq{Page: 3, Size: 25}, false},
		{"size=5000", pageReq{Page: 1, Size: 200}, false},
		{"page=99999999999", pageReq{Page: 1 << 30 / 50, Size: 50}, false}, // simply past the end
		{"page=0", pageReq{}, true},
		{"page=two", pageReq{}, true},
		{"size=-1", pageReq{}, true},
		{"page=2147483647&size=200", pageReq{Page: 1 << 30 / 200, Size: 200}, false},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.query)
		got, err := readPage(q)
		var p *Problem
		if tt.wantFail {
			if !errors.As(err, &p) || p.Status != 400 {
				t.Errorf("%q: %v, want a 400 page", tt.query, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %+v %v, want %+v", tt.query, got, err, tt.want)
		}
	}
}

func TestPagerLinksKeepFilters(t *testing.T) {
	q, _ := url.ParseQuery("q=ann+b&role=teacher&status=&size=50&page=2")
	p := newPager("/courses/1/enrolments", q, pageReq{Page: 2, Size: 50}, 5000, 50, "enrolments", true)
	if p.From != 51 || p.To != 100 || p.Pages != 100 {
		t.Fatalf("%+v", p)
	}
	// Every filter kept, empty ones and the default size dropped, page 1 without page=.
	if p.Prev != "/courses/1/enrolments?q=ann+b&role=teacher" || p.First != p.Prev ||
		p.Next != "/courses/1/enrolments?page=3&q=ann+b&role=teacher" || p.Last != "/courses/1/enrolments?page=100&q=ann+b&role=teacher" {
		t.Fatalf("links: %+v", p)
	}
	last := newPager("/x", url.Values{"size": {"200"}}, pageReq{Page: 25, Size: 200}, 5000, 200, "rows", false)
	if last.Next != "" || last.Prev != "/x?page=24&size=200" {
		t.Fatalf("last page: %+v", last)
	}
	past := newPager("/x", nil, pageReq{Page: 9, Size: 50}, 120, 0, "rows", false)
	if !past.PastEnd() || past.Prev != "/x?page=3" || past.Next != "" {
		t.Fatalf("past the end: %+v", past)
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 50001: "50,001", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q", n, got)
		}
	}
}
