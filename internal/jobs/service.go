package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti"
)

// DefaultInterval is how often the periodic syncs run unless configured.
const DefaultInterval = 30 * time.Minute

// Config wires the sync service.
type Config struct {
	Store     Store
	Publish   publish.Store
	Provision *publish.Service
	Courses   course.Store
	// Registrations finds a link's platform registration.
	Registrations interface {
		Registration(ctx context.Context, id int64) (tool.Registration, error)
	}
	// Keys gives the tool's active signing key, for client assertions.
	Keys interface {
		Active(ctx context.Context) (lti.SigningKey, error)
	}
	// Legacy reads LTI 1.1 links (Basic Outcomes and the memberships extension, legacy.go); nil skips them.
	Legacy LegacyStore
	// HTTP is the guarded client for platform URLs.
	HTTP *http.Client
	Log  *slog.Logger
	Now  func() time.Time

	// Engine ("sqlite" or "postgres") and DSN locate the database; River opens its own pool on it.
	Engine string
	DSN    string

	// GradeInterval and MemberInterval space the periodic runs (0: DefaultInterval; negative: no periodic run).
	GradeInterval  time.Duration
	MemberInterval time.Duration
	// Debounce is how long a grade change waits, gathering other changes, before its sync (default 2 s).
	Debounce time.Duration
	// PlatformConcurrency limits concurrent requests to one platform from this instance (default 4).
	PlatformConcurrency int
	// Workers is how many jobs one instance runs at once (default 8).
	Workers int
	// RequestRetries is how many times a job retries a request that failed transiently (429, 5xx, timeout)
	// before giving up the link for this attempt (default 3); RetryWait is the longest Retry-After honoured in
	// place (default 10 s) — longer waits snooze the job instead.
	RequestRetries int
	RetryWait      time.Duration
	// MemberPageSize is the NRPS page size asked for (default 1000).
	MemberPageSize int
	// MaxPageBytes limits one roster page (default 64 MiB): a platform that ignores the page size and answers
	// with a huge page is refused, not read.
	MaxPageBytes int64
	// PollInterval is how often an idle instance looks for jobs that other instances queued (default 1 s).
	PollInterval time.Duration
	// MaxUnenrolShare is the share of a link's members (0 to 1) one member sync may unenrol before it holds back
	// for an admin's confirmation (default DefaultMaxUnenrolShare; 1 or more: never hold).
	MaxUnenrolShare float64
	// MemberClaimLease is how long a member sync's claim on a link lasts without renewal (default 1 minute): the
	// time a crashed run keeps other runs off the link. Runs renew it every quarter lease.
	MemberClaimLease time.Duration
	// Notices registers PNS notice handlers (notice_handlers jobs); nil: none are queued.
	Notices NoticeRegistrar
	// RunHeartbeat is how often a running sync saves its counts even when unchanged (default
	// DefaultRunHeartbeat); a run whose heartbeat is ten times older is marked interrupted (runs.go).
	RunHeartbeat time.Duration
}

// Service runs and schedules the syncs.
type Service struct {
	cfg     Config
	log     *slog.Logger
	queue   queue
	migrate func(context.Context) error
	close   func()

	ready atomic.Bool // River's tables exist: jobs may be queued

	sweepStop chan struct{} // ends the interrupted-runs sweep (runs.go); nil before Start
	sweepDone chan struct{}

	holderPrefix string       // names this process in link claims (claim.go)
	claimSeq     atomic.Int64 // numbers the claims it takes

	mu   sync.Mutex
	sems map[int64]chan struct{}
	toks map[string]*lti.TokenSource
}

