package cli

import (
	"encoding/json"
	"io"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/course/moodle"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/tool"
)

// The JSON shapes the commands print, one per thing, whichever command prints it (docs/cli-json.md). A URL field
// sits under the party it belongs to: tool.jwks_url is ltipub's keyset, platform.jwks_url the platform's.

func writeJSON(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }

type deploymentJSON struct {
	DeploymentID string `json:"deployment_id"`
	Name         string `json:"name,omitempty"`
}

// platformJSON is what the platform told ltipub about itself.
type platformJSON struct {
	Issuer        string `json:"issuer"`
	ClientID      string `json:"client_id"`
	JWKSURL       string `json:"jwks_url"`
	TokenURL      string `json:"token_url"`
	AuthURL       string `json:"auth_url"`
	Name          string `json:"name,omitempty"`
	ProductFamily string `json:"product_family,omitempty"`
}

// toolJSON is what the platform's admin types into the platform: ltipub's URLs.
type toolJSON struct {
	RegistrationURL string `json:"registration_url,omitempty"`
	LaunchURL       string `json:"launch_url"`
	LoginURL        string `json:"login_url"`
	JWKSURL         string `json:"jwks_url"`
	DeepLinkingURL  string `json:"deep_linking_url"`
}

type registrationJSON struct {
	ID          int64            `json:"id"`
	Name        string           `json:"name"`
	Status      string           `json:"status"`
	Platform    platformJSON     `json:"platform"`
	Tool        toolJSON         `json:"tool"`
	Deployments []deploymentJSON `json:"deployments"`
}

func toJSON(r tool.Registration, urls tool.ToolURLs) registrationJSON {
	out := registrationJSON{ID: r.ID, Name: r.Name, Status: r.Status(),
		Platform: platformJSON{Issuer: r.Issuer, ClientID: r.ClientID, JWKSURL: r.JWKSURL, TokenURL: r.TokenURL,
			AuthURL: r.AuthURL, Name: r.PlatformName, ProductFamily: r.ProductFamily},
		Tool: toolJSON{RegistrationURL: urls.Registration, LaunchURL: urls.Tool, LoginURL: urls.Login, JWKSURL: urls.JWKS,
			DeepLinkingURL: urls.DeepLinking},
		Deployments: []deploymentJSON{}}
	for _, d := range r.Deployments {
		out.Deployments = append(out.Deployments, deploymentJSON{d.DeploymentID, d.Name})
	}
	return out
}

type legacyJSON struct {
	LaunchURL    string `json:"launch_url"`
	CartridgeURL string `json:"cartridge_url"`
	Secret       string `json:"secret"`
	ConsumerKey  string `json:"consumer_key"`
	// RegistrationURL is the LTI 2.0 registration URL (tool proxy registration; as private as the secret).
	RegistrationURL string `json:"registration_url,omitempty"`
}

// resourceJSON is a published resource (publish, published list, published show).
type resourceJSON struct {
	ID          int64  `json:"id"`
	UUID        string `json:"uuid"`
	CourseID    int64  `json:"course_id"`
	ActivityID  int64  `json:"activity_id,omitempty"`
	Name        string `json:"name"`
	Enabled     bool   `json:"enabled"`
	GradeSync   bool   `json:"grade_sync"`
	MemberSync  bool   `json:"member_sync"`
	StudentMode string `json:"student_mode"`
	TeacherMode string `json:"teacher_mode"`
	// LaunchURL and Custom are the LTI 1.3 launch URL and custom properties, for linking by hand.
	LaunchURL string     `json:"launch_url"`
	Custom    string     `json:"custom"`
	Legacy    legacyJSON `json:"legacy"`
}

func toResourceJSON(r publish.Resource, baseURL string) resourceJSON {
	return resourceJSON{ID: r.ID, UUID: r.UUID, CourseID: r.CourseID, ActivityID: r.ActivityID, Name: r.Name,
		Enabled: r.Enabled, GradeSync: r.GradeSync, MemberSync: r.MemberSync, StudentMode: string(r.StudentMode),
		TeacherMode: string(r.TeacherMode), LaunchURL: publish.LaunchURL(baseURL), Custom: r.CustomProperties(),
		Legacy: legacyJSON{LaunchURL: publish.LegacyLaunchURL(baseURL, r.UUID), CartridgeURL: publish.CartridgeURL(baseURL, r.UUID),
			Secret: r.LegacySecret, ConsumerKey: anyConsumerKey,
			RegistrationURL: publish.RegistrationURL(baseURL, r)}}
}

