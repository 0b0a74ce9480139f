package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store"
)

const resourceColumns = `id, uuid, course_id, activity_id, name, enabled, grade_sync, member_sync, member_sync_mode,
	student_mode, teacher_mode, enrol_start, enrol_end, max_enrolled, learner_role, instructor_role, default_language,
	default_timezone, default_institution, default_country, legacy_secret, created_at, updated_at`

func scanResource(sc interface{ Scan(...any) error }) (publish.Resource, error) {
	var r publish.Resource
	var activity, start, end sql.NullInt64
	var syncMode, studentMode, teacherMode, learnerRole, instructorRole string
	var created, updated int64
	err := sc.Scan(&r.ID, &r.UUID, &r.CourseID, &activity, &r.Name, &r.Enabled, &r.GradeSync, &r.MemberSync, &syncMode,
		&studentMode, &teacherMode, &start, &end, &r.MaxEnrolled, &learnerRole, &instructorRole, &r.Defaults.Language,
		&r.Defaults.Timezone, &r.Defaults.Institution, &r.Defaults.Country, &r.LegacySecret, &created, &updated)
	if err != nil {
		return publish.Resource{}, mapErr(err)
	}
	r.ActivityID = activity.Int64
	r.MemberSyncMode, r.StudentMode, r.TeacherMode = publish.SyncMode(syncMode), publish.Mode(studentMode), publish.Mode(teacherMode)
	r.LearnerRole, r.InstructorRole = course.Role(learnerRole), course.Role(instructorRole)
	r.EnrolStart, r.EnrolEnd = fromNullMicros(start), fromNullMicros(end)
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return r, nil
}

// CreateResource stores a published resource.
func (s *Store) CreateResource(ctx context.Context, r *publish.Resource) error {
	id, err := s.c().insertID(ctx, `INSERT INTO published_resources (uuid, course_id, activity_id, name, enabled, grade_sync,
		member_sync, member_sync_mode, student_mode, teacher_mode, enrol_start, enrol_end, max_enrolled, learner_role,
		instructor_role, default_language, default_timezone, default_institution, default_country, legacy_secret,
		created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) RETURNING id`,
		r.UUID, r.CourseID, nullID(r.ActivityID), r.Name, r.Enabled, r.GradeSync, r.MemberSync, string(r.MemberSyncMode),
		string(r.StudentMode), string(r.TeacherMode), nullMicros(r.EnrolStart), nullMicros(r.EnrolEnd), r.MaxEnrolled,
		string(r.LearnerRole), string(r.InstructorRole), r.Defaults.Language, r.Defaults.Timezone, r.Defaults.Institution,
		r.Defaults.Country, r.LegacySecret, micros(r.CreatedAt), micros(r.UpdatedAt))
	if err != nil {
		return err
	}
	r.ID = id
	return nil
}

// UpdateResource saves a published resource.
func (s *Store) UpdateResource(ctx context.Context, r publish.Resource) error {
	res, err := s.c().exec(ctx, `UPDATE published_resources SET activity_id = $2, name = $3, enabled = $4, grade_sync = $5,
		member_sync = $6, member_sync_mode = $7, student_mode = $8, teacher_mode = $9, enrol_start = $10, enrol_end = $11,
		max_enrolled = $12, learner_role = $13, instructor_role = $14, default_language = $15, default_timezone = $16,
		default_institution = $17, default_country = $18, legacy_secret = $19, updated_at = $20 WHERE id = $1`,
		r.ID, nullID(r.ActivityID), r.Name, r.Enabled, r.GradeSync, r.MemberSync, string(r.MemberSyncMode),
		string(r.StudentMode), string(r.TeacherMode), nullMicros(r.EnrolStart), nullMicros(r.EnrolEnd), r.MaxEnrolled,
		string(r.LearnerRole), string(r.InstructorRole), r.Defaults.Language, r.Defaults.Timezone, r.Defaults.Institution,
		r.Defaults.Country, r.LegacySecret, micros(r.UpdatedAt))
	if err != nil {
		return fmt.Errorf("update published resource %d: %w", r.ID, err)
	}
	return affectedOne(res)
}

