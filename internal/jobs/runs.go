package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
)

// StatusInterrupted is a run whose instance stopped mid-run (a crash, kill -9, a lost machine): it never finished,
// and other runs did its work.
const StatusInterrupted = "interrupted"

// DefaultRunHeartbeat is how often a running sync saves its counts even when they did not change.
const DefaultRunHeartbeat = 30 * time.Second

// staleHeartbeats is how many heartbeats a run may miss before it counts as dead. A live run saves its heartbeat
// every RunHeartbeat from a goroutine of its own, whatever the platform does (a request held for minutes does not
// stop it), so ten missed heartbeats (5 minutes by default) mean its process is gone, not slow. It also leaves
// room for clock skew between instances (the heartbeat is written with the writer's clock, compared with the
// reader's) and for a database that stalls a few writes.
const staleHeartbeats = 10

// staleAfter is how old a running run's heartbeat must be before an instance marks it interrupted.
func (s *Service) staleAfter() time.Duration { return staleHeartbeats * s.cfg.RunHeartbeat }

// Notes of interrupted runs, in the words the Sync page shows.
const (
	noteInterruptedGrades = "interrupted: the instance running this sync stopped mid-run (it crashed or was killed); " +
		"the grades it had not sent were picked up by the catch-up grade sync every restart queues"
	noteInterruptedMembers = "interrupted: the instance running this sync stopped mid-run (it crashed or was killed); " +
		"a catch-up member sync was queued to finish its rosters"
	noteRescued = "interrupted: the instance running this sync stopped mid-run (it crashed or was killed); " +
		"its job was rescued and run again"
)

// InterruptStaleRuns marks the runs left "running" whose heartbeat is older than the bound (staleAfter) as
// interrupted, on whatever instance they ran, and queues a catch-up member sync for each interrupted member run
// (grades need none: every start queues one, and pending grades stay pending until a platform confirms them).
// Start calls it, then every other heartbeat while the instance runs. It never touches a run that is alive:
// that run's heartbeat is at most one RunHeartbeat old.
func (s *Service) InterruptStaleRuns(ctx context.Context) error {
	now := s.cfg.Now()
	for _, kind := range Kinds {
		note := noteInterruptedGrades
		if kind == KindMembers {
			note = noteInterruptedMembers
		}
		runs, err := s.cfg.Store.InterruptRuns(ctx, kind, 0, now.Add(-s.staleAfter()), now, note)
		if err != nil {
			return err
		}
		for _, r := range runs {
			s.log.WarnContext(ctx, "marked a sync run interrupted", "kind", kind, "run_id", r.ID, "started_at", r.StartedAt)
			if kind != KindMembers || !s.ready.Load() {
				continue
			}
			// Unique while queued: several dead runs of one scope, or two instances sweeping, queue one sync.
			if _, err := s.queue.Insert(ctx, MemberSyncArgs{ResourceID: r.ResourceID, Cause: CauseStartup},
				&river.InsertOpts{UniqueOpts: queuedOnly}); err != nil {
				s.log.WarnContext(ctx, "queue the catch-up member sync", slog.Any("error", err))
			}
		}
	}
	return nil
}

// interruptRescued marks the runs of a job that River runs again after a rescue (attempt > 1): the attempt that
// recorded them is over. A run that finished meanwhile keeps its record.
func (s *Service) interruptRescued(ctx context.Context, kind Kind, jobID int64, attempt int) {
	if attempt <= 1 || jobID == 0 {
		return
	}
	now := s.cfg.Now()
	runs, err := s.cfg.Store.InterruptRuns(ctx, kind, jobID, now, now, noteRescued)
	if err != nil {
		s.log.WarnContext(ctx, "mark the rescued job's runs interrupted", "job_id", jobID, "error", err)
	}
	for _, r := range runs {
		s.log.WarnContext(ctx, "marked a sync run interrupted", "kind", kind, "run_id", r.ID, "job_id", jobID)
	}
}

// sweepRuns runs InterruptStaleRuns every other heartbeat until stop closes.
func (s *Service) sweepRuns(ctx context.Context, stop <-chan struct{}) {
	t := time.NewTicker(2 * s.cfg.RunHeartbeat)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.InterruptStaleRuns(ctx); err != nil {
				s.log.WarnContext(ctx, "look for interrupted sync runs", "error", err)
			}
		}
	}
}

// gradeProgress saves a grade run's counts as scores are accepted, at most every 200 ms (so a fast run does not
// write more than it sends), what is left a quarter second later, and a heartbeat every RunHeartbeat.
type gradeProgress struct {
	s      *Service
	notify func(Run)

	saveMu sync.Mutex // one save at a time, so that counts never go back
	mu     sync.Mutex
	latest Run
	saved  time.Time
	dirty  bool
	stop   chan struct{}
	done   chan struct{}
}

type progressFuncKey struct{}
type gradeProgressKey struct{}

// withProgressFunc makes the grade run started under ctx call fn with its counts as they change.
func withProgressFunc(ctx context.Context, fn func(Run)) context.Context {
	return context.WithValue(ctx, progressFuncKey{}, fn)
}

// SyncGradesProgress is SyncGrades calling progress with the run's counts as they change (the CLI's --wait).
func (s *Service) SyncGradesProgress(ctx context.Context, cause Cause, resourceID int64, progress func(Run)) (Run, error) {
	return s.syncGrades(withProgressFunc(ctx, progress), cause, resourceID, 0, 0)
}

// trackGradeProgress starts saving run's progress; sendOne reports through the returned context. The function
// returned stops it (before the run finishes).
func (s *Service) trackGradeProgress(ctx context.Context, run *Run) (context.Context, func()) {
	if run.ID == 0 {
		return ctx, func() {}
	}
	p := &gradeProgress{s: s, latest: *run, saved: s.cfg.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	p.notify, _ = ctx.Value(progressFuncKey{}).(func(Run))
	go p.flush(ctx)
	return context.WithValue(ctx, gradeProgressKey{}, p), func() {
		close(p.stop)
		<-p.done
	}
}

// noteProgress tells the run's tracker (if any) the counts changed; mu guards run (send's lock).
func noteProgress(ctx context.Context, run *Run, mu *sync.Mutex) {
	p, _ := ctx.Value(gradeProgressKey{}).(*gradeProgress)
	if p == nil {
		return
	}
	mu.Lock()
	snap := *run
	mu.Unlock()
	p.mu.Lock()
	p.latest, p.dirty = snap, true
	due := p.s.cfg.Now().Sub(p.saved) >= 200*time.Millisecond
	p.mu.Unlock()
	if due {
		p.save(ctx)
	}
}

func (p *gradeProgress) save(ctx context.Context) {
	p.saveMu.Lock()
	defer p.saveMu.Unlock()
	p.mu.Lock()
	now := p.s.cfg.Now()
	p.saved, p.dirty = now, false
	p.latest.UpdatedAt = now
	snap := p.latest
	p.mu.Unlock()
	if err := p.s.cfg.Store.SaveRunProgress(context.WithoutCancel(ctx), snap); err != nil {
		p.s.log.WarnContext(ctx, "save sync progress", "run_id", snap.ID, "error", err)
	}
	if p.notify != nil {
		p.notify(snap)
	}
}

func (p *gradeProgress) flush(ctx context.Context) {
	defer close(p.done)
	t := time.NewTicker(min(250*time.Millisecond, p.s.cfg.RunHeartbeat))
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			due := p.dirty || p.s.cfg.Now().Sub(p.saved) >= p.s.cfg.RunHeartbeat
			p.mu.Unlock()
			if due {
				p.save(ctx)
			}
		}
	}
}
