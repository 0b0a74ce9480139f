package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Account merge: one person with two accounts (an LTI 1.3 identity and an LTI 1.1 one made separate accounts
// before ltipub read the lti1p1 migration claim, or a platform user and a local account) becomes one. The kept
// account stays as it is (username, password, email, administrator and creator flags); everything the other one
// holds moves to it in one transaction, and the other account is deleted. Where both hold the same thing, one
// rule decides, and the merge says what it decided (MergeReport.Resolved):
//   - enrolment in a course by the same method: the active one wins over a suspended or ended one, then the most
//     recently changed;
//   - grade of an activity: the better grade (the larger share of its maximum) wins, then the most recent;
//   - submission of an activity: the most recently submitted wins;
//   - quiz attempts of the same quiz: all are kept, the merged account's renumbered after the kept one's;
//   - completion of an activity: the earlier one is kept.
// Platform accounts never collide (a platform user links to one account) and all move.

// Holdings is what an account holds, shown before a merge.
type Holdings struct {
	Detail
	Dependents Dependents
	// Launches counts the accepted launches of its platform accounts in the launch log.
	Launches int
}

// MergeReport is what a merge moved and how it resolved what both accounts held.
type MergeReport struct {
	Moved    Dependents `json:"moved"`
	Resolved []string   `json:"resolved"`
}

// Summary is the report in one paragraph, for the log and the flash message.
func (r MergeReport) Summary() string {
	m := r.Moved
	s := fmt.Sprintf("moved %d platform account(s), %d enrolment(s), %d grade(s), %d submission(s), %d quiz attempt(s)",
		m.PlatformAccounts, m.Enrolments, m.Grades, m.Submissions, m.QuizAttempts)
	if len(r.Resolved) > 0 {
		s += "; " + strings.Join(r.Resolved, "; ")
	}
	return s
}

// MergeStore is what an account merge needs from storage.
type MergeStore interface {
	// UserLaunchCount counts the accepted launches of the account's platform accounts.
	UserLaunchCount(ctx context.Context, id int64) (int, error)
	// MergeAccounts moves what drop holds to keep, resolves what both hold (see the rules above), deletes drop
	// and records the merge (by whom), in one transaction. With dryRun nothing is changed and the report says
	// what the merge would do.
	MergeAccounts(ctx context.Context, keep, drop User, by string, at time.Time, dryRun bool) (MergeReport, error)
}

// ErrMergeSame refuses merging an account into itself.
var ErrMergeSame = errors.New("both names are the same account: choose two different accounts")

// MergePlan is what a merge would do: what each account holds, and the report of a dry run.
type MergePlan struct {
	Keep, Drop Holdings
	Report     MergeReport
}

// Holdings loads what an account holds.
func (a *Admin) Holdings(ctx context.Context, id int64) (Holdings, error) {
	d, err := a.Detail(ctx, id)
	if err != nil {
		return Holdings{}, err
	}
	h := Holdings{Detail: d}
	if h.Dependents, err = a.Store.UserDependents(ctx, id); err != nil {
		return Holdings{}, err
	}
	if h.Launches, err = a.Store.UserLaunchCount(ctx, id); err != nil {
		return Holdings{}, err
	}
	return h, nil
}

// PlanMerge shows what merging drop into keep would do, changing nothing.
func (a *Admin) PlanMerge(ctx context.Context, keepID, dropID int64) (MergePlan, error) {
	var p MergePlan
	var err error
	if p.Keep, err = a.Holdings(ctx, keepID); err != nil {
		return MergePlan{}, err
	}
	if p.Drop, err = a.Holdings(ctx, dropID); err != nil {
		return MergePlan{}, err
	}
	if err := a.checkMerge(ctx, p.Keep.User, p.Drop.User); err != nil {
		return p, err
	}
	if p.Report, err = a.Store.MergeAccounts(ctx, p.Keep.User, p.Drop.User, "", a.Accounts.now(), true); err != nil {
		return p, fmt.Errorf("plan the merge: %w", err)
	}
	return p, nil
}

// Merge merges drop into keep (see the rules above); by names who asked, for the record.
func (a *Admin) Merge(ctx context.Context, keepID, dropID int64, by string) (MergeReport, error) {
	keep, err := a.Store.UserByID(ctx, keepID)
	if err != nil {
		return MergeReport{}, err
	}
	drop, err := a.Store.UserByID(ctx, dropID)
	if err != nil {
		return MergeReport{}, err
	}
	if err := a.checkMerge(ctx, keep, drop); err != nil {
		return MergeReport{}, err
	}
	r, err := a.Store.MergeAccounts(ctx, keep, drop, by, a.Accounts.now(), false)
	if err != nil {
		return MergeReport{}, fmt.Errorf("merge %s into %s: %w", drop.Username, keep.Username, err)
	}
	return r, nil
}

// checkMerge refuses a merge into the same account, and one that would delete the last administrator who can
// sign in (the kept account does not become an administrator by a merge).
func (a *Admin) checkMerge(ctx context.Context, keep, drop User) error {
	if keep.ID == drop.ID {
		return ErrMergeSame
	}
	if drop.IsAdmin && !keep.IsAdmin {
		return a.keepAnAdmin(ctx, drop)
	}
	return nil
}
