package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/ltipub/ltipub/internal/notice"
	"github.com/ltipub/ltipub/lti"
)

// NoticeRegistrar registers ltipub's notice handlers at a platform (notice.Service.RegisterHandlers); c carries a
// token with the noticehandlers scope.
type NoticeRegistrar interface {
	RegisterHandlers(ctx context.Context, c *lti.ServiceClient, req notice.Request) error
}

// NoticeHandlersArgs registers ltipub's notice handlers at one deployment's notice handler service.
type NoticeHandlersArgs struct {
	notice.Request
}

// Kind names the job in River's table.
func (NoticeHandlersArgs) Kind() string { return "notice_handlers" }

// noticeTimeout bounds one registration: a few PUTs.
const noticeTimeout = time.Minute

// QueueNoticeHandlers queues a handler registration (notice.Queue). An identical registration still waiting or
// running is not doubled.
func (s *Service) QueueNoticeHandlers(ctx context.Context, req notice.Request) error {
	if !s.ready.Load() || s.cfg.Notices == nil {
		return errors.New("jobs: no job queue with notice handler registration in this process")
	}
	_, err := s.queue.Insert(ctx, NoticeHandlersArgs{Request: req}, &river.InsertOpts{UniqueOpts: queuedOnly})
	return err
}

type noticeWorker struct {
	river.WorkerDefaults[NoticeHandlersArgs]
	s *Service
}

func (w *noticeWorker) Timeout(*river.Job[NoticeHandlersArgs]) time.Duration { return noticeTimeout }

// Work registers the handlers. A transient failure (the platform busy or down) is retried by River with backoff;
// a refusal is kept on the handler for the admin and ends the job.
func (w *noticeWorker) Work(ctx context.Context, job *river.Job[NoticeHandlersArgs]) error {
	if w.s.cfg.Notices == nil {
		return river.JobCancel(errors.New("this instance does not register notice handlers"))
	}
	reg, err := w.s.cfg.Registrations.Registration(ctx, job.Args.RegistrationID)
	if err != nil {
		return err
	}
	c := w.s.serviceClient(reg, []string{lti.ScopeNoticeHandlers})
	err = w.s.cfg.Notices.RegisterHandlers(ctx, c, job.Args.Request)
	var perm *notice.Permanent
	switch {
	case err == nil:
		return nil
	case errors.As(err, &perm):
		return river.JobCancel(err)
	case lti.Retryable(err):
		if ra, ok := lti.RetryAfter(err); ok && snoozes(job.JobRow) < 5 {
			return river.JobSnooze(ra)
		}
	}
	return err
}
