package launch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/refusal"
	"github.com/ltipub/ltipub/internal/store"
)

// Submission review (LtiSubmissionReviewRequest): a teacher in the platform's gradebook opens one learner's work
// in ltipub. The reviewer lands like any launch of the link (account, enrolment, the link recorded), and the
// session is then contained to that one learner's attempts or submission in the link's activity, nothing else.

// reviewPrefix starts a review scope entry: "v<activity id>.<learner user id>" (learner 0: the platform's learner
// has no account here yet, so nothing to review).
const reviewPrefix = "v"

// ReviewEntry is the scope entry of a review of learner's work in activity.
func ReviewEntry(activityID, learnerID int64) string {
	return reviewPrefix + strconv.FormatInt(activityID, 10) + "." + strconv.FormatInt(learnerID, 10)
}

// ParseReviewEntry reads a review scope entry.
func ParseReviewEntry(e string) (activityID, learnerID int64, ok bool) {
	rest, found := strings.CutPrefix(e, reviewPrefix)
	if !found {
		return 0, 0, false
	}
	a, u, found := strings.Cut(rest, ".")
	if !found {
		return 0, 0, false
	}
	aid, err1 := strconv.ParseInt(a, 10, 64)
	uid, err2 := strconv.ParseInt(u, 10, 64)
	return aid, uid, err1 == nil && err2 == nil && aid > 0 && uid >= 0
}

// ReviewPath is the page of a review.
func ReviewPath(activityID, learnerID int64) string {
	return "/review/" + strconv.FormatInt(activityID, 10) + "/" + strconv.FormatInt(learnerID, 10)
}

// landReview contains a landed reviewer's session to the learner's work the review is about.
func (s *Service) landReview(ctx context.Context, out *Outcome, landing publish.Landing) (*Outcome, error) {
	m := out.Launch.Message
	if landing.ActivityID == 0 {
		return out, refusal.New("review_not_activity", refusal.Invalid, refusal.Teacher,
			fmt.Sprintf("The gradebook column opened a submission review of %q, a whole course: reviews open one activity's attempt or submission.", landing.Resource.Name),
			"Open the review from the column of a quiz or assignment published on its own, or open the course from its link.").
			With("Name", landing.Resource.Name)
	}
	if landing.Role != course.RoleTeacher {
		return out, refusal.New("review_role", refusal.Forbidden, refusal.Teacher,
			fmt.Sprintf("You are an instructor in the platform, but %q makes platform instructors students in this course, and students cannot review others' work.", landing.Resource.Name),
			"Ask the course's teacher to map instructors to teachers on the resource's Published as LTI tools page.").
			With("Name", landing.Resource.Name)
	}
	var learnerID int64
	lu, err := s.publish.Store.LTIUser(ctx, out.Launch.Registration.Issuer, m.ForUser.UserID)
	switch {
	case err == nil:
		learnerID = lu.UserID
	case !errors.Is(err, store.ErrNotFound):
		return out, fmt.Errorf("find the reviewed learner: %w", err)
	}
	s.log.InfoContext(ctx, "LTI submission review landed", "user_id", landing.User.ID, "resource", landing.Resource.UUID,
		"activity_id", landing.ActivityID, "learner_id", learnerID)
	out.Kind, out.Landing, out.To = Landed, &landing, ReviewPath(landing.ActivityID, learnerID)
	out.Session.UserID = landing.User.ID
	// The review is its own containment: not widened by what the browser launched before.
	out.Session.Scope = ReviewEntry(landing.ActivityID, learnerID)
	return out, nil
}
