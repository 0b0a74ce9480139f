// Package tool holds ltipub's side of LTI registrations: the platforms an admin has registered, their deployments,
// and the rules that decide when a registration may launch.
package tool

import (
	"context"
	"errors"
	"time"
)

// Registration is one platform registration: ltipub's client at one platform (issuer + client ID).
type Registration struct {
	ID            int64
	Name          string
	Issuer        string // the platform's issuer (Platform ID)
	ClientID      string // the client ID the platform gave ltipub
	JWKSURL       string // the platform's public keyset URL
	TokenURL      string // the platform's access token URL
	AuthURL       string // the platform's OIDC authentication request URL
	TokenAudience string // the aud for client assertions when the platform declares one
	PlatformName  string // the platform's product, from dynamic registration
	ProductFamily string // moodle, canvas, …
	CreatedAt     time.Time
	UpdatedAt     time.Time

	Deployments []Deployment
}

// Deployment is one deployment ID of a registration.
type Deployment struct {
	ID             int64
	RegistrationID int64
	DeploymentID   string
	Name           string
	CreatedAt      time.Time
}

// HasPlatformDetails reports whether the admin (or dynamic registration) has filled in the platform's side.
func (r Registration) HasPlatformDetails() bool {
	return r.Issuer != "" && r.ClientID != "" && r.JWKSURL != "" && r.AuthURL != ""
}

// Active reports whether the registration can launch: platform details and at least one deployment.
func (r Registration) Active() bool { return r.HasPlatformDetails() && len(r.Deployments) > 0 }

// Status is "Active" or "Pending", as the registrations list shows it.
func (r Registration) Status() string {
	if r.Active() {
		return "Active"
	}
	return "Pending"
}

// HasDeployment reports whether id is one of the registration's deployment IDs (case-sensitive, as the spec says).
func (r Registration) HasDeployment(id string) bool {
	for _, d := range r.Deployments {
		if d.DeploymentID == id {
			return true
		}
	}
	return false
}

// Store is what registrations need from storage.
type Store interface {
	CreateRegistration(ctx context.Context, r *Registration) error
	Registration(ctx context.Context, id int64) (Registration, error)
	RegistrationsByIssuer(ctx context.Context, issuer string) ([]Registration, error)
	Registrations(ctx context.Context) ([]Registration, error)
	// RegistrationsPage lists one page of the registrations matching f, by name then id, and counts them.
	RegistrationsPage(ctx context.Context, f RegistrationFilter) ([]Registration, int, error)
	UpdateRegistration(ctx context.Context, r Registration) error
	DeleteRegistration(ctx context.Context, id int64) error
	AddDeployment(ctx context.Context, d *Deployment) error
	RemoveDeployment(ctx context.Context, registrationID int64, deploymentID string) error
}

var (
	// ErrUnknownPlatform means no registration has the issuer (and client ID) a platform sent.
	ErrUnknownPlatform = errors.New("no registration for this platform")
	// ErrAmbiguousPlatform means several registrations share the issuer and the platform did not say which.
	ErrAmbiguousPlatform = errors.New("several registrations share this issuer")
)
