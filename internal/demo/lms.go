package demo

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// lms is the demo LMS: its own pages under / and /demo/, the reference platform's endpoints everywhere else.
type lms struct {
	d   *Demo
	mux *http.ServeMux
	// altMux serves the LMS's other loopback name, altHost: the blocked-cookies page and the second platform.
	altMux  *http.ServeMux
	altHost string

	mu      sync.Mutex
	links   []link // the course's links made at start; links added by content selection live in the platform
	members []ltitest.Member
	syncMsg string
}

// link is a placement of ltipub in the demo course.
type link struct {
	ID, Title, Kind, UUID string
	LineItemURL           string
	Added                 bool // by content selection
}

func newLMS(d *Demo) *lms {
	l := &lms{d: d}
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", l.coursePage)
	m.HandleFunc("GET /demo/panels", l.panels)
	m.HandleFunc("GET /demo/launch", l.launch)
	// The demo's own forms post only from its own pages.
	csrf := http.NewCrossOriginProtection()
	m.Handle("POST /demo/roster", csrf.Handler(http.HandlerFunc(l.addLearner)))
	m.Handle("POST /demo/member-sync", csrf.Handler(http.HandlerFunc(l.memberSync)))
	m.Handle("/", d.platform.Handler())
	l.mux = m
	if d.alt != nil {
		am := http.NewServeMux()
		am.HandleFunc("GET /demo/cookies-blocked", l.cookiesBlocked)
		am.Handle("/", d.alt.Handler())
		l.altMux = am
		if u, err := url.Parse(d.alt.BaseURL()); err == nil {
			l.altHost = u.Host
		}
	}
	return l
}

// ServeHTTP serves the LMS, or under its other name the second platform.
func (l *lms) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if l.altMux != nil && r.Host == l.altHost {
		l.altMux.ServeHTTP(w, r)
		return
	}
	l.mux.ServeHTTP(w, r)
}