type activityJSON struct {
	ID   int64  `json:"id"`
	Type string `json:"type"`
	Name string `json:"name"`
}

// courseJSON is a course with its activities (course import).
type courseJSON struct {
	ID         int64          `json:"id"`
	FullName   string         `json:"full_name"`
	ShortName  string         `json:"short_name"`
	Activities []activityJSON `json:"activities"`
}

// courseImportJSON is what course import prints: the course, and what of a Moodle backup did not come along.
type courseImportJSON struct {
	courseJSON
	Skipped []moodle.Skipped `json:"skipped"`
	Notes   []string         `json:"notes,omitempty"`
}

func toCourseJSON(c course.Course, acts []course.Activity) courseJSON {
	out := courseJSON{ID: c.ID, FullName: c.FullName, ShortName: c.ShortName, Activities: []activityJSON{}}
	for _, a := range acts {
		out.Activities = append(out.Activities, activityJSON{ID: a.ID, Type: string(a.Type), Name: a.Name})
	}
	return out
}

// userJSON is an account (user create, list, show, set-password, suspend, unsuspend, unlock). user show adds the
// platform accounts, enrolments, last launch and sign-in lock.
type userJSON struct {
	ID                 int64     `json:"id"`
	Username           string    `json:"username"`
	FullName           string    `json:"full_name"`
	Email              string    `json:"email"`
	Auth               string    `json:"auth"`
	Admin              bool      `json:"admin"`
	CourseCreator      bool      `json:"course_creator"`
	Suspended          bool      `json:"suspended"`
	SuspendedAt        time.Time `json:"suspended_at,omitzero"`
	MustChangePassword bool      `json:"must_change_password"`
	CreatedAt          time.Time `json:"created_at"`
	LastLoginAt        time.Time `json:"last_login_at,omitzero"`

	LastLaunchAt     time.Time             `json:"last_launch_at,omitzero"`
	Locked           *bool                 `json:"locked,omitempty"`
	PlatformAccounts []platformAccountJSON `json:"platform_accounts,omitempty"`
	Enrolments       []enrolmentJSON       `json:"enrolments,omitempty"`
}

type platformAccountJSON struct {
	Issuer         string    `json:"issuer"`
	Subject        string    `json:"subject"`
	RegistrationID int64     `json:"registration_id,omitempty"`
	Platform       string    `json:"platform,omitempty"`
	LastLaunchAt   time.Time `json:"last_launch_at"`
}

type enrolmentJSON struct {
	CourseID   int64  `json:"course_id"`
	CourseName string `json:"course_name"`
	Role       string `json:"role"`
	Status     string `json:"status"`
	Method     string `json:"method"`
}

func toUserJSON(u account.User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, FullName: u.FullName, Email: u.Email, Auth: string(u.Auth), Admin: u.IsAdmin,
		CourseCreator: u.IsCourseCreator, Suspended: u.Suspended(), SuspendedAt: u.SuspendedAt,
		MustChangePassword: u.MustChangePassword, CreatedAt: u.CreatedAt, LastLoginAt: u.LastLoginAt}
}

func toUserDetailJSON(d account.Detail) userJSON {
	out := toUserJSON(d.User)
	out.LastLaunchAt, out.Locked = d.LastLaunchAt, &d.Locked
	out.PlatformAccounts, out.Enrolments = []platformAccountJSON{}, []enrolmentJSON{}
	for _, p := range d.PlatformAccounts {
		out.PlatformAccounts = append(out.PlatformAccounts, platformAccountJSON{p.Issuer, p.Subject, p.RegistrationID, p.Platform, p.LastLaunchAt})
	}
	for _, e := range d.Enrolments {
		out.Enrolments = append(out.Enrolments, enrolmentJSON{e.CourseID, e.CourseName, e.Role, e.Status, e.Method})
	}
	return out
}

// anyConsumerKey is what --json says of the LTI 1.1 consumer key: ltipub checks only the signature, by the secret.
const anyConsumerKey = "any non-empty value the platform admin chooses"
