package launch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti"
)

// Session is what a browser session holds after a launch: who is signed in, what the session may reach, and how
// pages look (embedded, the way back to the platform).
type Session struct {
	UserID int64
	// Scope lists what a launched session may reach: "c<id>" for a course, "a<id>" for an activity, "s" for the
	// content selection pages, "v<activity>.<learner>" for one learner's work under submission review (review.go);
	// "" is not contained.
	Scope      string
	Embedded   bool
	ReturnURL  string
	ReturnName string
	// Locale is the language the platform says the person uses (launch_presentation.locale), as sent.
	Locale string
}

// ScopeSelection contains a content selection session to the selection pages.
const ScopeSelection = "s"

// Kinds of outcome.
const (
	// Landed: the session is signed in and contained; go to To.
	Landed = "landed"
	// ChooseAccount: the provisioning mode asks the person first; keep Pending and go to To.
	ChooseAccount = "account"
	// SelectContent: a content selection; keep Pending, start Session and go to To.
	SelectContent = "select"
)

// Outcome is where a launch goes next, for the web layer to carry out.
type Outcome struct {
	Kind   string
	Launch *Launch
	// Landing is set when Kind is Landed.
	Landing *publish.Landing
	// Warning names the syncs the landed link cannot do although its resource has them on (Config.Warnings).
	Warning string
	// Session is the session to start (Landed, SelectContent); for ChooseAccount only its presentation applies.
	Session Session
	// Pending is kept in the session while the person chooses an account or content.
	Pending *Pending
	// NeedAccount says what the account choice offers (ChooseAccount).
	NeedAccount *publish.NeedAccount
	To          string
	// Mixed warns, for an LTI 1.1 launch, that the platform and the tool use different schemes.
	Mixed string
	// logged is the launch log row already written in the provisioning transaction (recordInTx).
	logged *LogEntry
}

// Pending is a validated launch kept in the session while the person chooses an account or content. It holds
// only validated claims: the id_token itself is never stored.
type Pending struct {
	RegistrationID int64
	LogID          int64
	Message        *lti.Message
	// Legacy is set for an LTI 1.1 launch.
	Path   string                `json:",omitempty"`
	Legacy *publish.LegacyLaunch `json:",omitempty"`
	Mixed  string                `json:",omitempty"`
	// Detail is what the launch log row keeps of the launch: the resumed launch writes it again with what it
	// did (the row is updated in one statement, which cannot merge into the stored detail).
	Detail *Detail `json:",omitempty"`
}

// land lands a validated launch with the person's choice (none on the first try).
func (s *Service) land(ctx context.Context, l *Launch, choice publish.Choice, prev Session, entry *LogEntry) (*Outcome, error) {
	out := &Outcome{Launch: l, Session: presentation(l.Message, PlatformName(l.Message, l.Registration))}
	review := l.Message.MessageType == lti.MessageSubmissionReview
	if l.Message.MessageType != lti.MessageResourceLinkRequest && !review {
		return s.startSelection(ctx, out)
	}
	pl := publish.Launch{Message: l.Message, Registration: l.Registration, Legacy: l.Legacy}
	if entry != nil && !review {
		pl.BeforeCommit = func(ctx context.Context, tx publish.Stores, landing publish.Landing) error {
			return s.recordInTx(ctx, tx, out, entry, landing, prev)
		}
	}
	landing, err := s.publish.Land(ctx, pl, choice)
	var need *publish.NeedAccount
	switch {
	case errors.As(err, &need):
		out.Kind, out.NeedAccount, out.To = ChooseAccount, need, "/launch/account"
		if l.Legacy != nil {
			out.To = "/launch/legacy/account"
		}
		out.Pending = &Pending{RegistrationID: l.Registration.ID, LogID: l.LogID, Message: l.Message, Path: l.Path, Legacy: l.Legacy}
		return out, nil
	case err != nil:
		return out, err
	}
	if review {
		return s.landReview(ctx, out, landing)
	}
	s.log.InfoContext(ctx, "LTI launch landed", "user_id", landing.User.ID, "resource", landing.Resource.UUID,
		"new_account", landing.NewAccount, "new_enrolment", landing.NewEnrolment, "role", string(landing.Role))
	s.landed(out, landing, prev)
	if landing.MigratedFrom != "" {
		s.log.InfoContext(ctx, "LTI 1.3 identity joined its LTI 1.1 account", "user_id", landing.User.ID,
			"issuer", l.Message.Issuer, "subject", l.Message.Subject, "lti11_identity", landing.MigratedFrom)
	}
	return out, nil
}

