package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
	"github.com/ltipub/ltipub/internal/tool"
)

// Registration checks on both engines: the latest one comes back whole, and goes with its registration.
func TestRegistrationChecks(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		reg := tool.Registration{Name: "Moodle"}
		if err := s.CreateRegistration(ctx, &reg); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LatestRegistrationCheck(ctx, reg.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("before any check: %v", err)
		}
		at := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
		first := &tool.CheckReport{RegistrationID: reg.ID, CheckedAt: at, CheckedBy: "admin",
			Steps: []tool.CheckStep{{Code: "jwks_fetch", Name: "keyset", Status: tool.CheckFailed, Detail: "HTTP 404.", Fix: "Copy it again."}}}
		second := &tool.CheckReport{RegistrationID: reg.ID, CheckedAt: at.Add(time.Minute), CheckedBy: "cli",
			Steps: []tool.CheckStep{{Code: "jwks_fetch", Name: "keyset", Status: tool.CheckPassed, Detail: "HTTP 200."}}}
		for _, c := range []*tool.CheckReport{first, second} {
			if err := s.SaveRegistrationCheck(ctx, c); err != nil || c.ID == 0 {
				t.Fatalf("save: %v %d", err, c.ID)
			}
		}
		got, err := s.LatestRegistrationCheck(ctx, reg.ID)
		if err != nil || got.ID != second.ID || !got.CheckedAt.Equal(second.CheckedAt) || got.CheckedBy != "cli" || !got.Passed() ||
			len(got.Steps) != 1 || got.Steps[0] != second.Steps[0] {
			t.Fatalf("latest: %+v %v", got, err)
		}
		if err := s.DeleteRegistrationKeepLog(ctx, reg.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LatestRegistrationCheck(ctx, reg.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("after deleting the registration: %v", err)
		}
	})
}

// Launch details on both engines: written with the row, kept on an update without one, read back whole, and
// dropped once older than the retention (the row stays).
func TestLaunchDetailRetention(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		e := &launch.LogEntry{At: at, Stage: launch.StageLaunch, Outcome: launch.Accepted, PlatformName: "Moodle",
			Detail: &launch.Detail{Version: "1.3", Header: map[string]any{"kid": "k1"}, Claims: map[string]any{"name": "Stu Dent"}}}
		if err := s.RecordLaunch(ctx, e); err != nil {
			t.Fatal(err)
		}
		e.Detail, e.Outcome = nil, launch.Refused // a later update without a detail keeps the one recorded
		if err := s.RecordLaunch(ctx, e); err != nil {
			t.Fatal(err)
		}
		got, err := s.LaunchLogEntry(ctx, e.ID, at.Add(-time.Hour))
		if err != nil || got.Detail == nil || got.Detail.Claims["name"] != "Stu Dent" || got.Detail.Header["kid"] != "k1" ||
			got.PlatformName != "Moodle" || got.Outcome != launch.Refused {
			t.Fatalf("entry: %+v %v", got, err)
		}
		got, err = s.LaunchLogEntry(ctx, e.ID, at.Add(time.Hour))
		if err != nil || got.Detail != nil || got.ID != e.ID {
			t.Fatalf("after the retention: %+v %v", got, err)
		}
		if _, err := s.LaunchLogEntry(ctx, 999999, at); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown row: %v", err)
		}
	})
}
