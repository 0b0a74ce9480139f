package publish

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ltipub/ltipub/internal/refusal"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/lti11"
)

// LTI 1.1 → 1.3 migration. A platform that moved ltipub from LTI 1.1 to 1.3 sends, with a 1.3 launch, the
// lti1p1 claim: the person's 1.1 user_id and the 1.1 consumer key, signed with that key's secret
// (oauth_consumer_key_sign). Once the signature checks out with the secret ltipub keeps for the key (the secret
// of the published resources its 1.1 launches reached), the 1.3 identity joins the account the 1.1 launches made,
// and a 1.3 resource link continues its 1.1 predecessor (the same published resource), so grades, enrolments and
// attempts carry over. The check costs nothing when the claim is absent, and runs only when it would link
// something: a platform user seen for the first time, or a resource link found only through its predecessor.

// MigrationStore is what the migration reads and writes; part of LegacyStore.
type MigrationStore interface {
	// LegacyKeySecrets lists the secrets of the resources that LTI 1.1 launches with consumerKey reached.
	LegacyKeySecrets(ctx context.Context, consumerKey string) ([]string, error)
	// LegacyIdentities lists the platform users with subject under platformID (lti11.PlatformID without an
	// instance GUID) or under platformID with any instance GUID, oldest first.
	LegacyIdentities(ctx context.Context, platformID, subject string) ([]LTIUser, error)
	// LegacyResourceLink finds the 1.1 resource link linkID recorded with consumerKey (store.ErrNotFound).
	LegacyResourceLink(ctx context.Context, consumerKey, linkID string) (ResourceLink, error)
	// SetLinkPredecessor records that resource link resourceLinkID continues the 1.1 link predecessorID.
	SetLinkPredecessor(ctx context.Context, resourceLinkID, predecessorID int64, consumerKey string, at time.Time) error
}

// CodeMigrationSignature is the refusal of a launch whose lti1p1 claim is not signed with the consumer key's secret.
const CodeMigrationSignature = "lti1p1_signature_invalid"

// migration is a verified lti1p1 claim.
type migration struct {
	claim *lti.LTI1p1
	// platformID is the 1.1 platform identity the claim names, with the 1.3 launch's platform instance GUID:
	// the identity a first 1.3 launch claims for its account, so that a 1.1 launch of the same person later (or
	// at the same time) lands in it too.
	platformID string
	// anyGUID is the identity without an instance GUID: with it, LegacyIdentities finds the person under every
	// instance GUID the key was used with.
	anyGUID string
}

// migrationCheck checks the claim of a launch once, however many steps of the landing ask.
type migrationCheck struct {
	done    bool
	m       *migration
	warning string
	err     error
}

// migration checks the lti1p1 claim of an LTI 1.3 launch. Without a claim: nil. A claim that cannot be checked
// (a consumer key no 1.1 launch used, no signature): nil and a warning for the launch log; the launch lands
// without linking. A signature that the key's secrets do not produce: a refusal, and nothing is linked.
func (s *Service) migration(ctx context.Context, l Launch, c *migrationCheck) (*migration, error) {
	if c.done {
		return c.m, c.err
	}
	c.done = true
	claim := lti.Migration(l.Message)
	if claim == nil || l.Legacy != nil || s.Legacy == nil {
		return nil, nil
	}
	key := claim.OAuthConsumerKey
	secrets, err := s.Legacy.LegacyKeySecrets(ctx, key)
	if err != nil {
		c.err = fmt.Errorf("load the LTI 1.1 secrets of consumer key %q: %w", key, err)
		return nil, c.err
	}
	if len(secrets) == 0 {
		c.warning = fmt.Sprintf("The launch carries an LTI 1.1 migration claim (lti1p1) for consumer key %q, which no LTI 1.1 launch of this tool used: "+
			"it landed without linking to an LTI 1.1 account. Fix: check the consumer key of the LTI 1.1 tool the platform migrated from; "+
			"if the person has two accounts now, merge them under Site administration → Users.", key)
		return nil, nil
	}
	if claim.OAuthConsumerKeySign == "" {
		c.warning = fmt.Sprintf("The launch carries an LTI 1.1 migration claim (lti1p1) for consumer key %q without oauth_consumer_key_sign, "+
			"so it proves nothing: it landed without linking to an LTI 1.1 account. Fix: have the platform sign the claim with the key's LTI 1.1 secret.", key)
		return nil, nil
	}
	in := lti.MigrationSignInputOf(l.Message, l.Registration.ClientID)
	ok := false
	for _, sec := range secrets {
		if lti.ConsumerKeySignValid(sec, in, claim.OAuthConsumerKeySign) {
			ok = true
		}
	}
	if !ok {
		c.err = &Refusal{Code: CodeMigrationSignature, Kind: refusal.Unauthorized, Audience: refusal.Admin,
			Title: "This launch was refused",
			Description: fmt.Sprintf("The platform sent an LTI 1.1 migration claim for consumer key %q whose signature (oauth_consumer_key_sign) "+
				"does not match this tool's LTI 1.1 secret for that key, so the launch could not be linked to the LTI 1.1 account", key),
			Fix: "A platform administrator enters, as the LTI 1.1 secret of the migrated tool, the secret shown under Legacy (LTI 1.1) on the " +
				"published resource's Published as LTI tools page; the signature covers this launch's deployment ID, issuer, client ID, expiry " +
				"and nonce, so one copied from another launch never matches",
			Args: map[string]any{"Key": key}}
		return nil, c.err
	}
	guid := ""
	if l.Message.ToolPlatform != nil {
		guid = l.Message.ToolPlatform.GUID
	}
	c.m = &migration{claim: claim, platformID: lti11.PlatformID(key, guid), anyGUID: lti11.PlatformID(key, "")}
	return c.m, nil
}

