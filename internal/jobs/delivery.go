package jobs

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// recorder writes what the platform answered as it answers: senders hand each accepted score (and each refusal)
// over the moment the answer arrives, and one goroutine commits whatever has gathered since its last commit in
// one transaction, a few milliseconds after the first of them (commitLinger). Under load the commits grow (a few
// statements for hundreds of scores); when scores trickle in, each is committed within milliseconds of its
// acceptance. So a crash can resend only the scores whose acceptance was in flight (answered but not yet
// committed), never a whole batch.
type recorder struct {
	s    *Service
	ctx  context.Context
	in   chan delivery
	done chan struct{}

	mu  sync.Mutex
	err error
}

type delivery struct {
	c *Confirmed
	f *Failure
}

// maxCommit bounds one commit, so that a burst does not hold SQLite's write lock for long; commitLinger is how
// long a commit waits for more answers after the first (the window in which an accepted score is not yet
// recorded, and so could be sent again after a crash).
const (
	maxCommit    = 1000
	commitLinger = 5 * time.Millisecond
)

func (s *Service) newRecorder(ctx context.Context) *recorder {
	r := &recorder{s: s, ctx: context.WithoutCancel(ctx), in: make(chan delivery, maxCommit), done: make(chan struct{})}
	go r.loop()
	return r
}

func (r *recorder) loop() {
	defer close(r.done)
	for first := range r.in {
		var cs []Confirmed
		var fs []Failure
		add := func(d delivery) {
			if d.c != nil {
				cs = append(cs, *d.c)
			}
			if d.f != nil {
				fs = append(fs, *d.f)
			}
		}
		add(first)
		// Linger a moment for the answers still arriving: one commit per few milliseconds of answers rather than
		// one per answer (a SQLite transaction costs more than the few rows it writes).
		linger := time.NewTimer(commitLinger)
	gather:
		for len(cs)+len(fs) < maxCommit {
			select {
			case d, ok := <-r.in:
				if !ok {
					break gather
				}
				add(d)
			case <-linger.C:
				break gather
			}
		}
		linger.Stop()
		if err := r.s.cfg.Store.RecordDeliveries(r.ctx, cs, fs); err != nil {
			r.mu.Lock()
			if r.err == nil {
				r.err = fmt.Errorf("record confirmed scores: %w", err)
			}
			r.mu.Unlock()
		}
	}
}

func (r *recorder) confirm(c Confirmed) { r.in <- delivery{c: &c} }
func (r *recorder) fail(f Failure)      { r.in <- delivery{f: &f} }

// failed reports a commit that failed so far (senders stop: what they send would not be recorded).
func (r *recorder) failed() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// close commits what is left and reports the first failed commit.
func (r *recorder) close() error {
	close(r.in)
	<-r.done
	return r.failed()
}
