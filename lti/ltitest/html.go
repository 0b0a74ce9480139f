package ltitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

var pages = template.Must(template.New("").Parse(`
{{define "autopost"}}<!doctype html>
<html><head><meta charset="utf-8"><title>ltitest: continuing</title></head>
<body>
<form id="ltitest_autopost" method="{{.Method}}" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><button type="submit">Continue</button></noscript>
</form>
<script>document.getElementById("ltitest_autopost").submit();</script>
</body></html>{{end}}

{{define "error"}}<!doctype html>
<html><head><meta charset="utf-8"><title>ltitest: {{.Title}}</title></head>
<body><h1 id="error-title">{{.Title}}</h1><p id="error">{{.Detail}}</p></body></html>{{end}}

{{define "course"}}<!doctype html>
<html><head><meta charset="utf-8"><title>ltitest course</title></head>
<body>
<h1>ltitest course</h1>
{{if .Storage}}<!-- LTI client-side postMessage platform storage: a sibling frame, named in
     lti_storage_target (as Canvas's post_message_forwarding). The tool's frame loads once it is ready. -->
<iframe id="{{.StorageName}}" name="{{.StorageName}}" src="{{.Storage}}" width="0" height="0" style="display:none"></iframe>
{{end}}<iframe id="ltitool" name="ltitool" {{if .Storage}}data-src{{else}}src{{end}}="{{.Src}}" width="1000" height="700"
 allow="fullscreen; clipboard-write" sandbox="allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation allow-downloads allow-modals"></iframe>
{{if .Storage}}<script>
document.getElementById({{.StorageName}}).addEventListener("load", function () {
  var tool = document.getElementById("ltitool");
  tool.src = tool.getAttribute("data-src");
});
</script>{{end}}
</body></html>{{end}}

{{define "registerhost"}}<!doctype html>
<html><head><meta charset="utf-8"><title>ltitest registration</title></head>
<body>
<h1>Register a tool</h1>
<p id="closed"></p>
<iframe id="registration" name="registration" src="{{.Src}}" width="1000" height="700"></iframe>
<script>
window.addEventListener("message", function (e) {
  var d = e.data;
  if (!d || d.subject !== "org.imsglobal.lti.close") { return; }
  document.getElementById("closed").textContent = "closed";
  document.title = "closed";
  fetch("{{.Closed}}", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({origin: e.origin, data: d})});
});
</script>
</body></html>{{end}}

{{define "return"}}<!doctype html>
<html><head><meta charset="utf-8"><title>ltitest: returned</title></head>
<body><h1>Back at the platform</h1>
{{with .Get "lti_msg"}}<p id="lti_msg">{{.}}</p>{{end}}
{{with .Get "lti_errormsg"}}<p id="lti_errormsg">{{.}}</p>{{end}}
</body></html>{{end}}

{{define "deeplinkdone"}}<!doctype html>
<html><head><meta charset="utf-8"><title>ltitest: content added</title></head>
<body><h1>Deep linking response received</h1>
<p id="items">{{len .ContentItems}}</p>
{{with .Msg}}<p id="msg">{{.}}</p>{{end}}
{{with .ErrorMsg}}<p id="errormsg">{{.}}</p>{{end}}
</body></html>{{end}}
`))

type formField struct{ Name, Value string }

func (p *Platform) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "render "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (p *Platform) errorPage(w http.ResponseWriter, status int, title, detail string) {
	p.render(w, status, "error", struct{ Title, Detail string }{title, detail})
}

// autoPost answers an HTML page that form-posts v to action.
func (p *Platform) autoPost(w http.ResponseWriter, action string, v url.Values) {
	p.render(w, http.StatusOK, "autopost", autoPostData("post", action, v))
}

func autoPostData(method, action string, v url.Values) any {
	var fields []formField
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, val := range v[k] {
			fields = append(fields, formField{k, val})
		}
	}
	return struct {
		Method string
		Action template.URL
		Fields []formField
	}{method, template.URL(action), fields}
}

func (p *Platform) handleLaunchPage(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	pl := p.hints[r.URL.Query().Get("hint")]
	p.mu.Unlock()
	if pl == nil {
		p.errorPage(w, http.StatusNotFound, "Unknown launch", "no launch registered under this hint")
		return
	}
	if pl.init.Method == http.MethodGet {
		http.Redirect(w, r, pl.init.URL, http.StatusFound)
		return
	}
	p.render(w, http.StatusOK, "autopost", autoPostData("post", pl.init.URL, pl.init.Form))
}

func (p *Platform) handleCoursePage(w http.ResponseWriter, r *http.Request) {
	hint := r.URL.Query().Get("hint")
	p.mu.Lock()
	pl := p.hints[hint]
	p.mu.Unlock()
	if pl == nil {
		p.errorPage(w, http.StatusNotFound, "Unknown launch", "no launch registered under this hint")
		return
	}
	data := struct{ Src, Storage, StorageName string }{Src: "/launch?hint=" + url.QueryEscape(hint), StorageName: StorageFrameName}
	if pl.spec.Storage != StorageNone {
		data.Storage = "/storage?" + url.Values{"client_id": {pl.spec.ClientID}, "mode": {pl.spec.Storage.String()}}.Encode()
	}
	p.render(w, http.StatusOK, "course", data)
}