// predecessor finds the 1.1 resource link a migrated 1.3 link continues: the claim's resource_link_id when the
// link changed ID, else the 1.3 link's own ID. store.ErrNotFound when there is none.
func (s *Service) predecessor(ctx context.Context, l Launch, mig *migration) (ResourceLink, error) {
	id := mig.claim.ResourceLinkID
	if id == "" && l.Message.ResourceLink != nil {
		id = l.Message.ResourceLink.ID
	}
	if id == "" {
		return ResourceLink{}, store.ErrNotFound
	}
	return s.Legacy.LegacyResourceLink(ctx, mig.claim.OAuthConsumerKey, id)
}

// legacyAccount finds the account of the person's 1.1 identity: the one under the launch's own platform
// instance first, else the oldest. ok is false when 1.1 launches never saw the person.
func (s *Service) legacyAccount(ctx context.Context, mig *migration) (LTIUser, bool, error) {
	ids, err := s.Legacy.LegacyIdentities(ctx, mig.anyGUID, mig.claim.UserID)
	if err != nil {
		return LTIUser{}, false, fmt.Errorf("find the LTI 1.1 identity: %w", err)
	}
	for _, id := range ids {
		if id.Issuer == mig.platformID {
			return id, true, nil
		}
	}
	if len(ids) > 0 {
		return ids[0], true, nil
	}
	return LTIUser{}, false, nil
}

// claimLegacyIdentity links the person's 1.1 identity to u, the account a first 1.3 launch made or chose, so that
// a 1.1 launch of the same person lands there too. A 1.1 launch that linked it first (in parallel) wins: the
// transaction is retried, and the retry joins that account.
func (s *Service) claimLegacyIdentity(ctx context.Context, mig *migration, userID int64, now time.Time) error {
	held, err := s.Store.LinkLTIUser(ctx, LTIUser{Issuer: mig.platformID, Subject: mig.claim.UserID, UserID: userID, CreatedAt: now, LastLaunchAt: now})
	if err != nil {
		return fmt.Errorf("link the LTI 1.1 identity: %w", err)
	}
	if held.UserID != userID && s.inTxn {
		return fmt.Errorf("the LTI 1.1 identity was linked by a parallel launch: %w", store.ErrAlreadyExists)
	}
	return nil
}

// recordPredecessor records that link continues the 1.1 link of the claim, when there is one.
func (s *Service) recordPredecessor(ctx context.Context, l Launch, mig *migration, link ResourceLink, now time.Time) error {
	prev, err := s.predecessor(ctx, l, mig)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find the LTI 1.1 resource link: %w", err)
	}
	if err := s.Legacy.SetLinkPredecessor(ctx, link.ID, prev.ID, mig.claim.OAuthConsumerKey, now); err != nil {
		return fmt.Errorf("record the LTI 1.1 predecessor: %w", err)
	}
	return nil
}

// predecessorResource finds the resource of a link that only LTI 1.1 launches recorded, through a verified
// lti1p1 claim.
func (s *Service) predecessorResource(ctx context.Context, l Launch, mc *migrationCheck) (Resource, bool, error) {
	if lti.Migration(l.Message) == nil || l.Legacy != nil {
		return Resource{}, false, nil
	}
	mig, err := s.migration(ctx, l, mc)
	if err != nil || mig == nil {
		return Resource{}, false, err
	}
	prev, err := s.predecessor(ctx, l, mig)
	if errors.Is(err, store.ErrNotFound) {
		return Resource{}, false, nil
	}
	if err != nil {
		return Resource{}, false, fmt.Errorf("find the LTI 1.1 resource link: %w", err)
	}
	r, err := s.Store.ResourceByID(ctx, prev.PublishedResourceID)
	if errors.Is(err, store.ErrNotFound) {
		return Resource{}, false, nil
	}
	if err != nil {
		return Resource{}, false, err
	}
	return r, true, nil
}
