package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti"
)

// Member sync (NRPS) provisions and enrols roster members the way a first launch would, through the same code.

// Member is a platform user as a roster (NRPS) lists them.
type Member struct {
	Subject    string
	Name       string
	GivenName  string
	FamilyName string
	Email      string
	// Teacher picks the resource's teacher provisioning mode and instructor role.
	Teacher bool
}

// describe names a member in an admin's words: the name the platform gave, then its id there (which the
// platform's own admin pages search by).
func (m Member) describe() string {
	name := strings.TrimSpace(m.Name)
	if name == "" {
		name = strings.TrimSpace(m.GivenName + " " + m.FamilyName)
	}
	if name == "" {
		return fmt.Sprintf("the platform's user %q", m.Subject)
	}
	return fmt.Sprintf("%s (platform user %q)", name, m.Subject)
}

// MemberAccount is the account of a roster member.
type MemberAccount struct {
	User      account.User
	LTIUserID int64
	Created   bool // a new account
	Updated   bool // name or email changed
}

// ProvisionMember returns the account linked to a roster member, updating the name and email of an account the
// tool made. An unlinked member gets a new account when the resource's mode for the member's role is automatic;
// in the prompting modes the person must launch once to choose, so ok is false.
func (s *Service) ProvisionMember(ctx context.Context, r Resource, reg tool.Registration, m Member) (ma MemberAccount, ok bool, err error) {
	msg := &lti.Message{Issuer: reg.Issuer, Subject: m.Subject, Name: m.Name, GivenName: m.GivenName, FamilyName: m.FamilyName, Email: m.Email}
	lu, err := s.Store.LTIUser(ctx, reg.Issuer, m.Subject)
	switch {
	case err == nil:
		u, err := s.Accounts.Store.UserByID(ctx, lu.UserID)
		if err != nil {
			return MemberAccount{}, false, fmt.Errorf("load linked account %d: %w", lu.UserID, err)
		}
		ma := MemberAccount{User: u, LTIUserID: lu.ID}
		if u.Auth == account.AuthLTI {
			name, email := fullName(msg), m.Email
			if email != "" && !validEmail(email) {
				email = ""
			}
			if (name != "" && name != u.FullName) || (email != "" && email != u.Email) {
				if name != "" {
					u.FullName = name
				}
				if email != "" {
					u.Email = email
				}
				if err := s.Accounts.Store.UpdateUser(ctx, u); err != nil {
					return MemberAccount{}, false, fmt.Errorf("update linked account: %w", err)
				}
				ma.User, ma.Updated = u, true
			}
		}
		return ma, true, nil
	case !errors.Is(err, store.ErrNotFound):
		return MemberAccount{}, false, fmt.Errorf("find linked account: %w", err)
	}
	mode := r.StudentMode
	if m.Teacher {
		mode = r.TeacherMode
	}
	if mode != ModeAuto {
		return MemberAccount{}, false, nil
	}
	u, err := s.createAccount(ctx, r, msg)
	if err != nil {
		return MemberAccount{}, false, err
	}
	now := s.now()
	held, err := s.Store.LinkLTIUser(ctx, LTIUser{Issuer: reg.Issuer, Subject: m.Subject, RegistrationID: reg.ID, UserID: u.ID,
		CreatedAt: now, LastLaunchAt: now})
	if err != nil {
		return MemberAccount{}, false, fmt.Errorf("link platform user: %w", err)
	}
	if held.UserID != u.ID { // a launch linked the person first: that link wins
		if u, err = s.Accounts.Store.UserByID(ctx, held.UserID); err != nil {
			return MemberAccount{}, false, err
		}
		return MemberAccount{User: u, LTIUserID: held.ID}, true, nil
	}
	return MemberAccount{User: u, LTIUserID: held.ID, Created: true}, true, nil
}

func validEmail(e string) bool {
	_, err := mail.ParseAddress(e)
	return err == nil
}

// EnrolMember enrols a roster member in the resource's course as a launch would (an existing enrolment of any
// kind is kept). enrolled is false when nothing changed; a full resource or a suspended enrolment is not an error
// here, only a member left out (refused).
func (s *Service) EnrolMember(ctx context.Context, r Resource, c course.Course, u account.User, teacher bool) (enrolled, refused bool, err error) {
	role := r.LearnerRole
	if teacher {
		role = r.InstructorRole
	}
	enrolled, _, err = s.enrol(ctx, r, c, u, role, s.now())
	var ref *Refusal
	if errors.As(err, &ref) {
		return false, true, nil
	}
	return enrolled, false, err
}

// Roster pages (member sync) are written in a few statements each, in one transaction, instead of a handful of
// round trips per member: the same rules as ProvisionMember and EnrolMember, applied to a page at once. Members
// the batch cannot settle (their username is taken by someone else, or a launch linked them at that moment) go
// through ProvisionMember one by one afterwards.