// setUp places every published resource in the course, with a gradebook column for the graded ones (as Moodle
// makes when a tool link accepts grades), and fills the roster.
func (l *lms) setUp() {
	d := l.d
	acts := map[int64]course.Activity{}
	for _, a := range d.course.Activities {
		acts[a.ID] = a
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, r := range d.resources {
		lk := link{ID: fmt.Sprintf("link-%d", i+1), UUID: r.UUID, Title: d.course.Course.FullName + " (whole course)", Kind: "course"}
		max := 100.0
		if r.ActivityID != 0 {
			a := acts[r.ActivityID]
			lk.Title, lk.Kind, max = a.Name, string(a.Type), a.MaxGrade
		}
		if lk.Kind == "course" || acts[r.ActivityID].Graded() {
			lk.LineItemURL = d.platform.AddLineItem(d.clientID, contextID, ltitest.LineItem{Label: lk.Title, ScoreMaximum: max, ResourceLinkID: lk.ID})
		}
		l.links = append(l.links, lk)
	}
	l.members = []ltitest.Member{
		{UserID: teacherSub, Roles: []string{ltitest.RoleInstructor}, Name: teacherName, GivenName: "Tess", FamilyName: "Teacher", Email: "tess@demo-lms.example"},
		{UserID: "learner-1", Roles: []string{ltitest.RoleLearner}, Name: "Lena Learner", GivenName: "Lena", FamilyName: "Learner", Email: "lena@demo-lms.example"},
		{UserID: "learner-2", Roles: []string{ltitest.RoleLearner}, Name: "Leo Learner", GivenName: "Leo", FamilyName: "Learner", Email: "leo@demo-lms.example"},
	}
	d.platform.SetMembers(contextID, l.members)
}

func (l *lms) context() *ltitest.Context {
	return &ltitest.Context{ID: contextID, Label: l.d.course.Course.ShortName, Title: l.d.course.Course.FullName,
		Type: []string{"http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"}}
}

// allLinks are the links made at start and those added by content selection.
func (l *lms) allLinks() []link {
	l.mu.Lock()
	out := slices.Clone(l.links)
	l.mu.Unlock()
	for _, s := range l.d.platform.Links(contextID) {
		out = append(out, link{ID: s.ID, Title: s.Title, Kind: "added", UUID: s.Custom["id"], LineItemURL: s.LineItemURL, Added: true})
	}
	return out
}

func (l *lms) member(sub string) (ltitest.Member, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.members {
		if m.UserID == sub {
			return m, true
		}
	}
	return ltitest.Member{}, false
}

func (l *lms) learners() []ltitest.Member {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []ltitest.Member
	for _, m := range l.members {
		if slices.Contains(m.Roles, ltitest.RoleLearner) {
			out = append(out, m)
		}
	}
	return out
}

// spec builds the launch a click on the course page asks for.
func (l *lms) spec(r *http.Request) (ltitest.LaunchSpec, error) {
	q := r.URL.Query()
	d := l.d
	m, ok := l.member(q.Get("as"))
	if !ok {
		return ltitest.LaunchSpec{}, fmt.Errorf("nobody called %q is on the course's roster", q.Get("as"))
	}
	user := &ltitest.User{Sub: m.UserID, Name: m.Name, GivenName: m.GivenName, FamilyName: m.FamilyName, Email: m.Email}
	target := "iframe"
	if q.Get("target") == "window" {
		target = "window"
	}
	pres := &ltitest.Presentation{DocumentTarget: target, ReturnURL: d.URL + "/return", Locale: "en"}
	if q.Get("kind") == "select" {
		return ltitest.LaunchSpec{ClientID: d.clientID, DeploymentID: d.deploy, MessageType: ltitest.MessageDeepLinkingRequest,
			User: user, Roles: m.Roles, Context: l.context(), Presentation: pres,
			DeepLinking: &ltitest.DeepLinking{Title: "Add an activity", Text: "from ltipub"}}, nil
	}
	var lk *link
	for _, x := range l.allLinks() {
		if x.ID == q.Get("link") {
			lk = &x
			break
		}
	}
	if lk == nil {
		return ltitest.LaunchSpec{}, fmt.Errorf("the course has no link %q", q.Get("link"))
	}
	var spec ltitest.LaunchSpec
	if lk.Added {
		s, err := d.platform.LaunchSpecForLink(lk.ID, user, m.Roles...)
		if err != nil {
			return ltitest.LaunchSpec{}, err
		}
		spec = s
		spec.Context = l.context()
	} else {
		spec = ltitest.LaunchSpec{ClientID: d.clientID, DeploymentID: d.deploy, User: user, Roles: m.Roles, Context: l.context(),
			ResourceLink: &ltitest.ResourceLink{ID: lk.ID, Title: lk.Title}, Custom: map[string]string{"id": lk.UUID},
			AGS: &ltitest.AGS{LineItemURL: lk.LineItemURL}, NRPS: true}
	}
	spec.Presentation = pres
	switch q.Get("break") {
	case "":
	case "deployment":
		spec.Tamper = ltitest.TamperDeploymentUnknown
	case "expired":
		spec.Tamper = ltitest.TamperExpired
	default:
		return ltitest.LaunchSpec{}, fmt.Errorf("no way to break a launch called %q", q.Get("break"))
	}
	return spec, nil
}

// launch starts a launch in whatever frame or window the link targeted: the platform's launch page posts the
// login initiation to ltipub there.
func (l *lms) launch(w http.ResponseWriter, r *http.Request) {
	spec, err := l.spec(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u, err := l.d.platform.LaunchPageURL(spec)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// cookiesBlocked is a course page of the second platform, on the LMS's other loopback name: another site than
// ltipub, as a real LMS is, so the browser blocks ltipub's cookies in its frame.
func (l *lms) cookiesBlocked(w http.ResponseWriter, r *http.Request) {
	d := l.d
	q := r.URL.Query()
	m, ok := l.member(q.Get("as"))
	var lk *link
	for _, x := range l.allLinks() {
		if x.ID == q.Get("link") && !x.Added {
			lk = &x
		}
	}
	if !ok || lk == nil {
		http.Error(w, "unknown learner or link", http.StatusBadRequest)
		return
	}
	src, err := d.alt.LaunchPageURL(ltitest.LaunchSpec{ClientID: d.altClientID, DeploymentID: d.altDeploy,
		User:  &ltitest.User{Sub: m.UserID, Name: m.Name, GivenName: m.GivenName, FamilyName: m.FamilyName, Email: m.Email},
		Roles: m.Roles, Context: l.context(), ResourceLink: &ltitest.ResourceLink{ID: lk.ID, Title: lk.Title},
		Custom: map[string]string{"id": lk.UUID}, Presentation: &ltitest.Presentation{DocumentTarget: "iframe"}})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	l.render(w, "cookies", map[string]any{"Src": src, "Home": d.URL + "/", "Tool": d.ToolURL})
}

func (l *lms) addLearner(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" || len(name) > 100 {
		http.Error(w, "Give the learner a name (up to 100 characters).", http.StatusBadRequest)
		return
	}
	l.mu.Lock()
	n := len(l.members)
	given, family, _ := strings.Cut(name, " ")
	sub := fmt.Sprintf("learner-%d", n)
	l.members = append(l.members, ltitest.Member{UserID: sub, Roles: []string{ltitest.RoleLearner}, Name: name,
		GivenName: given, FamilyName: family, Email: sub + "@demo-lms.example"})
	members := slices.Clone(l.members)
	l.syncMsg = fmt.Sprintf("Added %s to the platform's roster. ltipub does not know yet: run member sync.", name)
	l.mu.Unlock()
	l.d.platform.SetMembers(contextID, members)
	http.Redirect(w, r, "/#roster", http.StatusSeeOther)
}

// memberSync runs ltipub's member sync of every published resource now, as its Run now button does, and keeps
// the outcome for the roster panel.
func (l *lms) memberSync(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 60*time.Second)
	defer cancel()
	run, err := l.d.app.Jobs.SyncMembers(ctx, jobs.CauseManual, 0, 0)
	var msg string
	switch {
	case err != nil && run.ID == 0:
		msg = "ltipub's member sync failed: " + err.Error()
	case run.Links == 0:
		msg = "ltipub's member sync found no link to sync: ltipub learns a link's roster URL at its first launch, so launch an activity first."
	default:
		msg = fmt.Sprintf("ltipub's member sync read %d link(s): %d account(s) created, %d enrolled, %d unenrolled, %d updated.",
			run.Links, run.Created, run.Enrolled, run.Unenrolled, run.Updated)
		if run.Error != "" {
			msg += " Errors: " + run.Error
		}
	}
	l.mu.Lock()
	l.syncMsg = msg
	l.mu.Unlock()
	http.Redirect(w, r, "/#roster", http.StatusSeeOther)
}

// gradeCell is one cell of the gradebook.
type gradeCell struct {
	Text, Progress string
}

type gradeRow struct {
	Member ltitest.Member
	Cells  []gradeCell
}

func (l *lms) gradebook() (cols []ltitest.LineItem, rows []gradeRow) {
	p := l.d.platform
	cols = p.LineItems(contextID)
	for _, m := range l.learners() {
		row := gradeRow{Member: m}
		for _, li := range cols {
			c := gradeCell{Text: "–"}
			if s, ok := p.LatestScore(li.ID, m.UserID); ok {
				c.Progress = s.GradingProgress
				if s.ScoreGiven != nil && s.ScoreMaximum != nil {
					c.Text = trim(*s.ScoreGiven) + " / " + trim(*s.ScoreMaximum)
				} else {
					c.Text = s.ActivityProgress
				}
			}
			row.Cells = append(row.Cells, c)
		}
		rows = append(rows, row)
	}
	return cols, rows
}

func trim(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func (l *lms) pageData(r *http.Request) map[string]any {
	learners := l.learners()
	as := r.URL.Query().Get("as")
	if _, ok := l.member(as); !ok || as == teacherSub {
		as = learners[0].UserID
	}
	cols, rows := l.gradebook()
	l.mu.Lock()
	members, msg := slices.Clone(l.members), l.syncMsg
	l.mu.Unlock()
	first := ""
	for _, lk := range l.allLinks() {
		if lk.Kind == "quiz" {
			first = lk.ID
		}
	}
	return map[string]any{
		"Course": l.d.course.Course, "Links": l.allLinks(), "Learners": learners, "As": as, "Teacher": teacherSub,
		"Columns": cols, "Rows": rows, "Members": members, "SyncMsg": msg, "Tool": l.d.ToolURL,
		"Quiz": first, "CookiesURL": l.d.altURL("/demo/cookies-blocked?" + (urlValues{"link": first, "as": as}).encode()),
	}
}

func (l *lms) coursePage(w http.ResponseWriter, r *http.Request) {
	l.render(w, "course", l.pageData(r))
}

// panels answers the parts of the course page that change while a person works in the frame (the activities
// content selection adds, the gradebook); the page polls it.
func (l *lms) panels(w http.ResponseWriter, r *http.Request) {
	data := l.pageData(r)
	var acts, grades bytes.Buffer
	if err := pages.ExecuteTemplate(&acts, "activities", data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if err := pages.ExecuteTemplate(&grades, "gradebook", data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSONObject(w, map[string]string{"activities": acts.String(), "gradebook": grades.String()})
}

func (l *lms) render(w http.ResponseWriter, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "render "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	// launch is the URL of a launch from the course page; its query is built here, where html/template does not
	// escape its & and =.
	"launch": func(kv ...string) template.URL {
		v := urlValues{}
		for i := 0; i+1 < len(kv); i += 2 {
			v[kv[i]] = kv[i+1]
		}
		return template.URL("/demo/launch?" + v.encode())
	},
}).Parse(pageTemplates))
