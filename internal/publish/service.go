package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"golang.org/x/text/language"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/refusal"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/lti11"
)

// Service publishes resources and lands launches in them.
type Service struct {
	Store    Store
	Courses  *course.Service
	Accounts *account.Service
	// Legacy keeps what LTI 1.1 launches need besides Store (legacy.go); nil refuses them.
	Legacy LegacyStore
	// ToolProxies keeps LTI 2.0 tool proxies (lti2.go); nil refuses LTI 2.0 registrations.
	ToolProxies ToolProxyStore
	Now         func() time.Time
	// Tx, when set, makes a launch's provisioning (account, link, enrolment, resource link) one transaction: a
	// refusal or failure halfway leaves nothing behind, and the database commits once instead of six times.
	Tx TxRunner
	// Cache, when set, keeps launch reads of resources, courses and activities for a few seconds (cache.go).
	Cache *ResourceCache

	// inTxn is set on the transaction-bound copy: a unique-key conflict there has aborted the transaction (on
	// PostgreSQL), so it must end the attempt rather than be worked around.
	inTxn bool
	// tx is the transaction's stores on the transaction-bound copy.
	tx Stores
}

// Config is what New needs. Store, Courses and Accounts are required; Legacy, Tx and Cache are optional
// (without them LTI 1.1 launches are refused, provisioning is not one transaction, nothing is cached).
type Config struct {
	Store    Store
	Courses  *course.Service
	Accounts *account.Service
	Legacy   LegacyStore
	// ToolProxies is optional: without it LTI 2.0 registrations are refused.
	ToolProxies ToolProxyStore
	Tx          TxRunner
	Cache       *ResourceCache
	Now         func() time.Time
}

// New builds the publishing service that serve, the jobs and the CLI share; it refuses a missing dependency.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("publish: Config.Store is required")
	case cfg.Courses == nil:
		return nil, errors.New("publish: Config.Courses is required")
	case cfg.Accounts == nil:
		return nil, errors.New("publish: Config.Accounts is required")
	}
	return &Service{Store: cfg.Store, Courses: cfg.Courses, Accounts: cfg.Accounts, Legacy: cfg.Legacy, ToolProxies: cfg.ToolProxies, Tx: cfg.Tx,
		Cache: cfg.Cache, Now: cfg.Now}, nil
}

// Stores is every store a launch writes to, bound to one transaction.
type Stores interface {
	Store
	LegacyStore
	course.Store
	account.Store
}

// TxRunner runs fn with stores bound to one transaction, committed when fn returns nil.
type TxRunner interface {
	PublishTx(ctx context.Context, fn func(tx Stores) error) error
}

// inTx runs fn on a copy of the service whose stores are bound to one transaction (or on s itself without Tx).
// A conflict with a parallel launch of the same person (the same username or enrolment inserted first) is
// retried once: the retry sees the other launch's committed account and link, and reuses them.
func (s *Service) inTx(ctx context.Context, fn func(s *Service) error) error {
	if s.Tx == nil {
		return fn(s)
	}
	run := func() error {
		return s.Tx.PublishTx(ctx, func(tx Stores) error {
			bound := *s
			bound.Tx, bound.Store, bound.inTxn, bound.tx = nil, tx, true, tx
			if s.Legacy != nil {
				bound.Legacy = tx
			}
			courses, accounts := *s.Courses, *s.Accounts
			courses.Store, accounts.Store = tx, tx
			bound.Courses, bound.Accounts = &courses, &accounts
			return fn(&bound)
		})
	}
	err := run()
	if errors.Is(err, store.ErrAlreadyExists) || errors.Is(err, account.ErrUsernameTaken) {
		err = run()
	}
	return err
}

// Input is what the publish form (or CLI) sends.
type Input struct {
	CourseID       int64
	ActivityID     int64
	Name           string
	Enabled        bool
	GradeSync      bool
	MemberSync     bool
	MemberSyncMode SyncMode
	StudentMode    Mode
	TeacherMode    Mode
	EnrolStart     time.Time
	EnrolEnd       time.Time
	MaxEnrolled    int
	LearnerRole    course.Role
	InstructorRole course.Role
	Defaults       AccountDefaults
}

// NewInput is a publish form with the defaults Moodle uses.
func NewInput(courseID int64) Input {
	return Input{CourseID: courseID, Enabled: true, GradeSync: true, MemberSyncMode: SyncEnrolAndUnenrol,
		StudentMode: ModeAuto, TeacherMode: ModePrompt, LearnerRole: course.RoleStudent, InstructorRole: course.RoleTeacher}
}

