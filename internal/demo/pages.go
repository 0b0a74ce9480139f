package demo

import (
	"encoding/json"
	"net/http"
	"net/url"
)

// urlValues is a query of single values.
type urlValues map[string]string

func (v urlValues) encode() string {
	q := url.Values{}
	for k, s := range v {
		if s != "" {
			q.Set(k, s)
		}
	}
	return q.Encode()
}

func writeJSONObject(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// The frame's sandbox is what LMSs such as Moodle and Canvas allow a tool.
const pageTemplates = `
{{define "style"}}<style>
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: #1d2733; background: #eef1f5; }
header { background: #22405e; color: #fff; padding: .6rem 1.2rem; display: flex; gap: 1.5rem; align-items: baseline; }
header strong { font-size: 1.15rem; }
header a { color: #cfe2f7; }
main { display: grid; grid-template-columns: 300px 1fr; gap: 1rem; padding: 1rem; }
section, aside { background: #fff; border: 1px solid #d5dbe3; border-radius: 6px; padding: .8rem 1rem; }
h1 { font-size: 1.3rem; margin: 0 0 .3rem; } h2 { font-size: 1.05rem; margin: .2rem 0 .5rem; }
ul.acts { list-style: none; padding: 0; margin: 0; }
ul.acts li { border-top: 1px solid #e4e8ee; padding: .45rem 0; }
.kind { font-size: .75rem; text-transform: uppercase; color: #6b7785; }
.btn { display: inline-block; font-size: .8rem; padding: .1rem .45rem; margin: .15rem .15rem 0 0; border: 1px solid #9fb3c8;
  border-radius: 4px; text-decoration: none; color: #22405e; background: #f5f8fb; }
.btn.primary { background: #22405e; color: #fff; border-color: #22405e; }
iframe#ltitool { width: 100%; height: 640px; border: 1px solid #d5dbe3; border-radius: 6px; background: #fff; }
.below { grid-column: 1 / -1; display: grid; grid-template-columns: 1fr 1fr 1fr; gap: 1rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; } th, td { text-align: left; padding: .25rem .4rem; border-bottom: 1px solid #e4e8ee; }
.muted { color: #6b7785; font-size: .85rem; } .msg { background: #fff8d6; padding: .4rem .6rem; border-radius: 4px; }
form.inline { display: flex; gap: .4rem; margin: .4rem 0; } input[type=text] { flex: 1; padding: .2rem .4rem; }
</style>{{end}}

{{define "course"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Demo LMS: {{.Course.FullName}}</title>{{template "style"}}</head>
<body>
<header><strong>Demo LMS</strong><span>{{.Course.ShortName}} · {{.Course.FullName}}</span>
  <a href="#gradebook">Gradebook</a><a href="#roster">Roster</a><a href="#break">Break things</a>
  <a href="{{.Tool}}/login" target="_blank" id="admin-link">ltipub admin ↗</a></header>
<main>
<aside>
  <h1>Course</h1>
  <form method="get" action="/" id="as-form"><label class="muted" for="as">Learner launches are as</label>
  <select id="as" name="as" onchange="this.form.submit()">{{range .Learners}}<option value="{{.UserID}}"{{if eq .UserID $.As}} selected{{end}}>{{.Name}}</option>{{end}}</select></form>
  <div id="activities">{{template "activities" .}}</div>
  <p><a class="btn primary" id="select-content" target="ltitool" href="{{launch "as" .Teacher "kind" "select"}}">+ Add an activity from ltipub</a></p>
  <p class="muted">Content selection (LTI Deep Linking) as the teacher: tick an activity and <em>Add to gradebook</em>;
    it appears above, with its own gradebook column.</p>
</aside>
<section>
  <iframe id="ltitool" name="ltitool" title="ltipub" allow="fullscreen; clipboard-write"
    sandbox="allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation allow-downloads allow-modals"
    srcdoc="&lt;p style='font:15px system-ui;color:#6b7785;padding:1rem'&gt;Launch an activity on the left: ltipub opens here, inside the LMS page, as it would in Moodle or Canvas.&lt;/p&gt;"></iframe>
</section>
<div class="below">
<section id="gradebook-panel"><h2 id="gradebook">Gradebook</h2>
  <div id="gradebook-table">{{template "gradebook" .}}</div>
  <p class="muted">ltipub sends each grade within seconds (Assignment and Grade Services); this table refreshes itself.</p>
</section>
<section id="roster-panel"><h2 id="roster">Roster</h2>
  <table><tr><th>Name</th><th>Role</th><th>User ID</th></tr>
  {{range .Members}}<tr><td>{{.Name}}</td><td>{{if eq .UserID $.Teacher}}Instructor{{else}}Learner{{end}}</td><td><code>{{.UserID}}</code></td></tr>{{end}}</table>
  <form class="inline" method="post" action="/demo/roster"><input type="text" name="name" id="learner-name" placeholder="New learner's name" required>
    <button type="submit" id="add-learner">Add to roster</button></form>
  <form method="post" action="/demo/member-sync"><button type="submit" id="member-sync">Run ltipub's member sync</button></form>
  {{with .SyncMsg}}<p class="msg" id="sync-msg">{{.}}</p>{{end}}
  <p class="muted">Member sync (Names and Role Provisioning Services) creates and enrols the roster's accounts in ltipub;
    see the runs at <a href="{{.Tool}}/admin/sync" target="_blank">ltipub's Sync page</a>.</p>
</section>
<section id="break-panel"><h2 id="break">Break things on purpose</h2>
  <ul>
  <li><a id="break-deployment" target="ltitool" href="{{launch "link" .Quiz "as" .As "break" "deployment"}}">Launch with a deployment ltipub does not know</a></li>
  <li><a id="break-expired" target="ltitool" href="{{launch "link" .Quiz "as" .As "break" "expired"}}">Launch with an expired id_token</a></li>
  {{with .CookiesURL}}<li><a id="break-cookies" target="_blank" href="{{.}}">Launch where the browser blocks third-party cookies</a>
    <span class="muted">(a second demo LMS on the other loopback name: another site than ltipub)</span></li>{{end}}
  </ul>
  <p class="muted">ltipub explains each refusal in the frame, and records it in its
    <a href="{{.Tool}}/admin/launches" target="_blank" id="launch-log-link">launch log</a>.</p>
  <h2>ltipub's admin side</h2>
  <p class="muted"><a href="{{.Tool}}/login" target="_blank">Sign in</a> as <code>admin</code> with the password the
    demo printed in your terminal. A launch signs this browser in to ltipub as the launching person, so sign in again
    after one.</p>
  <p class="muted">At start the demo registered ltipub in this LMS by LTI Dynamic Registration, as you would paste a
    registration URL into Moodle: ltipub's <a href="{{.Tool}}/admin/platforms" target="_blank">Platforms</a> page shows
    the result.</p>
</section>
</div>
</main>
<script>
(function () {
  var last = {};
  function refresh() {
    fetch("/demo/panels?as=" + encodeURIComponent(document.getElementById("as").value), {cache: "no-store"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) { return; }
        [["activities", "activities"], ["gradebook", "gradebook-table"]].forEach(function (k) {
          if (p[k[0]] !== last[k[0]]) {
            if (last[k[0]] !== undefined) { document.getElementById(k[1]).innerHTML = p[k[0]]; }
            last[k[0]] = p[k[0]];
          }
        });
      })
      .catch(function () {})
      .finally(function () { setTimeout(refresh, 1500); });
  }
  refresh();
})();
</script>
</body></html>{{end}}

{{define "activities"}}<ul class="acts">{{range .Links}}
<li data-link="{{.ID}}"><span class="kind">{{.Kind}}</span><br><strong>{{.Title}}</strong><br>
  <a class="btn primary" id="launch-{{.ID}}" target="ltitool" href="{{launch "link" .ID "as" $.As}}">Open</a>
  <a class="btn" id="window-{{.ID}}" target="_blank" href="{{launch "link" .ID "as" $.As "target" "window"}}">New window</a>
  <a class="btn" id="teach-{{.ID}}" target="ltitool" href="{{launch "link" .ID "as" $.Teacher}}">As teacher</a></li>
{{end}}</ul>{{end}}

{{define "gradebook"}}<table id="grades"><tr><th>Learner</th>{{range .Columns}}<th>{{.Label}}</th>{{end}}</tr>
{{range .Rows}}{{$m := .Member}}<tr><td>{{$m.Name}}</td>{{range $i, $c := .Cells}}<td data-user="{{$m.UserID}}" data-col="{{$i}}" title="{{$c.Progress}}">{{$c.Text}}</td>{{end}}</tr>
{{end}}</table>{{end}}

{{define "cookies"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Demo LMS on another site</title>{{template "style"}}</head>
<body>
<header><strong>Demo LMS</strong><span>the same course, on another site than ltipub</span><a href="{{.Home}}">back to the course</a></header>
<main style="grid-template-columns: 1fr">
<section><p>This page belongs to a second demo LMS, on the other loopback name, registered in ltipub like the first.
  Here ltipub ({{.Tool}}) is another site, as it is in a real LMS, so the browser treats ltipub's cookies in the frame
  below as third-party cookies and, on plain http, blocks them: watch ltipub explain what happened and offer a new
  window. Its launch log lists the refusal (<code>frame_cookies_blocked</code>).</p>
<iframe id="ltitool" name="ltitool" title="ltipub" src="{{.Src}}" allow="fullscreen; clipboard-write"
  sandbox="allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation allow-downloads allow-modals"></iframe>
</section></main></body></html>{{end}}
`
