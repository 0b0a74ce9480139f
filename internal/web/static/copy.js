// copy.js: a "Copy" button after every read-only input marked data-copy. Without JavaScript the inputs stay
// selectable, and nothing pretends to work; with it, one click puts the value on the clipboard. The page gives the
// button's words in its language (data-copy-button, data-copied, data-copy-label); English when it does not.
(function () {
  "use strict";
  function copy(input, button) {
    var done = function () {
      button.textContent = input.dataset.copied || "Copied";
      setTimeout(function () { button.textContent = input.dataset.copyButton || "Copy"; }, 2000);
    };
    var fallback = function () {
      input.focus();
      input.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* the value stays selected for Ctrl+C */ }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, fallback);
    } else {
      fallback();
    }
  }
  function init() {
    document.querySelectorAll("input[data-copy]").forEach(function (input) {
      if (input.dataset.copyReady) { return; }
      input.dataset.copyReady = "1";
      input.addEventListener("focus", function () { input.select(); });
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = input.dataset.copyButton || "Copy";
      button.setAttribute("aria-label", input.dataset.copyLabel || "Copy " + (input.dataset.copy || "value"));
      button.addEventListener("click", function () { copy(input, button); });
      input.insertAdjacentElement("afterend", button);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