// New builds the service on its own pool (opened lazily); Start migrates River's tables and starts the workers.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil || cfg.Publish == nil || cfg.Provision == nil || cfg.Courses == nil:
		return nil, errors.New("jobs: Config.Store, Publish, Provision and Courses are required")
	case cfg.Registrations == nil || cfg.Keys == nil || cfg.HTTP == nil:
		return nil, errors.New("jobs: Config.Registrations, Keys and HTTP are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.GradeInterval == 0 {
		cfg.GradeInterval = DefaultInterval
	}
	if cfg.MemberInterval == 0 {
		cfg.MemberInterval = DefaultInterval
	}
	if cfg.Debounce <= 0 {
		cfg.Debounce = 2 * time.Second
	}
	if cfg.PlatformConcurrency <= 0 {
		cfg.PlatformConcurrency = 4
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.RequestRetries <= 0 {
		cfg.RequestRetries = 3
	}
	if cfg.RetryWait <= 0 {
		cfg.RetryWait = 10 * time.Second
	}
	if cfg.MemberPageSize <= 0 {
		cfg.MemberPageSize = 1000
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.MaxUnenrolShare <= 0 {
		cfg.MaxUnenrolShare = DefaultMaxUnenrolShare
	}
	if cfg.MemberClaimLease <= 0 {
		cfg.MemberClaimLease = time.Minute
	}
	if cfg.RunHeartbeat <= 0 {
		cfg.RunHeartbeat = DefaultRunHeartbeat
	}
	s := &Service{cfg: cfg, log: cfg.Log, sems: map[int64]chan struct{}{}, toks: map[string]*lti.TokenSource{},
		holderPrefix: newHolderPrefix()}

	workers := river.NewWorkers()
	river.AddWorker(workers, &gradeWorker{s: s})
	river.AddWorker(workers, &gradeSoonWorker{s: s})
	river.AddWorker(workers, &memberWorker{s: s})
	river.AddWorker(workers, &noticeWorker{s: s})
	rc := &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:           workers,
		Logger:            cfg.Log.With(slog.String("component", "river")),
		FetchPollInterval: cfg.PollInterval,
		FetchCooldown:     50 * time.Millisecond,
		// Timeouts sized to the work (each worker's Timeout), so that a job left running by a killed instance is
		// known stuck soon: River's rescuer (every 30 s) retries a running job once it is older than both
		// RescueStuckJobsAfter and its worker's timeout. A restarted instance does not wait for that: Start queues
		// a catch-up grade sync of its own.
		JobTimeout:           soonTimeout,
		RescueStuckJobsAfter: soonTimeout,
		MaxAttempts:          10,
	}
	if cfg.GradeInterval > 0 {
		rc.PeriodicJobs = append(rc.PeriodicJobs, periodic(GradeSyncArgs{Cause: CausePeriodic}, cfg.GradeInterval))
	}
	if cfg.MemberInterval > 0 {
		rc.PeriodicJobs = append(rc.PeriodicJobs, periodic(MemberSyncArgs{Cause: CausePeriodic}, cfg.MemberInterval))
	}
	q, migrate, closeFn, err := openQueue(cfg.Engine, cfg.DSN, rc)
	if err != nil {
		return nil, err
	}
	s.queue, s.migrate, s.close = q, migrate, closeFn
	return s, nil
}

// Job timeouts. A debounced grade job sends one user's grades: a minute is plenty even behind a slow platform.
// A full grade sync of a large course behind a slow platform (Moodle answers a few dozen scores a second) may
// take minutes; a member sync of a 50,000-member roster pages through 50 pages. Work cut by a timeout is not
// lost: sent scores are marked, and the retry sends the rest.
const (
	soonTimeout   = time.Minute
	gradeTimeout  = 10 * time.Minute
	memberTimeout = 15 * time.Minute
)

// periodic schedules args every interval. River inserts periodic jobs only on the elected leader; the unique
// period on top makes a second insert in the same period (a new leader's RunOnStart, say) a no-op, so each period
// has one run across all instances.
func periodic(args river.JobArgs, every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every), func() (river.JobArgs, *river.InsertOpts) {
		return args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: every}}
	}, &river.PeriodicJobOpts{RunOnStart: true, ID: args.Kind()})
}

// Migrate creates or updates River's tables (idempotent; several instances may run it at once).
func (s *Service) Migrate(ctx context.Context) error {
	if err := s.migrate(ctx); err != nil {
		return err
	}
	s.ready.Store(true)
	return nil
}

