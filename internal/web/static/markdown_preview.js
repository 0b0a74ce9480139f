// markdown_preview.js: the page editor's live preview. Half a second after the teacher stops typing, the
// Markdown is rendered by the server (as students will see it: raw HTML and unsafe links dropped) into the
// preview. Without JavaScript the form's Preview button does the same with a page load.
(function () {
  "use strict";
  function init() {
    document.querySelectorAll("textarea[data-preview]").forEach(function (area) {
      var target = document.getElementById(area.dataset.preview);
      if (!target) { return; }
      var timer = null;
      var seq = 0;
      area.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          var mine = ++seq;
          var body = new URLSearchParams();
          body.set("body", area.value);
          fetch("/markdown/preview", { method: "POST", body: body, credentials: "same-origin" })
            .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
            .then(function (html) { if (mine === seq) { target.innerHTML = html; } })
            .catch(function () { /* the Preview button still works */ });
        }, 500);
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
