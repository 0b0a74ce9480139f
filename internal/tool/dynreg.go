package tool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ltipub/ltipub/internal/refusal"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/lti"
)

// toolClaims are the identity claims ltipub asks platforms to send: enough to name accounts and match them by
// email.
var toolClaims = []string{"iss", "sub", "name", "given_name", "family_name", "email", "picture"}

// DynamicRegistration is the platform's request at the registration URL.
type DynamicRegistration struct {
	Token             string // ours, from the registration URL
	ConfigurationURL  string // openid_configuration
	RegistrationToken string // registration_token (the platform's, optional)
}

// Register runs LTI Dynamic Registration for the registration that owns the token: fetch and check the
// platform's OpenID configuration, post ltipub's client registration, and store the client ID, the deployment
// ID and the platform's endpoints. Running it again for the same registration (with a new registration URL)
// updates it. The token is single-use when registration succeeds; on any failure the registration is left as it
// was and the token stays usable, so the platform can simply try again.
func (s *Service) Register(ctx context.Context, dr DynamicRegistration) (Registration, error) {
	hash := hashToken(dr.Token)
	reg, tok, err := s.Store.RegistrationByTokenHash(ctx, hash)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Registration{}, &Refusal{Code: "registration_url_unknown", Kind: refusal.NotFound, Audience: refusal.Admin, Title: "This registration URL is not valid",
			Description: "No registration has this registration URL: it was replaced by a newer one, its registration was deleted, or it was copied incompletely.",
			Fix:         "In ltipub, open Site administration → Platforms → the platform → Tool details, make a new registration URL, and paste it into the platform."}
	case err != nil:
		return Registration{}, err
	case tok.Used:
		return Registration{}, &Refusal{Code: "registration_url_used", Kind: refusal.Gone, Audience: refusal.Admin, Title: "This registration URL was already used",
			Description: fmt.Sprintf("The registration URL of %q completed a registration already; each URL works once.", reg.Name),
			Fix:         "To register again (or update the registration), make a new registration URL on the platform's Tool details page in ltipub.",
			Args:        map[string]any{"Name": reg.Name}}
	case !s.now().Before(tok.ExpiresAt):
		return Registration{}, &Refusal{Code: "registration_url_expired", Kind: refusal.Gone, Audience: refusal.Admin, Title: "This registration URL has expired",
			Description: fmt.Sprintf("The registration URL of %q expired on %s.", reg.Name, tok.ExpiresAt.UTC().Format("2006-01-02 15:04 MST")),
			Fix:         "Make a new registration URL on the platform's Tool details page in ltipub and paste it into the platform.",
			Args:        map[string]any{"Name": reg.Name, "Date": tok.ExpiresAt}}
	}
	if dr.ConfigurationURL == "" {
		return Registration{}, &Refusal{Code: "openid_configuration_missing", Kind: refusal.Invalid, Audience: refusal.Admin, Title: "Open this URL from the platform",
			Description: "This is a dynamic registration URL: the platform opens it with its openid_configuration, and none was given.",
			Fix:         "Paste the URL into the platform's dynamic registration field (Moodle: Tool URL under Manage tools; Brightspace: Register Tool → Dynamic). Opening it in a browser does nothing."}
	}
	if err := s.Store.ClaimRegistrationToken(ctx, reg.ID, hash, s.now()); errors.Is(err, store.ErrConflict) {
		return Registration{}, &Refusal{Code: "registration_url_used", Kind: refusal.Gone, Audience: refusal.Admin, Title: "This registration URL was already used",
			Description: "Another registration with this URL is running or has completed.",
			Fix:         "Wait a moment and check the platform's list in ltipub; if it is not Active, make a new registration URL."}
	} else if err != nil {
		return Registration{}, err
	}
	out, err := s.register(ctx, reg, dr)
	if err != nil {
		// Leave everything as it was, the token included.
		if rerr := s.Store.RestoreRegistrationToken(context.WithoutCancel(ctx), reg.ID, hash, tok.ExpiresAt); rerr != nil {
			s.log().ErrorContext(ctx, "restore registration token", slog.Any("error", rerr))
		}
		s.log().WarnContext(ctx, "dynamic registration failed", slog.Int64("registration_id", reg.ID), slog.Any("error", err))
		return Registration{}, err
	}
	s.log().InfoContext(ctx, "dynamic registration completed", slog.Int64("registration_id", out.ID), slog.String("issuer", out.Issuer),
		slog.String("client_id", out.ClientID), slog.String("product_family", out.ProductFamily))
	return out, nil
}

