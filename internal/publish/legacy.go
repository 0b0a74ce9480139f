package publish

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/refusal"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/lti11"
)

// Legacy publishing (LTI 1.1). A published resource has its own shared secret; the consumer key is whatever the
// platform admin types. A 1.1 platform is identified by lti11.PlatformID (consumer key and instance GUID), which
// stands where an LTI 1.3 issuer stands: its users are lti_users rows (identity, user_id), its resource links
// lti_resource_links rows without a registration. Land serves both versions; LegacyLaunch carries what only 1.1
// has.

// LegacyLaunchURL is the LTI 1.1 launch URL of a resource: the resource is named in the path, since its secret
// must be known to check the signature (the consumer key is free text).
func LegacyLaunchURL(baseURL, uuid string) string { return baseURL + "/lti/legacy/" + uuid }

// CartridgeURL is the resource's IMS Common Cartridge basic LTI link (the "configuration URL").
func CartridgeURL(baseURL, uuid string) string {
	return baseURL + "/lti/legacy/" + uuid + "/cartridge.xml"
}

// LegacyLaunch is what an LTI 1.1 launch carries besides the message.
type LegacyLaunch struct {
	ConsumerKey       string
	InstanceGUID      string
	PlatformName      string
	OutcomeServiceURL string
	ResultSourcedID   string
	MembershipsURL    string
	MembershipsID     string
}

// LegacyLink is the 1.1 side of a resource link.
type LegacyLink struct {
	ResourceLinkID int64
	ConsumerKey    string
	InstanceGUID   string
	PlatformName   string
	MembershipsURL string
	MembershipsID  string
	UpdatedAt      time.Time
}

// LegacyOutcome is where Basic Outcomes sends one user's grade for one resource link.
type LegacyOutcome struct {
	ResourceLinkID int64
	LTIUserID      int64
	ServiceURL     string
	SourcedID      string
}

// LegacyStore is what legacy publishing keeps besides Store.
type LegacyStore interface {
	MigrationStore
	// SaveLegacyLink inserts or refreshes a 1.1 resource link (no registration; the platform identity as
	// deployment ID) and its legacy details, and sets l's ID.
	SaveLegacyLink(ctx context.Context, l *ResourceLink, ll LegacyLink) error
	LegacyLink(ctx context.Context, resourceLinkID int64) (LegacyLink, error)
	SaveLegacyOutcome(ctx context.Context, o LegacyOutcome, at time.Time) error
	// LegacyOutcome finds where a local user's grade for a resource link goes.
	LegacyOutcome(ctx context.Context, resourceLinkID, userID int64) (LegacyOutcome, error)
}

// IsLegacy reports whether a resource link was made by an LTI 1.1 launch.
func (l ResourceLink) IsLegacy() bool { return l.RegistrationID == 0 }

// LegacyRegistration is the stand-in registration of a 1.1 platform: no ID, its identity as issuer.
func LegacyRegistration(platformID, name string) tool.Registration {
	return tool.Registration{Issuer: platformID, PlatformName: name}
}

// LegacyResource finds the resource a legacy launch URL names, to check the launch's signature with its secret.
func (s *Service) LegacyResource(ctx context.Context, uuid string) (Resource, error) {
	r, err := s.resourceByUUID(ctx, uuid)
	if errors.Is(err, store.ErrNotFound) {
		return Resource{}, &Refusal{Code: "resource_unknown", Kind: refusal.NotFound, Audience: refusal.Teacher,
			Description: fmt.Sprintf("This launch URL names published resource %q, which does not exist on this tool (it may have been deleted).", uuid),
			Fix:         "Ask the teacher for the Launch URL on the resource's Published as LTI tools page (Legacy, LTI 1.1), and set it in the platform's external tool.",
			Args:        map[string]any{"ID": uuid}}
	}
	if err != nil {
		return Resource{}, err
	}
	if r.LegacySecret == "" {
		return Resource{}, &Refusal{Code: "legacy_no_secret", Kind: refusal.Forbidden, Audience: refusal.Teacher,
			Description: fmt.Sprintf("The published resource %q has no LTI 1.1 secret yet, so no LTI 1.1 launch can be checked.", r.Name),
			Fix:         "A teacher of the course makes one with Regenerate secret on its Published as LTI tools page, then enters it in the platform.",
			Args:        map[string]any{"Name": r.Name}}
	}
	return r, nil
}

