package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/lti/ltitest"
)

// started is a demo running in this process, known only by what it printed, as a person knows it.
type started struct {
	URL, Password string
	Output        *strings.Builder
	stop          func()
}

// startDemo runs Run in the background and reads the URL and the admin password from its output.
func startDemo(t *testing.T, opts Options) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		err := Run(ctx, opts, pw)
		pw.CloseWithError(err)
		errc <- err
	}()
	s := &started{Output: &strings.Builder{}}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(90 * time.Second)
	for s.URL == "" || s.Password == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				cancel()
				t.Fatalf("the demo stopped before printing its URL and password: %v\n%s", <-errc, s.Output)
			}
			s.Output.WriteString(line + "\n")
			if strings.HasPrefix(line, "http://") {
				s.URL = strings.TrimSuffix(line, "/")
			}
			if _, pw, ok := strings.Cut(line, "username admin, password "); ok {
				s.Password = pw
			}
		case <-deadline:
			cancel()
			t.Fatalf("no URL after 90 s:\n%s", s.Output)
		}
	}
	go func() {
		for range lines { // keep the pipe flowing until Run returns
		}
	}()
	s.stop = func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("the demo stopped with %v", err)
		}
	}
	t.Cleanup(func() {
		if s.stop != nil {
			s.stop()
		}
	})
	return s
}

// browser is an HTTP client that behaves as a browser without JavaScript: cookies, redirects, and the
// auto-submitted forms of an LTI launch (the tool's to the platform's authentication endpoint, the platform's
// id_token post back to the tool).
type browser struct {
	t   *testing.T
	c   *http.Client
	lms string
}

func newBrowser(t *testing.T, lms string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}, lms: lms}
}

type page struct {
	URL    *url.URL
	Status int
	Body   string
}

func (b *browser) read(resp *http.Response, err error) page {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{URL: resp.Request.URL, Status: resp.StatusCode, Body: string(body)}
}

func (b *browser) get(u string) page {
	b.t.Helper()
	return b.read(b.c.Get(u))
}

// post sends a form as the page at origin would.
func (b *browser) post(origin, u string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	return b.read(b.c.Do(req))
}

// follow submits the launch's auto-posted forms from p on, and returns the first page that has none.
func (b *browser) follow(p page) page {
	b.t.Helper()
	auth := b.lms + "/auth"
	for range 6 {
		var next *ltitest.Form
		for _, f := range ltitest.ParseForms(p.URL, []byte(p.Body)) {
			if f.ID == "ltitest_autopost" || f.ID == "dl-return" || (f.ID == "auth-form" && strings.HasPrefix(f.Action, auth)) {
				next = &f
				break
			}
		}
		if next == nil {
			return p
		}
		p = b.read(next.Submit(context.Background(), b.c))
	}
	b.t.Fatalf("the launch did not settle after 6 forms; at %s:\n%s", p.URL, p.Body)
	return p
}

// landed goes on from ltipub's landing page (which a browser's script leaves for its target) to the target.
func (b *browser) landed(p page) page {
	b.t.Helper()
	if m := regexp.MustCompile(`id="lti-landed" data-to="([^"]+)"`).FindStringSubmatch(p.Body); m != nil {
		to, err := p.URL.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
		if err != nil {
			b.t.Fatal(err)
		}
		return b.get(to.String())
	}
	return p
}

func linkOf(t *testing.T, course, kind string) string {
	t.Helper()
	m := regexp.MustCompile(`data-link="([^"]+)"><span class="kind">` + kind + `<`).FindStringSubmatch(course)
	if m == nil {
		t.Fatalf("the course page has no %s link:\n%s", kind, course)
	}
	return m[1]
}

