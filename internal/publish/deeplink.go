package publish

import (
	"context"
	"fmt"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/refusal"
	"github.com/ltipub/ltipub/lti"
)

// Selectable is a published resource offered on the content selection page.
type Selectable struct {
	Resource Resource
	Course   course.Course
	Activity course.Activity // zero for a course resource
	// Graded resources can get a gradebook column at the platform.
	Graded   bool
	MaxGrade float64
}

// Kind names what the resource publishes: "course" or the activity type.
func (s Selectable) Kind() string {
	if s.Resource.IsCourse() {
		return "course"
	}
	return string(s.Activity.Type)
}

// SelectableResources lists the enabled published resources u may add to a platform: those of courses u teaches
// (every course for admins).
func (s *Service) SelectableResources(ctx context.Context, u *account.User) ([]Selectable, error) {
	all, err := s.Store.Resources(ctx, 0)
	if err != nil {
		return nil, err
	}
	courses := map[int64]*course.Course{}
	var out []Selectable
	for _, r := range all {
		if !r.Enabled {
			continue
		}
		c, ok := courses[r.CourseID]
		if !ok {
			cc, err := s.Courses.Store.CourseByID(ctx, r.CourseID)
			if err != nil {
				return nil, err
			}
			if s.Courses.CanEdit(ctx, u, cc) {
				c = &cc
			}
			courses[r.CourseID] = c
		}
		if c == nil {
			continue
		}
		sel := Selectable{Resource: r, Course: *c, Graded: true, MaxGrade: 100}
		if !r.IsCourse() {
			a, err := s.Courses.Store.ActivityByID(ctx, r.ActivityID)
			if err != nil {
				return nil, err
			}
			sel.Activity, sel.Graded, sel.MaxGrade = a, a.Graded(), a.MaxGrade
		}
		out = append(out, sel)
	}
	return out, nil
}

// Pick is one resource chosen on the selection page.
type Pick struct {
	ResourceID     int64
	AddToGradebook bool
}

// DeepLinkRefusal is a content selection that cannot go on; its Description goes back to the platform as
// errormsg. Kind Invalid is a mistake the teacher can correct on the selection page.
type DeepLinkRefusal = refusal.Refusal

// CheckDeepLinkRequest refuses what ltipub cannot answer: learners, and platforms that accept no LTI resource
// links.
func CheckDeepLinkRequest(m *lti.Message) error {
	st := m.DeepLinkingSettings
	if st == nil || st.DeepLinkReturnURL == "" {
		return &DeepLinkRefusal{Code: "deep_link_no_return_url", Kind: refusal.Invalid, Audience: refusal.Teacher,
			Description: "The content selection request has no deep_link_return_url, so there is nowhere to send a selection.",
			Fix:         "This is a platform problem: check the tool's Deep Linking (content selection) settings in the platform."}
	}
	if !st.AcceptsType(lti.ContentItemResourceLink) {
		return &DeepLinkRefusal{Code: "deep_link_no_resource_links", Kind: refusal.Invalid, Audience: refusal.Teacher,
			Description: fmt.Sprintf("The platform accepts only %v here, and ltipub offers LTI resource links (ltiResourceLink).", []string(st.AcceptTypes)),
			Fix:         "Add ltipub from a place in the platform that accepts LTI links (an external tool activity), not a file or HTML picker."}
	}
	if !m.Roles.IsTeacherLike() && !m.Roles.IsAdmin() {
		return &DeepLinkRefusal{Code: "deep_link_not_teacher", Kind: refusal.Forbidden, Audience: refusal.Teacher,
			Description: "Content selection is for teachers, and the platform says you are not one in this course.",
			Fix:         "Ask a teacher of the course to add ltipub content."}
	}
	return nil
}

