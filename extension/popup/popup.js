import { detectRaw } from "../lib/browser.js";
import { send } from "../lib/messages.js";
import { describeStatus } from "../lib/describe.js";

const raw = detectRaw();
const $ = (id) => document.getElementById(id);

function show(view) {
  $("loading").hidden = true;
  for (const name of ["welcome", "pair", "down", "status"]) {
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
}

async function refresh() {
  const state = await send(raw, "popup-state");
  if (!state.ok) {
    show("down");
    $("down-url").textContent = state.error;
    return;
  }
  $("dashboard").href = state.dashboardUrl;
  show(state.view);
  if (state.view === "pair") {
    $("pair-revoked").hidden = !state.revoked;
    $("pair-new").hidden = state.revoked;
  } else if (state.view === "down") {
    $("down-url").textContent = state.serviceUrl;
    $("down-queued").textContent = String(state.queued);
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

$("take-break").addEventListener("click", async () => {
  $("take-break").disabled = true;
  const answer = await send(raw, "take-break");
  $("break-result").textContent = answer.ok && answer.sent
    ? "Noted. Step away for a few minutes; the feed will still be here."
    : "Noted here; Breather will hear about it when it is running again.";
});

$("routing-switch").addEventListener("change", async (event) => {
  const answer = await send(raw, "set-routing", { enabled: event.target.checked });
  if (!answer.ok) {
    $("routing").textContent = answer.error;
    $("routing").className = "breather-problem";
  }
  await refresh();
});

refresh();
