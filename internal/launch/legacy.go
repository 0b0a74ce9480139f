package launch

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/lti11"
)

// LegacyRequest is an LTI 1.1 launch as the web layer decoded it.
type LegacyRequest struct {
	// DecodeErr is set when the form could not be read; the launch is refused (and logged) with it.
	DecodeErr error
	Method    string
	// SignedURL is the URL the platform must have signed: the tool's base URL and the request's path.
	SignedURL string
	// SeenURL is the URL as this server saw it (scheme and Host header), for the hint when signatures differ.
	SeenURL string
	Form    url.Values
	Params  lti11.Params
	// UUID names the published resource (the launch URL's path).
	UUID string
	// Mixed is the mixed http/https warning, when the platform's scheme differs from the tool's.
	Mixed     string
	Prev      Session
	RequestID string
}

// legacyNonces keeps OAuth nonces in the launch nonce table, as issuer "lti11:<consumer key>".
type legacyNonces struct{ store lti.NonceStore }

func (n legacyNonces) UseNonce(ctx context.Context, consumerKey, nonce string, until time.Time) error {
	return n.store.UseNonce(ctx, "lti11:"+consumerKey, nonce, until)
}

// Legacy checks a basic-lti-launch-request and lands it; nothing is created before every check passed. Its
// launch log row is written once, with the outcome.
func (s *Service) Legacy(ctx context.Context, req LegacyRequest) (*Outcome, error) {
	entry := &LogEntry{Stage: StageLaunch, RequestID: req.RequestID, Path: PathLegacy}
	if req.DecodeErr != nil {
		s.record(ctx, entry, req.DecodeErr)
		return nil, req.DecodeErr
	}
	ps := req.Params
	key := ps.Get("oauth_consumer_key")
	entry.MessageType, entry.Subject, entry.ClientID = ps.Get("lti_message_type"), ps.Get("user_id"), key
	if key != "" {
		entry.Issuer = lti11.PlatformID(key, ps.Get("tool_consumer_instance_guid"))
	}
	// Named from the launch's own fields, so that a refused launch (bad signature) is named too.
	entry.PlatformName = PlatformName(&lti.Message{ToolPlatform: &lti.ToolPlatform{
		ProductFamilyCode: ps.Get("tool_consumer_info_product_family_code"), Name: ps.Get("tool_consumer_instance_name")}},
		tool.Registration{})
	names := make([]string, 0, len(ps))
	for _, p := range ps {
		names = append(names, p.Name)
	}
	entry.Detail = legacyDetail(ps, names)
	l, err := s.legacy(ctx, req)
	var out *Outcome
	if err == nil {
		out, err = s.land(ctx, l, publish.Choice{}, req.Prev, entry)
	}
	if out != nil {
		out.Mixed = req.Mixed
		if out.Pending != nil {
			out.Pending.Mixed = req.Mixed
		}
	}
	s.finish(ctx, entry, out, err)
	if out != nil && out.Launch != nil {
		out.Launch.LogID = entry.ID
		if out.Pending != nil {
			out.Pending.LogID = entry.ID
		}
	}
	return out, err
}

func (s *Service) legacy(ctx context.Context, req LegacyRequest) (*Launch, error) {
	ps := req.Params
	if err := lti11.CheckOAuthParams(ps); err != nil {
		return nil, err
	}
	pl, err := lti11.ParseLaunch(req.Form)
	if err != nil {
		return nil, err
	}
	res, err := s.publish.LegacyResource(ctx, req.UUID)
	if err != nil {
		return nil, err
	}
	// The consumer key of a platform registered over LTI 2.0 is its tool proxy's GUID, signed with its secret.
	secret, tp, err := s.publish.LegacySecretFor(ctx, res, ps.Get("oauth_consumer_key"))
	if err != nil {
		return nil, err
	}
	v := &lti11.Verifier{Nonces: legacyNonces{s.validator.Nonces}, Now: s.now}
	if err := v.Verify(ctx, req.Method, req.SignedURL, ps, secret); err != nil {
		return nil, toolProxyHint(tp, signatureHint(req, secret, err))
	}
	m, lg := publish.LegacyMessage(pl, res)
	if tp != nil && lg.PlatformName == "" {
		lg.PlatformName = tp.ConsumerName
	}
	return &Launch{Message: m, Registration: publish.LegacyRegistration(m.Issuer, lg.PlatformName), Legacy: &lg, Path: PathLegacy}, nil
}

// signatureHint improves an "Invalid signature": when the signature matches another URL of this request (the
// one the server saw behind a proxy, or the other scheme), it says which, since the secret is then right.
func signatureHint(req LegacyRequest, secret string, err error) error {
	var le *lti.Error
	if !errors.Is(err, lti11.ErrBadSignature) || !errors.As(err, &le) {
		return err
	}
	signed := req.SignedURL
	alts := []string{req.SeenURL}
	if strings.HasPrefix(signed, "https://") {
		alts = append(alts, "http://"+strings.TrimPrefix(signed, "https://"))
	} else {
		alts = append(alts, "https://"+strings.TrimPrefix(signed, "http://"))
	}
	hint := *le
	for _, alt := range alts {
		if alt != signed && lti11.SignatureMatches(req.Method, alt, req.Params, secret) {
			base, _ := lti11.BaseURI(signed)
			hint.Fix = fmt.Sprintf("the secret is right, but the platform signed %s while this tool's base URL makes it %s: "+
				"set the tool's base URL (--base-url) to the public URL the platform uses, or fix the launch URL in the platform", alt, base)
			break
		}
	}
	if req.Mixed != "" {
		hint.Fix += ". " + req.Mixed
	}
	return &hint
}