// DeepLinkResponse builds the answer to a content selection: one ltiResourceLink per pick, with a line item when
// asked and allowed. Picks must be enabled resources u may use.
func (s *Service) DeepLinkResponse(ctx context.Context, u *account.User, m *lti.Message, clientID, launchURL string, picks []Pick) (lti.DeepLinkingResponse, error) {
	resp := lti.NewDeepLinkingResponse(m, clientID)
	st := m.DeepLinkingSettings
	if len(picks) > 1 && !st.AcceptsMultiple() {
		return resp, &DeepLinkRefusal{Code: "deep_link_one_item", Kind: refusal.Invalid, Audience: refusal.Teacher,
			Description: "The platform accepts one item at a time here, and several were selected.",
			Fix:         "Select one resource, or add the others one by one."}
	}
	selectable, err := s.SelectableResources(ctx, u)
	if err != nil {
		return resp, err
	}
	byID := map[int64]Selectable{}
	for _, sel := range selectable {
		byID[sel.Resource.ID] = sel
	}
	for _, p := range picks {
		sel, ok := byID[p.ResourceID]
		if !ok {
			return resp, &DeepLinkRefusal{Code: "deep_link_resource_gone", Kind: refusal.Conflict, Audience: refusal.Teacher,
				Description: "A selected resource is no longer available: it was disabled or deleted meanwhile, or you no longer teach its course.",
				Fix:         "Go back and select again."}
		}
		item := lti.ContentItem{Type: lti.ContentItemResourceLink, URL: launchURL, Title: sel.Resource.Name,
			Text: describe(sel), Custom: map[string]string{"id": sel.Resource.UUID}}
		if p.AddToGradebook && sel.Graded && st.AcceptsLineItem() {
			item.LineItem = &lti.LineItem{ScoreMaximum: sel.MaxGrade, Label: sel.Resource.Name, ResourceID: sel.Resource.UUID, Tag: "ltipub"}
			item.LineItem.SubmissionReview = SubmissionReview(sel.Resource, sel.Activity)
		}
		if targets := st.AcceptPresentationDocumentTargets; len(targets) > 0 && !contains(targets, "iframe") && contains(targets, "window") {
			item.Window = &lti.Window{TargetName: "ltipub"}
		} else if contains(targets, "iframe") {
			item.Iframe = &lti.Iframe{}
		}
		resp.Items = append(resp.Items, item)
	}
	if len(resp.Items) == 1 {
		resp.Msg = fmt.Sprintf("Added %q from ltipub.", resp.Items[0].Title)
	} else if len(resp.Items) > 1 {
		resp.Msg = fmt.Sprintf("Added %d resources from ltipub.", len(resp.Items))
	}
	return resp, nil
}

func describe(sel Selectable) string {
	if sel.Resource.IsCourse() {
		return "The course " + sel.Course.FullName
	}
	return fmt.Sprintf("%s in %s", sel.Activity.Name, sel.Course.FullName)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// LinkForDeepLinking links the platform user of a content selection to u (a linked user keeps their link).
func (s *Service) LinkForDeepLinking(ctx context.Context, l Launch, u account.User) (account.User, error) {
	now := time.Now().UTC()
	held, err := s.Store.LinkLTIUser(ctx, LTIUser{Issuer: l.Registration.Issuer, Subject: l.Message.Subject,
		RegistrationID: l.Registration.ID, UserID: u.ID, CreatedAt: now, LastLaunchAt: now})
	if err != nil {
		return account.User{}, fmt.Errorf("link platform user: %w", err)
	}
	if held.UserID == u.ID {
		return u, nil
	}
	return s.Accounts.Store.UserByID(ctx, held.UserID)
}

// LinkedAccount returns the account linked to the launch's platform user, if any.
func (s *Service) LinkedAccount(ctx context.Context, l Launch) (account.User, bool, error) {
	u, _, _, ok, err := s.linkedAccount(ctx, l, 0)
	return u, ok, err
}

// SubmissionReview is the submissionReview of the line items ltipub creates for r: a quiz's attempts and an
// assignment's submissions can be opened from the platform's gradebook (LtiSubmissionReviewRequest, to the launch
// URL, whatever the learner's progress). A course's total has nothing one could open, so it declares none.
func SubmissionReview(r Resource, act course.Activity) *lti.SubmissionReview {
	if r.IsCourse() || (act.Type != course.TypeQuiz && act.Type != course.TypeAssignment) {
		return nil
	}
	label := "Open the attempt in ltipub"
	if act.Type == course.TypeAssignment {
		label = "Open the submission in ltipub"
	}
	return &lti.SubmissionReview{Label: label}
}