// RosterStore is what a roster page writes.
type RosterStore interface {
	// RosterTx runs fn in one transaction, committed when fn returns nil.
	RosterTx(ctx context.Context, fn func(tx RosterTx) error) error
}

// RosterTx is a roster page's transaction.
type RosterTx interface {
	// LinkedAccounts maps those of subjects (of issuer) that are linked to an account to it.
	LinkedAccounts(ctx context.Context, issuer string, subjects []string) (map[string]LinkedAccount, error)
	// CreateLinkedAccounts creates the accounts and links each to its platform user. A member whose username is
	// taken, or whom a launch linked first, is missing from the result and leaves nothing behind.
	CreateLinkedAccounts(ctx context.Context, issuer string, registrationID int64, accounts []NewLinkedAccount, at time.Time) (map[string]LinkedAccount, error)
	UpdateUser(ctx context.Context, u account.User) error
	// EnrolmentsOfUsers maps each of userIDs to its enrolments in the course.
	EnrolmentsOfUsers(ctx context.Context, courseID int64, userIDs []int64) (map[int64][]course.Enrolment, error)
	// CreateEnrolments inserts the enrolments, skipping those a parallel launch made first, and counts the
	// inserted.
	CreateEnrolments(ctx context.Context, es []course.Enrolment) (int, error)
	CountResourceEnrolments(ctx context.Context, resourceID int64) (int, error)
	// SeeMembers records that the run saw these platform users active in the link's roster.
	SeeMembers(ctx context.Context, linkID, runID int64, ltiUserIDs []int64) error
}

// LinkedAccount is a platform user's link and account.
type LinkedAccount struct {
	LTIUserID int64
	User      account.User
}

// NewLinkedAccount is an account to create for a platform user.
type NewLinkedAccount struct {
	Subject string
	User    account.User
}

// RosterPage is one page of a roster's active members.
type RosterPage struct {
	Resource     Resource
	Course       course.Course
	Registration tool.Registration
	LinkID       int64
	RunID        int64
	Members      []Member
	// Enrol is false in the unenrol-only mode: members already linked are noted as seen, nobody is created or
	// enrolled.
	Enrol bool
}

// RosterResult counts what a page changed.
type RosterResult struct {
	Created, Updated, Enrolled, Skipped int
}

// SyncRosterPage provisions and enrols a page of roster members as first launches would, and records them as
// seen by the run.
func (s *Service) SyncRosterPage(ctx context.Context, st RosterStore, p RosterPage) (RosterResult, error) {
	var res RosterResult
	var leftover []Member
	err := st.RosterTx(ctx, func(tx RosterTx) error {
		res, leftover = RosterResult{}, nil
		var err error
		res, leftover, err = s.rosterPage(ctx, tx, p)
		return err
	})
	if err != nil {
		return RosterResult{}, err
	}
	var seen []int64
	for _, m := range leftover {
		ma, ok, err := s.ProvisionMember(ctx, p.Resource, p.Registration, m)
		if err != nil {
			return res, fmt.Errorf("provision %s: %w", m.describe(), err)
		}
		if !ok {
			res.Skipped++
			continue
		}
		if ma.Created {
			res.Created++
		}
		if ma.Updated {
			res.Updated++
		}
		seen = append(seen, ma.LTIUserID)
		enrolled, refused, err := s.EnrolMember(ctx, p.Resource, p.Course, ma.User, m.Teacher)
		if err != nil {
			return res, fmt.Errorf("enrol %s (%s): %w", m.describe(), ma.User.Username, err)
		}
		if enrolled {
			res.Enrolled++
		}
		if refused {
			res.Skipped++
		}
	}
	if len(seen) > 0 {
		err = st.RosterTx(ctx, func(tx RosterTx) error { return tx.SeeMembers(ctx, p.LinkID, p.RunID, seen) })
	}
	return res, err
}

