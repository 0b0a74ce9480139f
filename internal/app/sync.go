package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/ltipub/ltipub/internal/jobs"
)

// wireJobs builds the grade and member sync service on the store's database (River keeps its own pool) and lets
// grade changes reach it through hook.
func (a *App) wireJobs(hook *jobs.GradeHook) error {
	grade, member := a.Config.GradeSyncInterval, a.Config.MemberSyncInterval
	// In the configuration 0 means off; in jobs.Config a negative interval does.
	if grade == 0 {
		grade = -1
	}
	if member == 0 {
		member = -1
	}
	// Member sync provisions and enrols through the same publishing service (and rules) as a launch.
	provision := a.Publish
	j, err := jobs.New(jobs.Config{
		Store: a.Metrics.JobStore(a.Store), Publish: a.Store, Provision: provision, Courses: a.Store, Registrations: a.Store, Keys: a.Keys, Legacy: a.Store,
		HTTP: a.HTTP, Log: a.Log.With(slog.String("component", "sync")),
		Engine: string(a.Store.Engine()), DSN: a.Store.DSN(),
		GradeInterval: grade, MemberInterval: member, PollInterval: a.Config.JobPollInterval,
		MaxUnenrolShare: a.Config.MemberSyncMaxUnenrol / 100, // 0: the default share
		Notices:         a.Notices,
	})
	if err != nil {
		return err
	}
	a.Jobs = j
	hook.Notify = j.GradeChanged
	if a.Notices != nil {
		a.Notices.SetQueue(j)
	}
	return nil
}

// StartJobs migrates the job queue and starts this instance's workers and (when it is elected leader) the
// periodic syncs.
func (a *App) StartJobs(ctx context.Context) error {
	if err := a.Jobs.Start(ctx); err != nil {
		return err
	}
	a.jobsStarted = true
	return nil
}

// stopJobs lets running jobs finish for a while, then closes the queue's pool.
func (a *App) stopJobs() {
	if a.Jobs == nil {
		return
	}
	if a.jobsStarted {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Jobs.Stop(ctx); err != nil {
			a.Log.Warn("stop sync jobs", slog.Any("error", err))
		}
		a.jobsStarted = false
		return
	}
	a.Jobs.Close()
}