// DeleteResource removes a published resource and its resource links.
func (s *Store) DeleteResource(ctx context.Context, id int64) error {
	res, err := s.c().exec(ctx, `DELETE FROM published_resources WHERE id = $1`, id)
	if err != nil {
		return err
	}
	return affectedOne(res)
}

// ResourceByID loads a published resource.
func (s *Store) ResourceByID(ctx context.Context, id int64) (publish.Resource, error) {
	return scanResource(s.c().row(ctx, `SELECT `+resourceColumns+` FROM published_resources WHERE id = $1`, id))
}

// ResourceByUUID loads a published resource by its public UUID.
func (s *Store) ResourceByUUID(ctx context.Context, uuid string) (publish.Resource, error) {
	return scanResource(s.c().row(ctx, `SELECT `+resourceColumns+` FROM published_resources WHERE uuid = $1`, uuid))
}

// Resources lists the published resources of a course (0: all), oldest first.
func (s *Store) Resources(ctx context.Context, courseID int64) ([]publish.Resource, error) {
	rows, err := s.c().query(ctx, `SELECT `+resourceColumns+` FROM published_resources
		WHERE ($1 = 0 OR course_id = $1) ORDER BY id`, courseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []publish.Resource
	for rows.Next() {
		r, err := scanResource(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

// CountResourceEnrolments counts the enrolments a published resource made.
func (s *Store) CountResourceEnrolments(ctx context.Context, resourceID int64) (int, error) {
	var n int
	err := s.c().row(ctx, `SELECT COUNT(*) FROM enrolments WHERE published_resource_id = $1`, resourceID).Scan(&n)
	return n, mapErr(err)
}

const ltiUserColumns = `id, issuer, subject, registration_id, user_id, created_at, last_launch_at`

func scanLTIUser(sc interface{ Scan(...any) error }) (publish.LTIUser, error) {
	var u publish.LTIUser
	var reg sql.NullInt64
	var created, last int64
	if err := sc.Scan(&u.ID, &u.Issuer, &u.Subject, &reg, &u.UserID, &created, &last); err != nil {
		return publish.LTIUser{}, mapErr(err)
	}
	u.RegistrationID, u.CreatedAt, u.LastLaunchAt = reg.Int64, fromMicros(created), fromMicros(last)
	return u, nil
}

// LTIUser finds the link of a platform user.
func (s *Store) LTIUser(ctx context.Context, issuer, subject string) (publish.LTIUser, error) {
	return scanLTIUser(s.c().row(ctx, `SELECT `+ltiUserColumns+` FROM lti_users WHERE issuer = $1 AND subject = $2`, issuer, subject))
}

// LinkedUser finds the link of a platform user, its account, and the account's enrolments in course courseID, in
// one statement (one row per enrolment, or one row without one).
func (s *Store) LinkedUser(ctx context.Context, issuer, subject string, courseID int64) (publish.LTIUser, account.User, []course.Enrolment, error) {
	rows, err := s.c().query(ctx, `SELECT l.id, l.issuer, l.subject, l.registration_id, l.user_id, l.created_at, l.last_launch_at,
		u.id, u.username, u.email, u.full_name, u.password_hash, u.auth, u.is_admin, u.is_course_creator,
		u.language, u.timezone, u.institution, u.country, u.created_at, u.updated_at, u.last_login_at, u.suspended_at,
		u.must_change_password, e.id, e.role, e.status, e.starts_at, e.ends_at, e.method, e.published_resource_id, e.created_at, e.updated_at
		FROM lti_users l JOIN users u ON u.id = l.user_id LEFT JOIN enrolments e ON e.user_id = u.id AND e.course_id = $3
		WHERE l.issuer = $1 AND l.subject = $2 ORDER BY e.id`, issuer, subject, courseID)
	if err != nil {
		return publish.LTIUser{}, account.User{}, nil, err
	}
	defer rows.Close()
	var lu publish.LTIUser
	var u account.User
	var es []course.Enrolment
	found := false
	for rows.Next() {
		var reg, lastLogin, suspended sql.NullInt64
		var created, last, uCreated, uUpdated int64
		var auth string
		var eid, start, end, res, eCreated, eUpdated sql.NullInt64
		var role, status, method sql.NullString
		if err := rows.Scan(&lu.ID, &lu.Issuer, &lu.Subject, &reg, &lu.UserID, &created, &last,
			&u.ID, &u.Username, &u.Email, &u.FullName, &u.PasswordHash, &auth, &u.IsAdmin, &u.IsCourseCreator,
			&u.Language, &u.Timezone, &u.Institution, &u.Country, &uCreated, &uUpdated, &lastLogin, &suspended,
			&u.MustChangePassword, &eid, &role, &status, &start, &end, &method, &res, &eCreated, &eUpdated); err != nil {
			return publish.LTIUser{}, account.User{}, nil, mapErr(err)
		}
		found = true
		lu.RegistrationID, lu.CreatedAt, lu.LastLaunchAt = reg.Int64, fromMicros(created), fromMicros(last)
		u.Auth = account.Auth(auth)
		u.CreatedAt, u.UpdatedAt, u.LastLoginAt = fromMicros(uCreated), fromMicros(uUpdated), fromNullMicros(lastLogin)
		u.SuspendedAt = fromNullMicros(suspended)
		if eid.Valid {
			es = append(es, course.Enrolment{ID: eid.Int64, CourseID: courseID, UserID: u.ID, Role: course.Role(role.String),
				Status: course.Status(status.String), Start: fromNullMicros(start), End: fromNullMicros(end),
				Method: course.Method(method.String), PublishedResourceID: res.Int64, CreatedAt: fromMicros(eCreated.Int64),
				UpdatedAt: fromMicros(eUpdated.Int64), Username: u.Username, FullName: u.FullName})
		}
	}
	if err := rows.Err(); err != nil {
		return publish.LTIUser{}, account.User{}, nil, mapErr(err)
	}
	if !found {
		return publish.LTIUser{}, account.User{}, nil, store.ErrNotFound
	}
	return lu, u, es, nil
}

// LinkLTIUser links a platform user unless a link exists, and returns the link that holds.
func (s *Store) LinkLTIUser(ctx context.Context, u publish.LTIUser) (publish.LTIUser, error) {
	// One statement: a conflict updates nothing (the column is set to itself) so that RETURNING gives the link
	// that holds, ours or a parallel launch's.
	return scanLTIUser(s.c().row(ctx, `INSERT INTO lti_users (issuer, subject, registration_id, user_id, created_at, last_launch_at)
		VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (issuer, subject) DO UPDATE SET last_launch_at = lti_users.last_launch_at
		RETURNING `+ltiUserColumns,
		u.Issuer, u.Subject, nullID(u.RegistrationID), u.UserID, micros(u.CreatedAt)))
}

// TouchLTIUser records a launch time.
func (s *Store) TouchLTIUser(ctx context.Context, id int64, at time.Time) error {
	_, err := s.c().exec(ctx, `UPDATE lti_users SET last_launch_at = $2 WHERE id = $1`, id, micros(at))
	return err
}

const linkColumns = `id, registration_id, deployment_id, link_id, published_resource_id, context_id, context_title, title,
	lineitems_url, lineitem_url, ags_scopes, memberships_url, created_at, updated_at`

func scanLink(sc interface{ Scan(...any) error }) (publish.ResourceLink, error) {
	var l publish.ResourceLink
	var scopes string
	var created, updated int64
	var reg sql.NullInt64 // NULL for LTI 1.1 links (legacy.go)
	if err := sc.Scan(&l.ID, &reg, &l.DeploymentID, &l.LinkID, &l.PublishedResourceID, &l.ContextID,
		&l.ContextTitle, &l.Title, &l.LineItemsURL, &l.LineItemURL, &scopes, &l.MembershipsURL, &created, &updated); err != nil {
		return publish.ResourceLink{}, mapErr(err)
	}
	l.RegistrationID = reg.Int64
	if scopes != "" {
		l.AGSScopes = strings.Fields(scopes)
	}
	l.CreatedAt, l.UpdatedAt = fromMicros(created), fromMicros(updated)
	return l, nil
}

// ResourceLink loads a resource link by its platform identity.
func (s *Store) ResourceLink(ctx context.Context, registrationID int64, deploymentID, linkID string) (publish.ResourceLink, error) {
	return scanLink(s.c().row(ctx, `SELECT `+linkColumns+` FROM lti_resource_links
		WHERE registration_id = $1 AND deployment_id = $2 AND link_id = $3`, registrationID, deploymentID, linkID))
}

// SaveResourceLink inserts or refreshes a resource link. The endpoints of the latest launch win, except that an
// empty coupled line item does not erase one recorded before.
func (s *Store) SaveResourceLink(ctx context.Context, l *publish.ResourceLink) error {
	l2, err := scanLink(s.c().row(ctx, `INSERT INTO lti_resource_links (registration_id, deployment_id, link_id,
		published_resource_id, context_id, context_title, title, lineitems_url, lineitem_url, ags_scopes, memberships_url,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
		ON CONFLICT (registration_id, deployment_id, link_id) DO UPDATE SET
		published_resource_id = excluded.published_resource_id, context_id = excluded.context_id,
		context_title = excluded.context_title, title = excluded.title, lineitems_url = excluded.lineitems_url,
		lineitem_url = CASE WHEN excluded.lineitem_url = '' THEN lti_resource_links.lineitem_url ELSE excluded.lineitem_url END,
		ags_scopes = excluded.ags_scopes, memberships_url = excluded.memberships_url, updated_at = excluded.updated_at
		RETURNING `+linkColumns,
		l.RegistrationID, l.DeploymentID, l.LinkID, l.PublishedResourceID, l.ContextID, l.ContextTitle, l.Title,
		l.LineItemsURL, l.LineItemURL, strings.Join(l.AGSScopes, " "), l.MembershipsURL, micros(l.UpdatedAt)))
	if err != nil {
		return err
	}
	*l = l2
	return nil
}

// ResourceLinks lists the resource links of a published resource.
func (s *Store) ResourceLinks(ctx context.Context, resourceID int64) ([]publish.ResourceLink, error) {
	rows, err := s.c().query(ctx, `SELECT `+linkColumns+` FROM lti_resource_links WHERE published_resource_id = $1 ORDER BY id`, resourceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []publish.ResourceLink
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, mapErr(rows.Err())
}

// LinkUserToResourceLink records that a platform user reached a resource through a link.
func (s *Store) LinkUserToResourceLink(ctx context.Context, ltiUserID, resourceLinkID int64, at time.Time) error {
	_, err := s.c().exec(ctx, `INSERT INTO lti_user_links (lti_user_id, resource_link_id, created_at, last_launch_at)
		VALUES ($1, $2, $3, $3) ON CONFLICT (lti_user_id, resource_link_id) DO UPDATE SET last_launch_at = excluded.last_launch_at`,
		ltiUserID, resourceLinkID, micros(at))
	return err
}

// PublishTx runs a launch's provisioning in one transaction (publish.TxRunner).
func (s *Store) PublishTx(ctx context.Context, fn func(tx publish.Stores) error) error {
	return s.Tx(ctx, func(tx *Store) error { return fn(tx) })
}
