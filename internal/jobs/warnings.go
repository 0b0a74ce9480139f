package jobs

import (
	"context"
	"strings"

	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti"
)

// Warnings where grades (or rosters) cannot leave: a resource with grade sync on, launched from a link whose
// platform offered no grade service, keeps every grade local; the admin and the teacher must be told, with the
// fix in the platform's words (Moodle's manual tool form defaults to "Do not use" for all three services).

// Fixes, in Moodle's words first (the platform that most often ships them off), then for the others.
const (
	FixGrades = `In Moodle: Site administration › Plugins › Activity modules › External tool › Manage tools, edit the tool, ` +
		`and under "Services" set "IMS LTI Assignment and Grade Services" to "Use this service for grade sync and column ` +
		`management"; then launch the link again (the next launch brings the grade service). In other platforms: allow the ` +
		`tool the Assignment and Grade Services (line items and scores).`
	FixMembers = `In Moodle: edit the tool (Manage tools), set "IMS LTI Names and Role Provisioning" to "Use this service to ` +
		`retrieve members' information as per privacy settings", and under "Privacy" set "Share launcher's name with tool" ` +
		`and "Share launcher's email with tool" to "Always"; then launch the link again. In other platforms: allow the tool ` +
		`the Names and Role Provisioning Services (course roster).`
	FixLegacyGrades = `In Moodle's LTI 1.1 tool settings set "Accept grades from the tool" to "Always" (Privacy), then launch ` +
		`the link again; other platforms call it the Basic Outcomes service.`
)

// Warning is one sync that cannot work for a resource link.
type Warning struct {
	LinkID    int64
	LinkTitle string
	Kind      Kind
	Problem   string
	Fix       string
}

// Text is the warning in one line, for the launch log.
func (w Warning) Text() string { return w.Problem + " " + w.Fix }

// LinkWarnings says which of a resource's syncs cannot work over a link, from what its last launch offered.
// legacyOutcome reports, for an LTI 1.1 link, whether the platform gave an outcome URL.
func LinkWarnings(r publish.Resource, l publish.ResourceLink, legacyOutcome bool) []Warning {
	title := l.ContextTitle
	if title == "" {
		title = l.ContextID
	}
	if title == "" {
		title = l.LinkID
	}
	w := func(k Kind, problem, fix string) Warning {
		return Warning{LinkID: l.ID, LinkTitle: title, Kind: k, Problem: problem, Fix: fix}
	}
	var out []Warning
	if r.GradeSync {
		switch {
		case l.IsLegacy():
			if !legacyOutcome {
				out = append(out, w(KindGrades, "Grade sync is on, but the platform sent no outcome service URL (lis_outcome_service_url) "+
					"with the launch, so grades stay in ltipub.", FixLegacyGrades))
			}
		case l.LineItemURL == "" && l.LineItemsURL == "":
			out = append(out, w(KindGrades, "Grade sync is on, but the platform offered no grade service (no Assignment and Grade "+
				"Services claim) for this link, so grades stay in ltipub.", FixGrades))
		case !hasScope(l.AGSScopes, lti.ScopeScore):
			out = append(out, w(KindGrades, "Grade sync is on, but the platform did not grant the score scope for this link, so "+
				"grades stay in ltipub.", FixGrades))
		case l.LineItemURL == "" && !hasScope(l.AGSScopes, lti.ScopeLineItem) && !hasScope(l.AGSScopes, lti.ScopeLineItemReadOnly):
			out = append(out, w(KindGrades, "Grade sync is on, but the link has no grade column of its own and the platform did not "+
				"grant the line items scope to find or create one, so grades stay in ltipub.", FixGrades))
		}
	}
	if r.MemberSync && l.MembershipsURL == "" && !l.IsLegacy() {
		out = append(out, w(KindMembers, "Member sync is on, but the platform offered no roster service (no Names and Role "+
			"Provisioning Services claim) for this link, so its members are not synced.", FixMembers))
	}
	return out
}

// ResourceWarnings lists the warnings of a published resource's links.
func (s *Service) ResourceWarnings(ctx context.Context, r publish.Resource) ([]Warning, error) {
	if !r.GradeSync && !r.MemberSync {
		return nil, nil
	}
	links, err := s.cfg.Publish.ResourceLinks(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	var out []Warning
	for _, l := range links {
		has := false
		if l.IsLegacy() && r.GradeSync && s.cfg.Legacy != nil {
			if has, err = s.cfg.Legacy.HasLegacyOutcome(ctx, l.ID); err != nil {
				return nil, err
			}
		}
		out = append(out, LinkWarnings(r, l, has)...)
	}
	return out, nil
}

// ResourceWarning is a warning with the resource it belongs to (the Sync page).
type ResourceWarning struct {
	Warning
	Resource publish.Resource
}

// SyncWarnings lists the warnings of every published resource with a sync on (at most limit; total counts all).
func (s *Service) SyncWarnings(ctx context.Context, limit int) ([]ResourceWarning, int, error) {
	rs, err := s.cfg.Publish.Resources(ctx, 0)
	if err != nil {
		return nil, 0, err
	}
	var out []ResourceWarning
	total := 0
	for _, r := range rs {
		ws, err := s.ResourceWarnings(ctx, r)
		if err != nil {
			return nil, 0, err
		}
		for _, w := range ws {
			total++
			if len(out) < limit {
				out = append(out, ResourceWarning{Warning: w, Resource: r})
			}
		}
	}
	return out, total, nil
}

// LaunchWarning is the launch log's text of LinkWarnings: one line per sync the link cannot do ("" for none).
func LaunchWarning(r publish.Resource, l publish.ResourceLink, legacyOutcome bool) string {
	var lines []string
	for _, w := range LinkWarnings(r, l, legacyOutcome) {
		lines = append(lines, w.Text())
	}
	return strings.Join(lines, "\n")
}