func (s *Service) rosterPage(ctx context.Context, tx RosterTx, p RosterPage) (RosterResult, []Member, error) {
	var res RosterResult
	r, reg := p.Resource, p.Registration
	now := s.now()
	subjects := make([]string, 0, len(p.Members))
	members := make([]Member, 0, len(p.Members))
	dup := make(map[string]bool, len(p.Members))
	for _, m := range p.Members {
		if m.Subject == "" || dup[m.Subject] {
			continue
		}
		dup[m.Subject] = true
		subjects = append(subjects, m.Subject)
		members = append(members, m)
	}
	linked, err := tx.LinkedAccounts(ctx, reg.Issuer, subjects)
	if err != nil {
		return res, nil, fmt.Errorf("find linked accounts: %w", err)
	}
	type enrolee struct {
		user    account.User
		teacher bool
	}
	seen := make([]int64, 0, len(members))
	var enrol []enrolee
	var create []NewLinkedAccount
	teacher := map[string]bool{}
	for _, m := range members {
		if la, ok := linked[m.Subject]; ok {
			seen = append(seen, la.LTIUserID)
			if !p.Enrol {
				continue
			}
			if u, changed := refreshedAccount(la.User, m); changed {
				if err := tx.UpdateUser(ctx, u); err != nil {
					return res, nil, fmt.Errorf("update linked account: %w", err)
				}
				la.User = u
				res.Updated++
			}
			enrol = append(enrol, enrolee{la.User, m.Teacher})
			continue
		}
		if !p.Enrol {
			continue
		}
		mode := r.StudentMode
		if m.Teacher {
			mode = r.TeacherMode
		}
		if mode != ModeAuto {
			res.Skipped++ // prompting modes: the person chooses at the first launch
			continue
		}
		create = append(create, NewLinkedAccount{Subject: m.Subject, User: newMemberAccount(r, reg, m, now)})
		teacher[m.Subject] = m.Teacher
	}
	var leftover []Member
	if len(create) > 0 {
		made, err := tx.CreateLinkedAccounts(ctx, reg.Issuer, reg.ID, create, now)
		if err != nil {
			return res, nil, fmt.Errorf("create accounts: %w", err)
		}
		for _, m := range members {
			if _, asked := teacher[m.Subject]; !asked {
				continue
			}
			la, ok := made[m.Subject]
			if !ok {
				leftover = append(leftover, m)
				continue
			}
			res.Created++
			seen = append(seen, la.LTIUserID)
			enrol = append(enrol, enrolee{la.User, m.Teacher})
		}
	}
	if len(enrol) > 0 {
		ids := make([]int64, len(enrol))
		for i, e := range enrol {
			ids[i] = e.user.ID
		}
		existing, err := tx.EnrolmentsOfUsers(ctx, p.Course.ID, ids)
		if err != nil {
			return res, nil, fmt.Errorf("load enrolments: %w", err)
		}
		count := -1
		var add []course.Enrolment
	next:
		for _, e := range enrol {
			es := existing[e.user.ID]
			for _, en := range es {
				if en.ActiveAt(now) {
					continue next // an enrolment of any kind is kept
				}
			}
			if len(es) > 0 {
				res.Skipped++ // suspended or ended: the teacher's call
				continue
			}
			if r.MaxEnrolled > 0 {
				if count < 0 {
					if count, err = tx.CountResourceEnrolments(ctx, r.ID); err != nil {
						return res, nil, err
					}
				}
				if count >= r.MaxEnrolled {
					res.Skipped++ // full
					continue
				}
				count++
			}
			role := r.LearnerRole
			if e.teacher {
				role = r.InstructorRole
			}
			add = append(add, course.Enrolment{CourseID: p.Course.ID, UserID: e.user.ID, Role: role, Status: course.StatusActive,
				Method: course.MethodLTI, PublishedResourceID: r.ID, CreatedAt: now, UpdatedAt: now})
		}
		n, err := tx.CreateEnrolments(ctx, add)
		if err != nil {
			return res, nil, fmt.Errorf("enrol: %w", err)
		}
		res.Enrolled += n
	}
	if err := tx.SeeMembers(ctx, p.LinkID, p.RunID, seen); err != nil {
		return res, nil, err
	}
	return res, leftover, nil
}

// refreshedAccount gives an LTI account with the roster's name and email, and whether they changed (as
// ProvisionMember does; accounts with a password keep what their owner set).
func refreshedAccount(u account.User, m Member) (account.User, bool) {
	if u.Auth != account.AuthLTI {
		return u, false
	}
	msg := &lti.Message{Name: m.Name, GivenName: m.GivenName, FamilyName: m.FamilyName}
	name, email := fullName(msg), m.Email
	if email != "" && !validEmail(email) {
		email = ""
	}
	if (name == "" || name == u.FullName) && (email == "" || email == u.Email) {
		return u, false
	}
	if name != "" {
		u.FullName = name
	}
	if email != "" {
		u.Email = email
	}
	return u, true
}

// newMemberAccount is the account createAccount would make first for a roster member.
func newMemberAccount(r Resource, reg tool.Registration, m Member, now time.Time) account.User {
	sum := sha256.Sum256([]byte(reg.Issuer + "\x00" + m.Subject))
	email := strings.TrimSpace(m.Email)
	if email != "" && (!strings.Contains(email, "@") || !validEmail(email)) {
		email = ""
	}
	msg := &lti.Message{Name: m.Name, GivenName: m.GivenName, FamilyName: m.FamilyName}
	return account.User{Username: "lti_" + hex.EncodeToString(sum[:6]), Email: email, FullName: strings.TrimSpace(fullName(msg)),
		Auth: account.AuthLTI, Language: r.Defaults.Language, Timezone: r.Defaults.Timezone, Institution: r.Defaults.Institution,
		Country: r.Defaults.Country, CreatedAt: now, UpdatedAt: now}
}
