package ltitest

import (
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// StorageMode switches the platform storage frame of a course page (LTI client-side postMessage storage).
type StorageMode int

// Platform storage modes.
const (
	// StorageNone: no storage frame, no lti_storage_target (the default).
	StorageNone StorageMode = iota
	// StorageOn: a storage frame that answers lti.capabilities, lti.put_data and lti.get_data, to the tool's
	// origin only.
	StorageOn
	// StorageWrongOrigin: the frame's answers reach the tool from another origin (a sandboxed frame, origin
	// "null") instead of the platform's.
	StorageWrongOrigin
	// StorageWrongValue: lti.get_data answers a value other than the one stored.
	StorageWrongValue
	// StorageSilent: the frame never answers (the tool must time out).
	StorageSilent
)

// StorageFrameName is the name of the course page's storage frame, sent as lti_storage_target.
const StorageFrameName = "ltitest_storage"

var storageModeNames = map[StorageMode]string{StorageNone: "none", StorageOn: "on", StorageWrongOrigin: "wrong_origin",
	StorageWrongValue: "wrong_value", StorageSilent: "silent"}

func (m StorageMode) String() string { return storageModeNames[m] }

// StorageMessage is one message the storage frame received.
type StorageMessage struct {
	Time    time.Time
	Origin  string // event.origin
	Subject string
	Key     string
	// Answered is false for messages ignored (wrong origin, silent mode).
	Answered bool
}

// StorageMessages lists the messages the storage frames received so far.
func (p *Platform) StorageMessages() []StorageMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.storageMessages)
}

var storagePage = template.Must(template.New("storage").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>ltitest storage</title></head>
<body>
<script>
(function () {
  var toolOrigin = {{.ToolOrigin}};
  var mode = {{.Mode}};
  var store = {};
  var impostor = null;
  if (mode === "wrong_origin") {
    // Replies go out through a sandboxed frame: they reach the tool with origin "null".
    impostor = document.createElement("iframe");
    impostor.setAttribute("sandbox", "allow-scripts");
    impostor.srcdoc = "<script>window.addEventListener('message', function (e) {" +
      " parent.parent.frames['ltitool'].postMessage(e.data, '*'); });<\/script>";
    document.body.appendChild(impostor);
  }
  function log(origin, d, answered) {
    fetch("/storage/log", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({origin: origin, subject: String(d.subject), key: d.key ? String(d.key) : "", answered: answered})});
  }
  window.addEventListener("message", function (e) {
    var d = e.data;
    if (!d || typeof d !== "object" || typeof d.subject !== "string") { return; }
    if (e.origin !== toolOrigin || mode === "silent") { log(e.origin, d, false); return; }
    var base = d.subject.replace(/^org\.imsglobal\./, "");
    var reply = {message_id: d.message_id, subject: d.subject + ".response"};
    if (base === "lti.capabilities") {
      reply.supported_messages = [{subject: "lti.capabilities"}, {subject: "lti.put_data"}, {subject: "lti.get_data"}];
    } else if (base === "lti.put_data") {
      store[d.key] = d.value;
      reply.key = d.key;
      reply.value = d.value;
    } else if (base === "lti.get_data") {
      if (!Object.prototype.hasOwnProperty.call(store, d.key)) {
        reply.error = {code: "not_found", message: "nothing stored under " + d.key};
      } else {
        reply.key = d.key;
        reply.value = mode === "wrong_value" ? store[d.key] + "-not-the-stored-value" : store[d.key];
      }
    } else {
      reply.error = {code: "unsupported_subject", message: "unsupported subject " + d.subject};
    }
    log(e.origin, d, true);
    if (impostor) { impostor.contentWindow.postMessage(reply, "*"); return; }
    e.source.postMessage(reply, toolOrigin);
  });
})();
</script>
</body></html>`))

// handleStorageFrame serves the storage frame: ?client_id= names the tool whose origin it answers, ?mode= the
// StorageMode.
func (p *Platform) handleStorageFrame(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	tool, ok := p.Tool(q.Get("client_id"))
	if !ok {
		p.errorPage(w, http.StatusNotFound, "Unknown tool", "no tool registered with this client_id")
		return
	}
	u, err := url.Parse(tool.LoginURL)
	if err != nil || u.Host == "" {
		p.errorPage(w, http.StatusBadRequest, "Bad tool login URL", tool.LoginURL)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = storagePage.Execute(w, struct{ ToolOrigin, Mode string }{u.Scheme + "://" + u.Host, q.Get("mode")})
}

func (p *Platform) handleStorageLog(w http.ResponseWriter, r *http.Request) {
	var m struct {
		Origin, Subject, Key string
		Answered             bool
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.storageMessages = append(p.storageMessages, StorageMessage{Time: p.now(), Origin: m.Origin, Subject: m.Subject, Key: m.Key, Answered: m.Answered})
	p.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