func (s *Service) register(ctx context.Context, reg Registration, dr DynamicRegistration) (Registration, error) {
	cfg, err := lti.FetchPlatformConfiguration(ctx, s.HTTP, dr.ConfigurationURL, s.AllowPrivateURLs)
	if err != nil {
		return Registration{}, refusalFromLTI(err)
	}
	if err := cfg.Check(dr.ConfigurationURL, s.AllowPrivateURLs); err != nil {
		return Registration{}, refusalFromLTI(err)
	}
	name := s.ToolName
	if name == "" {
		name = "ltipub"
	}
	urls := s.URLs("")
	req, err := cfg.ClientRegistration(lti.ToolRegistration{
		Name: name, LogoURL: s.BaseURL + "/static/logo.png", LoginURL: urls.Login, LaunchURL: urls.Tool,
		DeepLinkURL: urls.DeepLinking, JWKSURL: urls.JWKS, Claims: toolClaims, Scopes: lti.ToolScopes,
		Description:   "Courses and activities published by ltipub",
		DeepLinkLabel: name + ": add a course or activity",
		// Asked for only when the platform offers it (Canvas): notices of course copies.
		OptionalScopes: []string{lti.ScopeNoticeHandlers},
	})
	if err != nil {
		return Registration{}, err
	}
	res, err := lti.Register(ctx, s.HTTP, cfg.RegistrationEndpoint, dr.RegistrationToken, req)
	if err != nil {
		return Registration{}, refusalFromLTI(err)
	}
	if err := s.checkUnique(ctx, reg.ID, cfg.Issuer, res.ClientID); err != nil {
		return Registration{}, err
	}
	reg.Issuer, reg.ClientID = cfg.Issuer, res.ClientID
	reg.JWKSURL, reg.TokenURL, reg.AuthURL = cfg.JWKSURI, cfg.TokenEndpoint, cfg.AuthorizationEndpoint
	reg.TokenAudience = cfg.AuthorizationServer
	reg.ProductFamily = cfg.LTI.ProductFamilyCode
	reg.PlatformName = strings.TrimSpace(productName(cfg.LTI.ProductFamilyCode) + " " + cfg.LTI.Version)
	var add []Deployment
	if res.DeploymentID != "" && !reg.HasDeployment(res.DeploymentID) {
		add = append(add, Deployment{DeploymentID: res.DeploymentID, Name: "Added by dynamic registration"})
	}
	if err := s.save(ctx, reg, add); err != nil {
		return Registration{}, err
	}
	return s.Store.Registration(ctx, reg.ID)
}

// productName names a product family for people; unknown families are shown as sent.
func productName(family string) string {
	switch strings.ToLower(family) {
	case "moodle":
		return "Moodle"
	case "canvas":
		return "Canvas"
	case "desire2learn", "d2l", "brightspace":
		return "D2L Brightspace"
	case "blackboard", "blackboardlearn", "bb":
		return "Blackboard Learn"
	case "sakai":
		return "Sakai"
	}
	return family
}

// refusalFromLTI turns a protocol failure of dynamic registration into a refusal a person reads.
func refusalFromLTI(err error) error {
	var le *lti.Error
	if !errors.As(err, &le) {
		return err
	}
	r := &Refusal{Code: string(le.Code), Kind: refusal.Invalid, Audience: refusal.Admin, Description: capitalize(le.Description) + ".",
		Fix: capitalize(le.Fix) + ".", Args: map[string]any{"Detail": le.Description}, Err: err}
	switch le.Code {
	case lti.CodeDRConfigFetch:
		r.Kind, r.Title = refusal.Upstream, "The platform's configuration could not be fetched"
	case lti.CodeDRConfigURL:
		r.Title = "The platform sent an unusable configuration URL"
	case lti.CodeDRConfigInvalid:
		r.Kind, r.Title = refusal.Upstream, "The platform's configuration is incomplete"
	case lti.CodeDRIssuerMismatch:
		r.Title = "The platform's issuer does not match its configuration URL"
	case lti.CodeDRUnsupported:
		r.Title = "The platform lacks something ltipub needs"
	case lti.CodeDRRejected:
		r.Kind, r.Title = refusal.Upstream, "The platform refused the registration"
	default:
		r.Kind, r.Title = refusal.Upstream, "The platform's answer could not be used"
	}
	return r
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ProductName names a product family code (tool_platform's product_family_code) for people: "moodle" is Moodle.
func ProductName(family string) string { return productName(family) }
