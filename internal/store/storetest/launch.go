package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/keys"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti"
)

// The tables several instances share: launch state and nonces (claimed once, whoever asks at the same moment),
// the launch log, the tool's keys (rotated by any instance) and the service token cache.

func storeRegistration(t *testing.T, s Stores) tool.Registration {
	t.Helper()
	r := tool.Registration{Name: "Conformance platform", Issuer: "https://lms.example.edu", ClientID: "client-1",
		JWKSURL: "https://lms.example.edu/jwks", TokenURL: "https://lms.example.edu/token", AuthURL: "https://lms.example.edu/auth"}
	if err := s.CreateRegistration(context.Background(), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// concurrently runs fn n times at once and returns the errors.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func testLaunchState(t *testing.T, s Stores) {
	ctx := context.Background()
	reg := storeRegistration(t, s)
	now := time.Now().UTC().Truncate(time.Microsecond)
	st := launch.State{State: "state-1", Nonce: "nonce-1", RegistrationID: reg.ID, TargetLinkURI: "https://tool.example/lti/launch",
		StorageTarget: "_parent", LogID: 42, CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	if err := s.SaveState(ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveState(ctx, st); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("saving a state twice: %v, want ErrAlreadyExists", err)
	}
	got, err := s.LoadState(ctx, "state-1")
	if err != nil || got.Nonce != st.Nonce || got.RegistrationID != reg.ID || got.StorageTarget != "_parent" || got.LogID != 42 ||
		!got.ExpiresAt.Equal(st.ExpiresAt) || !got.UsedAt.IsZero() {
		t.Fatalf("load state: %+v %v", got, err)
	}
	if _, err := s.LoadState(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown state: %v", err)
	}
	// Eight instances claim the same state at once: exactly one wins; the others learn it was used.
	errs := concurrently(8, func(int) error {
		_, err := s.ClaimState(ctx, "state-1", now.Add(time.Second))
		return err
	})
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("claim: %v, want nil or ErrConflict", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d claims of one state won, want 1", won)
	}
	used, err := s.ClaimState(ctx, "state-1", now.Add(2*time.Second))
	if !errors.Is(err, store.ErrConflict) || used.UsedAt.IsZero() || used.RegistrationID != reg.ID {
		t.Errorf("claiming a used state: %+v %v", used, err)
	}
	if _, err := s.ClaimState(ctx, "nope", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("claiming an unknown state: %v", err)
	}
	// Clean-up keeps a state an hour after expiry (a late post says "expired"), then deletes it.
	if err := s.DeleteExpiredLaunchState(ctx, now.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadState(ctx, "state-1"); err != nil {
		t.Errorf("a state 20 minutes past expiry is gone: %v", err)
	}
	if err := s.DeleteExpiredLaunchState(ctx, now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadState(ctx, "state-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a state long expired survives clean-up: %v", err)
	}
}

func testNonces(t *testing.T, s Stores) {
	ctx := context.Background()
	until := time.Now().Add(time.Hour)
	errs := concurrently(8, func(int) error { return s.UseNonce(ctx, "https://lms.example.edu", "n-1", until) })
	fresh := 0
	for _, err := range errs {
		switch {
		case err == nil:
			fresh++
		case !errors.Is(err, lti.ErrNonceReused):
			t.Errorf("use nonce: %v", err)
		}
	}
	if fresh != 1 {
		t.Fatalf("%d uses of one nonce were accepted, want 1", fresh)
	}
	// Nonces are per issuer.
	if err := s.UseNonce(ctx, "https://other.example.edu", "n-1", until); err != nil {
		t.Errorf("the same nonce from another issuer: %v", err)
	}
	// An expired nonce is cleaned up, and can be seen again afterwards (its token can no longer be valid).
	if err := s.UseNonce(ctx, "https://lms.example.edu", "n-old", time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteExpiredLaunchState(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.UseNonce(ctx, "https://lms.example.edu", "n-old", until); err != nil {
		t.Errorf("an expired nonce was not cleaned up: %v", err)
	}
	if err := s.UseNonce(ctx, "https://lms.example.edu", "n-1", until); !errors.Is(err, lti.ErrNonceReused) {
		t.Errorf("clean-up dropped a live nonce: %v", err)
	}
}

func testLaunchLog(t *testing.T, s Stores) {
	ctx := context.Background()
	reg := storeRegistration(t, s)
	t0 := time.Now().UTC().Truncate(time.Microsecond)
	e := &launch.LogEntry{At: t0, RegistrationID: reg.ID, Issuer: reg.Issuer, Stage: launch.StageLogin, Outcome: launch.Accepted,
		Path: launch.PathNewWindow, RequestID: "req-1"}
	if err := s.RecordLaunch(ctx, e); err != nil || e.ID == 0 {
		t.Fatalf("record: %v (id %d)", err, e.ID)
	}
	// The launch finishes its login's row: the same row, updated.
	e.Stage, e.Outcome, e.Code, e.Reason, e.DeploymentID, e.At = launch.StageLaunch, launch.Refused, "state_expired", "too late", "dep-1", t0.Add(time.Minute)
	id := e.ID
	if err := s.RecordLaunch(ctx, e); err != nil || e.ID != id {
		t.Fatalf("update: %v (id %d, want %d)", err, e.ID, id)
	}
	other := &launch.LogEntry{At: t0.Add(2 * time.Minute), Issuer: "https://stranger.example", Stage: launch.StageLogin, Outcome: launch.Refused,
		Code: "platform_unknown"}
	if err := s.RecordLaunch(ctx, other); err != nil {
		t.Fatal(err)
	}
	all, err := s.LaunchLog(ctx, launch.LogFilter{})
	if err != nil || len(all) != 2 || all[0].ID != other.ID {
		t.Fatalf("log: %+v %v", all, err)
	}
	if got := all[1]; got.Stage != launch.StageLaunch || got.Code != "state_expired" || got.DeploymentID != "dep-1" ||
		got.Path != launch.PathNewWindow || !got.At.Equal(t0.Add(time.Minute)) || got.RegistrationID != reg.ID {
		t.Errorf("updated row: %+v", got)
	}
	if got, _ := s.LaunchLog(ctx, launch.LogFilter{RegistrationID: reg.ID}); len(got) != 1 || got[0].ID != id {
		t.Errorf("by registration: %+v", got)
	}
	if got, _ := s.LaunchLog(ctx, launch.LogFilter{Outcome: launch.Refused, Limit: 1}); len(got) != 1 || got[0].ID != other.ID {
		t.Errorf("refused, limit 1: %+v", got)
	}
	// A row deleted meanwhile (its registration deleted) is written again rather than lost.
	gone := &launch.LogEntry{ID: 1 << 40, At: t0, Stage: launch.StageLaunch, Outcome: launch.Accepted}
	if err := s.RecordLaunch(ctx, gone); err != nil || gone.ID == 1<<40 {
		t.Errorf("update of a missing row: %v (id %d)", err, gone.ID)
	}
}

func testKeyRotation(t *testing.T, s Stores) {
	ctx := context.Background()
	// Two instances start at once: one active key.
	a, b := keys.NewManager(s, time.Hour, nil), keys.NewManager(s, time.Hour, nil)
	for _, err := range concurrently(2, func(i int) error { return []*keys.Manager{a, b}[i].Ensure(ctx) }) {
		if err != nil {
			t.Fatal(err)
		}
	}
	activeCount := func() (int, []keys.Key) {
		ks, err := s.ToolKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, k := range ks {
			if k.Status == keys.StatusActive {
				n++
			}
		}
		return n, ks
	}
	if n, ks := activeCount(); n != 1 || len(ks) != 1 {
		t.Fatalf("after two instances started: %d active of %d keys", n, len(ks))
	}
	// Both rotate at once: each rotation holds, one after the other; one key is active, the others previous.
	for _, err := range concurrently(2, func(i int) error {
		_, err := []*keys.Manager{a, b}[i].Rotate(ctx)
		return err
	}) {
		if err != nil {
			t.Fatalf("rotate: %v", err)
		}
	}
	n, ks := activeCount()
	if n != 1 || len(ks) != 3 || ks[0].Status != keys.StatusActive {
		t.Fatalf("after two rotations at once: %d active of %d keys (%v first)", n, len(ks), ks[0].Status)
	}
	for _, k := range ks[1:] {
		if k.Status != keys.StatusPrevious || k.RetireAt.IsZero() {
			t.Errorf("a rotated key is %s retiring at %v", k.Status, k.RetireAt)
		}
	}
	// After the overlap they retire and leave the list.
	if _, err := s.RetireKeys(ctx, time.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, ks := activeCount(); n != 1 || len(ks) != 1 {
		t.Errorf("after the overlap: %d active of %d keys", n, len(ks))
	}
}

func testServiceTokens(t *testing.T, s Stores) {
	ctx := context.Background()
	reg := storeRegistration(t, s)
	key := fmt.Sprintf("%d|scope-a scope-b", reg.ID)
	if _, ok, err := s.ServiceToken(ctx, key); ok || err != nil {
		t.Fatalf("empty cache: %v %v", ok, err)
	}
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	tok := lti.ServiceToken{AccessToken: "secret-1", Scopes: []string{"scope-a", "scope-b"}, Expiry: exp}
	if err := s.PutServiceToken(ctx, reg.ID, key, tok); err != nil {
		t.Fatal(err)
	}
	// Two instances refresh the same token at once: the last write holds, nothing fails.
	for _, err := range concurrently(2, func(i int) error {
		return s.PutServiceToken(ctx, reg.ID, key, lti.ServiceToken{AccessToken: fmt.Sprintf("secret-%d", i+2), Scopes: tok.Scopes, Expiry: exp})
	}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, ok, err := s.ServiceToken(ctx, key)
	if err != nil || !ok || (got.AccessToken != "secret-2" && got.AccessToken != "secret-3") || !got.Expiry.Equal(exp) || len(got.Scopes) != 2 {
		t.Fatalf("cached token: %+v %v %v", got, ok, err)
	}
	if err := s.DeleteServiceToken(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.ServiceToken(ctx, key); ok {
		t.Error("a deleted token is still cached")
	}
}