// Start migrates River's tables, then starts the workers and the periodic schedule. It returns once they run;
// Stop ends them. Workers stop when ctx ends too.
//
// Every start queues a catch-up grade sync, without uniqueness: after a crash the periodic sync of the current
// period may count as already run, and a job the dead process left running would swallow a unique insert, yet
// grades it left pending must go out now. Several instances starting at once each queue one; link claims make
// the later ones find nothing left to send.
func (s *Service) Start(ctx context.Context) error {
	if err := s.Migrate(ctx); err != nil {
		return err
	}
	if err := s.queue.Start(ctx); err != nil {
		return err
	}
	if _, err := s.queue.Insert(ctx, GradeSyncArgs{Cause: CauseStartup}, nil); err != nil {
		s.log.WarnContext(ctx, "queue the start-up grade sync", slog.Any("error", err))
	}
	// Runs a dead instance left "running" are marked interrupted now if their heartbeat is already old, else by
	// the sweep once it is (runs.go); interrupted member runs get a catch-up member sync then.
	if err := s.InterruptStaleRuns(ctx); err != nil {
		s.log.WarnContext(ctx, "look for interrupted sync runs", slog.Any("error", err))
	}
	s.sweepStop, s.sweepDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.sweepDone)
		s.sweepRuns(context.WithoutCancel(ctx), s.sweepStop)
	}()
	return nil
}

// Stop lets running jobs finish (up to ctx), then closes the queue's pool.
func (s *Service) Stop(ctx context.Context) error {
	if s.sweepStop != nil {
		close(s.sweepStop)
		<-s.sweepDone
		s.sweepStop = nil
	}
	err := s.queue.Stop(ctx)
	if s.close != nil {
		s.close()
		s.close = nil
	}
	return err
}

// Close closes the queue's pool of a service that was never started.
func (s *Service) Close() {
	if s.close != nil {
		s.close()
		s.close = nil
	}
}

// Job arguments. They are stored as JSON in River's job table.

// GradeSyncArgs syncs the grades of one published resource (0: all with grade sync on).
type GradeSyncArgs struct {
	ResourceID int64 `json:"resource_id,omitempty"`
	UserID     int64 `json:"user_id,omitempty"` // one learner only (a Retry of one delivery)
	Cause      Cause `json:"cause"`
}

// Kind names the job in River's table.
func (GradeSyncArgs) Kind() string { return "grade_sync" }

// GradeSoonArgs syncs one user's grades in one activity (and so its course total) soon after they changed.
// Slot is the end of the debounce window: changes within one window share one job.
type GradeSoonArgs struct {
	ActivityID int64 `json:"activity_id"`
	UserID     int64 `json:"user_id"`
	Slot       int64 `json:"slot"`
}

// Kind names the job in River's table.
func (GradeSoonArgs) Kind() string { return "grade_sync_soon" }

// MemberSyncArgs syncs the rosters of one published resource (0: all with member sync on), or of one of its
// links. Force applies unenrolments the safety valve would hold (an admin's confirmation).
type MemberSyncArgs struct {
	ResourceID int64 `json:"resource_id,omitempty"`
	LinkID     int64 `json:"link_id,omitempty"`
	Force      bool  `json:"force,omitempty"`
	Cause      Cause `json:"cause"`
}

// Kind names the job in River's table.
func (MemberSyncArgs) Kind() string { return "member_sync" }

// queuedOnly dedupes a job against an identical one still waiting or running, but not a finished one.
var queuedOnly = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{rivertype.JobStateAvailable,
	rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled, rivertype.JobStateRetryable}}

// RunNow queues a sync of kind for one resource (0: all). An identical sync already queued is not doubled; its
// job ID is returned.
func (s *Service) RunNow(ctx context.Context, kind Kind, resourceID int64) (int64, error) {
	var args river.JobArgs
	switch kind {
	case KindGrades:
		args = GradeSyncArgs{ResourceID: resourceID, Cause: CauseManual}
	case KindMembers:
		args = MemberSyncArgs{ResourceID: resourceID, Cause: CauseManual}
	default:
		return 0, fmt.Errorf("unknown sync %q (grades or members)", kind)
	}
	res, err := s.queue.Insert(ctx, args, &river.InsertOpts{UniqueOpts: queuedOnly})
	if err != nil {
		return 0, fmt.Errorf("queue the %s sync: %w", kind, err)
	}
	return res.Job.ID, nil
}

