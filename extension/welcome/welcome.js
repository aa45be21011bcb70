import { detectRaw } from "../lib/browser.js";
import { othersText, privateWindowsText, temporaryInstallText, toolbarText } from "../lib/describe.js";
import { originPatterns } from "../lib/domains.js";
import { send } from "../lib/messages.js";
import { DEFAULT_SERVICE_URL } from "../lib/options.js";

const raw = detectRaw();
const $ = (id) => document.getElementById(id);

async function prefill() {
  const { options = {} } = await raw.storage.local.get("options");
  $("service-url").value = options.serviceUrl ?? DEFAULT_SERVICE_URL;
}

function showRouting(routing) {
  // Only where the person's own proxy keeps the other sites: the usual case (Chrome's "system" setting) stays one
  // short sentence here; the popup says the rest.
  const others = routing.others?.via === "proxy" ? ` ${capitalised(othersText(routing.others))}.` : "";
  $("routing-text").textContent = routing.routed
    ? `Social sites now go through Breather.${others}`
    : `Social sites do not go through Breather yet: ${routing.reason}.`;
  $("routing-text").className = routing.routed ? "breather-ok" : "breather-problem";
}

function capitalised(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function showLine(id, text) {
  $(id).textContent = text;
  $(id).hidden = text === "";
}

$("pair-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("problem").textContent = "";
  $("pair").disabled = true;
  const answer = await send(raw, "pair", {
    code: $("code").value,
    serviceUrl: $("service-url").value,
    activity: $("consent-activity").checked,
    routing: $("consent-routing").checked,
  });
  $("pair").disabled = false;
  if (!answer.ok) {
    $("problem").textContent = answer.error;
    return;
  }
  $("pair-form").hidden = true;
  $("done").hidden = false;
  $("done-text").textContent = `This browser is paired as “${answer.profile}”. You can close this tab; Breather's button shows your day.`;
  $("done-heading").focus(); // the form that held the focus is gone: a keyboard or screen-reader user lands on the news
  const isFirefox = Boolean(raw.runtime.getBrowserInfo);
  showLine("toolbar", toolbarText(isFirefox ? "firefox" : "chrome"));
  showLine("private-windows", privateWindowsText(answer.notes));
  showLine("temporary", temporaryInstallText(answer.notes));
  showLine(
    "activity-text",
    $("consent-activity").checked
      ? ""
      : "Which social site is in front of you is not sent (you did not tick it): break reminders and limits do not count time in this browser.",
  );
  const routingAsked = $("consent-routing").checked;
  const needsFirefoxPermission = routingAsked && !answer.routing.routed && isFirefox;
  if (needsFirefoxPermission) {
    const waiting = answer.routing.missing?.length ? answer.routing.missing : answer.domains;
    $("firefox-step").hidden = false;
    $("firefox-sites").textContent = waiting.join(", ");
    $("allow-routing").onclick = async () => {
      // Called straight from the click: Firefox only shows the permission prompt for a user action.
      const granted = await raw.permissions.request({ origins: originPatterns(waiting) });
      if (granted) {
        const routed = await send(raw, "set-routing", { enabled: true });
        showRouting({ routed: routed.ok && routed.routing.active, reason: routed.error ?? routed.routing?.reason });
      } else {
        showRouting({ routed: false, reason: "Firefox was not allowed to route them; the popup's “Allow in Firefox” asks again" });
      }
    };
  } else if (!routingAsked) {
    $("routing-text").textContent =
      "Routing is off (you did not tick it): social sites go direct, without content warnings or limits. The popup's switch turns it on.";
    $("routing-text").className = "breather-problem";
  } else {
    showRouting(answer.routing);
  }
});

prefill();
