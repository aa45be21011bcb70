// Breather reveal logging: the stylesheet does the revealing; this only tells the proxy a post was revealed
// (the category, nothing else). One delegated listener, so posts the site inserts later are covered too.
(function () {
  "use strict";
  if (window.__breatherReveal) return;
  window.__breatherReveal = true;

  function logReveal(category) {
    try {
      fetch("/__breather__/reveal", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ category: category }),
        credentials: "same-origin",
        keepalive: true,
      }).catch(function () {});
    } catch (e) {
      /* logging must never get in the way of the reveal */
    }
  }

  document.addEventListener(
    "change",
    function (event) {
      var toggle = event.target;
      if (!toggle || !toggle.classList || !toggle.classList.contains("breather-reveal-toggle") || !toggle.checked) {
        return;
      }
      var warning = toggle.closest(".breather-warning");
      if (!warning || warning.getAttribute("data-breather-logged")) return;
      warning.setAttribute("data-breather-logged", "1");
      logReveal(warning.getAttribute("data-breather-category") || "custom");
    },
    true
  );
})();
