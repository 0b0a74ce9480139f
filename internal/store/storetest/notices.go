package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/notice"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store"
)

// noticeStores is what the notice checks use: the notice store and the copied-contexts lookup of launches.
type noticeStores interface {
	Stores
	notice.Store
	publish.CopiedContexts
}

// testNotices: notice handlers (replaced in place), notices recorded once per notice id even when two deliveries
// race, context copies (idempotent), and the copied course's lookup of its origin's links, through copies of copies.
func testNotices(t *testing.T, st Stores) {
	s, ok := st.(noticeStores)
	if !ok {
		t.Fatalf("%T does not store notices", st)
	}
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	l := storeLink(t, s) // rl-1 in dep-1, no context yet
	l.ContextID, l.Title = "course-A", "Week 1"
	if err := s.SaveResourceLink(ctx, &l); err != nil {
		t.Fatal(err)
	}

	h := notice.Handler{RegistrationID: l.RegistrationID, DeploymentID: "dep-1", NoticeType: "LtiContextCopyNotice",
		ServiceURL: "https://lms.example.edu/pns/1", HandlerURL: "https://tool.example/lti/notices/1", Error: "refused", UpdatedAt: now}
	if err := s.SaveNoticeHandler(ctx, h); err != nil {
		t.Fatal(err)
	}
	h.Error, h.RegisteredAt = "", now
	if err := s.SaveNoticeHandler(ctx, h); err != nil {
		t.Fatal(err)
	}
	hs, err := s.NoticeHandlers(ctx, l.RegistrationID, "dep-1")
	if err != nil || len(hs) != 1 || !hs[0].Registered() || !hs[0].RegisteredAt.Equal(now) {
		t.Fatalf("handlers: %+v %v", hs, err)
	}

	errs := concurrently(4, func(int) error {
		rec := notice.Record{RegistrationID: l.RegistrationID, DeploymentID: "dep-1", NoticeID: "n-1", Type: "LtiHelloWorldNotice",
			Outcome: notice.Handled, Summary: "hello", Claims: "{}", ReceivedAt: now}
		return s.RecordNotice(ctx, &rec)
	})
	recorded := 0
	for _, err := range errs {
		switch {
		case err == nil:
			recorded++
		case !errors.Is(err, store.ErrAlreadyExists):
			t.Fatalf("record notice: %v", err)
		}
	}
	recs, err := s.Notices(ctx, l.RegistrationID, 10)
	if recorded != 1 || err != nil || len(recs) != 1 || recs[0].Summary != "hello" || !recs[0].ReceivedAt.Equal(now) {
		t.Fatalf("one notice delivered four times at once: %d recorded, %+v %v", recorded, recs, err)
	}

	// course-C is a copy of course-B, itself a copy of course-A (whose link is known).
	for _, c := range []notice.ContextCopy{
		{RegistrationID: l.RegistrationID, DeploymentID: "dep-1", ContextID: "course-B", OriginContextID: "course-A", NoticeID: "n-2", CopiedAt: now},
		{RegistrationID: l.RegistrationID, DeploymentID: "dep-1", ContextID: "course-B", OriginContextID: "course-A", NoticeID: "n-2", CopiedAt: now},
		{RegistrationID: l.RegistrationID, DeploymentID: "dep-1", ContextID: "course-C", OriginContextID: "course-B", NoticeID: "n-3", CopiedAt: now},
	} {
		if err := s.SaveContextCopy(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, ctxID := range []string{"course-B", "course-C"} {
		links, err := s.CopiedContextLinks(ctx, l.RegistrationID, "dep-1", ctxID)
		if err != nil || len(links) != 1 || links[0].ID != l.ID || links[0].Title != "Week 1" {
			t.Fatalf("links reached from %s: %+v %v", ctxID, links, err)
		}
	}
	if links, err := s.CopiedContextLinks(ctx, l.RegistrationID, "dep-2", "course-B"); err != nil || len(links) != 0 {
		t.Fatalf("another deployment's copy: %+v %v", links, err)
	}
	if links, err := s.CopiedContextLinks(ctx, l.RegistrationID, "dep-1", "course-A"); err != nil || len(links) != 0 {
		t.Fatalf("a course copied from nothing: %+v %v", links, err)
	}
}
