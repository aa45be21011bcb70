// Breather reveal control: one delegated listener per document, so posts the site inserts later work too.
// A click shows the post and tells the proxy which category was revealed (nothing else). The covered post is inert
// in the markup (no Tab, no Enter, no screen reader) until then; after the reveal, focus moves to the post, since the
// note holding the focused button is hidden and focus would otherwise fall back to the top of the page.
// "Why this was flagged" shows (or hides again) the words that matched: they are not on the cover itself, so that
// nobody reads them without asking to.
(function () {
  "use strict";
  if (window.__breatherReveal) return;
  window.__breatherReveal = true;

  // Only Breather's own notes and covered posts carry these attributes: a site's own breather- class is not ours.
  var NOTE = ".breather-warning[data-breather-category]";
  var COVERED = ".breather-cw[data-breather-categories]";

  function logReveal(category) {
    try {
      fetch("/__breather__/reveal", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Breather": "1" },
        body: JSON.stringify({ category: category }),
        credentials: "same-origin",
        keepalive: true,
      }).catch(function () {});
    } catch (e) {
      /* logging must never get in the way of the reveal */
    }
  }

  // A post that is not focusable itself (a span, a div) gets tabindex=-1: focusable by script, not a Tab stop.
  function focusPost(post) {
    if (post.tabIndex < 0 && !post.hasAttribute("tabindex")) post.setAttribute("tabindex", "-1");
    try {
      post.focus();
    } catch (e) {
      /* focus is a courtesy: the reveal itself has happened */
    }
  }

  // The note names its post (data-breather-for = the post's data-breather-id): the browser does not always keep the
  // note next to it (before a <p> that follows an unclosed <p>, the note is parsed into the previous paragraph). The
  // post after the note with that name comes first, in case the site copied a note and its post; a note without a
  // name (older markup) has only its neighbour.
  function coveredPost(warning) {
    var pair = warning.getAttribute("data-breather-for");
    var next = warning.nextElementSibling;
    var neighbour = next && next.matches(COVERED) ? next : null;
    if (!pair) return neighbour;
    if (neighbour && neighbour.getAttribute("data-breather-id") === pair) return neighbour;
    // the note's own document, or its shadow root if the site moved it into one
    var root = warning.getRootNode ? warning.getRootNode() : document;
    var covered = root.querySelectorAll(COVERED);
    for (var i = 0; i < covered.length; i++) {
      if (covered[i].getAttribute("data-breather-id") === pair) return covered[i];
    }
    return null;
  }

  function toggleWhy(button) {
    var evidence = button.nextElementSibling;
    if (!evidence || !evidence.classList.contains("breather-evidence")) return;
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) evidence.removeAttribute("hidden");
    else evidence.setAttribute("hidden", "");
  }

  document.addEventListener(
    "click",
    function (event) {
      var why = event.target && event.target.closest ? event.target.closest(".breather-why") : null;
      if (why && why.closest(NOTE)) {
        event.preventDefault();
        event.stopPropagation();
        toggleWhy(why);
        return;
      }
      var button = event.target && event.target.closest ? event.target.closest(".breather-reveal") : null;
      if (!button) return;
      var warning = button.closest(NOTE);
      var post = warning ? coveredPost(warning) : null;
      if (!post) return;
      event.preventDefault();
      event.stopPropagation();
      post.removeAttribute("inert");
      post.classList.add("breather-revealed");
      warning.classList.add("breather-revealed");
      focusPost(post);
      logReveal(warning.getAttribute("data-breather-category") || "custom");
    },
    true
  );
})();
