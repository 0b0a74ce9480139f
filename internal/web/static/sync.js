// sync.js: the Sync page follows running syncs without a reload. It polls /admin/sync/status.json (every 2 s
// while a sync runs, every 10 s otherwise) and redraws the run tables, the last-run lines and the held
// unenrolments. Without JavaScript the page is the same, as of its loading.
(function () {
  "use strict";
  var grades = ["sent", "unchanged"];
  var members = ["created", "enrolled", "unenrolled", "updated", "skipped", "held"];
  // The page's words, in its language (the server writes them on #sync-words).
  var el = document.getElementById("sync-words");
  var words = el ? el.dataset : {};
  function say(key, english) { return words[key] || english; }
  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) { td.className = cls; }
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  function pre(td, text, cls) {
    if (!text) { return; }
    var p = document.createElement("pre");
    if (cls) { p.className = cls; }
    p.textContent = text;
    td.appendChild(p);
  }
  function drawRuns(kind, runs) {
    var body = document.getElementById("runs-" + kind);
    if (!body) { return; }
    var rows = document.createDocumentFragment();
    runs.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.dataset.run = r.id;
      cell(tr, r.started);
      cell(tr, (r.cause_text || r.cause) + (r.resource_id ? " (" + say("resource", "resource") + " " + r.resource_id + ")" : ""));
      cell(tr, r.status_text || r.status, "status-" + r.status);
      cell(tr, r.duration);
      cell(tr, r.links);
      (kind === "grades" ? grades : members).forEach(function (f) { cell(tr, r[f]); });
      cell(tr, r.failed);
      var td = cell(tr, "", "errors");
      pre(td, r.note, "note");
      pre(td, r.error);
      rows.appendChild(tr);
    });
    body.replaceChildren(rows);
    body.closest("table").hidden = runs.length === 0;
    var last = document.getElementById("last-" + kind);
    if (last && runs.length > 0) {
      var r = runs[0];
      last.replaceChildren(document.createTextNode(say("lastRun", "Last run: ")));
      var s = document.createElement("strong");
      s.className = "status-" + r.status;
      s.textContent = r.status_text || r.status;
      last.appendChild(s);
      last.appendChild(document.createTextNode(", " + (r.cause_text || r.cause) + ", " + say("started", "started") + " " + r.started +
        ", " + (r.status === "running" ? say("runningFor", "running for") : say("took", "took")) + " " + r.duration + "."));
    }
  }
  function drawHolds(holds) {
    var section = document.getElementById("holds");
    var list = document.getElementById("hold-list");
    if (!section || !list) { return; }
    var known = {};
    list.querySelectorAll("li[data-link]").forEach(function (li) { known[li.dataset.link] = li; });
    var keep = {};
    holds.forEach(function (h) {
      keep[h.link_id] = true;
      if (known[h.link_id]) { return; }
      // A new hold: build its entry like the server's, with the Confirm form (the page's session carries it).
      var li = document.createElement("li");
      li.className = "hold";
      li.dataset.link = h.link_id;
      var b = document.createElement("strong");
      b.textContent = h.resource_name;
      li.appendChild(b);
      li.appendChild(document.createTextNode(" " + say("holdLine", "in {link}: {would} of {members} members would be unenrolled.")
        .replace("{link}", h.link_title).replace("{would}", h.would_unenrol).replace("{members}", h.members)));
      var p = document.createElement("p");
      p.className = "reason";
      p.textContent = h.reason;
      li.appendChild(p);
      var f = document.createElement("form");
      f.method = "post";
      f.action = "/admin/sync/members/confirm";
      f.className = "inline";
      var i = document.createElement("input");
      i.type = "hidden";
      i.name = "link_id";
      i.value = h.link_id;
      f.appendChild(i);
      var btn = document.createElement("button");
      btn.type = "submit";
      btn.id = "confirm-" + h.link_id;
      btn.textContent = say("confirm", "Confirm and unenrol");
      f.appendChild(btn);
      li.appendChild(f);
      list.appendChild(li);
    });
    Object.keys(known).forEach(function (id) { if (!keep[id]) { known[id].remove(); } });
    section.hidden = holds.length === 0;
  }
  function poll() {
    fetch("/admin/sync/status.json", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (res) { return res.ok ? res.json() : Promise.reject(res.status); })
      .then(function (st) {
        Object.keys(st.runs).forEach(function (kind) { drawRuns(kind, st.runs[kind]); });
        drawHolds(st.holds);
        setTimeout(poll, st.running ? 2000 : 10000);
      }, function () { setTimeout(poll, 15000); });
  }
  if (document.getElementById("runs-grades") || document.getElementById("runs-members")) {
    setTimeout(poll, 1000);
  }
})();
