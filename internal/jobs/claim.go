package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// Claims on resource links: one grade sender per link at a time, on however many instances. The holder finds or
// creates the link's line item (so concurrent first grades make one line item, not one each) and sends its
// scores (so two jobs never send the same pending score at once); the others wait for it and then find those
// scores sent.

const (
	// claimTTL is how long a claim lasts without renewal: a claim of a killed instance frees itself this soon.
	claimTTL = 15 * time.Second
	// claimRenew is how often a holder renews its claim while it works.
	claimRenew = claimTTL / 4
)

// linkBusy says another job holds the link's claim and this one, run by the queue, did not wait for it: the
// worker snoozes the job (no worker sits waiting while the holder sends), and the rerun finds the link free and
// whatever the holder did not cover still pending.
type linkBusy struct{ linkID int64 }

func (e *linkBusy) Error() string {
	return fmt.Sprintf("resource link %d is being synced by another job; this one comes back to it", e.linkID)
}

// claimWaitKey bounds, in a job's context, how long it waits for a link's claim (none: as long as the context
// lives, for direct callers such as the CLI's --wait).
type claimWaitKey struct{}

// withClaimWait makes the syncs run under ctx wait at most d for a busy link.
func withClaimWait(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, claimWaitKey{}, d)
}

// queueClaimWait is how long a queued job waits for a busy link before snoozing: long enough to ride out a
// debounced job of the same link, short enough not to pin a worker behind a long sync.
const queueClaimWait = 2 * time.Second

// newHolderPrefix names this process in its claims (the suffix numbers each claim it takes).
func newHolderPrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// holdLink waits until this job holds the link's claim, then returns a context that ends when the claim is lost
// (renewal failed: another holder may have taken over, so this one must stop sending) and a release function.
func (s *Service) holdLink(ctx context.Context, linkID int64) (context.Context, func(), error) {
	holder := fmt.Sprintf("%s-%d", s.holderPrefix, s.claimSeq.Add(1))
	wait := 20 * time.Millisecond
	var giveUp time.Time
	if d, ok := ctx.Value(claimWaitKey{}).(time.Duration); ok {
		giveUp = time.Now().Add(d)
	}
	for {
		now := s.cfg.Now()
		ok, err := s.cfg.Store.ClaimLink(ctx, linkID, holder, now.Add(claimTTL), now)
		if err != nil {
			return nil, nil, fmt.Errorf("claim the resource link for grade sync: %w", err)
		}
		if ok {
			break
		}
		if !giveUp.IsZero() && time.Now().After(giveUp) {
			return nil, nil, &linkBusy{linkID}
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 250*time.Millisecond)
	}
	held, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(claimRenew)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				ok, err := s.cfg.Store.RenewLink(held, linkID, holder, s.cfg.Now().Add(claimTTL))
				if err == nil && !ok {
					cancel(fmt.Errorf("lost the grade sync claim on resource link %d (it expired while this job was stalled)", linkID))
					return
				}
			}
		}
	}()
	release := func() {
		close(done)
		cancel(nil)
		if err := s.cfg.Store.ReleaseLink(context.WithoutCancel(ctx), linkID, holder); err != nil {
			s.log.WarnContext(ctx, "release grade sync claim", "link_id", linkID, "error", err)
		}
	}
	return held, release, nil
}
