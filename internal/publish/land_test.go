package publish_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti"
)

// failingEnrolments makes the enrolment insert fail, after the account and the link were written.
type failingEnrolments struct{ publish.Stores }

var errEnrol = errors.New("disk full")

func (failingEnrolments) CreateEnrolment(context.Context, *course.Enrolment) error { return errEnrol }

type failingTx struct{ s *sqlstore.Store }

func (f failingTx) PublishTx(ctx context.Context, fn func(tx publish.Stores) error) error {
	return f.s.PublishTx(ctx, func(tx publish.Stores) error { return fn(failingEnrolments{tx}) })
}

func setup(t *testing.T, st *sqlstore.Store) (*publish.Service, publish.Resource, tool.Registration) {
	t.Helper()
	ctx := context.Background()
	accounts := &account.Service{Store: st}
	courses := &course.Service{Store: st, Users: st}
	svc := &publish.Service{Store: st, Legacy: st, Courses: courses, Accounts: accounts, Tx: st}
	admin, err := accounts.Create(ctx, account.NewUser{Username: "admin", Password: "admin password 1", IsAdmin: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := courses.CreateCourse(ctx, &admin, course.CourseInput{FullName: "Physics", ShortName: "PHY", Visible: true})
	if err != nil {
		t.Fatal(err)
	}
	r, err := svc.Publish(ctx, nil, publish.NewInput(c.ID))
	if err != nil {
		t.Fatal(err)
	}
	reg := tool.Registration{Name: "p", Issuer: "https://lms.example", ClientID: "c", JWKSURL: "https://lms.example/jwks", AuthURL: "https://lms.example/auth"}
	if err := st.CreateRegistration(ctx, &reg); err != nil {
		t.Fatal(err)
	}
	return svc, r, reg
}

func learner(sub string, r publish.Resource) *lti.Message {
	return &lti.Message{Issuer: "https://lms.example", Subject: sub, Name: "Lee Learner", DeploymentID: "d1",
		MessageType: lti.MessageResourceLinkRequest, Roles: lti.Roles{lti.RoleLearner},
		ResourceLink: &lti.ResourceLink{ID: "rl-1"}, CustomParams: lti.CustomParams{"id": r.UUID}}
}

// TestLandIsAtomic: when the enrolment cannot be written, the account, the platform link and the resource link
// made before it are not left behind.
func TestLandIsAtomic(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		svc, r, reg := setup(t, st)
		before, _ := st.CountUsers(ctx)
		svc.Tx = failingTx{st}
		_, err := svc.Land(ctx, publish.Launch{Message: learner("s1", r), Registration: reg}, publish.Choice{})
		if !errors.Is(err, errEnrol) {
			t.Fatalf("Land = %v, want the enrolment failure", err)
		}
		if after, _ := st.CountUsers(ctx); after != before {
			t.Fatalf("%d accounts left behind by a failed launch", after-before)
		}
		if _, err := st.LTIUser(ctx, reg.Issuer, "s1"); err == nil {
			t.Fatal("a failed launch left the platform user linked")
		}
		if links, _ := st.ResourceLinks(ctx, r.ID); len(links) != 0 {
			t.Fatal("a failed launch left a resource link")
		}
		// The same launch with a working store succeeds.
		svc.Tx = st
		l, err := svc.Land(ctx, publish.Launch{Message: learner("s1", r), Registration: reg}, publish.Choice{})
		if err != nil || !l.NewAccount || !l.NewEnrolment {
			t.Fatalf("Land = %+v, %v", l, err)
		}
	})
}

// TestLandSamePersonTwiceAtOnce: two first launches of one person at the same moment (two tabs) end with one
// account, one link and one enrolment, and both succeed.
func TestLandSamePersonTwiceAtOnce(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		svc, r, reg := setup(t, st)
		before, _ := st.CountUsers(ctx)
		const n = 6
		var wg sync.WaitGroup
		users := make([]int64, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l, err := svc.Land(ctx, publish.Launch{Message: learner("twin", r), Registration: reg}, publish.Choice{})
				users[i], errs[i] = l.User.ID, err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("launch %d: %v", i, err)
			}
			if users[i] != users[0] {
				t.Fatalf("launches landed as different accounts: %v", users)
			}
		}
		if after, _ := st.CountUsers(ctx); after != before+1 {
			t.Fatalf("%d accounts for one person", after-before)
		}
		if es, _ := st.EnrolmentsOf(ctx, r.CourseID, users[0]); len(es) != 1 {
			t.Fatalf("%d enrolments: %s", len(es), fmt.Sprint(es))
		}
	})
}
