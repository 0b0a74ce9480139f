// Package publish holds the published LTI resources of ltipub — a whole course or one activity offered to
// platforms — and what a launch does with them: find the resource, find or create the account per the
// provisioning mode, enrol, remember the resource link and its service endpoints, and say where to land.
package publish

import (
	"context"
	"errors"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
)

// Mode is a first-launch provisioning mode.
type Mode string

const (
	// ModeAuto: new accounts only (automatic).
	ModeAuto Mode = "auto"
	// ModePrompt: existing and new accounts (prompt).
	ModePrompt Mode = "prompt"
	// ModeExisting: existing accounts only (prompt).
	ModeExisting Mode = "existing"
)

// Modes lists the modes in the order the form offers them.
var Modes = []Mode{ModeAuto, ModePrompt, ModeExisting}

// Label is the mode's name in the UI, as Moodle calls it.
func (m Mode) Label() string {
	switch m {
	case ModeAuto:
		return "New accounts only (automatic)"
	case ModePrompt:
		return "Existing and new accounts (prompt)"
	case ModeExisting:
		return "Existing accounts only (prompt)"
	}
	return string(m)
}

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool { return m == ModeAuto || m == ModePrompt || m == ModeExisting }

// SyncMode says what member sync does.
type SyncMode string

const (
	SyncEnrolAndUnenrol SyncMode = "enrol_and_unenrol"
	SyncEnrolOnly       SyncMode = "enrol_only"
	SyncUnenrolOnly     SyncMode = "unenrol_only"
)

// Label names the sync mode in the UI.
func (m SyncMode) Label() string {
	switch m {
	case SyncEnrolAndUnenrol:
		return "Enrol new and unenrol missing users"
	case SyncEnrolOnly:
		return "Enrol new users only"
	case SyncUnenrolOnly:
		return "Unenrol missing users only"
	}
	return string(m)
}

// Valid reports whether m is a known sync mode.
func (m SyncMode) Valid() bool {
	return m == SyncEnrolAndUnenrol || m == SyncEnrolOnly || m == SyncUnenrolOnly
}

// Resource is a course or an activity published as an LTI resource.
type Resource struct {
	ID             int64
	UUID           string
	CourseID       int64
	ActivityID     int64 // 0: the whole course
	Name           string
	Enabled        bool
	GradeSync      bool
	MemberSync     bool
	MemberSyncMode SyncMode
	StudentMode    Mode
	TeacherMode    Mode
	EnrolStart     time.Time // zero: no start
	EnrolEnd       time.Time // zero: no end
	MaxEnrolled    int       // 0: unlimited
	LearnerRole    course.Role
	InstructorRole course.Role
	Defaults       AccountDefaults
	LegacySecret   string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// AccountDefaults are the settings of accounts a resource creates.
type AccountDefaults struct {
	Language    string
	Timezone    string
	Institution string
	Country     string
}

// IsCourse reports whether the resource publishes a whole course.
func (r Resource) IsCourse() bool { return r.ActivityID == 0 }

// LaunchURL is the URL platforms launch (the same for every resource; the custom id tells them apart).
func LaunchURL(baseURL string) string { return baseURL + "/lti/launch" }

// CustomProperties is what an admin pastes into the platform when linking manually.
func (r Resource) CustomProperties() string { return "id=" + r.UUID }

// ResourceLink is one placement of a resource in a platform.
type ResourceLink struct {
	ID                  int64
	RegistrationID      int64
	DeploymentID        string
	LinkID              string
	PublishedResourceID int64
	ContextID           string
	ContextTitle        string
	Title               string
	LineItemsURL        string
	LineItemURL         string
	AGSScopes           []string
	MembershipsURL      string
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// LTIUser links a platform user to a local account.
type LTIUser struct {
	ID             int64
	Issuer         string
	Subject        string
	RegistrationID int64
	UserID         int64
	CreatedAt      time.Time
	LastLaunchAt   time.Time
}

// Store is what publishing needs from storage.
type Store interface {
	CreateResource(ctx context.Context, r *Resource) error
	UpdateResource(ctx context.Context, r Resource) error
	DeleteResource(ctx context.Context, id int64) error
	ResourceByID(ctx context.Context, id int64) (Resource, error)
	ResourceByUUID(ctx context.Context, uuid string) (Resource, error)
	Resources(ctx context.Context, courseID int64) ([]Resource, error) // courseID 0: all
	// ResourcesPage lists one page of a course's published resources matching f, by name then id, and counts them.
	ResourcesPage(ctx context.Context, courseID int64, f ResourceFilter) ([]Resource, int, error)
	CountResourceEnrolments(ctx context.Context, resourceID int64) (int, error)

	LTIUser(ctx context.Context, issuer, subject string) (LTIUser, error)
	// LinkedUser finds the link of a platform user, the account it links to and that account's enrolments in
	// course courseID (store.ErrNotFound if unlinked).
	LinkedUser(ctx context.Context, issuer, subject string, courseID int64) (LTIUser, account.User, []course.Enrolment, error)
	// LinkLTIUser links (issuer, subject) to userID unless a link exists; it returns the link that holds.
	LinkLTIUser(ctx context.Context, u LTIUser) (LTIUser, error)
	TouchLTIUser(ctx context.Context, id int64, at time.Time) error

	ResourceLink(ctx context.Context, registrationID int64, deploymentID, linkID string) (ResourceLink, error)
	// SaveResourceLink inserts or updates the link (by registration, deployment and link ID) and sets its ID.
	SaveResourceLink(ctx context.Context, l *ResourceLink) error
	ResourceLinks(ctx context.Context, resourceID int64) ([]ResourceLink, error)
	LinkUserToResourceLink(ctx context.Context, ltiUserID, resourceLinkID int64, at time.Time) error
}

// Errors of publishing. Launch refusals are *Refusal values with a plain-words message.
var (
	ErrNotFound  = errors.New("published resource not found")
	ErrForbidden = errors.New("you may not manage this course's published resources")
)