// RegenerateLegacySecret gives a resource a new LTI 1.1 secret (the old one stops working at once).
func (s *Service) RegenerateLegacySecret(ctx context.Context, u *account.User, id int64) (Resource, error) {
	r, err := s.Resource(ctx, u, id)
	if err != nil {
		return Resource{}, err
	}
	r.LegacySecret, r.UpdatedAt = lti11.NewSecret(), s.now()
	defer s.Cache.Invalidate()
	if err := s.Store.UpdateResource(ctx, r); err != nil {
		return Resource{}, fmt.Errorf("regenerate secret: %w", err)
	}
	return r, nil
}

// recordLegacyLink records a 1.1 resource link, its memberships extension, and where the user's grade goes.
func (s *Service) recordLegacyLink(ctx context.Context, l Launch, r Resource, ltiUserID int64, now time.Time) (ResourceLink, error) {
	if s.Legacy == nil {
		return ResourceLink{}, errors.New("legacy launches are not wired (publish.Service.Legacy)")
	}
	m := l.Message
	link := ResourceLink{DeploymentID: l.Registration.Issuer, LinkID: m.ResourceLink.ID, PublishedResourceID: r.ID,
		Title: m.ResourceLink.Title, CreatedAt: now, UpdatedAt: now}
	if m.Context != nil {
		link.ContextID, link.ContextTitle = m.Context.ID, m.Context.Title
	}
	lg := l.Legacy
	if err := s.Legacy.SaveLegacyLink(ctx, &link, LegacyLink{ConsumerKey: lg.ConsumerKey, InstanceGUID: lg.InstanceGUID,
		PlatformName: lg.PlatformName, MembershipsURL: lg.MembershipsURL, MembershipsID: lg.MembershipsID, UpdatedAt: now}); err != nil {
		return ResourceLink{}, fmt.Errorf("record resource link: %w", err)
	}
	if err := s.Store.LinkUserToResourceLink(ctx, ltiUserID, link.ID, now); err != nil {
		return ResourceLink{}, fmt.Errorf("record the user's resource link: %w", err)
	}
	if lg.OutcomeServiceURL != "" && lg.ResultSourcedID != "" {
		if err := s.Legacy.SaveLegacyOutcome(ctx, LegacyOutcome{ResourceLinkID: link.ID, LTIUserID: ltiUserID,
			ServiceURL: lg.OutcomeServiceURL, SourcedID: lg.ResultSourcedID}, now); err != nil {
			return ResourceLink{}, fmt.Errorf("record the grade service: %w", err)
		}
	}
	return link, nil
}

// LegacyMessage is the message of a parsed 1.1 launch for the resource named by its URL: the platform identity
// as issuer, and the resource's UUID as custom id whatever the platform sent (the URL names the resource).
func LegacyMessage(l *lti11.Launch, r Resource) (*lti.Message, LegacyLaunch) {
	pid := lti11.PlatformID(l.ConsumerKey, l.InstanceGUID)
	m := l.Message(pid)
	m.CustomParams["id"] = r.UUID
	return m, LegacyLaunch{ConsumerKey: l.ConsumerKey, InstanceGUID: l.InstanceGUID, PlatformName: l.InstanceName,
		OutcomeServiceURL: l.OutcomeServiceURL, ResultSourcedID: l.ResultSourcedID, MembershipsURL: l.MembershipsURL,
		MembershipsID: l.MembershipsID}
}
