// Breather calm mode (quiet hours, after a limit): hide counters that web components draw inside their own shadow
// roots, where the page stylesheet (calm.css) cannot reach. Injected with the page's CSP nonce while calm is in
// force. It only adds a stylesheet to open shadow roots of the components listed below: it changes no attribute,
// no text and no behaviour, so voting, opening comments and sharing keep working.
(() => {
  "use strict";
  // Browsers without constructed stylesheets or custom elements have no shreddit shadow roots to calm.
  if (!window.customElements || !("adoptedStyleSheets" in ShadowRoot.prototype)) return;

  // Component tag -> CSS for the inside of its shadow root.
  // www.reddit.com (shreddit): a post's score and comment count and a comment's score are <faceplate-number>
  // elements inside the shadow roots of <shreddit-post> and of a comment's <shreddit-comment-action-row>.
  const NUMBERS_HIDDEN = "faceplate-number { visibility: hidden !important; }";
  const SHADOW_CSS = {
    "shreddit-post": NUMBERS_HIDDEN,
    "shreddit-comment": NUMBERS_HIDDEN,
    "shreddit-comment-action-row": NUMBERS_HIDDEN,
  };
  const HOSTS = Object.keys(SHADOW_CSS).join(",");
  const sheets = {};
  const observed = new WeakSet();

  function sheetFor(tag) {
    if (!sheets[tag]) {
      sheets[tag] = new CSSStyleSheet();
      sheets[tag].replaceSync(SHADOW_CSS[tag]);
    }
    return sheets[tag];
  }

  const observer = new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType === Node.ELEMENT_NODE) calmTree(node);
      }
    }
  });

  // A component may get (or replace) its shadow root's sheets after it is in the page (when its definition loads,
  // or when it hydrates a server-rendered shadow root), so adopting is idempotent and re-run at those moments.
  function adopt(host) {
    const shadow = host.shadowRoot;
    if (!shadow) return;
    const sheet = sheetFor(host.localName);
    if (!shadow.adoptedStyleSheets.includes(sheet)) {
      shadow.adoptedStyleSheets = [...shadow.adoptedStyleSheets, sheet];
    }
    if (!observed.has(shadow)) {
      observed.add(shadow);
      observer.observe(shadow, { childList: true, subtree: true });
      calmTree(shadow);
    }
  }

  function calmTree(root) {
    if (root.matches && root.matches(HOSTS)) adopt(root);
    for (const host of root.querySelectorAll(HOSTS)) adopt(host);
  }

  observer.observe(document, { childList: true, subtree: true });
  calmTree(document);
  document.addEventListener("DOMContentLoaded", () => calmTree(document));
  window.addEventListener("load", () => calmTree(document));
  for (const tag of Object.keys(SHADOW_CSS)) {
    customElements.whenDefined(tag).then(() => calmTree(document));
  }
})();
