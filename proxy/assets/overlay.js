// Breather overlay: heartbeats while the page is visible and in use, the break interstitial, and a reload when the
// site becomes blocked while the page is open.
// It talks only to /__breather__/... on the page's own origin; the proxy answers those itself.
(function () {
  "use strict";
  var script = document.currentScript;
  var config = {};
  try { config = JSON.parse((script && script.getAttribute("data-breather")) || "{}"); } catch (e) { config = {}; }
  var HEARTBEAT_MS = (config.heartbeat_s || 30) * 1000;
  var IDLE_MS = (config.idle_s || 60) * 1000;
  var lastInput = Date.now();
  var breakShown = false;
  // Takes the break screen down while it still asks for a choice (null once "I'm done for now" is pressed): a
  // heartbeat that says no break is due any more (a night asleep, the break taken in the extension) calls it.
  var endBreak = null;
  var reloadTried = false;
  // Set in sessionStorage (this tab) before a reload for a block; the block page, or a heartbeat saying the site is
  // open, clears it.
  var BLOCK_RELOADED = "breather-block-reload";

  // The proxy's answer; a refusal (e.g. a snooze past the rules' limit) comes back as { ok: false, message }.
  function post(path, body) {
    return fetch("/__breather__/" + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Breather": "1" },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (answer) {
        return r.ok ? answer : { ok: false, message: answer.message };
      });
    }).catch(function () { return {}; });
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text) { node.textContent = text; }
    return node;
  }

  // An element the overlay adds to the page itself: overlay.css styles only inside such an element, so a site's own
  // element with a breather- class keeps its own look.
  function overlayRoot(tag, cls, name) {
    var node = el(tag, cls);
    node.setAttribute("data-breather-overlay", name);
    return node;
  }

  var KIND_LABELS = { breathing: "Breathing", grounding: "Grounding", stretch: "Stretch", note: "A note to self" };

  // The proxy picks one short exercise per break (rotated); until it answers, the breathing circle stands in.
  function showExercise(box, exercise) {
    if (!exercise.title || !exercise.steps || !exercise.steps.length) { return; }
    box.textContent = "";
    box.setAttribute("data-breather-exercise", exercise.id || "");
    box.appendChild(el("p", "breather-kind", KIND_LABELS[exercise.kind] || ""));
    box.appendChild(el("h2", "breather-exercise-title", exercise.title));
    if (exercise.kind === "breathing") { box.appendChild(el("div", "breather-circle")); }
    var steps = el("ol", "breather-steps");
    exercise.steps.forEach(function (step) { steps.appendChild(el("li", "", step)); });
    box.appendChild(steps);
  }

  // The feed under the break screen takes no focus or clicks (a Tab would otherwise reach its hidden links).
  // Returns the elements made inert here, to be given back as they were.
  function setPageInert(keep) {
    var benched = [];
    Array.prototype.forEach.call(document.body.children, function (node) {
      if (keep.indexOf(node) < 0 && !node.hasAttribute("inert")) {
        node.setAttribute("inert", "");
        benched.push(node);
      }
    });
    return benched;
  }

  // Focus for a heading or a line of text: reachable by script (and read out), never a Tab stop.
  function focusable(node) {
    node.setAttribute("tabindex", "-1");
    return node;
  }

  // What focus was on before the break screen, given back when a snooze (or a break no longer due) takes the screen
  // away.
  function giveFocusBack(node) {
    if (node && node !== document.body && node.isConnected && typeof node.focus === "function") { node.focus(); }
  }

  // A short note after the break screen has gone ("Next reminder in 5 minutes."): shown, and read out politely by a
  // screen reader, for NOTE_MS, then removed. The region is in the page, empty, from the time the break screen is
  // shown, since a live region that arrives together with its text is often not announced.
  var NOTE_MS = 6000;
  function sayBriefly(region, text) {
    region.textContent = text;
    setTimeout(function () { region.remove(); }, NOTE_MS);
  }

  // Under prefers-reduced-motion the circle stands still (overlay.css), and the note says what to do with a still one.
  function placeholderNote() {
    var note = el("p", "breather-note");
    note.appendChild(el("span", "breather-moving-note", "Breathe in as the circle grows, out as it shrinks."));
    var still = "Rest your eyes on the circle. Breathe in slowly, then out a little longer.";
    note.appendChild(el("span", "breather-still-note", still));
    return note;
  }

  // After a heavy run of warnings (not on a regular break), one line with the person's helpline: its numbers are
  // tel:/sms: links, its page a link. Built from the config's pieces, text as text, so nothing in it is markup.
  function helplineNote(helpline) {
    if (!helpline || !helpline.lead || !helpline.pieces || !helpline.pieces.length) { return null; }
    var note = el("p", "breather-note breather-helpline", helpline.lead + " ");
    helpline.pieces.forEach(function (piece) {
      var text = String(piece[0] || "");
      var href = String(piece[1] || "");
      if (!/^(tel:|sms:|https:\/\/)/.test(href)) { note.appendChild(document.createTextNode(text)); return; }
      var link = el("a", "", text);
      link.setAttribute("href", href);
      if (href.indexOf("https://") === 0) {
        link.setAttribute("target", "_blank");
        link.setAttribute("rel", "noopener noreferrer");
      }
      note.appendChild(link);
    });
    return note;
  }

  // kind is "cadence" or "heavy": the same break, however it reached this page, is logged once.
  // Focus goes to the screen's heading at once (the dialog is named by it), to "I'm done for now" once the pause is
  // over, and to what the screen says after a choice.
  function snoozeLabel(minutes) {
    var given = typeof minutes === "number" && minutes > 0 ? minutes : 5;
    return given === 1 ? "1 more minute" : given + " more minutes";
  }

  // What the screen says as a snooze (this tab's, or another tab's already running) takes it away.
  function reminderNote(seconds) {
    var minutes = Math.max(1, Math.round(seconds / 60));
    return "Next reminder in " + minutes + (minutes === 1 ? " minute." : " minutes.");
  }

  function showBreak(reason, snoozeAllowed, kind, snoozeMinutes) {
    if (breakShown || !document.body) { return; }
    breakShown = true;
    var before = document.activeElement;
    var layer = overlayRoot("div", "breather-break", "break");
    layer.setAttribute("role", "dialog");
    layer.setAttribute("aria-modal", "true");
    layer.setAttribute("aria-labelledby", "breather-break-title");
    layer.id = "breather-break";
    var card = el("div", "breather-card");
    var title = focusable(el("h1", "", "Time for a breather"));
    title.id = "breather-break-title";
    card.appendChild(title);
    card.appendChild(el("p", "breather-reason", reason || "You have been scrolling for a while."));
    var help = kind === "heavy" ? helplineNote(config.helpline) : null;
    if (help) { card.appendChild(help); }
    var exercise = el("div", "breather-exercise");
    exercise.appendChild(el("div", "breather-circle"));
    exercise.appendChild(placeholderNote());
    card.appendChild(exercise);
    var actions = el("div", "breather-actions");
    actions.hidden = true;
    var done = el("button", "breather-button breather-primary breather-done", "I'm done for now");
    var snooze = el("button", "breather-button breather-snooze", snoozeLabel(snoozeMinutes));
    done.type = "button";
    snooze.type = "button";
    actions.appendChild(done);
    if (snoozeAllowed !== false) { actions.appendChild(snooze); }
    card.appendChild(actions);
    var status = focusable(el("p", "breather-status"));
    status.setAttribute("role", "status");
    card.appendChild(status);
    layer.appendChild(card);
    var after = overlayRoot("div", "breather-toast", "toast");
    after.setAttribute("role", "status");
    document.body.appendChild(layer);
    document.body.appendChild(after);
    var benched = setPageInert([layer, after]);
    // The screen goes, the feed is given back as it was, and a short note says why.
    function takeDown(note) {
      if (!layer.isConnected) { return; }
      layer.remove();
      benched.forEach(function (node) { node.removeAttribute("inert"); });
      breakShown = false;
      endBreak = null;
      giveFocusBack(before);
      sayBriefly(after, note);
    }
    endBreak = takeDown;
    title.focus();
    post("break-shown", { reason: kind || "cadence" }).then(function (answer) {
      if (answer && answer.exercise) { showExercise(exercise, answer.exercise); }
    });
    setTimeout(function () {
      if (!layer.isConnected) { return; }
      actions.hidden = false;
      done.focus();
    }, (config.pause_s || 8) * 1000);
    done.addEventListener("click", function () {
      endBreak = null;
      post("break", {}).then(function () {
        after.remove();
        Array.prototype.slice.call(card.children).forEach(function (node) {
          if (node !== title && node !== status && node !== help) { node.remove(); }
        });
        title.textContent = "Well done.";
        status.className = "breather-status";
        status.textContent = "You can close this tab. The site will be here later.";
        status.focus();
      });
    });
    snooze.addEventListener("click", function () {
      post("snooze", {}).then(function (answer) {
        if (answer && answer.ok === false) {
          // Refused (this break's snoozes are used up): the break stays, and says why (in its status line, so that a
          // screen reader hears it too).
          snooze.remove();
          status.classList.add("breather-note", "breather-refused");
          status.textContent = answer.message || "This break can't be snoozed.";
          done.focus();
          return;
        }
        if (answer && answer.break_due === false) {
          // Nothing was snoozed: the break was over already (a pause long enough to count, taken elsewhere).
          takeDown("No break is due now.");
          return;
        }
        takeDown(reminderNote(answer && answer.snoozed_for_s ? answer.snoozed_for_s : 300));
      });
    });
  }

  function stored(action) {
    try { return action(window.sessionStorage); } catch (e) { return null; }
  }

  // The site became blocked while this page was open (a limit reached, quiet hours begun): a reload lets the proxy
  // answer the page load with Breather's page. Once per page load, and not again in this tab while the site still
  // shows after such a reload (a page from a cache or a service worker would otherwise reload for ever).
  function reloadForBlock() {
    if (reloadTried) { return false; }
    reloadTried = true;
    if (stored(function (s) { return s.getItem(BLOCK_RELOADED); }) !== null) { return false; }
    if (stored(function (s) { s.setItem(BLOCK_RELOADED, String(Date.now())); return true; }) !== true) { return false; }
    location.reload();
    return true;
  }

  // A video or song playing in this page that can be heard is use, though no key is pressed: an hour of YouTube
  // watched without touching anything counted one minute, and the limit never came. A muted one is not: a "GIF"
  // post loops muted in a feed left open while nobody is there. The extension counts the same way (an audible tab).
  function mediaHeard() {
    var media = document.querySelectorAll("video, audio");
    for (var i = 0; i < media.length; i += 1) {
      var item = media[i];
      if (!item.paused && !item.ended && item.readyState > 2 && !item.muted && item.volume > 0) { return true; }
    }
    return false;
  }

  // In front means visible and in the focused window: two windows side by side are both "visible", and a user test
  // saw the one left behind keep counting for a minute while the person scrolled the other. Media heard from the
  // other window is still watched.
  function inFront() {
    return document.visibilityState === "visible" && (document.hasFocus() || mediaHeard());
  }

  // Out of sight or idle, the overlay still says it is here, in a heartbeat that counts no time: the proxy counts
  // a site's own traffic as use only while no overlay on it speaks (proxy/traffic_time.py), and a background tab's
  // polling must not count.
  function heartbeat() {
    // "Well done." (a break taken here, the screen kept until the tab goes) is no use of the site: counted, moving the
    // mouse over it would read as scrolling again before the pause is over, and bring the break back.
    var tookBreakHere = breakShown && !endBreak;
    var inUse = !tookBreakHere && inFront() && (Date.now() - lastInput <= IDLE_MS || mediaHeard());
    if (!inUse) {
      heartbeatNotInUse();
      return;
    }
    post("heartbeat", { visible: true, active: true }).then(function (answer) {
      if (!answer || reloadIfBlocked(answer)) { return; }
      if (answer.break_due) {
        showBreak(answer.reason, answer.snooze_allowed, answer.kind, answer.snooze_minutes);
      } else if (answer.break_due === false && answer.blocked !== true && endBreak) {
        endBreak(answer.snoozed_for_s ? reminderNote(answer.snoozed_for_s) : "Your time away counted as a break.");
      }
    });
  }

  // A tab left open but not in use is reloaded too when the site becomes blocked: whoever comes back to it meets
  // Breather's page, not the feed until their first counted heartbeat.
  function heartbeatNotInUse() {
    post("heartbeat", { visible: document.visibilityState === "visible", active: false }).then(reloadIfBlocked);
  }

  // Whether the answer says a page load of this site would now get Breather's page, and the reload to it began.
  function reloadIfBlocked(answer) {
    if (!answer) { return false; }
    if (answer.blocked === false) { stored(function (s) { s.removeItem(BLOCK_RELOADED); }); }
    return answer.blocked === true && reloadForBlock();
  }

  // A page the Back or Forward button brings back from the browser's caches never reached the proxy: it asks at once
  // instead of showing the feed until the next heartbeat (up to 30 seconds past a limit or into quiet hours).
  function cameBackByHistory() {
    try {
      var entry = window.performance.getEntriesByType("navigation")[0];
      return Boolean(entry) && entry.type === "back_forward";
    } catch (e) { return false; }
  }
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { heartbeatNotInUse(); }
  });
  // A background tab's timers run at most once a minute: chosen again after the limit ran out in another tab, it
  // asks as it comes into view rather than show the feed until its next heartbeat.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { heartbeatNotInUse(); }
  });

  ["pointermove", "keydown", "scroll", "touchstart", "wheel"].forEach(function (name) {
    window.addEventListener(name, function () { lastInput = Date.now(); }, { passive: true, capture: true });
  });
  setInterval(heartbeat, HEARTBEAT_MS);

  function start() {
    document.documentElement.setAttribute("data-breather", "on");
    if (cameBackByHistory()) { heartbeatNotInUse(); }
    if (config.break_due) {
      showBreak(config.reason, config.snooze_allowed, config.break_kind, config.snooze_minutes);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
