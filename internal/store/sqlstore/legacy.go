package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/ltipub/ltipub/internal/publish"
)

// Legacy publishing (LTI 1.1): resource links without a registration, their legacy details, Basic Outcomes
// targets (see internal/publish/legacy.go and migration 00007).

// SaveLegacyLink inserts or refreshes a 1.1 resource link and its legacy details in one transaction.
//
// The two upserts need no transaction of their own (a launch's provisioning wraps them in its own when it creates
// anything): each is idempotent, and a failure between them leaves a link whose legacy details the next launch
// writes.
func (s *Store) SaveLegacyLink(ctx context.Context, l *publish.ResourceLink, ll publish.LegacyLink) error {
	c := s.c()
	{
		l2, err := scanLink(c.row(ctx, `INSERT INTO lti_resource_links (registration_id, deployment_id, link_id,
			published_resource_id, context_id, context_title, title, created_at, updated_at)
			VALUES (NULL, $1, $2, $3, $4, $5, $6, $7, $7)
			ON CONFLICT (deployment_id, link_id) WHERE registration_id IS NULL DO UPDATE SET
			published_resource_id = excluded.published_resource_id, context_id = excluded.context_id,
			context_title = excluded.context_title, title = excluded.title, updated_at = excluded.updated_at
			RETURNING `+linkColumns,
			l.DeploymentID, l.LinkID, l.PublishedResourceID, l.ContextID, l.ContextTitle, l.Title, micros(l.UpdatedAt)))
		if err != nil {
			return err
		}
		*l = l2
		// The memberships extension of the latest launch wins; a launch without it (a student's, on some
		// platforms) does not erase what a teacher's launch brought.
		_, err = c.exec(ctx, `INSERT INTO legacy_links (resource_link_id, consumer_key, instance_guid, platform_name,
			memberships_url, memberships_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (resource_link_id) DO UPDATE SET consumer_key = excluded.consumer_key,
			instance_guid = excluded.instance_guid, platform_name = excluded.platform_name,
			memberships_url = CASE WHEN excluded.memberships_url = '' THEN legacy_links.memberships_url ELSE excluded.memberships_url END,
			memberships_id = CASE WHEN excluded.memberships_url = '' THEN legacy_links.memberships_id ELSE excluded.memberships_id END,
			updated_at = excluded.updated_at`,
			l.ID, ll.ConsumerKey, ll.InstanceGUID, ll.PlatformName, ll.MembershipsURL, ll.MembershipsID, micros(ll.UpdatedAt))
		return err
	}
}

// LegacyLink loads the legacy details of a 1.1 resource link.
func (s *Store) LegacyLink(ctx context.Context, resourceLinkID int64) (publish.LegacyLink, error) {
	ll := publish.LegacyLink{ResourceLinkID: resourceLinkID}
	var at int64
	err := s.c().row(ctx, `SELECT consumer_key, instance_guid, platform_name, memberships_url, memberships_id, updated_at
		FROM legacy_links WHERE resource_link_id = $1`, resourceLinkID).
		Scan(&ll.ConsumerKey, &ll.InstanceGUID, &ll.PlatformName, &ll.MembershipsURL, &ll.MembershipsID, &at)
	if err != nil {
		return publish.LegacyLink{}, mapErr(err)
	}
	ll.UpdatedAt = fromMicros(at)
	return ll, nil
}

// SaveLegacyOutcome records where a user's grade for a 1.1 resource link goes (the latest launch's sourcedid).
func (s *Store) SaveLegacyOutcome(ctx context.Context, o publish.LegacyOutcome, at time.Time) error {
	_, err := s.c().exec(ctx, `INSERT INTO legacy_outcomes (resource_link_id, lti_user_id, service_url, sourcedid, updated_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (resource_link_id, lti_user_id) DO UPDATE SET
		service_url = excluded.service_url, sourcedid = excluded.sourcedid, updated_at = excluded.updated_at`,
		o.ResourceLinkID, o.LTIUserID, o.ServiceURL, o.SourcedID, micros(at))
	return err
}

// LegacyOutcome finds where a local user's grade for a 1.1 resource link goes.
func (s *Store) LegacyOutcome(ctx context.Context, resourceLinkID, userID int64) (publish.LegacyOutcome, error) {
	o := publish.LegacyOutcome{ResourceLinkID: resourceLinkID}
	err := s.c().row(ctx, `SELECT o.lti_user_id, o.service_url, o.sourcedid FROM legacy_outcomes o
		JOIN lti_users lu ON lu.id = o.lti_user_id
		WHERE o.resource_link_id = $1 AND lu.user_id = $2 ORDER BY o.updated_at DESC LIMIT 1`, resourceLinkID, userID).
		Scan(&o.LTIUserID, &o.ServiceURL, &o.SourcedID)
	if err == sql.ErrNoRows {
		return publish.LegacyOutcome{}, mapErr(err)
	}
	return o, mapErr(err)
}