// landed fills out with a landing: where to go, the warning, the session.
func (s *Service) landed(out *Outcome, landing publish.Landing, prev Session) {
	l := out.Launch
	out.Kind, out.Landing, out.To = Landed, &landing, LandingPath(landing)
	out.Warning = ""
	if s.warnings != nil {
		out.Warning = s.warnings(landing.Resource, landing.ResourceLink, l.Legacy != nil && l.Legacy.OutcomeServiceURL != "")
	}
	if landing.Warning != "" { // the launch's lti1p1 claim could not be used
		out.Warning = strings.TrimSpace(out.Warning + "\n" + landing.Warning)
	}
	out.Session.UserID = landing.User.ID
	out.Session.Scope = widen(prev, landing)
}

// logRecorder is a store, bound to the provisioning transaction, that writes launch log rows.
type logRecorder interface {
	RecordLaunch(ctx context.Context, e *LogEntry) error
}

// launchCounter is implemented by a launch store that counts the rows recorded (metrics): it is told of a row
// written in the provisioning transaction, which did not go through its RecordLaunch.
type launchCounter interface {
	LaunchRecorded(e *LogEntry)
}

// recordInTx writes the launch log row of an accepted landing inside the provisioning transaction, exactly as
// record would after it (outcome, warning, what the launch did), so that the launch commits once for both.
// The row is kept on out (out.logged): Launch then only logs the server line. A rollback after it (the commit
// failing) leaves out.logged unused: the launch is refused, and record writes the row.
func (s *Service) recordInTx(ctx context.Context, tx publish.Stores, out *Outcome, entry *LogEntry, landing publish.Landing, prev Session) error {
	rec, ok := tx.(logRecorder)
	if !ok {
		return nil
	}
	o := *out
	s.landed(&o, landing, prev)
	e := *entry
	e.Warning = o.Warning
	if e.Detail != nil {
		d := *e.Detail
		d.Did = did(&o, publish.Choice{})
		e.Detail = &d
	}
	e.At, e.Outcome, e.Code, e.Reason = s.now(), Accepted, "", ""
	if err := rec.RecordLaunch(context.WithoutCancel(ctx), &e); err != nil {
		return fmt.Errorf("record launch log: %w", err)
	}
	out.logged = &e
	return nil
}

// warning is the launch log's warning of an outcome ("" for none, or no outcome).
func (o *Outcome) warning() string {
	if o == nil {
		return ""
	}
	return o.Warning
}

// startSelection starts a content selection: refuse what cannot be answered, else contain the session to the
// selection pages, signed in when the platform user is linked already.
func (s *Service) startSelection(ctx context.Context, out *Outcome) (*Outcome, error) {
	l := out.Launch
	if err := publish.CheckDeepLinkRequest(l.Message); err != nil {
		return out, err
	}
	u, linked, err := s.publish.LinkedAccount(ctx, publish.Launch{Message: l.Message, Registration: l.Registration})
	if err != nil {
		return out, err
	}
	out.Kind, out.To = SelectContent, "/launch/select"
	out.Pending = &Pending{RegistrationID: l.Registration.ID, LogID: l.LogID, Message: l.Message}
	out.Session.Scope = ScopeSelection
	if linked {
		out.Session.UserID = u.ID
	}
	return out, nil
}

// widen is the scope of a landed session: what it launched, plus what the same account launched before in the
// same browser.
func widen(prev Session, l publish.Landing) string {
	entry := "c" + strconv.FormatInt(l.CourseID, 10)
	if l.ActivityID != 0 {
		entry = "a" + strconv.FormatInt(l.ActivityID, 10)
	}
	if prev.UserID != l.User.ID || prev.Scope == "" || prev.Scope == ScopeSelection {
		return entry
	}
	if ScopeHas(prev.Scope, entry) {
		return prev.Scope
	}
	return prev.Scope + " " + entry
}

// ScopeHas reports whether scope lists entry.
func ScopeHas(scope, entry string) bool {
	for _, e := range strings.Fields(scope) {
		if e == entry {
			return true
		}
	}
	return false
}

