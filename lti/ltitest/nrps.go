package ltitest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Member is one NRPS membership.
type Member struct {
	UserID             string   `json:"user_id"`
	Status             string   `json:"status,omitempty"` // Active (default), Inactive, Deleted
	Roles              []string `json:"roles"`
	Name               string   `json:"name,omitempty"`
	GivenName          string   `json:"given_name,omitempty"`
	FamilyName         string   `json:"family_name,omitempty"`
	MiddleName         string   `json:"middle_name,omitempty"`
	Email              string   `json:"email,omitempty"`
	Picture            string   `json:"picture,omitempty"`
	LISPersonSourcedID string   `json:"lis_person_sourcedid,omitempty"`
	// ResourceLinks restricts the member to these resource link ids for
	// rlid queries (nil: every link).
	ResourceLinks []string `json:"-"`
}

// roster is a context's membership list, stored or generated on the fly.
type roster struct {
	list      []Member
	index     map[string]bool
	generated int
	// restricted: some member is limited to some resource links (rlid queries must filter).
	restricted bool
}

func (r *roster) size() int {
	if r.list != nil {
		return len(r.list)
	}
	return r.generated
}

func (r *roster) at(i int) Member {
	if r.list != nil {
		return r.list[i]
	}
	return generatedMember(i)
}

func (r *roster) contains(id string) bool {
	if r.list != nil {
		return r.index[id]
	}
	n, ok := strings.CutPrefix(id, "user-")
	if !ok {
		return false
	}
	i, err := strconv.Atoi(n)
	return err == nil && i >= 0 && i < r.generated && generatedUserID(i) == id
}

func generatedUserID(i int) string { return fmt.Sprintf("user-%06d", i) }

// generatedMember is member i of a generated roster: user-000000 is the
// instructor, every 50th member is Inactive, the rest are Active learners.
func generatedMember(i int) Member {
	m := Member{
		UserID:     generatedUserID(i),
		Status:     "Active",
		Roles:      []string{RoleLearner},
		GivenName:  "Given" + strconv.Itoa(i),
		FamilyName: "Family" + strconv.Itoa(i),
		Email:      generatedUserID(i) + "@example.test",
	}
	m.Name = m.GivenName + " " + m.FamilyName
	if i == 0 {
		m.Roles = []string{RoleInstructor}
	} else if i%50 == 0 {
		m.Status = "Inactive"
	}
	return m
}

// GeneratedMember returns member i of a generated roster, for assertions.
func GeneratedMember(i int) Member { return generatedMember(i) }

// SetMembers sets the roster of a context. Scores are then accepted only
// for these users.
func (p *Platform) SetMembers(contextID string, members []Member) {
	r := &roster{list: slices.Clone(members), index: map[string]bool{}}
	if r.list == nil {
		r.list = []Member{}
	}
	for i := range r.list {
		if r.list[i].Status == "" {
			r.list[i].Status = "Active"
		}
		r.index[r.list[i].UserID] = true
		if r.list[i].ResourceLinks != nil {
			r.restricted = true
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.members[contextID] = r
	if p.contexts[contextID] == nil {
		p.contexts[contextID] = &Context{ID: contextID}
	}
}

// SetGeneratedRoster gives a context n generated members (see
// GeneratedMember); nothing is stored per member.
func (p *Platform) SetGeneratedRoster(contextID string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.members[contextID] = &roster{generated: n}
	if p.contexts[contextID] == nil {
		p.contexts[contextID] = &Context{ID: contextID}
	}
}

func (p *Platform) membershipsURL(contextID string) string {
	return p.withQuery(p.BaseURL() + "/nrps/" + url.PathEscape(contextID) + "/memberships")
}

func roleMatches(roles []string, want string) bool {
	for _, r := range roles {
		if r == want {
			return true
		}
		if i := strings.LastIndexAny(r, "#/"); i >= 0 && r[i+1:] == want {
			return true
		}
	}
	return false
}

func (p *Platform) handleMemberships(w http.ResponseWriter, r *http.Request) {
	handled, loop := p.applyFault(w, r, ServiceNRPS, true)
	if handled {
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		serviceError(w, http.StatusMethodNotAllowed, "method %s not allowed", r.Method)
		return
	}
	if _, ok := p.authorize(w, r, ScopeNRPS); !ok || !checkAccept(w, r, MediaMembershipContainer) {
		return
	}
	ctxID := r.PathValue("context")
	p.mu.Lock()
	ro := p.members[ctxID]
	cx := p.contexts[ctxID]
	p.mu.Unlock()
	if cx == nil {
		serviceError(w, http.StatusNotFound, "unknown context %q", ctxID)
		return
	}
	if ro == nil {
		ro = &roster{list: []Member{}}
	}
	limit, page, ok := p.pageParams(w, r, p.cfg.NRPSMaxPage)
	if !ok {
		return
	}
	q := r.URL.Query()
	role, rlid := q.Get("role"), q.Get("rlid")
	match := func(m *Member) bool {
		if role != "" && !roleMatches(m.Roles, role) {
			return false
		}
		if rlid != "" && m.ResourceLinks != nil && !slices.Contains(m.ResourceLinks, rlid) {
			return false
		}
		return true
	}
	skip := 0
	if limit > 0 {
		skip = (page - 1) * limit
	}
	// Without a filter, member i is at position i: a page costs its own members, not all those before it (a
	// 50,000-member roster in pages of 1,000 would otherwise cost 50 times the roster).
	direct := role == "" && (rlid == "" || !ro.restricted)
	start := 0
	// First pass: is there a member after this page?
	total := 0
	if limit > 0 && direct {
		total = min(ro.size(), skip+limit+1)
	} else if limit > 0 {
		for i := 0; i < ro.size() && total <= skip+limit; i++ {
			m := ro.at(i)
			if match(&m) {
				total++
			}
		}
	}
	if direct {
		start = min(skip, ro.size())
	}
	p.setPageLinks(w, r, limit, page, total, loop)
	w.Header().Set("Content-Type", MediaMembershipContainer)
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 64<<10)
	head, _ := json.Marshal(map[string]any{"id": p.BaseURL() + r.URL.RequestURI(), "context": map[string]string{"id": cx.ID, "label": cx.Label, "title": cx.Title}})
	_, _ = bw.Write(head[:len(head)-1])
	_, _ = bw.WriteString(`,"members":[`)
	enc := json.NewEncoder(bw)
	written, seen := 0, start
	for i := start; i < ro.size(); i++ {
		if limit > 0 && written >= limit {
			break
		}
		m := ro.at(i)
		if !match(&m) {
			continue
		}
		seen++
		if seen <= skip {
			continue
		}
		if written > 0 {
			_ = bw.WriteByte(',')
		}
		if m.Roles == nil {
			m.Roles = []string{}
		}
		_ = enc.Encode(m)
		written++
	}
	_, _ = bw.WriteString("]}")
	_ = bw.Flush()
}
