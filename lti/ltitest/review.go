package ltitest

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Submission review (AGS 2.0, LtiSubmissionReviewRequest): the platform's gradebook offers a review link on a
// learner's cell only when the column's line item declares submissionReview, and launches it for the reviewer with
// the learner in for_user, the link's resource_link and the line item in the AGS claim.

// SubmissionReview is a line item's submissionReview.
type SubmissionReview struct {
	ReviewableStatus []string          `json:"reviewableStatus,omitempty"`
	Label            string            `json:"label,omitempty"`
	URL              string            `json:"url,omitempty"`
	Custom           map[string]string `json:"custom,omitempty"`
}

func (sr *SubmissionReview) validate() error {
	if sr == nil {
		return nil
	}
	for _, st := range sr.ReviewableStatus {
		if !activityProgressValues[st] && !gradingProgressValues[st] {
			return fmt.Errorf("submissionReview.reviewableStatus %q is neither an activityProgress nor a gradingProgress value", st)
		}
	}
	if sr.URL != "" {
		if u, err := url.Parse(sr.URL); err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("submissionReview.url %q is not an absolute URL", sr.URL)
		}
	}
	return nil
}

// ReviewSpec turns the resource link launch base (its link, context, custom parameters, the reviewer as User and
// Roles) into the submission review of learner's work in the line item lineItemURL.
func ReviewSpec(base LaunchSpec, learner User, lineItemURL string) LaunchSpec {
	spec := base
	spec.MessageType = MessageSubmissionReview
	l := learner
	spec.ForUser = &l
	spec.AGS = &AGS{LineItemURL: lineItemURL}
	if base.AGS != nil {
		spec.AGS.Scopes = base.AGS.Scopes
	}
	spec.Custom = maps.Clone(base.Custom)
	return spec
}

// resolveReviewLocked checks a review as the platform's gradebook would offer it, and applies the line item's
// submissionReview (its url and custom parameters). Called with p.mu held.
func (p *Platform) resolveReviewLocked(spec *LaunchSpec, tool *ToolConfig) error {
	switch {
	case spec.ForUser == nil || spec.ForUser.Sub == "":
		return errors.New("ltitest: a submission review needs ForUser (the learner) with a Sub")
	case spec.ResourceLink == nil || spec.ResourceLink.ID == "":
		return errors.New("ltitest: a submission review needs the ResourceLink of the graded link")
	case spec.AGS == nil || spec.AGS.LineItemURL == "":
		return errors.New("ltitest: a submission review needs AGS.LineItemURL, the gradebook column under review")
	case spec.Context == nil || spec.Context.ID == "":
		return errors.New("ltitest: a submission review needs the Context of the gradebook")
	}
	li := p.lineItemByURLLocked(spec.AGS.LineItemURL)
	switch {
	case li == nil:
		return fmt.Errorf("ltitest: no line item %s", spec.AGS.LineItemURL)
	case li.clientID != tool.ClientID || li.contextID != spec.Context.ID:
		return fmt.Errorf("ltitest: line item %s is not this tool's in context %s", spec.AGS.LineItemURL, spec.Context.ID)
	case li.item.SubmissionReview == nil:
		return fmt.Errorf("ltitest: line item %s declares no submissionReview: the gradebook offers no review of it", spec.AGS.LineItemURL)
	}
	sr := li.item.SubmissionReview
	if len(sr.ReviewableStatus) > 0 {
		i, ok := li.latest[spec.ForUser.Sub]
		if !ok {
			return fmt.Errorf("ltitest: %s has no result in line item %s, and its reviewableStatus asks for one", spec.ForUser.Sub, spec.AGS.LineItemURL)
		}
		sc := li.scores[i]
		if !slices.Contains(sr.ReviewableStatus, sc.ActivityProgress) && !slices.Contains(sr.ReviewableStatus, sc.GradingProgress) {
			return fmt.Errorf("ltitest: %s's result (%s, %s) is not reviewable (%s)", spec.ForUser.Sub, sc.ActivityProgress,
				sc.GradingProgress, strings.Join(sr.ReviewableStatus, ", "))
		}
	}
	if sr.URL != "" {
		spec.TargetLinkURI = sr.URL
	}
	if len(sr.Custom) > 0 {
		if spec.Custom == nil {
			spec.Custom = map[string]string{}
		}
		maps.Copy(spec.Custom, sr.Custom)
	}
	return nil
}

func (p *Platform) lineItemByURLLocked(u string) *lineItemState {
	for _, s := range p.lineItems {
		if p.lineItemURLLocked(s.contextID, s.key) == u {
			return s
		}
	}
	return nil
}

func forUserClaim(u *User) map[string]any {
	m := map[string]any{"user_id": u.Sub}
	for k, v := range map[string]string{"name": u.Name, "given_name": u.GivenName, "family_name": u.FamilyName, "email": u.Email} {
		if v != "" {
			m[k] = v
		}
	}
	m["roles"] = []string{RoleLearner}
	return m
}