// presentation is how the launch's pages look: embedded when asked, with the platform's way back.
func presentation(m *lti.Message, platform string) Session {
	sess := Session{Embedded: WantsEmbedded(m)}
	if m.LaunchPresentation != nil {
		sess.Locale = m.LaunchPresentation.Locale
	}
	if m.LaunchPresentation != nil && strings.HasPrefix(m.LaunchPresentation.ReturnURL, "http") {
		sess.ReturnURL = m.LaunchPresentation.ReturnURL
		if platform == "" {
			platform = "the course"
		}
		sess.ReturnName = platform
	}
	return sess
}

// WantsEmbedded reports whether a launch asked for the embedded layout: an iframe document target, or the
// custom parameter force_embed=1.
func WantsEmbedded(m *lti.Message) bool {
	if v, ok := m.Custom("force_embed"); ok && v == "1" {
		return true
	}
	return m.LaunchPresentation != nil && m.LaunchPresentation.DocumentTarget == "iframe"
}

// LandingPath is the page a landing goes to.
func LandingPath(l publish.Landing) string {
	if l.ActivityID != 0 {
		return "/activities/" + strconv.FormatInt(l.ActivityID, 10)
	}
	return "/courses/" + strconv.FormatInt(l.CourseID, 10)
}

// Resumed rebuilds the launch of a pending one (its registration read again).
func (s *Service) Resumed(ctx context.Context, p *Pending) (*Launch, error) {
	if p == nil || p.Message == nil {
		return nil, errors.New("no pending launch")
	}
	l := &Launch{Message: p.Message, LogID: p.LogID, Path: p.Path, Legacy: p.Legacy}
	if p.Legacy != nil {
		l.Registration = publish.LegacyRegistration(p.Message.Issuer, p.Legacy.PlatformName)
		return l, nil
	}
	reg, err := s.regs.Registration(ctx, p.RegistrationID)
	if err != nil {
		return nil, fmt.Errorf("load registration of the pending launch: %w", err)
	}
	l.Registration = reg
	return l, nil
}

// Choice is what the account choice page offers for a pending launch.
type Choice struct {
	Resource  publish.Resource
	CanCreate bool
	Launch    *Launch
}

// AccountChoice says what the account choice page of a pending launch offers.
func (s *Service) AccountChoice(ctx context.Context, p *Pending) (Choice, error) {
	l, err := s.Resumed(ctx, p)
	if err != nil {
		return Choice{}, err
	}
	res, err := s.publish.FindResource(ctx, publish.Launch{Message: l.Message, Registration: l.Registration, Legacy: l.Legacy})
	if err != nil {
		return Choice{}, err
	}
	mode := res.StudentMode
	if l.Message.Roles.IsTeacherLike() {
		mode = res.TeacherMode
	}
	return Choice{Resource: res, CanCreate: mode == publish.ModePrompt, Launch: l}, nil
}

// Resume lands a pending launch with the person's account choice, and finishes its launch log row.
func (s *Service) Resume(ctx context.Context, p *Pending, choice publish.Choice, prev Session, requestID string) (*Outcome, error) {
	l, err := s.Resumed(ctx, p)
	if err != nil {
		return nil, err
	}
	entry := entryOf(l, requestID)
	out, err := s.land(ctx, l, choice, prev, nil)
	if out != nil {
		out.Mixed = p.Mixed
	}
	entry.Warning = out.warning()
	if p.Detail != nil {
		// Written again in full: what came in, and what this resumption did (nothing, when it was refused).
		d := *p.Detail
		d.Did = nil
		if err == nil {
			d.Did = did(out, choice)
		}
		entry.Detail = &d
		if out != nil && out.Pending != nil {
			out.Pending.Detail = &d
		}
	}
	s.record(ctx, entry, err)
	return out, err
}

// entryOf is the launch log row of a validated launch.
func entryOf(l *Launch, requestID string) *LogEntry {
	m := l.Message
	e := &LogEntry{ID: l.LogID, Stage: StageLaunch, RegistrationID: l.Registration.ID, Issuer: l.Registration.Issuer,
		ClientID: l.Registration.ClientID, DeploymentID: m.DeploymentID, MessageType: string(m.MessageType), Subject: m.Subject,
		Path: l.Path, RequestID: requestID}
	if l.Legacy != nil {
		e.ClientID, e.Path = l.Legacy.ConsumerKey, PathLegacy
	}
	return e
}
