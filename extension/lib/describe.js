// Plain-language lines for the popup, from the popup state. Pure, so the wording is tested without a browser.

/** Rounds half to even, like Python's round(), so the popup shows the same whole minutes as the dashboard. */
export function roundLikeDashboard(value) {
  const floor = Math.floor(value);
  const rest = value - floor;
  if (rest !== 0.5) {
    return Math.round(value);
  }
  return floor % 2 === 0 ? floor : floor + 1;
}

function minutesText(seconds) {
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

// Chrome's proxy settings that its PAC-based routing cannot pass the other sites on to.
const UNCHAINED = {
  system: "even where your system's proxy settings name a proxy",
  pac_script: "not through your own proxy script",
  auto_detect: "not through the proxy Chrome finds by itself",
  fixed_servers: "not through the proxy you set",
};

/** Where the sites other than the social ones go while routing is on (`routing.others`, Chrome only). */
export function othersText(others) {
  if (others?.via === "proxy") {
    return `everything else goes through your own proxy (${others.proxy}), as before`;
  }
  if (others?.via === "direct") {
    const what = UNCHAINED[others.mode] ?? "not as your proxy settings say";
    return `everything else goes direct while routing is on, ${what} (Chrome cannot combine the two)`;
  }
  return "everything else goes direct";
}

function routingText(routing, status) {
  if (!routing.active) {
    return { routing: `Social sites do not go through Breather: ${routing.reason}.`, routingOk: false };
  }
  const others = routing.others ? ` Meanwhile ${othersText(routing.others)}.` : "";
  if (status.through_proxy === false) {
    return { routing: `Routing is on, but Breather has not seen your social traffic yet.${others}`, routingOk: false };
  }
  return { routing: `Social sites go through Breather; ${othersText(routing.others)}.`, routingOk: true };
}

function caText(caTrusted, tried = []) {
  if (caTrusted === true) {
    return { ca: "This browser trusts Breather's certificate.", caOk: true };
  }
  if (caTrusted === false) {
    // None answered: an untrusted certificate and unreachable sites look the same from here, so do not blame either.
    const sites = tried.length ? ` (tried ${tried.join(", ")})` : "";
    return {
      ca:
        `Breather could not open a secure social site${sites}. Either this browser does not trust Breather's ` +
        "certificate (run “breather ca” to see how to trust it), or those sites cannot be reached right now.",
      caOk: false,
    };
  }
  return { ca: "", caOk: false };
}

/** Firefox: the social sites that wait for the person's OK before Firefox lets the extension route them. */
export function permissionText(routing) {
  const missing = routing?.missing ?? [];
  if (!routing?.enabled || missing.length === 0) {
    return "";
  }
  const count = missing.length === 1 ? "1 site needs" : `${missing.length} sites need`;
  const others = routing.active ? " The other social sites go through Breather." : "";
  return `${count} Firefox's OK before going through Breather: ${missing.join(", ")}. Until then they go direct, without your limits.${others}`;
}

/** The private-window (Firefox) / incognito (Chrome) line: said only when the extension is not allowed there. */
export function privateWindowsText(notes) {
  if (!notes || notes.privateAllowed !== false) {
    return "";
  }
  if (notes.browser === "firefox") {
    return (
      "Private windows skip Breather: Firefox does not run the extension there, so social sites in a private window " +
      "go direct, without your limits. To include them: open about:addons → Breather → “Run in Private Windows” → Allow."
    );
  }
  return (
    "Incognito windows skip Breather: Chrome does not apply the extension's routing or run it there, so social sites " +
    "in an incognito window go direct, without your limits. To include them: chrome://extensions → Breather → " +
    "Details → “Allow in Incognito”."
  );
}

/** Firefox removes a temporary add-on (about:debugging) when it closes, and routing silently stops with it. */
export function temporaryInstallText(notes) {
  if (!notes || notes.browser !== "firefox" || notes.installType !== "development") {
    return "";
  }
  return (
    "Breather is installed as a temporary add-on: Firefox removes it when it closes, and social sites then go direct " +
    "without a word. For a lasting install see “Install” in the extension's guide (docs/extension.md)."
  );
}

/**
 * The line for an extension older than the one its service ships (`update` from the popup state), and whether the
 * popup offers its "Reload Breather" button (Chrome's unpacked extension: runtime.reload() reads the new code).
 */
export function updateText(update) {
  if (!update) {
    return { update: "", reloadButton: false };
  }
  const how = {
    button: "reload this extension (chrome://extensions → ⟳ Breather)",
    "about:debugging": "reload this extension (about:debugging → This Firefox → Breather → Reload)",
    install: "install its new version in this browser (see “Install” in docs/extension.md)",
  }[update.how];
  return {
    update: `Breather was updated: ${how} so it runs the new version (${update.expected}; this browser runs ${update.running}).`,
    reloadButton: update.how === "button",
  };
}

/** The popup's line when Breather answered, but with an error (a running service, unlike "not running"). */
export function errorText(problem) {
  const reason = String(problem || "no reason given").replace(/\.$/, "");
  return `Breather answered with an error: ${reason}.`;
}

/** Where the Breather button is: both browsers first put it in the Extensions (puzzle piece) menu. */
export function toolbarText(browser) {
  if (browser === "firefox") {
    return (
      "Breather's button is in Firefox's Extensions menu (the puzzle piece in the toolbar). To keep it in sight: " +
      "puzzle piece → the gear next to Breather → “Pin to Toolbar”."
    );
  }
  return (
    "Breather's button is in Chrome's Extensions menu (the puzzle piece in the toolbar). To keep it in sight: " +
    "puzzle piece → the pin next to Breather."
  );
}

// While the sites are closed there is no next break to count down to; the decision line says why they are closed.
const CLOSED_KINDS = new Set(["limit_reached", "quiet_hours"]);

function nextBreakText(status) {
  if (typeof status.next_break_in_s === "number") {
    return status.next_break_in_s <= 0 ? "A break is due now." : `Next break in ${minutesText(status.next_break_in_s)}.`;
  }
  if (status.quiet_hours || CLOSED_KINDS.has(status.decision?.kind)) {
    return "";
  }
  return "No break reminders are set.";
}

export function describeStatus(state) {
  const status = state.status;
  const minutes = roundLikeDashboard(status.minutes_today ?? 0);
  const limited = typeof status.limit_minutes === "number";
  const nextBreak = nextBreakText(status);
  let decision = status.decision?.message || status.decision?.reason || "";
  if (status.quiet_hours) {
    decision = "Quiet hours: social sites are paused.";
  }
  return {
    minutes,
    limit: limited ? ` of ${status.limit_minutes}` : " (no daily limit)",
    limitFraction: limited && status.limit_minutes > 0 ? Math.min(1, minutes / status.limit_minutes) : null,
    nextBreak,
    decision,
    ...routingText(state.routing, status),
    ...caText(state.caTrusted, state.caTried),
    permission: permissionText(state.routing),
    privateWindows: privateWindowsText(state.notes),
    temporary: temporaryInstallText(state.notes),
  };
}
