package publish

import (
	"context"
	"errors"
	"fmt"
	"net/mail"

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