// ValidationError names the field that is wrong. Code and Args name the mistake for the message catalogs
// ("validation.<code>", with Args as its placeholders), for pages in the reader's language; Message is the
// English, for logs, the CLI and JSON clients (see course.ValidationError).
type ValidationError struct {
	Field, Message string
	Code           string
	Args           map[string]any
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// invalid makes a ValidationError; args are name, value pairs whose values fill format's verbs in order.
func invalid(field, code, format string, args ...any) *ValidationError {
	named := make(map[string]any, len(args)/2)
	vals := make([]any, 0, len(args)/2)
	for i := 0; i+1 < len(args); i += 2 {
		k, _ := args[i].(string)
		named[k] = args[i+1]
		vals = append(vals, args[i+1])
	}
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, vals...), Code: code, Args: named}
}

func (in *Input) validate() error {
	switch {
	case !in.StudentMode.Valid():
		return invalid("student_mode", "publish.mode", "%q is not a provisioning mode (auto, prompt, existing)", "Value", in.StudentMode)
	case !in.TeacherMode.Valid():
		return invalid("teacher_mode", "publish.mode", "%q is not a provisioning mode (auto, prompt, existing)", "Value", in.TeacherMode)
	case !in.MemberSyncMode.Valid():
		return invalid("member_sync_mode", "publish.sync_mode", "%q is not a member sync mode", "Value", in.MemberSyncMode)
	case in.MaxEnrolled < 0:
		return invalid("max_enrolled", "publish.max_enrolled", "must be 0 (unlimited) or more")
	case !in.EnrolStart.IsZero() && !in.EnrolEnd.IsZero() && !in.EnrolEnd.After(in.EnrolStart):
		return invalid("enrol_end", "publish.enrol_end", "must be after the enrolment start")
	case in.LearnerRole != course.RoleStudent && in.LearnerRole != course.RoleTeacher:
		return invalid("learner_role", "publish.role", "must be student or teacher")
	case in.InstructorRole != course.RoleStudent && in.InstructorRole != course.RoleTeacher:
		return invalid("instructor_role", "publish.role", "must be student or teacher")
	case len(in.Name) > 255:
		return invalid("name", "max_255", "must be at most 255 characters")
	}
	return nil
}

// Publish creates a published resource; u must be able to edit the course.
func (s *Service) Publish(ctx context.Context, u *account.User, in Input) (Resource, error) {
	c, act, err := s.target(ctx, u, in.CourseID, in.ActivityID)
	if err != nil {
		return Resource{}, err
	}
	if err := in.validate(); err != nil {
		return Resource{}, err
	}
	if strings.TrimSpace(in.Name) == "" {
		in.Name = c.FullName
		if act.ID != 0 {
			in.Name = act.Name
		}
	}
	now := s.now()
	r := Resource{UUID: uuid.NewString(), LegacySecret: lti11.NewSecret(), CreatedAt: now, UpdatedAt: now}
	apply(&r, in)
	if err := s.Store.CreateResource(ctx, &r); err != nil {
		return Resource{}, fmt.Errorf("publish: %w", err)
	}
	return r, nil
}

// Update changes a published resource's settings (not what it publishes).
func (s *Service) Update(ctx context.Context, u *account.User, id int64, in Input) (Resource, error) {
	r, err := s.Resource(ctx, u, id)
	if err != nil {
		return Resource{}, err
	}
	in.CourseID = r.CourseID
	if _, _, err := s.target(ctx, u, in.CourseID, in.ActivityID); err != nil {
		return Resource{}, err
	}
	if err := in.validate(); err != nil {
		return Resource{}, err
	}
	if strings.TrimSpace(in.Name) == "" {
		in.Name = r.Name
	}
	apply(&r, in)
	r.UpdatedAt = s.now()
	defer s.Cache.Invalidate()
	if err := s.Store.UpdateResource(ctx, r); err != nil {
		return Resource{}, fmt.Errorf("update published resource: %w", err)
	}
	return r, nil
}

// SetEnabled turns a published resource on or off.
func (s *Service) SetEnabled(ctx context.Context, u *account.User, id int64, enabled bool) (Resource, error) {
	r, err := s.Resource(ctx, u, id)
	if err != nil {
		return Resource{}, err
	}
	r.Enabled, r.UpdatedAt = enabled, s.now()
	defer s.Cache.Invalidate()
	return r, s.Store.UpdateResource(ctx, r)
}

// Delete removes a published resource; its resource links go with it, enrolments it made stay.
func (s *Service) Delete(ctx context.Context, u *account.User, id int64) error {
	if _, err := s.Resource(ctx, u, id); err != nil {
		return err
	}
	defer s.Cache.Invalidate()
	return s.Store.DeleteResource(ctx, id)
}