// JobState reports a queued job's state ("" when it is gone).
func (s *Service) JobState(ctx context.Context, id int64) (string, error) {
	j, err := s.queue.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return string(j.State), nil
}

// GradeChanged queues a sync of one grade, to run when the debounce window ends. It is the notifier the course
// service calls after a grade change commits; a failure is logged, not returned: the periodic sync sends the
// grade anyway, because its revision is not marked.
func (s *Service) GradeChanged(ctx context.Context, g course.Grade) {
	if !s.ready.Load() {
		return // no queue in this process (a command, or a test without jobs): the periodic sync sends it
	}
	d := s.cfg.Debounce
	now := s.cfg.Now()
	slot := now.Truncate(d).Add(d)
	_, err := s.queue.Insert(context.WithoutCancel(ctx), GradeSoonArgs{ActivityID: g.ActivityID, UserID: g.UserID, Slot: slot.UnixMilli()},
		&river.InsertOpts{ScheduledAt: slot, UniqueOpts: queuedOnly})
	if err != nil {
		s.log.WarnContext(ctx, "queue grade sync", slog.Int64("activity_id", g.ActivityID), slog.Int64("user_id", g.UserID),
			slog.Any("error", err))
	}
}

// platformClient is the HTTP client for one registration: the guarded client, with at most
// PlatformConcurrency requests in flight to that platform from this instance.
func (s *Service) platformClient(regID int64) *http.Client {
	s.mu.Lock()
	sem, ok := s.sems[regID]
	if !ok {
		sem = make(chan struct{}, s.cfg.PlatformConcurrency)
		s.sems[regID] = sem
	}
	s.mu.Unlock()
	base := s.cfg.HTTP
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	c := *base
	c.Transport = limitTransport{rt: rt, sem: sem}
	return &c
}

type limitTransport struct {
	rt  http.RoundTripper
	sem chan struct{}
}

func (t limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case t.sem <- struct{}{}:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	resp, err := t.rt.RoundTrip(r)
	if err != nil {
		<-t.sem
		return nil, err
	}
	// The slot is held until the body is read and closed: a streamed roster page is a request in flight.
	resp.Body = &releaseBody{ReadCloser: resp.Body, release: func() { <-t.sem }}
	return resp, nil
}

type releaseBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

// tokenSource is the cached token source of a registration (tokens live in the database, shared by instances).
func (s *Service) tokenSource(reg tool.Registration, hc *http.Client) *lti.TokenSource {
	key := fmt.Sprintf("%d\x00%s\x00%s\x00%s", reg.ID, reg.ClientID, reg.TokenURL, reg.TokenAudience)
	s.mu.Lock()
	defer s.mu.Unlock()
	if ts, ok := s.toks[key]; ok {
		return ts
	}
	ts := &lti.TokenSource{HTTP: hc, Cache: tokenCache{s.cfg.Store, reg.ID}, Now: s.cfg.Now,
		Credentials: lti.ServiceCredentials{ClientID: reg.ClientID, TokenURL: reg.TokenURL, Audience: reg.TokenAudience,
			Key: s.cfg.Keys.Active}}
	s.toks[key] = ts
	return ts
}

// serviceClient is an AGS/NRPS client for a registration and a scope set.
func (s *Service) serviceClient(reg tool.Registration, scopes []string) *lti.ServiceClient {
	hc := s.platformClient(reg.ID)
	return &lti.ServiceClient{HTTP: hc, Tokens: s.tokenSource(reg, hc), Scopes: scopes, MaxPageBytes: s.cfg.MaxPageBytes}
}

type tokenCache struct {
	st    Store
	regID int64
}

func (c tokenCache) CachedToken(ctx context.Context, key string) (lti.ServiceToken, bool, error) {
	return c.st.ServiceToken(ctx, key)
}

func (c tokenCache) StoreToken(ctx context.Context, key string, t lti.ServiceToken) error {
	return c.st.PutServiceToken(ctx, c.regID, key, t)
}

func (c tokenCache) DropToken(ctx context.Context, key string) error {
	return c.st.DeleteServiceToken(ctx, key)
}