// ReturnVisit is one visit of the launch_presentation return URL.
type ReturnVisit struct {
	Time  time.Time
	Query url.Values
}

func (p *Platform) handleReturn(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	p.returns = append(p.returns, ReturnVisit{Time: p.now(), Query: q})
	p.mu.Unlock()
	p.render(w, http.StatusOK, "return", q)
}

// Returns lists visits of the return URL (lti_msg, lti_errormsg, ...).
func (p *Platform) Returns() []ReturnVisit {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.returns)
}

// Form is an HTML form found in a page.
type Form struct {
	ID, Method, Action string
	Values             url.Values
}

var (
	reForm  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	reInput = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	reAttr  = regexp.MustCompile(`(?is)([a-z_:][-a-z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range reAttr.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2] + a[3] + a[4])
	}
	return m
}

// ParseForms extracts the forms of an HTML page with their input values,
// resolving actions against base. It understands the simple auto-submit
// pages platforms and tools use, not arbitrary HTML.
func ParseForms(base *url.URL, page []byte) []Form {
	var forms []Form
	for _, fm := range reForm.FindAllSubmatch(page, -1) {
		a := attrs(string(fm[1]))
		f := Form{ID: a["id"], Method: strings.ToUpper(a["method"]), Action: a["action"], Values: url.Values{}}
		if f.Method == "" {
			f.Method = http.MethodGet
		}
		if base != nil {
			if u, err := base.Parse(f.Action); err == nil {
				f.Action = u.String()
			}
		}
		for _, in := range reInput.FindAllSubmatch(fm[2], -1) {
			ia := attrs(string(in[1]))
			if ia["name"] == "" || ia["type"] == "submit" || ia["type"] == "button" {
				continue
			}
			f.Values.Add(ia["name"], ia["value"])
		}
		forms = append(forms, f)
	}
	return forms
}

// Submit sends the form with client.
func (f Form) Submit(ctx context.Context, client *http.Client) (*http.Response, error) {
	var req *http.Request
	var err error
	if f.Method == http.MethodPost {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, f.Action, strings.NewReader(f.Values.Encode()))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		u, perr := url.Parse(f.Action)
		if perr != nil {
			return nil, fmt.Errorf("submit form: %w", perr)
		}
		u.RawQuery = f.Values.Encode()
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	}
	if err != nil {
		return nil, fmt.Errorf("submit form: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("submit form to %s: %w", f.Action, err)
	}
	return resp, nil
}

// LaunchResult is the outcome of Launch.
type LaunchResult struct {
	// Response is the tool's answer to the id_token post (or the last
	// response if the flow stopped earlier); Body is its body.
	Response *http.Response
	Body     []byte
	// IDToken and State are what the platform posted ("" if it did not get
	// that far); AuthError is an error the platform posted back instead.
	IDToken, State, AuthError string
}

// Launch drives a whole launch as a browser without JavaScript would: it
// sends the login initiation with client (which should have a cookie jar),
// follows redirects, submits an auto-posted authentication request to this
// platform if the tool answered with a form, and submits the platform's
// id_token form to the tool. It returns the tool's final answer.
func (p *Platform) Launch(ctx context.Context, client *http.Client, spec LaunchSpec) (*LaunchResult, error) {
	in, err := p.LoginInitiation(spec)
	if err != nil {
		return nil, err
	}
	req, err := in.NewRequest(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("login initiation: %w", err)
	}
	res := &LaunchResult{}
	authURL := p.AuthURL()
	for step := 0; step < 5; step++ {
		body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read response: %w", err)
		}
		res.Response, res.Body = resp, body
		forms := ParseForms(resp.Request.URL, body)
		atPlatform := strings.HasPrefix(resp.Request.URL.String(), authURL)
		var next *Form
		for i := range forms {
			f := forms[i]
			if atPlatform && f.ID == "ltitest_autopost" {
				res.IDToken, res.State, res.AuthError = f.Values.Get("id_token"), f.Values.Get("state"), f.Values.Get("error")
				next = &f
				break
			}
			if !atPlatform && strings.HasPrefix(f.Action, authURL) {
				next = &f
				break
			}
		}
		if next == nil {
			return res, nil
		}
		resp, err = next.Submit(ctx, client)
		if err != nil {
			return nil, err
		}
		if atPlatform {
			body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
			resp.Body.Close()
			if err != nil {
				return nil, fmt.Errorf("read tool launch response: %w", err)
			}
			res.Response, res.Body = resp, body
			return res, nil
		}
	}
	return res, errors.New("ltitest: launch did not reach the tool after 5 steps")
}
