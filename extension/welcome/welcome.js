import { detectRaw } from "../lib/browser.js";
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
  $("routing-text").textContent = routing.routed
    ? "Social sites now go through Breather."
    : `Social sites do not go through Breather yet: ${routing.reason}.`;
  $("routing-text").className = routing.routed ? "breather-ok" : "breather-problem";
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
  $("done-text").textContent = `This browser is paired as “${answer.profile}”. You can close this tab; the Breather button in the toolbar shows your day.`;
  $("done-heading").focus(); // the form that held the focus is gone: a keyboard or screen-reader user lands on the news
  const needsFirefoxPermission = $("consent-routing").checked && !answer.routing.routed && raw.runtime.getBrowserInfo;
  if (needsFirefoxPermission) {
    $("firefox-step").hidden = false;
    $("firefox-sites").textContent = answer.domains.join(", ");
    $("allow-routing").onclick = async () => {
      // Called straight from the click: Firefox only shows the permission prompt for a user action.
      const granted = await raw.permissions.request({ origins: originPatterns(answer.domains) });
      if (granted) {
        const routed = await send(raw, "set-routing", { enabled: true });
        showRouting({ routed: routed.ok && routed.routing.active, reason: routed.error ?? routed.routing?.reason });
      }
    };
  } else {
    showRouting(answer.routing);
  }
});

prefill();
