package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store"
)

// testToolProxies checks LTI 2.0 tool proxies: one per (resource, GUID) however many registrations race to save
// it, found by GUID only for their resource, listed newest first, removed.
func testToolProxies(t *testing.T, s Stores) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	l := storeLink(t, s)
	res, err := s.ResourceByID(ctx, l.PublishedResourceID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ToolProxy(ctx, res.ID, "guid-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no tool proxy yet: %v", err)
	}
	// The same platform registering twice at once (the same GUID): one row, the last secret wins.
	saved := make([]publish.ToolProxy, 4)
	errs := concurrently(len(saved), func(i int) error {
		saved[i] = publish.ToolProxy{ResourceID: res.ID, GUID: "guid-1", Secret: "secret-" + string(rune('a'+i)), ConsumerName: "Moodle",
			ProductFamily: "moodle", ProfileURL: "https://lms.example.edu/profile", Proxy: `{"@type":"ToolProxy"}`, CreatedAt: now}
		return s.SaveToolProxy(ctx, &saved[i])
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ToolProxy(ctx, res.ID, "guid-1")
	if err != nil || got.ID != saved[0].ID || got.ConsumerName != "Moodle" || got.ProfileURL != "https://lms.example.edu/profile" ||
		got.Proxy != `{"@type":"ToolProxy"}` || !got.CreatedAt.Equal(now) || len(got.Secret) != len("secret-a") {
		t.Fatalf("tool proxy %+v %v (saved %+v)", got, err, saved)
	}
	for _, p := range saved[1:] {
		if p.ID != got.ID {
			t.Fatalf("two rows for one GUID: %d and %d", p.ID, got.ID)
		}
	}
	split := publish.ToolProxy{ResourceID: res.ID, GUID: "guid-2", Secret: "tc-half" + "tp-half", SplitSecret: true, CreatedAt: now.Add(time.Second)}
	if err := s.SaveToolProxy(ctx, &split); err != nil {
		t.Fatal(err)
	}
	list, err := s.ToolProxies(ctx, res.ID)
	if err != nil || len(list) != 2 || list[0].GUID != "guid-2" || !list[0].SplitSecret || list[0].Secret != "tc-halftp-half" || list[1].GUID != "guid-1" {
		t.Fatalf("list %+v %v", list, err)
	}
	if _, err := s.ToolProxy(ctx, res.ID+1000, "guid-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another resource's GUID: %v", err)
	}
	if err := s.DeleteToolProxy(ctx, res.ID+1000, got.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete through another resource: %v", err)
	}
	if err := s.DeleteToolProxy(ctx, res.ID, got.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ToolProxy(ctx, res.ID, "guid-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted: %v", err)
	}
}
