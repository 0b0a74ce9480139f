package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/publish"
)

// GradeDelivery is what the grade delivery page and the sync warnings need from the sync service (jobs.Service
// has it; the web layer finds it on Config.Sync).
type GradeDelivery interface {
	Deliveries(ctx context.Context, resourceID int64, q jobs.DeliveryQuery) ([]jobs.Delivery, int, error)
	RetryDeliveries(ctx context.Context, resourceID, userID int64) (int64, error)
	ResourceWarnings(ctx context.Context, r publish.Resource) ([]jobs.Warning, error)
	SyncWarnings(ctx context.Context, limit int) ([]jobs.ResourceWarning, int, error)
	SentNotes(ctx context.Context, courseID int64, userIDs []int64) ([]jobs.SentNote, error)
	NextGradeSync(ctx context.Context) (time.Time, error)
}

// sentNotes maps learner → activity (0: the course total) → "sent to <platform> at <time>", for the grade pages
// (in the page's language: people_i18n.go).
type sentNotes map[int64]map[int64]*sentNote

// Sent is the note beside a grade (nil when it was never sent).
func (n sentNotes) Sent(userID, activityID int64) *sentNote { return n[userID][activityID] }

// Only the notes of userIDs are read (nil: every learner's).
func (s *Server) sentNotes(ctx context.Context, courseID int64, userIDs []int64) (sentNotes, error) {
	d := s.gradeDelivery()
	if d == nil {
		return nil, nil
	}
	list, err := d.SentNotes(ctx, courseID, userIDs)
	if err != nil {
		return nil, err
	}
	out := sentNotes{}
	for _, n := range list { // newest last: a later note replaces an earlier one
		if out[n.UserID] == nil {
			out[n.UserID] = map[int64]*sentNote{}
		}
		out[n.UserID][n.ActivityID] = &sentNote{SentNote: n}
	}
	return out, nil
}

func (s *Server) gradeDelivery() GradeDelivery {
	d, _ := s.cfg.Sync.(GradeDelivery)
	return d
}

func (s *Server) deliveryRoutes(app *http.ServeMux) {
	u := func(h http.HandlerFunc) http.Handler { return s.requireUser(h) }
	app.Handle("GET /courses/{id}/published/{rid}/grades", u(s.deliveryPage))
	app.Handle("POST /courses/{id}/published/{rid}/grades/retry", u(s.deliveryRetry))
}

// deliveryPageSize is how many rows the page shows at once (rosters reach 50,000: paged in the database).
const deliveryPageSize = 50

type deliveryPage struct {
	Page
	fmtHelpers
	CourseID   int64
	Resource   publish.Resource
	Warnings   []jobs.Warning
	Rows       []jobs.Delivery
	Total      int
	From, To   int
	Search     string
	FailedOnly bool
	PrevURL    string
	NextURL    string
	Available  bool
	NextSync   time.Time // the next periodic grade sync (zero: periodic sync off)
}

func (s *Server) deliveryPage(w http.ResponseWriter, r *http.Request) {
	c, res, ok := s.manageableResource(w, r)
	if !ok {
		return
	}
	p := &deliveryPage{Page: Page{Title: s.t(r, "platforms.grades.page_title", "Name", res.Name), Embedded: isEmbedded(r)}, CourseID: c.ID, Resource: res}
	d := s.gradeDelivery()
	if d == nil {
		s.render(w, r, http.StatusOK, "grade_delivery", p)
		return
	}
	p.Available = true
	q := r.URL.Query()
	offset, _ := strconv.Atoi(q.Get("offset"))
	offset = max(offset, 0)
	p.Search, p.FailedOnly = q.Get("q"), q.Get("failed") == "1"
	var err error
	if p.Warnings, err = d.ResourceWarnings(r.Context(), res); err != nil {
		s.fail(w, r, err)
		return
	}
	p.Warnings = localizeWarnings(s.printer(r), p.Warnings)
	p.Rows, p.Total, err = d.Deliveries(r.Context(), res.ID, jobs.DeliveryQuery{Search: p.Search, FailedOnly: p.FailedOnly,
		Offset: offset, Limit: deliveryPageSize})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if p.NextSync, err = d.NextGradeSync(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	p.From, p.To = offset+1, offset+len(p.Rows)
	page := func(off int) string {
		v := url.Values{}
		if p.Search != "" {
			v.Set("q", p.Search)
		}
		if p.FailedOnly {
			v.Set("failed", "1")
		}
		if off > 0 {
			v.Set("offset", strconv.Itoa(off))
		}
		u := fmt.Sprintf("/courses/%d/published/%d/grades", c.ID, res.ID)
		if len(v) > 0 {
			u += "?" + v.Encode()
		}
		return u
	}
	if offset > 0 {
		p.PrevURL = page(max(offset-deliveryPageSize, 0))
	}
	if p.To < p.Total {
		p.NextURL = page(p.To)
	}
	s.render(w, r, http.StatusOK, "grade_delivery", p)
}

func (s *Server) deliveryRetry(w http.ResponseWriter, r *http.Request) {
	c, res, ok := s.manageableResource(w, r)
	if !ok {
		return
	}
	d := s.gradeDelivery()
	if d == nil {
		s.fail(w, r, &Problem{Status: http.StatusServiceUnavailable, Code: "sync_unavailable", Title: s.t(r, "platforms.grades.unavailable.title"),
			Cause: s.t(r, "platforms.grades.unavailable.cause"), Fix: s.t(r, "platforms.grades.unavailable.fix")})
		return
	}
	var userID int64
	if v := r.PostFormValue("user_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			s.fail(w, r, &Problem{Status: http.StatusBadRequest, Code: "bad_user", Title: s.t(r, "platforms.grades.bad_user.title"),
				Cause: s.t(r, "platforms.grades.bad_user.cause", "Value", strconv.Quote(v)), Fix: s.t(r, "platforms.grades.bad_user.fix")})
			return
		}
		userID = id
	}
	id, err := d.RetryDeliveries(r.Context(), res.ID, userID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "grade delivery retried", slog.Int64("resource_id", res.ID), slog.Int64("learner_id", userID),
		slog.Int64("job_id", id), slog.Int64("user_id", currentUser(r).ID))
	msg := s.t(r, "platforms.grades.flash.retry_all")
	if userID != 0 {
		msg = s.t(r, "platforms.grades.flash.retry_one")
	}
	s.flash(r, msg)
	back := fmt.Sprintf("/courses/%d/published/%d/grades", c.ID, res.ID)
	if ret := r.PostFormValue("return"); ret != "" {
		if u, err := url.Parse(ret); err == nil && u.Path == back && u.Host == "" && u.Scheme == "" {
			back = u.RequestURI()
		}
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