// panels polls the course page's changing parts until cond holds.
func waitPanels(t *testing.T, b *browser, what string, cond func(activities, gradebook string) bool) (string, string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var acts, grades string
	for {
		p := b.get(b.lms + "/demo/panels")
		m := regexp.MustCompile(`"activities":("(?:[^"\\]|\\.)*")`).FindStringSubmatch(p.Body)
		g := regexp.MustCompile(`"gradebook":("(?:[^"\\]|\\.)*")`).FindStringSubmatch(p.Body)
		if m == nil || g == nil {
			t.Fatalf("panels: %s", p.Body)
		}
		acts, grades = unquote(t, m[1]), unquote(t, g[1])
		if cond(acts, grades) {
			return acts, grades
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20 s; activities:\n%s\ngradebook:\n%s", what, acts, grades)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func unquote(t *testing.T, s string) string {
	t.Helper()
	var out string
	if err := jsonUnmarshal([]byte(s), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDemoOverHTTP drives the demo LMS as a person would, over HTTP: a learner takes the quiz and the platform's
// gradebook shows the score; the teacher adds an activity by content selection; a learner added to the roster is
// created by member sync; two broken launches are refused with an explanation and logged; the admin signs in.
func TestDemoOverHTTP(t *testing.T) {
	t.Parallel()
	startAt := time.Now()
	d := startDemo(t, Options{})
	t.Logf("the demo printed its URL after %s", time.Since(startAt).Round(time.Millisecond))
	learner := newBrowser(t, d.URL)
	course := learner.get(d.URL + "/")
	if course.Status != http.StatusOK || !strings.Contains(course.Body, "Solar System quiz") {
		t.Fatalf("course page %d:\n%s", course.Status, course.Body)
	}
	quiz := linkOf(t, course.Body, "quiz")
	tool := regexp.MustCompile(`href="(http://[^"]+)/login"`).FindStringSubmatch(course.Body)
	if tool == nil {
		t.Fatal("the course page does not link ltipub's sign-in")
	}
	toolURL := tool[1]

	// The learner launches the quiz and answers it (all right).
	p := learner.landed(learner.follow(learner.get(d.URL + "/demo/launch?link=" + quiz + "&as=learner-1")))
	m := regexp.MustCompile(`action="(/activities/\d+/attempts)" id="quiz-form"`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("the launch did not land in the quiz (%d at %s):\n%s", p.Status, p.URL, p.Body)
	}
	res := learner.post(toolURL, toolURL+m[1], url.Values{"q_closest": {"1"}, "q_giants": {"0", "2"}, "q_star": {"the sun"}})
	if !strings.Contains(res.Body, "10 / 10") {
		t.Fatalf("quiz result (%d):\n%s", res.Status, res.Body)
	}
	graded := time.Now()
	waitPanels(t, learner, "the quiz score in the gradebook", func(_, g string) bool {
		return strings.Contains(g, `data-user="learner-1" data-col="1" title="FullyGraded">10 / 10<`)
	})
	t.Logf("the gradebook showed the score %s after the attempt", time.Since(graded).Round(time.Millisecond))

	// In a new window the quiz opens with ltipub's own full layout; in the frame, with the embedded one.
	if !strings.Contains(p.Body, `<body class="embedded">`) {
		t.Errorf("the framed launch does not use the embedded layout")
	}
	win := newBrowser(t, d.URL)
	p = win.landed(win.follow(win.get(d.URL + "/demo/launch?link=" + quiz + "&as=learner-2&target=window")))
	if !strings.Contains(p.Body, `id="quiz-form"`) || strings.Contains(p.Body, `<body class="embedded">`) {
		t.Fatalf("the new-window launch (%d at %s) is not the quiz in the full layout:\n%s", p.Status, p.URL, p.Body)
	}

	// The teacher opens the quiz: the teacher's view, with the questions' right answers.
	teacher := newBrowser(t, d.URL)
	p = teacher.landed(teacher.follow(teacher.get(d.URL + "/demo/launch?link=" + quiz + "&as=" + teacherSub)))
	if !strings.Contains(p.Body, "teacher&#39;s preview") && !strings.Contains(p.Body, "teacher's preview") {
		t.Fatalf("the teacher's launch (%d at %s) does not show the teacher's view:\n%s", p.Status, p.URL, p.Body)
	}

	// The teacher adds the assignment by content selection, with a gradebook column.
	sel := teacher.landed(teacher.follow(teacher.get(d.URL + "/demo/launch?kind=select&as=" + teacherSub)))
	rm := regexp.MustCompile(`name="resource" value="(\d+)" id="resource-\d+" aria-label="Select Observation report"`).FindStringSubmatch(sel.Body)
	if rm == nil {
		t.Fatalf("the selection page (%d at %s) lacks the assignment:\n%s", sel.Status, sel.URL, sel.Body)
	}
	done := teacher.follow(teacher.post(toolURL, toolURL+"/launch/select",
		url.Values{"resource": {rm[1]}, "gradebook_" + rm[1]: {"on"}, "action": {"add"}}))
	if !strings.Contains(done.Body, `<p id="items">1</p>`) {
		t.Fatalf("the platform did not take the selection (%d at %s):\n%s", done.Status, done.URL, done.Body)
	}
	waitPanels(t, learner, "the added activity and its column", func(a, g string) bool {
		return strings.Contains(a, `<span class="kind">added</span><br><strong>Observation report</strong>`) &&
			strings.Count(g, "<th>") == 5 // learner + course, quiz, assignment + the added one
	})

	// A learner added to the platform's roster is created and enrolled by member sync.
	roster := learner.post(d.URL, d.URL+"/demo/roster", url.Values{"name": {"Mia Member"}})
	if !strings.Contains(roster.Body, "Mia Member") {
		t.Fatalf("after adding to the roster:\n%s", roster.Body)
	}
	synced := learner.post(d.URL, d.URL+"/demo/member-sync", nil)
	sm := regexp.MustCompile(`id="sync-msg">([^<]+)<`).FindStringSubmatch(synced.Body)
	if sm == nil || !strings.Contains(sm[1], "account(s) created") || strings.Contains(sm[1], "Errors") {
		t.Fatalf("member sync message %q", sm)
	}
	if !regexp.MustCompile(`read \d+ link\(s\): [1-9]\d* account\(s\) created`).MatchString(sm[1]) {
		t.Fatalf("member sync created nobody: %q", sm[1])
	}

	// Broken launches: refused with the cause and the fix, and logged.
	for _, c := range []struct{ brk, want string }{
		{"deployment", "deployment"},
		{"expired", "expired"},
	} {
		b := newBrowser(t, d.URL)
		p := b.follow(b.get(d.URL + "/demo/launch?link=" + quiz + "&as=learner-2&break=" + c.brk))
		if p.Status < 400 || !strings.Contains(strings.ToLower(p.Body), c.want) || !strings.Contains(p.Body, "class=\"problem") {
			t.Errorf("break %s: %d at %s:\n%s", c.brk, p.Status, p.URL, p.Body)
		}
	}

	// The admin signs in with the printed password and reads the launch log.
	admin := newBrowser(t, d.URL)
	if p := admin.post(toolURL, toolURL+"/login", url.Values{"username": {"admin"}, "password": {d.Password}}); p.Status != http.StatusOK || p.URL.Path == "/login" {
		t.Fatalf("admin sign-in: %d at %s", p.Status, p.URL)
	}
	log := admin.get(toolURL + "/admin/launches")
	for _, want := range []string{"deployment_id_unknown", "token_expired"} {
		if !strings.Contains(log.Body, want) {
			t.Errorf("the launch log lacks %s:\n%s", want, log.Body)
		}
	}
	t.Logf("the whole HTTP tour took %s", time.Since(startAt).Round(time.Millisecond))
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// TestDemoRefusesBadOptions: a network address and a folder of an earlier demo are refused before anything
// starts, saying why.
func TestDemoRefusesBadOptions(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{Addr: "0.0.0.0:0"}, "loopback only"},
		{Options{Addr: "8080"}, "give HOST:PORT"},
	} {
		err := Run(context.Background(), c.opts, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Run(%+v) = %v, want an error saying %q", c.opts, err, c.want)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ltipub.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), Options{Dir: dir}, io.Discard); err == nil || !strings.Contains(err.Error(), "earlier demo") {
		t.Errorf("Run on an earlier demo's folder = %v", err)
	}
}
