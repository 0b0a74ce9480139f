// ltipub: launches without third-party cookies (LTI client-side postMessage storage). See internal/web/lti_storage.go.
// Every message goes to the platform's origin (never "*"), and every answer is checked against it.
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }

  function randomID() {
    var b = new Uint8Array(12);
    crypto.getRandomValues(b);
    return "ltipub-" + Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }

  // The frame (or window) the platform named for its storage: lti_storage_target is a frame of the window that
  // holds ltipub (window.parent, or window.opener when the platform opened ltipub in a window), "_parent" that
  // window itself.
  function storageWindow(name) {
    var host = window.opener || window.parent;
    if (!host || host === window) { return null; }
    if (!name || name === "_parent") { return host; }
    try { return host.frames[name] || null; } catch (e) { return null; }
  }

  // A channel asks one window questions and waits for the matching answer from the platform's origin only.
  function Channel(target, origin, timeoutMs) {
    this.target = target;
    this.origin = origin;
    this.timeout = timeoutMs;
    this.wrongOrigin = "";
  }

  Channel.prototype.ask = function (message) {
    var self = this;
    return new Promise(function (resolve, reject) {
      var id = randomID();
      message.message_id = id;
      var subject = message.subject;
      var timer = setTimeout(function () {
        window.removeEventListener("message", onMessage);
        if (self.wrongOrigin) {
          reject({ outcome: "origin", detail: self.wrongOrigin });
        } else {
          reject({ outcome: "timeout", detail: subject + " got no answer" });
        }
      }, self.timeout);
      function onMessage(e) {
        var d = e.data;
        if (!d || typeof d !== "object" || d.message_id !== id) { return; }
        if (e.origin !== self.origin) {
          // Never trust it; remember it so the person learns why the platform "did not answer".
          self.wrongOrigin = e.origin;
          return;
        }
        if (d.subject !== subject + ".response") { return; }
        clearTimeout(timer);
        window.removeEventListener("message", onMessage);
        if (d.error) {
          var err = typeof d.error === "object" ? (d.error.code || "") + (d.error.message ? ": " + d.error.message : "") : String(d.error);
          reject({ outcome: "error", detail: err, code: typeof d.error === "object" ? d.error.code : "" });
          return;
        }
        resolve(d);
      }
      window.addEventListener("message", onMessage);
      try {
        self.target.postMessage(message, self.origin);
      } catch (e) {
        clearTimeout(timer);
        window.removeEventListener("message", onMessage);
        reject({ outcome: "error", detail: String(e) });
      }
    });
  };

  // capabilities asks the storage frame what it offers and returns the subjects to use for put_data and
  // get_data (lti.* or org.imsglobal.lti.*) and the frame that handles them.
  function capabilities(ch, name) {
    // Platforms answer lti.* or the older org.imsglobal.lti.* subjects: ask both, take the first answer.
    var asks = [ch.ask({ subject: "lti.capabilities" }), ch.ask({ subject: "org.imsglobal.lti.capabilities" })];
    return new Promise(function (resolve, reject) {
      var failures = [];
      asks.forEach(function (p) {
        p.then(resolve, function (e) {
          failures.push(e);
          if (failures.length === asks.length) {
            // An answer from the wrong origin says more than a timeout.
            reject(failures.filter(function (f) { return f && f.outcome !== "timeout"; })[0] || failures[0]);
          }
        });
      });
    }).then(function (d) {
      var found = {};
      (d.supported_messages || []).forEach(function (m) {
        if (!m || typeof m.subject !== "string") { return; }
        var base = m.subject.replace(/^org\.imsglobal\./, "");
        if (base === "lti.put_data" || base === "lti.get_data") {
          found[base] = { subject: m.subject, frame: m.frame || name };
        }
      });
      if (!found["lti.put_data"] || !found["lti.get_data"]) {
        throw { outcome: "unsupported", detail: "no lti.put_data / lti.get_data" };
      }
      return found;
    });
  }

  function channelFor(ch, cap) {
    var w = storageWindow(cap.frame);
    if (!w) { throw { outcome: "unsupported", detail: "no frame named " + cap.frame }; }
    var c = new Channel(w, ch.origin, ch.timeout);
    c.wrongOrigin = ch.wrongOrigin;
    return c;
  }

  function show(id) { var el = $(id); if (el) { el.hidden = false; } }

  function watchWindowForm() {
    var f = $("window-form");
    if (!f) { return; }
    f.addEventListener("submit", function () { show("window-opened"); });
  }

  // ---- login: cookie, else platform storage, else a new window ----
  function login(el) {
    var d = el.dataset;
    var timeout = parseInt(d.timeout, 10) || 1500;
    function go() { $("auth-form").submit(); }
    function fallback(reason, detail) {
      $("login-progress").hidden = true;
      show("login-fallback");
      show("reason-" + reason);
      if (reason === "origin") { $("reason-origin-value").textContent = detail || "another origin"; }
      if (reason === "error") { $("reason-error-value").textContent = detail || "unknown error"; }
      watchWindowForm();
      var body = new URLSearchParams({ state: d.state, reason: reason, detail: detail || "" });
      fetch("/lti/login/fallback", { method: "POST", body: body, credentials: "same-origin" }).catch(function () {});
    }
    fetch(d.cookieUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .catch(function () { return { cookie: false }; })
      .then(function (res) {
        if (res.cookie) { go(); return; }
        if (!d.target) { fallback("cookies"); return; }
        var w = storageWindow(d.target);
        if (!w) { fallback("unsupported", "no frame named " + d.target); return; }
        var ch = new Channel(w, d.origin, timeout);
        capabilities(ch, d.target).then(function (caps) {
          var put = channelFor(ch, caps["lti.put_data"]);
          var subject = caps["lti.put_data"].subject;
          return put.ask({ subject: subject, key: d.stateKey, value: d.state }).then(function () {
            return put.ask({ subject: subject, key: d.nonceKey, value: d.nonce });
          });
        }).then(go, function (e) {
          fallback(e && e.outcome ? e.outcome : "error", e && e.detail ? e.detail : String(e));
        });
      });
  }

  // ---- launch: read the state back from the platform's storage, then post the finding ----
  function storageLaunch(el) {
    var d = el.dataset;
    var timeout = parseInt(d.timeout, 10) || 1500;
    function finish(outcome, value, detail) {
      $("storage-outcome").value = outcome;
      $("storage-value").value = value || "";
      $("storage-detail").value = detail || "";
      $("storage-form").submit();
    }
    var w = storageWindow(d.target);
    if (!w) { finish("unsupported", "", "no frame named " + d.target); return; }
    var ch = new Channel(w, d.origin, timeout);
    capabilities(ch, d.target).then(function (caps) {
      var get = channelFor(ch, caps["lti.get_data"]);
      return get.ask({ subject: caps["lti.get_data"].subject, key: d.stateKey }).catch(function (e) {
        if (get.wrongOrigin && e.outcome === "timeout") { e = { outcome: "origin", detail: get.wrongOrigin }; }
        throw e;
      });
    }).then(function (res) {
      if (res.value === undefined || res.value === null) { finish("missing"); return; }
      finish("ok", String(res.value));
    }, function (e) {
      var outcome = e && e.outcome ? e.outcome : "error";
      if (outcome === "error" && e.code === "not_found") { outcome = "missing"; }
      finish(outcome, "", e && e.detail ? e.detail : String(e));
    });
  }

  // ---- after the launch: did the session cookie come back in this frame? ----
  function landed(el) {
    fetch("/lti/session/check", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .catch(function () { return { session: false }; })
      .then(function (res) {
        if (res.session) { window.location.replace(el.dataset.to); return; }
        $("landing-progress").hidden = true;
        show("landed-fallback");
        watchWindowForm();
      });
  }

  var el;
  if ((el = $("lti-login"))) { login(el); }
  else if ((el = $("lti-storage-launch"))) { storageLaunch(el); }
  else if ((el = $("lti-landed"))) { landed(el); }
})();
