import { detectRaw } from "../lib/browser.js";
import { send } from "../lib/messages.js";
import { describeStatus, errorText, updateText } from "../lib/describe.js";

const raw = detectRaw();
const $ = (id) => document.getElementById(id);
// The last state shown: the routing switch and the "Allow in Firefox" button ask Firefox for its missing origins
// straight from the click (Firefox only shows the permission prompt for a user action, so nothing is awaited first).
let shown = null;

function show(view) {
  $("loading").hidden = true;
  for (const name of ["welcome", "pair", "down", "error", "status"]) {
    $(`view-${name}`).hidden = name !== view;
  }
}

function renderStatus(state) {
  const text = describeStatus(state);
  $("minutes").textContent = String(text.minutes);
  $("limit").textContent = text.limit;
  if (text.limitFraction !== null) {
    $("limit-bar").hidden = false;
    $("limit-bar").value = text.limitFraction;
  }
  $("next-break").textContent = text.nextBreak;
  $("next-break").hidden = text.nextBreak === "";
  $("decision").textContent = text.decision;
  $("routing").textContent = text.routing;
  $("routing").className = text.routingOk ? "breather-ok" : "breather-problem";
  $("ca").textContent = text.ca;
  $("ca").className = text.caOk ? "breather-ok" : "breather-problem";
  $("ca").hidden = text.ca === "";
  $("routing-switch").checked = state.routing.enabled;
  $("permission").textContent = text.permission;
  $("permission-step").hidden = text.permission === "";
  for (const id of ["private-windows", "temporary"]) {
    const line = id === "temporary" ? text.temporary : text.privateWindows;
    $(id).textContent = line;
    $(id).hidden = line === "";
  }
}

/** An extension older than its service's: the line, and the button where the browser can reload it from here. */
function renderUpdate(update) {
  const text = updateText(update);
  $("update").textContent = text.update;
  $("update-step").hidden = text.update === "";
  $("reload-extension").hidden = !text.reloadButton;
}

async function refresh() {
  const state = await send(raw, "popup-state");
  shown = state;
  if (!state.ok) {
    show("down");
    $("down-url").textContent = state.error;
    return;
  }
  $("dashboard").href = state.dashboardUrl;
  show(state.view);
  renderUpdate(state.update);
  if (state.view === "pair") {
    $("pair-revoked").hidden = !state.revoked;
    $("pair-new").hidden = state.revoked;
  } else if (state.view === "down") {
    $("down-url").textContent = state.serviceUrl;
    $("down-queued").textContent = String(state.queued);
  } else if (state.view === "error") {
    $("error-problem").textContent = errorText(state.problem);
    $("error-url").textContent = state.serviceUrl;
  } else if (state.view === "status") {
    renderStatus(state);
  }
}

document.addEventListener("click", (event) => {
  const target = event.target.closest("[data-open]");
  if (target) {
    raw.tabs.create({ url: raw.runtime.getURL(`${target.dataset.open}/${target.dataset.open}.html`) });
    window.close();
  }
});

// The browser reads the extension again from its folder: the new code runs, the pairing and settings stay.
$("reload-extension").addEventListener("click", () => raw.runtime.reload());

$("take-break").addEventListener("click", async () => {
  $("take-break").disabled = true;
  const answer = await send(raw, "take-break");
  $("break-result").textContent = answer.ok && answer.sent
    ? "Noted. Step away for a few minutes; the feed will still be here."
    : "Noted here; Breather will hear about it when it is running again.";
});

/** Asks Firefox for the origins it does not allow yet; must be called synchronously from a click handler. */
function askForMissingOrigins() {
  const origins = shown?.routing?.missingOrigins ?? [];
  if (origins.length === 0 || !raw.permissions?.request) {
    return Promise.resolve(true);
  }
  return raw.permissions.request({ origins }).catch((error) => {
    console.warn("Breather: permission request failed:", error);
    return false;
  });
}

/** Switches routing, then shows the state with the worker's own reason if it could not be done. */
async function setRouting(enabled, asked) {
  await asked; // if the person said no, the fresh state below names the sites still waiting and offers the button
  const answer = await send(raw, "set-routing", { enabled });
  await refresh();
  if (!answer.ok) {
    // After the refresh, so its general line does not overwrite the worker's own reason.
    $("routing").textContent = answer.error;
    $("routing").className = "breather-problem";
  }
}

// "click", not "change": the checkbox has already toggled, and a click is the user action Firefox wants.
$("routing-switch").addEventListener("click", (event) => {
  const enabled = event.target.checked;
  setRouting(enabled, enabled ? askForMissingOrigins() : Promise.resolve(true));
});

$("allow-sites").addEventListener("click", () => {
  $("allow-sites").disabled = true;
  setRouting(true, askForMissingOrigins()).finally(() => {
    $("allow-sites").disabled = false;
  });
});

refresh();