// Resource loads one published resource that u may manage.
func (s *Service) Resource(ctx context.Context, u *account.User, id int64) (Resource, error) {
	r, err := s.Store.ResourceByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Resource{}, ErrNotFound
	}
	if err != nil {
		return Resource{}, err
	}
	if _, _, err := s.target(ctx, u, r.CourseID, 0); err != nil {
		return Resource{}, err
	}
	return r, nil
}

// ResourceFilter selects a page of a course's published resources: Query is a part of the name; Enabled is
// "yes", "no" or "" (either).
type ResourceFilter struct {
	Query   string
	Enabled string
	Offset  int
	Limit   int
}

// ListPage lists one page of a course's published resources, with the number that match.
func (s *Service) ListPage(ctx context.Context, u *account.User, courseID int64, f ResourceFilter) ([]Resource, int, error) {
	if _, _, err := s.target(ctx, u, courseID, 0); err != nil {
		return nil, 0, err
	}
	f.Query = strings.TrimSpace(f.Query)
	return s.Store.ResourcesPage(ctx, courseID, f)
}

// List lists a course's published resources (courseID 0: every course, admins only).
func (s *Service) List(ctx context.Context, u *account.User, courseID int64) ([]Resource, error) {
	if courseID == 0 {
		if u != nil && !u.IsAdmin {
			return nil, ErrForbidden
		}
	} else if _, _, err := s.target(ctx, u, courseID, 0); err != nil {
		return nil, err
	}
	return s.Store.Resources(ctx, courseID)
}

// target checks that u may publish from course courseID (and that activityID belongs to it). A nil u is the
// command line, which may do anything.
func (s *Service) target(ctx context.Context, u *account.User, courseID, activityID int64) (course.Course, course.Activity, error) {
	c, err := s.Courses.Store.CourseByID(ctx, courseID)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, course.ErrNotFound) {
		return course.Course{}, course.Activity{}, invalid("course", "publish.no_course", "there is no course %d", "ID", courseID)
	}
	if err != nil {
		return course.Course{}, course.Activity{}, err
	}
	if u != nil && !s.Courses.CanEdit(ctx, u, c) {
		return course.Course{}, course.Activity{}, ErrForbidden
	}
	var act course.Activity
	if activityID != 0 {
		act, err = s.Courses.Store.ActivityByID(ctx, activityID)
		if err != nil || act.CourseID != courseID {
			return course.Course{}, course.Activity{}, invalid("activity", "publish.no_activity", "course %d has no activity %d", "Course", courseID, "ID", activityID)
		}
	}
	return c, act, nil
}

