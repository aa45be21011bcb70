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

function routingText(routing, status) {
  if (!routing.active) {
    return { routing: `Social sites do not go through Breather: ${routing.reason}.`, routingOk: false };
  }
  if (status.through_proxy === false) {
    return { routing: "Routing is on, but Breather has not seen your social traffic yet.", routingOk: false };
  }
  return { routing: "Social sites go through Breather; everything else goes direct.", routingOk: true };
}

function caText(caTrusted) {
  if (caTrusted === true) {
    return { ca: "This browser trusts Breather's certificate.", caOk: true };
  }
  if (caTrusted === false) {
    return {
      ca: "Secure social sites could not be opened through Breather: trust its certificate (run “breather ca” to see how).",
      caOk: false,
    };
  }
  return { ca: "", caOk: false };
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
    ...caText(state.caTrusted),
  };
}
