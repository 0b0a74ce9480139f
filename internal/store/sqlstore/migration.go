package sqlstore

import (
	"context"
	"time"

	"github.com/ltipub/ltipub/internal/publish"
)

// LTI 1.1 → 1.3 migration (internal/publish/migration.go, migration 00024).

// LegacyKeySecrets lists the LTI 1.1 secrets of the published resources that 1.1 launches with consumerKey
// reached (a consumer key is free text; its secret is the resource's).
func (s *Store) LegacyKeySecrets(ctx context.Context, consumerKey string) ([]string, error) {
	// A consumer key is a resource's own (its 1.1 secret signs), or an LTI 2.0 tool proxy's GUID (the secret agreed
	// at registration signs).
	rows, err := s.c().query(ctx, `SELECT DISTINCT r.legacy_secret, 0 FROM legacy_links ll
		JOIN lti_resource_links l ON l.id = ll.resource_link_id
		JOIN published_resources r ON r.id = l.published_resource_id
		WHERE ll.consumer_key = $1 AND r.legacy_secret <> ''
		UNION ALL SELECT secret, 1 FROM lti2_tool_proxies WHERE guid = $1`, consumerKey)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var sec string
		var proxy int
		if err := rows.Scan(&sec, &proxy); err != nil {
			return nil, mapErr(err)
		}
		purpose := purposeLegacySecret
		if proxy == 1 {
			purpose = purposeToolProxySecret
		}
		if sec, err = s.open(purpose, sec); err != nil {
			return nil, err
		}
		out = append(out, sec)
	}
	return out, mapErr(rows.Err())
}

// LegacyIdentities lists the platform users with subject whose issuer is platformID or platformID followed by
// ":" and an instance GUID (lti11.PlatformID), oldest first.
func (s *Store) LegacyIdentities(ctx context.Context, platformID, subject string) ([]publish.LTIUser, error) {
	prefix := platformID + ":"
	rows, err := s.c().query(ctx, `SELECT `+ltiUserColumns+` FROM lti_users
		WHERE subject = $1 AND (issuer = $2 OR substr(issuer, 1, $3) = $4) ORDER BY id`,
		subject, platformID, len(prefix), prefix)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []publish.LTIUser
	for rows.Next() {
		u, err := scanLTIUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, mapErr(rows.Err())
}

// LegacyResourceLink finds the 1.1 resource link linkID that a launch with consumerKey recorded (the oldest, if
// several instances of the platform used the key).
func (s *Store) LegacyResourceLink(ctx context.Context, consumerKey, linkID string) (publish.ResourceLink, error) {
	return scanLink(s.c().row(ctx, `SELECT `+prefixed("l.", linkColumns)+` FROM lti_resource_links l
		JOIN legacy_links ll ON ll.resource_link_id = l.id
		WHERE l.registration_id IS NULL AND l.link_id = $1 AND ll.consumer_key = $2 ORDER BY l.id LIMIT 1`, linkID, consumerKey))
}

// SetLinkPredecessor records that a 1.3 resource link continues a 1.1 one; the first record holds.
func (s *Store) SetLinkPredecessor(ctx context.Context, resourceLinkID, predecessorID int64, consumerKey string, at time.Time) error {
	_, err := s.c().exec(ctx, `INSERT INTO lti_link_predecessors (resource_link_id, predecessor_id, consumer_key, created_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (resource_link_id) DO NOTHING`, resourceLinkID, predecessorID, consumerKey, micros(at))
	return err
}

// LinkPredecessor returns the 1.1 predecessor of a resource link (store.ErrNotFound if none).
func (s *Store) LinkPredecessor(ctx context.Context, resourceLinkID int64) (int64, error) {
	var id int64
	err := s.c().row(ctx, `SELECT predecessor_id FROM lti_link_predecessors WHERE resource_link_id = $1`, resourceLinkID).Scan(&id)
	return id, mapErr(err)
}
