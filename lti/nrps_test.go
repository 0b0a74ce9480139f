package lti

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/ltipub/ltipub/lti/ltitest"
)

func TestMembershipsPagedAndStreamed(t *testing.T) {
	t.Parallel()
	e := newServiceEnv(t, ltitest.Config{})
	ctx := context.Background()
	c := e.client(ScopeMembership)
	e.p.SetMembers("ctx-1", []ltitest.Member{
		{UserID: "t1", Roles: []string{ltitest.RoleInstructor}, Name: "Teacher", Email: "t@example.test"},
		{UserID: "s1", Roles: []string{ltitest.RoleLearner}, GivenName: "Ada", FamilyName: "Lovelace"},
		{UserID: "s2", Roles: []string{ltitest.RoleLearner}, Status: "Inactive"},
		{UserID: "s3", Roles: []string{ltitest.RoleLearner}, Status: "Deleted", ResourceLinks: []string{"other"}},
	})
	url := e.p.BaseURL() + "/nrps/ctx-1/memberships"
	var got []Member
	res, err := c.Memberships(ctx, url, MembershipsQuery{Limit: 1}, func(ms []Member) error {
		got = append(got, ms...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pages != 4 || res.Members != 4 || len(got) != 4 || res.Context.ID != "ctx-1" {
		t.Fatalf("result %+v, members %d", res, len(got))
	}
	if got[1].FullName() != "Ada Lovelace" || !got[0].Roles.IsInstructor() || got[2].IsActive() || got[3].Status != MemberDeleted {
		t.Fatalf("members %+v", got)
	}
	// rlid restricts to the link's members.
	n := 0
	if _, err := c.Memberships(ctx, url, MembershipsQuery{RLID: "rl-1"}, func(ms []Member) error { n += len(ms); return nil }); err != nil || n != 3 {
		t.Fatalf("rlid: %d members, %v", n, err)
	}
}

func TestMembershipsFaults(t *testing.T) {
	t.Parallel()
	e := newServiceEnv(t, ltitest.Config{})
	ctx := context.Background()
	c := e.client(ScopeMembership)
	e.p.SetGeneratedRoster("big", 2000)
	url := e.p.BaseURL() + "/nrps/big/memberships"
	nop := func([]Member) error { return nil }

	e.p.InjectFault(ltitest.Fault{Service: ltitest.ServiceNRPS, Kind: ltitest.FaultPagingLoop, Count: -1})
	if _, err := c.Memberships(ctx, url, MembershipsQuery{Limit: 100}, nop); !errors.Is(err, ErrPagingLoop) {
		t.Fatalf("loop: %v", err)
	}
	e.p.ClearFaults()
	e.p.InjectFault(ltitest.Fault{Service: ltitest.ServiceNRPS, Kind: ltitest.FaultGarbageJSON})
	if _, err := c.Memberships(ctx, url, MembershipsQuery{}, nop); !errors.Is(err, ErrServiceResponse) {
		t.Fatalf("garbage: %v", err)
	}
	// One page of 2000 members is about 300 kB: over a 64 kB limit.
	small := *c
	small.MaxPageBytes = 64 << 10
	if _, err := small.Memberships(ctx, url, MembershipsQuery{}, nop); !errors.Is(err, ErrServiceTooLarge) {
		t.Fatalf("huge page: %v", err)
	}
	// A callback error stops the listing.
	stop := errors.New("stop")
	if _, err := c.Memberships(ctx, url, MembershipsQuery{}, func([]Member) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("callback error: %v", err)
	}
}

func BenchmarkMemberships50k(b *testing.B) {
	e := newServiceEnv(b, ltitest.Config{})
	e.p.SetGeneratedRoster("big", 50000)
	c := e.client(ScopeMembership)
	url := e.p.BaseURL() + "/nrps/big/memberships"
	for b.Loop() {
		var ms runtime.MemStats
		n := 0
		if _, err := c.Memberships(context.Background(), url, MembershipsQuery{Limit: 1000}, func(m []Member) error { n += len(m); return nil }); err != nil || n != 50000 {
			b.Fatal(n, err)
		}
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heapMiB")
	}
}
