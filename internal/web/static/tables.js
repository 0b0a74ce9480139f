// tables.js: a table wider than its box scrolls inside it (style.css). Where it holds no link or control, a keyboard
// user could not reach it to scroll, so it joins the tab order, named after the heading above it. Without
// JavaScript the table still scrolls (and browsers that focus scrollers let the keyboard in).
(function () {
  "use strict";
  var focusable = "a[href], button, input, select, textarea, [tabindex]";
  function heading(table) {
    for (var el = table.previousElementSibling || table.parentElement; el; el = el.previousElementSibling || el.parentElement) {
      if (/^H[1-6]$/.test(el.tagName)) { return el; }
      if (el.tagName === "MAIN") { return null; }
    }
    return null;
  }
  function update() {
    document.querySelectorAll("table").forEach(function (t) {
      var scrolls = t.scrollWidth > t.clientWidth + 1;
      if (scrolls && !t.hasAttribute("tabindex") && !t.querySelector(focusable)) {
        t.setAttribute("tabindex", "0");
        t.dataset.scrollFocus = "1";
        var h = heading(t);
        if (h && !t.hasAttribute("aria-label") && !t.hasAttribute("aria-labelledby")) {
          if (!h.id) { h.id = "table-heading-" + Math.random().toString(36).slice(2, 8); }
          t.setAttribute("aria-labelledby", h.id);
        }
      } else if (!scrolls && t.dataset.scrollFocus) {
        t.removeAttribute("tabindex");
        delete t.dataset.scrollFocus;
      }
    });
  }
  var pending = false;
  window.addEventListener("resize", function () {
    if (pending) { return; }
    pending = true;
    requestAnimationFrame(function () { pending = false; update(); });
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", update);
  } else {
    update();
  }
})();