func apply(r *Resource, in Input) {
	r.CourseID, r.ActivityID, r.Name, r.Enabled = in.CourseID, in.ActivityID, strings.TrimSpace(in.Name), in.Enabled
	r.GradeSync, r.MemberSync, r.MemberSyncMode = in.GradeSync, in.MemberSync, in.MemberSyncMode
	r.StudentMode, r.TeacherMode = in.StudentMode, in.TeacherMode
	r.EnrolStart, r.EnrolEnd, r.MaxEnrolled = in.EnrolStart, in.EnrolEnd, in.MaxEnrolled
	r.LearnerRole, r.InstructorRole, r.Defaults = in.LearnerRole, in.InstructorRole, in.Defaults
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Refusal is a launch that reached no resource, in plain words (the domain's one refusal type).
type Refusal = refusal.Refusal

// refuse is a launch refusal that the course's teacher can lift (a setting of the published resource or course).
func refuse(code, description, fix string) *Refusal {
	return refusal.New(code, refusal.Forbidden, refusal.Teacher, description, fix)
}

// NeedAccount means the provisioning mode asks the person first: sign in to an existing account (and link it),
// or, when CanCreate, have a new account made.
type NeedAccount struct {
	Resource  Resource
	CanCreate bool
	Teacher   bool
}

func (n *NeedAccount) Error() string { return "the launch needs an account choice" }

// Choice is the person's answer to NeedAccount.
type Choice struct {
	// Existing is the account the person signed in to, to be linked.
	Existing *account.User
	// CreateNew asks for a new account.
	CreateNew bool
}

// Landing is where a launch lands and as whom.
type Landing struct {
	Resource     Resource
	User         account.User
	Role         course.Role
	CourseID     int64
	ActivityID   int64
	ResourceLink ResourceLink
	NewAccount   bool
	NewEnrolment bool
	// MigratedFrom names the LTI 1.1 identity (platform identity, user_id) whose account this first LTI 1.3
	// launch joined through the lti1p1 claim (migration.go); "" otherwise.
	MigratedFrom string
	// Warning is what the launch log should say about the launch's lti1p1 claim, when it could not be used.
	Warning string
}

// Launch is what landing needs from a validated launch.
type Launch struct {
	Message      *lti.Message
	Registration tool.Registration
	// Legacy is set for an LTI 1.1 launch; Registration is then LegacyRegistration (no ID).
	Legacy *LegacyLaunch
	// BeforeCommit, if set, runs inside the provisioning transaction of a first launch, once the landing is
	// made and before the commit, with the stores bound to that transaction: the launch writes its log row
	// there (one commit fewer). Its error rolls the provisioning back. It is not called when Land provisions
	// without a transaction (a returning person, or no TxRunner).
	BeforeCommit func(ctx context.Context, tx Stores, landing Landing) error
}

// FindResource finds the published resource a resource link launch asks for: the custom id, else the resource
// link mapped earlier (content selection).
func (s *Service) FindResource(ctx context.Context, l Launch) (Resource, error) {
	return s.findResource(ctx, l, &migrationCheck{})
}

// findResource is FindResource; a resource link known only to LTI 1.1 is found through its predecessor, when the
// launch's lti1p1 claim checks out.
func (s *Service) findResource(ctx context.Context, l Launch, mc *migrationCheck) (Resource, error) {
	m := l.Message
	id, ok := m.Custom("id")
	if ok && id != "" {
		r, err := s.resourceByUUID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return Resource{}, refuse("resource_unknown",
				fmt.Sprintf("This link points to published resource %q, which does not exist on this tool (it may have been deleted).", id),
				"Ask the teacher to edit the link in the platform: content selection, or the custom property id=<uuid> from the resource's Published as LTI tools page.").
				With("ID", id)
		}
		if err != nil {
			return Resource{}, err
		}
		return r, nil
	}
	if m.ResourceLink != nil {
		link, err := s.Store.ResourceLink(ctx, l.Registration.ID, m.DeploymentID, m.ResourceLink.ID)
		if err == nil {
			r, err := s.Store.ResourceByID(ctx, link.PublishedResourceID)
			if err == nil {
				return r, nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return Resource{}, err
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return Resource{}, err
		}
	}
	if r, ok, err := s.predecessorResource(ctx, l, mc); err != nil || ok {
		return r, err
	}
	if r, ok, err := s.fromCopiedContext(ctx, l); ok || err != nil {
		return r, err
	}
	return Resource{}, refuse("resource_missing",
		"The launch does not say which published resource to open: it has no custom parameter id, and this resource link was not made by content selection.",
		"Add the link again by content selection (Deep Linking), or set the custom property id=<uuid> shown on the resource's Published as LTI tools page.")
}

// CopiedContexts is the store's record of courses the platform copied (Platform Notification Service context
// copy notices, internal/notice): the resource links of the courses a course was copied from.
type CopiedContexts interface {
	CopiedContextLinks(ctx context.Context, registrationID int64, deploymentID, contextID string) ([]ResourceLink, error)
}

// fromCopiedContext finds the published resource of a link the tool has never seen in a course the platform said
// it copied: the origin course's link named by the link's id history, else the one with the same title, else the
// one resource all the origin's links reach. Only
// launches that would otherwise be refused get here, so ordinary launches pay nothing for it.
func (s *Service) fromCopiedContext(ctx context.Context, l Launch) (Resource, bool, error) {
	m := l.Message
	cc, ok := s.Store.(CopiedContexts)
	if !ok || l.Legacy != nil || l.Registration.ID == 0 || m.ResourceLink == nil || m.Context == nil || m.Context.ID == "" {
		return Resource{}, false, nil
	}
	links, err := cc.CopiedContextLinks(ctx, l.Registration.ID, m.DeploymentID, m.Context.ID)
	if err != nil || len(links) == 0 {
		return Resource{}, false, err
	}
	pick := func(match func(ResourceLink) bool) (int64, bool) {
		var id int64
		for _, o := range links {
			if !match(o) {
				continue
			}
			if id != 0 && id != o.PublishedResourceID {
				return 0, false
			}
			id = o.PublishedResourceID
		}
		return id, id != 0
	}
	id, found := int64(0), false
	// Canvas substitutes $ResourceLink.id.history (ltipub's Canvas configuration asks for it): the links this one
	// was copied from, nearest first. A match names the origin link exactly.
	if h, ok := m.Custom("resource_link_id_history"); ok {
		for _, prev := range strings.Split(h, ",") {
			prev = strings.TrimSpace(prev)
			if id, found = pick(func(o ResourceLink) bool { return prev != "" && o.LinkID == prev }); found {
				break
			}
		}
	}
	if t := m.ResourceLink.Title; t != "" && !found {
		id, found = pick(func(o ResourceLink) bool { return o.Title == t })
	}
	if !found {
		id, found = pick(func(ResourceLink) bool { return true })
	}
	if !found {
		return Resource{}, true, refuse("resource_copied_ambiguous",
			fmt.Sprintf("This link is in course %q, a copy of a course whose links reach several published resources, and none of them has this link's title (%q).", m.Context.ID, m.ResourceLink.Title),
			"Add the link again by content selection (Deep Linking), or set the custom property id=<uuid> shown on the resource's Published as LTI tools page.").
			With("Course", m.Context.ID, "Title", m.ResourceLink.Title)
	}
	r, err := s.Store.ResourceByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Resource{}, false, nil
	}
	return r, err == nil, err
}

// Land runs the first-launch provisioning and enrolment for a resource link launch. Without a choice, a
// prompting mode answers *NeedAccount.
func (s *Service) Land(ctx context.Context, l Launch, choice Choice) (Landing, error) {
	m := l.Message
	// The generation is taken before anything is read, so that a write racing these reads is not cached as new.
	gen := s.generation()
	var mc migrationCheck
	r, err := s.findResource(ctx, l, &mc)
	if err != nil {
		return Landing{}, err
	}
	teacher := m.Roles.IsTeacherLike()
	c, act, err := s.checkResource(ctx, r, teacher, gen)
	if err != nil {
		return Landing{}, err
	}
	if m.Anonymous() || m.Subject == "" {
		return Landing{}, refuse("anonymous", "This launch is anonymous (no user id), and published resources need to know who you are.",
			"Ask the platform administrator to send user identities for this tool (privacy settings of the tool in the platform).")
	}
	// Account: a linked account always wins; otherwise the resource's mode for the role decides.
	pre, err := s.findLinked(ctx, l, c.ID)
	if err != nil {
		return Landing{}, err
	}
	if pre.linked {
		// A returning person: every write left (enrolment, resource link, the person's link to it) is an upsert
		// or a single insert, so there is nothing for a transaction to hold together. The lti1p1 claim links
		// nothing more (it was checked only if the resource link was found through it).
		landing, err := s.provision(ctx, l, r, c, act, teacher, choice, pre, mc.m)
		landing.Warning = mc.warning
		return landing, err
	}
	// A person seen for the first time: the lti1p1 claim, if any, says which LTI 1.1 account is theirs.
	mig, err := s.migration(ctx, l, &mc)
	if err != nil {
		return Landing{}, err
	}
	var landing Landing
	attempt := 0
	err = s.inTx(ctx, func(s *Service) error {
		attempt++
		if attempt > 1 { // a parallel launch of the same person won: its committed link decides now
			if pre, err = s.findLinked(ctx, l, c.ID); err != nil {
				return err
			}
		}
		var err error
		landing, err = s.provision(ctx, l, r, c, act, teacher, choice, pre, mig)
		if err == nil && l.BeforeCommit != nil && s.tx != nil {
			landing.Warning = mc.warning
			err = l.BeforeCommit(ctx, s.tx, landing)
		}
		return err
	})
	landing.Warning = mc.warning
	return landing, err
}

// linked is what the launch found of the person's link before provisioning.
type linked struct {
	user       account.User
	ltiUserID  int64
	enrolments []course.Enrolment // the account's enrolments in the course, when linked
	linked     bool
}

func (s *Service) findLinked(ctx context.Context, l Launch, courseID int64) (linked, error) {
	u, id, es, ok, err := s.linkedAccount(ctx, l, courseID)
	return linked{u, id, es, ok}, err
}

// provision finds or creates the account, enrols it and records the resource link.
func (s *Service) provision(ctx context.Context, l Launch, r Resource, c course.Course, act course.Activity, teacher bool, choice Choice, pre linked, mig *migration) (Landing, error) {
	m := l.Message
	now := s.now()
	u, ltiUserID := pre.user, pre.ltiUserID
	var err error
	newAccount := false
	migratedFrom := ""
	if !pre.linked && mig != nil {
		// A verified lti1p1 claim: the account of the person's LTI 1.1 identity is theirs, whatever the mode.
		id, ok, err := s.legacyAccount(ctx, mig)
		if err != nil {
			return Landing{}, err
		}
		if ok {
			if u, err = s.Accounts.Store.UserByID(ctx, id.UserID); err != nil {
				return Landing{}, fmt.Errorf("load the LTI 1.1 account: %w", err)
			}
			migratedFrom = id.Issuer + " user_id " + id.Subject
		}
	}
	if !pre.linked {
		// A new account cannot be enrolled yet: refuse a full resource before making anything. (An existing
		// account may already be enrolled; enrol decides for it.)
		if choice.Existing == nil && migratedFrom == "" {
			if err := s.checkCapacity(ctx, r); err != nil {
				return Landing{}, err
			}
		}
		mode := r.StudentMode
		if teacher {
			mode = r.TeacherMode
		}
		switch {
		case migratedFrom != "":
		case choice.Existing != nil && mode != ModeAuto:
			u = *choice.Existing
		case mode == ModeAuto || (choice.CreateNew && mode == ModePrompt):
			u, err = s.createAccount(ctx, r, m)
			if err != nil {
				return Landing{}, err
			}
			newAccount = true
		default:
			return Landing{}, &NeedAccount{Resource: r, CanCreate: mode == ModePrompt, Teacher: teacher}
		}
		held, err := s.Store.LinkLTIUser(ctx, LTIUser{Issuer: l.Registration.Issuer, Subject: m.Subject,
			RegistrationID: l.Registration.ID, UserID: u.ID, CreatedAt: now, LastLaunchAt: now})
		if err != nil {
			return Landing{}, fmt.Errorf("link platform user: %w", err)
		}
		ltiUserID = held.ID
		if held.UserID != u.ID { // another launch of the same person linked first: that link wins
			if newAccount && s.inTxn {
				// Retried, so that the account made here is not left behind: the retry finds the link.
				return Landing{}, fmt.Errorf("the platform user was linked by a parallel launch: %w", store.ErrAlreadyExists)
			}
			if u, err = s.Accounts.Store.UserByID(ctx, held.UserID); err != nil {
				return Landing{}, err
			}
			newAccount = false
		}
		if mig != nil && migratedFrom == "" {
			if err := s.claimLegacyIdentity(ctx, mig, u.ID, now); err != nil {
				return Landing{}, err
			}
		}
	}

	// The account is resolved: u is who this launch signs in (linked, chosen, or made). A rule about the account
	// itself (a suspended account, say) belongs here, before anything is enrolled or recorded.
	if err := refuseSuspended(u); err != nil {
		return Landing{}, err
	}

	// Enrolment: keep whatever enrolment exists; otherwise enrol with the mapped role, marked as ours.
	role := r.LearnerRole
	if teacher {
		role = r.InstructorRole
	}
	// The enrolments are known for a linked account (read with the link) and for one made here (none).
	known := pre.linked || newAccount
	newEnrolment, role, err := s.enrolAccount(ctx, r, c, u, role, now, known, pre.enrolments, newAccount)
	if err != nil {
		return Landing{}, err
	}

	link, err := s.recordLink(ctx, l, r, ltiUserID, now)
	if err != nil {
		return Landing{}, err
	}
	if mig != nil {
		if err := s.recordPredecessor(ctx, l, mig, link, now); err != nil {
			return Landing{}, err
		}
	}
	return Landing{Resource: r, User: u, Role: role, CourseID: c.ID, ActivityID: act.ID, ResourceLink: link,
		NewAccount: newAccount, NewEnrolment: newEnrolment, MigratedFrom: migratedFrom}, nil
}

func (s *Service) checkResource(ctx context.Context, r Resource, teacher bool, gen int64) (course.Course, course.Activity, error) {
	now := s.now()
	if e, ok := s.Cache.get(r.UUID, now, gen); ok && e.r.ID == r.ID {
		return s.checkTarget(r, e.c, e.a, teacher)
	}
	if !r.Enabled {
		return s.checkTarget(r, course.Course{}, course.Activity{}, teacher)
	}
	c, err := s.Courses.Store.CourseByID(ctx, r.CourseID)
	if err != nil {
		return course.Course{}, course.Activity{}, fmt.Errorf("load course %d: %w", r.CourseID, err)
	}
	var act course.Activity
	if r.ActivityID != 0 {
		act, err = s.Courses.Store.ActivityByID(ctx, r.ActivityID)
		if err != nil {
			return course.Course{}, course.Activity{}, fmt.Errorf("load activity %d: %w", r.ActivityID, err)
		}
	}
	s.Cache.put(cachedTarget{r: r, c: c, a: act}, now, gen)
	return s.checkTarget(r, c, act, teacher)
}

// checkTarget applies the launch rules of a resource, its course and activity.
func (s *Service) checkTarget(r Resource, c course.Course, act course.Activity, teacher bool) (course.Course, course.Activity, error) {
	if !r.Enabled {
		return course.Course{}, course.Activity{}, refuse("resource_disabled",
			fmt.Sprintf("The published resource %q is disabled on this tool.", r.Name),
			"Ask the teacher of the course to enable it on its Published as LTI tools page.").With("Name", r.Name)
	}
	if !c.Visible && !teacher {
		return course.Course{}, course.Activity{}, refuse("course_hidden",
			fmt.Sprintf("The course %q is hidden from students at the moment.", c.FullName),
			"Try again later, or ask your teacher to make the course visible.").With("Name", c.FullName)
	}
	if r.ActivityID != 0 {
		if !act.Visible && !teacher {
			return course.Course{}, course.Activity{}, refuse("activity_hidden",
				fmt.Sprintf("The activity %q is hidden from students at the moment.", act.Name),
				"Try again later, or ask your teacher to make the activity visible.").With("Name", act.Name)
		}
	}
	now := s.now()
	if !r.EnrolStart.IsZero() && now.Before(r.EnrolStart) {
		return course.Course{}, course.Activity{}, refuse("enrolment_not_open",
			fmt.Sprintf("Enrolment in %q opens on %s.", r.Name, r.EnrolStart.Format("2 January 2006 at 15:04 MST")),
			"Come back then; your teacher set this start date.").With("Name", r.Name, "Date", r.EnrolStart)
	}
	if !r.EnrolEnd.IsZero() && now.After(r.EnrolEnd) {
		return course.Course{}, course.Activity{}, refuse("enrolment_closed",
			fmt.Sprintf("Enrolment in %q closed on %s.", r.Name, r.EnrolEnd.Format("2 January 2006 at 15:04 MST")),
			"Ask your teacher to extend the enrolment end date if you still need access.").With("Name", r.Name, "Date", r.EnrolEnd)
	}
	return c, act, nil
}

func (s *Service) linkedAccount(ctx context.Context, l Launch, courseID int64) (account.User, int64, []course.Enrolment, bool, error) {
	m := l.Message
	// One read for the link, its account and the account's enrolments in the course. The launch time is kept
	// per resource link (lti_user_links), which the launch writes anyway, so the platform user's row is not
	// written again.
	lu, u, es, err := s.Store.LinkedUser(ctx, l.Registration.Issuer, m.Subject, courseID)
	if errors.Is(err, store.ErrNotFound) {
		return account.User{}, 0, nil, false, nil
	}
	if err != nil {
		return account.User{}, 0, nil, false, fmt.Errorf("find linked account: %w", err)
	}
	// Names and emails of accounts the tool made follow the platform; accounts people made themselves are theirs.
	if u.Auth == account.AuthLTI {
		name, email := fullName(m), m.Email
		if (name != "" && name != u.FullName) || (email != "" && email != u.Email) {
			if name != "" {
				u.FullName = name
			}
			if email != "" {
				u.Email = email
			}
			if err := s.Accounts.Store.UpdateUser(ctx, u); err != nil {
				return account.User{}, 0, nil, false, fmt.Errorf("update linked account: %w", err)
			}
		}
	}
	return u, lu.ID, es, true, nil
}

// accountLanguage is a new LTI account's language: the launch's locale when it is a valid language tag (es_ES from
// LTI 1.1 platforms becomes es-ES), else the published resource's default.
func accountLanguage(m *lti.Message, def string) string {
	if m.LaunchPresentation == nil || m.LaunchPresentation.Locale == "" {
		return def
	}
	t, err := language.Parse(strings.ReplaceAll(m.LaunchPresentation.Locale, "_", "-"))
	if err != nil {
		return def
	}
	return t.String()
}

// createAccount makes an LTI account. Its username derives from the issuer and subject (hashed, so it cannot
// collide with another platform's user and reveals nothing), with a counter in the unlikely case it is taken.
func (s *Service) createAccount(ctx context.Context, r Resource, m *lti.Message) (account.User, error) {
	sum := sha256.Sum256([]byte(m.Issuer + "\x00" + m.Subject))
	base := "lti_" + hex.EncodeToString(sum[:6])
	for i := 0; i < 5; i++ {
		name := base
		if i > 0 {
			name = fmt.Sprintf("%s_%d", base, i+1)
		}
		email := m.Email
		if email != "" && !strings.Contains(email, "@") {
			email = ""
		}
		u, err := s.Accounts.Create(ctx, account.NewUser{Username: name, Email: email, FullName: fullName(m), Auth: account.AuthLTI,
			Language: accountLanguage(m, r.Defaults.Language), Timezone: r.Defaults.Timezone, Institution: r.Defaults.Institution, Country: r.Defaults.Country})
		if errors.Is(err, account.ErrUsernameTaken) {
			if s.inTxn {
				return account.User{}, err
			}
			continue
		}
		var ve *account.ValidationError
		if errors.As(err, &ve) && ve.Field == "email" {
			u, err = s.Accounts.Create(ctx, account.NewUser{Username: name, FullName: fullName(m), Auth: account.AuthLTI,
				Language: accountLanguage(m, r.Defaults.Language), Timezone: r.Defaults.Timezone, Institution: r.Defaults.Institution, Country: r.Defaults.Country})
		}
		if err != nil {
			return account.User{}, fmt.Errorf("create account for the platform user: %w", err)
		}
		return u, nil
	}
	return account.User{}, fmt.Errorf("create account: username %s and its variants are taken", base)
}

func fullName(m *lti.Message) string {
	if m.Name != "" {
		return m.Name
	}
	return strings.TrimSpace(m.GivenName + " " + m.FamilyName)
}

func (s *Service) enrol(ctx context.Context, r Resource, c course.Course, u account.User, role course.Role, now time.Time) (bool, course.Role, error) {
	return s.enrolAccount(ctx, r, c, u, role, now, false, nil, false)
}

// enrolAccount enrols u. When known, es are u's enrolments in the course already (none for an account made by
// this launch), and they are not read again.
// capacityChecked: the launch checked the resource's capacity before making u.
func (s *Service) enrolAccount(ctx context.Context, r Resource, c course.Course, u account.User, role course.Role, now time.Time,
	known bool, es []course.Enrolment, capacityChecked bool) (bool, course.Role, error) {
	var err error
	if !known {
		es, err = s.Courses.Store.EnrolmentsOf(ctx, c.ID, u.ID)
	}
	if err != nil {
		return false, "", fmt.Errorf("load enrolments: %w", err)
	}
	for _, e := range es {
		if e.ActiveAt(now) {
			return false, e.Role, nil
		}
	}
	if len(es) > 0 {
		return false, "", refuse("enrolment_suspended",
			fmt.Sprintf("Your enrolment in %q is suspended or has ended.", c.FullName),
			"Ask the teacher of the course to reactivate your enrolment.").With("Name", c.FullName)
	}
	if !capacityChecked {
		if err := s.checkCapacity(ctx, r); err != nil {
			return false, "", err
		}
	}
	e := course.Enrolment{CourseID: c.ID, UserID: u.ID, Role: role, Status: course.StatusActive, Method: course.MethodLTI,
		PublishedResourceID: r.ID, CreatedAt: now, UpdatedAt: now}
	if err := s.Courses.Store.CreateEnrolment(ctx, &e); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) && !s.inTxn { // a parallel launch enrolled first
			return false, role, nil
		}
		return false, "", fmt.Errorf("enrol: %w", err)
	}
	return true, role, nil
}

