package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/notice"
	"github.com/ltipub/ltipub/internal/publish"
)

// Platform Notification Service: notice handlers, received notices, copied contexts (migration 00025).

func zeroMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

func fromZeroMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return fromMicros(v)
}

// NoticeHandlers lists ltipub's handlers at one deployment.
func (s *Store) NoticeHandlers(ctx context.Context, registrationID int64, deploymentID string) ([]notice.Handler, error) {
	rows, err := s.c().query(ctx, `SELECT notice_type, service_url, handler_url, registered_at, error, updated_at
		FROM notice_handlers WHERE registration_id = $1 AND deployment_id = $2 ORDER BY notice_type`, registrationID, deploymentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []notice.Handler
	for rows.Next() {
		h := notice.Handler{RegistrationID: registrationID, DeploymentID: deploymentID}
		var reg, upd int64
		if err := rows.Scan(&h.NoticeType, &h.ServiceURL, &h.HandlerURL, &reg, &h.Error, &upd); err != nil {
			return nil, mapErr(err)
		}
		h.RegisteredAt, h.UpdatedAt = fromZeroMicros(reg), fromMicros(upd)
		out = append(out, h)
	}
	return out, mapErr(rows.Err())
}

// SaveNoticeHandler inserts or replaces a handler.
func (s *Store) SaveNoticeHandler(ctx context.Context, h notice.Handler) error {
	_, err := s.c().exec(ctx, `INSERT INTO notice_handlers (registration_id, deployment_id, notice_type, service_url,
		handler_url, registered_at, error, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (registration_id, deployment_id, notice_type) DO UPDATE SET service_url = excluded.service_url,
		handler_url = excluded.handler_url, registered_at = excluded.registered_at, error = excluded.error,
		updated_at = excluded.updated_at`,
		h.RegistrationID, h.DeploymentID, h.NoticeType, h.ServiceURL, h.HandlerURL, zeroMicros(h.RegisteredAt), h.Error, micros(h.UpdatedAt))
	return err
}

// RecordNotice records a verified notice; store.ErrAlreadyExists when its notice id was recorded before.
func (s *Store) RecordNotice(ctx context.Context, r *notice.Record) error {
	id, err := s.c().insertID(ctx, `INSERT INTO notices (registration_id, deployment_id, notice_id, notice_type, context_id,
		outcome, summary, claims, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		r.RegistrationID, r.DeploymentID, r.NoticeID, r.Type, r.ContextID, r.Outcome, r.Summary, r.Claims, micros(r.ReceivedAt))
	if err != nil {
		return err
	}
	r.ID = id
	return nil
}

// Notices lists the latest notices of a registration (0: every registration), newest first.
func (s *Store) Notices(ctx context.Context, registrationID int64, limit int) ([]notice.Record, error) {
	q := `SELECT id, registration_id, deployment_id, notice_id, notice_type, context_id, outcome, summary, claims, received_at
		FROM notices`
	args := []any{limit}
	if registrationID != 0 {
		q += ` WHERE registration_id = $2`
		args = append(args, registrationID)
	}
	rows, err := s.c().query(ctx, q+` ORDER BY id DESC LIMIT $1`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []notice.Record
	for rows.Next() {
		var r notice.Record
		var at int64
		if err := rows.Scan(&r.ID, &r.RegistrationID, &r.DeploymentID, &r.NoticeID, &r.Type, &r.ContextID, &r.Outcome,
			&r.Summary, &r.Claims, &at); err != nil {
			return nil, mapErr(err)
		}
		r.ReceivedAt = fromMicros(at)
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

// SaveContextCopy records that a context was copied from an origin (again: a no-op).
func (s *Store) SaveContextCopy(ctx context.Context, c notice.ContextCopy) error {
	_, err := s.c().exec(ctx, `INSERT INTO context_copies (registration_id, deployment_id, context_id, origin_context_id,
		notice_id, copied_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (registration_id, deployment_id, context_id, origin_context_id) DO NOTHING`,
		c.RegistrationID, c.DeploymentID, c.ContextID, c.OriginContextID, c.NoticeID, micros(c.CopiedAt))
	return err
}

// CopiedContextLinks lists the resource links of the contexts a context was copied from, following copies of
// copies (at most 10 generations back), nearest origin first.
func (s *Store) CopiedContextLinks(ctx context.Context, registrationID int64, deploymentID, contextID string) ([]publish.ResourceLink, error) {
	cols := "l." + strings.ReplaceAll(strings.Join(strings.Fields(linkColumns), " "), ", ", ", l.")
	rows, err := s.c().query(ctx, `WITH RECURSIVE origins (context_id, depth) AS (
			SELECT origin_context_id, 1 FROM context_copies
			WHERE registration_id = $1 AND deployment_id = $2 AND context_id = $3
			UNION
			SELECT c.origin_context_id, o.depth + 1 FROM context_copies c JOIN origins o ON c.context_id = o.context_id
			WHERE c.registration_id = $1 AND c.deployment_id = $2 AND o.depth < 10
		)
		SELECT `+cols+` FROM lti_resource_links l JOIN origins o ON l.context_id = o.context_id
		WHERE l.registration_id = $1 AND l.deployment_id = $2 ORDER BY o.depth, l.id`, registrationID, deploymentID, contextID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []publish.ResourceLink
	seen := map[int64]bool{}
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, err
		}
		if !seen[l.ID] {
			seen[l.ID] = true
			out = append(out, l)
		}
	}
	return out, mapErr(rows.Err())
}