// retry runs fn, retrying transient failures in place (RequestRetries times, waiting Retry-After when it is at
// most RetryWait, else a short backoff).
func (s *Service) retry(ctx context.Context, fn func() error) error {
	backoff := 200 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || !lti.Retryable(err) || attempt >= s.cfg.RequestRetries {
			return err
		}
		wait := backoff << attempt
		if ra, ok := lti.RetryAfter(err); ok {
			if ra > s.cfg.RetryWait {
				return err
			}
			wait = ra
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// busySnooze is how long a job that found a link busy waits before it runs again.
const busySnooze = 3 * time.Second

// jobOutcome turns a run's transient failure into River's retry: a snooze for the platform's Retry-After (not
// counted as an attempt, at most 5 times in a row), else an error for River's exponential backoff.
func jobOutcome(job *rivertype.JobRow, err error) error {
	if err == nil || !lti.Retryable(err) {
		return nil
	}
	if ra, ok := lti.RetryAfter(err); ok && snoozes(job) < 5 {
		return river.JobSnooze(ra)
	}
	return err
}

func snoozes(job *rivertype.JobRow) int {
	var md struct {
		Snoozes int `json:"snoozes"`
	}
	_ = json.Unmarshal(job.Metadata, &md)
	return md.Snoozes
}

type gradeWorker struct {
	river.WorkerDefaults[GradeSyncArgs]
	s *Service
}

func (w *gradeWorker) Timeout(*river.Job[GradeSyncArgs]) time.Duration { return gradeTimeout }

func (w *gradeWorker) Work(ctx context.Context, job *river.Job[GradeSyncArgs]) error {
	w.s.interruptRescued(ctx, KindGrades, job.ID, job.Attempt)
	run, err := w.s.syncGrades(withClaimWait(ctx, queueClaimWait), job.Args.Cause, job.Args.ResourceID, job.Args.UserID, job.ID)
	if errors.As(err, new(*linkBusy)) {
		return river.JobSnooze(busySnooze)
	}
	if err != nil && run.ID == 0 {
		return err // the database is not answering: River retries
	}
	return jobOutcome(job.JobRow, err)
}

type gradeSoonWorker struct {
	river.WorkerDefaults[GradeSoonArgs]
	s *Service
}

func (w *gradeSoonWorker) Timeout(*river.Job[GradeSoonArgs]) time.Duration { return soonTimeout }

func (w *gradeSoonWorker) Work(ctx context.Context, job *river.Job[GradeSoonArgs]) error {
	run, err := w.s.SyncUserGrades(withClaimWait(ctx, queueClaimWait), job.Args.ActivityID, job.Args.UserID, job.ID)
	if errors.As(err, new(*linkBusy)) {
		return river.JobSnooze(busySnooze)
	}
	if err != nil && run.ID == 0 {
		return err
	}
	return jobOutcome(job.JobRow, err)
}

type memberWorker struct {
	river.WorkerDefaults[MemberSyncArgs]
	s *Service
}

func (w *memberWorker) Timeout(*river.Job[MemberSyncArgs]) time.Duration { return memberTimeout }

func (w *memberWorker) Work(ctx context.Context, job *river.Job[MemberSyncArgs]) error {
	w.s.interruptRescued(ctx, KindMembers, job.ID, job.Attempt)
	run, err := w.s.SyncMembersWith(ctx, MemberSyncOptions{Cause: job.Args.Cause, ResourceID: job.Args.ResourceID,
		LinkID: job.Args.LinkID, Force: job.Args.Force, JobID: job.ID})
	if err != nil && run.ID == 0 {
		return err
	}
	return jobOutcome(job.JobRow, err)
}

// RunsPage lists one page of the run history, newest first, with the number of runs that match.
func (s *Service) RunsPage(ctx context.Context, f RunFilter) ([]Run, int, error) {
	return s.cfg.Store.RunsPage(ctx, f)
}

// Runs lists the latest runs of a kind.
func (s *Service) Runs(ctx context.Context, kind Kind, limit int) ([]Run, error) {
	return s.cfg.Store.Runs(ctx, kind, limit)
}