// checkCapacity refuses when the resource has made its maximum number of enrolments.
func (s *Service) checkCapacity(ctx context.Context, r Resource) error {
	if r.MaxEnrolled <= 0 {
		return nil
	}
	n, err := s.Store.CountResourceEnrolments(ctx, r.ID)
	if err != nil {
		return err
	}
	if n >= r.MaxEnrolled {
		return refuse("enrolment_full",
			fmt.Sprintf("%q already has the maximum of %d enrolled users.", r.Name, r.MaxEnrolled),
			"Ask the teacher to raise the maximum enrolled users of this published resource.").With("Name", r.Name, "Count", r.MaxEnrolled)
	}
	return nil
}

func (s *Service) recordLink(ctx context.Context, l Launch, r Resource, ltiUserID int64, now time.Time) (ResourceLink, error) {
	if l.Legacy != nil {
		return s.recordLegacyLink(ctx, l, r, ltiUserID, now)
	}
	m := l.Message
	link := ResourceLink{RegistrationID: l.Registration.ID, DeploymentID: m.DeploymentID, LinkID: m.ResourceLink.ID,
		PublishedResourceID: r.ID, Title: m.ResourceLink.Title, CreatedAt: now, UpdatedAt: now}
	if m.Context != nil {
		link.ContextID, link.ContextTitle = m.Context.ID, m.Context.Title
	}
	if m.AGS != nil {
		link.LineItemsURL, link.LineItemURL, link.AGSScopes = m.AGS.LineItems, m.AGS.LineItem, m.AGS.Scope
	}
	if m.NRPS != nil {
		link.MembershipsURL = m.NRPS.ContextMembershipsURL
	}
	if err := s.Store.SaveResourceLink(ctx, &link); err != nil {
		return ResourceLink{}, fmt.Errorf("record resource link: %w", err)
	}
	if err := s.Store.LinkUserToResourceLink(ctx, ltiUserID, link.ID, now); err != nil {
		return ResourceLink{}, fmt.Errorf("record the user's resource link: %w", err)
	}
	return link, nil
}
