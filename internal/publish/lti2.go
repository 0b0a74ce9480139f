package publish

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/refusal"
	"github.com/ltipub/ltipub/internal/store"
)

// LTI 2.0 tool proxies. A platform that registers a published resource over LTI 2.0 (the registration URL of its
// Legacy details) becomes one more LTI 1.1 consumer of that resource: its launches go to the same launch URL,
// signed with the tool proxy GUID as consumer key and the secret the tool proxy's security contract agreed, and
// land, provision, enrol and send grades (Basic Outcomes) exactly as 1.1 launches do.
//
// The registration URL carries a token derived from the resource's LTI 1.1 secret: a registration makes a new
// consumer credential for the resource, so only those who may see the secret (the course's managers) may hand
// the URL out, and regenerating the secret withdraws the URL. Tool proxies already registered keep working.

// ToolProxy is an LTI 2.0 tool proxy registered for a published resource.
type ToolProxy struct {
	ID         int64
	ResourceID int64
	// GUID is the tool proxy GUID the platform issued: the consumer key of its launches.
	GUID string
	// Secret is the shared secret the contract agreed (the platform's half and the tool's when split).
	Secret      string
	SplitSecret bool
	// ConsumerName and ProductFamily name the platform, from its tool consumer profile.
	ConsumerName  string
	ProductFamily string
	ProfileURL    string
	// Proxy is the tool proxy as posted (JSON), its secrets blanked.
	Proxy     string
	CreatedAt time.Time
}

// ToolProxyStore keeps tool proxies.
type ToolProxyStore interface {
	// SaveToolProxy inserts a tool proxy, or replaces the one with the same (resource, GUID), and sets its ID.
	SaveToolProxy(ctx context.Context, p *ToolProxy) error
	// ToolProxy finds a resource's tool proxy by GUID (store.ErrNotFound when there is none).
	ToolProxy(ctx context.Context, resourceID int64, guid string) (ToolProxy, error)
	// ToolProxies lists a resource's tool proxies, newest first.
	ToolProxies(ctx context.Context, resourceID int64) ([]ToolProxy, error)
	// DeleteToolProxy removes one (store.ErrNotFound when it is not the resource's).
	DeleteToolProxy(ctx context.Context, resourceID, id int64) error
}

// RegistrationURL is the LTI 2.0 registration URL of a resource (Moodle's "Proxy URL"); "" without an LTI 1.1
// secret, from which its token derives.
func RegistrationURL(baseURL string, r Resource) string {
	if r.LegacySecret == "" {
		return ""
	}
	return baseURL + "/lti/legacy/" + r.UUID + "/register/" + registrationToken(r)
}

func registrationToken(r Resource) string {
	mac := hmac.New(sha256.New, []byte(r.LegacySecret))
	mac.Write([]byte("ltipub lti2 registration\x00" + r.UUID))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:18])
}

// RegistrationResource finds the resource a registration URL names, checking its token.
func (s *Service) RegistrationResource(ctx context.Context, uuid, token string) (Resource, error) {
	unknown := &Refusal{Code: "lti2_registration_url_unknown", Kind: refusal.NotFound, Audience: refusal.Teacher,
		Title:       "This registration URL does not work",
		Description: "This LTI 2.0 registration URL names no published resource, or its secret was regenerated since it was copied",
		Fix:         "Copy the Registration URL again from the resource's Legacy details on its Published as LTI tools page, and register with it"}
	if s.ToolProxies == nil {
		return Resource{}, errors.New("LTI 2.0 registration is not wired (publish.Service.ToolProxies)")
	}
	r, err := s.resourceByUUID(ctx, uuid)
	if errors.Is(err, store.ErrNotFound) {
		return Resource{}, unknown
	}
	if err != nil {
		return Resource{}, err
	}
	if r.LegacySecret == "" || !hmac.Equal([]byte(token), []byte(registrationToken(r))) {
		return Resource{}, unknown
	}
	return r, nil
}

// SaveToolProxy records a registered tool proxy.
func (s *Service) SaveToolProxy(ctx context.Context, p *ToolProxy) error {
	if s.ToolProxies == nil {
		return errors.New("LTI 2.0 registration is not wired (publish.Service.ToolProxies)")
	}
	defer s.Cache.Invalidate()
	if err := s.ToolProxies.SaveToolProxy(ctx, p); err != nil {
		return fmt.Errorf("save tool proxy: %w", err)
	}
	return nil
}

// LegacySecretFor is the secret that signs a legacy launch of r with consumerKey: the secret of r's tool proxy
// of that GUID when there is one, else r's LTI 1.1 secret. tp is the tool proxy, when it is one.
func (s *Service) LegacySecretFor(ctx context.Context, r Resource, consumerKey string) (secret string, tp *ToolProxy, err error) {
	if s.ToolProxies != nil && consumerKey != "" {
		p, err := s.toolProxy(ctx, r.ID, consumerKey)
		if err != nil {
			return "", nil, err
		}
		if p != nil {
			return p.Secret, p, nil
		}
	}
	return r.LegacySecret, nil, nil
}

// toolProxy reads a resource's tool proxy by GUID (nil when there is none) through the resource cache: a tool
// proxy saved or removed here applies at once, one saved or removed on another instance within the cache's TTL.
func (s *Service) toolProxy(ctx context.Context, resourceID int64, guid string) (*ToolProxy, error) {
	key, now, gen := fmt.Sprintf("%d\x00%s", resourceID, guid), s.now(), s.generation()
	if p, ok := s.Cache.getProxy(key, now, gen); ok {
		return p, nil
	}
	p, err := s.ToolProxies.ToolProxy(ctx, resourceID, guid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.Cache.putProxy(key, nil, now, gen)
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("load tool proxy: %w", err)
	}
	s.Cache.putProxy(key, &p, now, gen)
	return &p, nil
}

// ToolProxiesOf lists the tool proxies registered for a resource (for the pages of those who manage it).
func (s *Service) ToolProxiesOf(ctx context.Context, r Resource) ([]ToolProxy, error) {
	if s.ToolProxies == nil {
		return nil, nil
	}
	return s.ToolProxies.ToolProxies(ctx, r.ID)
}

// RemoveToolProxy withdraws a platform's LTI 2.0 registration of a resource that u manages: launches and grades
// signed with the tool proxy's credentials stop at once.
func (s *Service) RemoveToolProxy(ctx context.Context, u *account.User, resourceID, toolProxyID int64) error {
	r, err := s.Resource(ctx, u, resourceID)
	if err != nil {
		return err
	}
	gone := &Refusal{Code: "lti2_tool_proxy_unknown", Kind: refusal.NotFound, Audience: refusal.Teacher,
		Description: "This LTI 2.0 registration is not one of this resource's: it was removed already",
		Fix:         "Reload the Published as LTI tools page"}
	if s.ToolProxies == nil {
		return gone
	}
	defer s.Cache.Invalidate()
	if err := s.ToolProxies.DeleteToolProxy(ctx, r.ID, toolProxyID); errors.Is(err, store.ErrNotFound) {
		return gone
	} else if err != nil {
		return fmt.Errorf("remove tool proxy: %w", err)
	}
	return nil
}
