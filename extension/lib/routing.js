// Sends only the intercepted social sites through Breather, with the person's consent, and undoes it cleanly.
// Chrome: a PAC script in chrome.proxy.settings (Chrome itself restores the previous settings on clear() or when
// the extension is switched off). Firefox: a proxy.onRequest listener that reads the routing state kept in storage.

import { buildPac, matchingDomain, originPatterns } from "./domains.js";

const CONTROLLABLE = new Set(["controllable_by_this_extension", "controlled_by_this_extension"]);

const BLOCKED_REASONS = {
  not_controllable: "the browser's proxy settings are locked by a policy",
  controlled_by_other_extensions: "another extension controls the browser's proxy settings",
};

/** Turns routing on for `config` ({domains, proxy}). Resolves to {routed, reason}. */
export async function applyRouting(platform, config) {
  if (platform.chromeProxy) {
    const before = await platform.chromeProxy.get();
    if (!CONTROLLABLE.has(before.levelOfControl)) {
      await platform.local.set({ routingEnabled: false });
      return { routed: false, reason: BLOCKED_REASONS[before.levelOfControl] ?? before.levelOfControl };
    }
    if (before.levelOfControl !== "controlled_by_this_extension") {
      await platform.local.set({ previousProxy: { value: before.value, levelOfControl: before.levelOfControl } });
    }
    await platform.chromeProxy.setPac(buildPac(config.domains, config.proxy));
    await platform.local.set({ routingEnabled: true });
    return { routed: true, reason: null };
  }
  const granted = await platform.permissions.contains(originPatterns(config.domains));
  if (!granted) {
    await platform.local.set({ routingEnabled: false });
    return { routed: false, reason: "Firefox has not been allowed to route these sites yet" };
  }
  await platform.local.set({ routingEnabled: true });
  return { routed: true, reason: null };
}

/** Turns routing off: the browser goes back to the proxy settings it had before. */
export async function stopRouting(platform) {
  if (platform.chromeProxy) {
    const now = await platform.chromeProxy.get();
    if (now.levelOfControl === "controlled_by_this_extension") {
      await platform.chromeProxy.clear();
    }
  }
  await platform.local.set({ routingEnabled: false });
  await platform.local.remove("previousProxy");
}

/** What the popup shows: {enabled, active, reason}. `active` means the browser really uses Breather's routing. */
export async function routingState(platform) {
  const { routingEnabled = false } = await platform.local.get(["routingEnabled"]);
  if (!platform.chromeProxy) {
    return { enabled: routingEnabled, active: routingEnabled, reason: routingEnabled ? null : "routing is off" };
  }
  const now = await platform.chromeProxy.get();
  const active = now.levelOfControl === "controlled_by_this_extension" && now.value?.mode === "pac_script";
  let reason = null;
  if (!active) {
    reason = BLOCKED_REASONS[now.levelOfControl] ?? (routingEnabled ? "the routing was lost; switch it on again" : "routing is off");
  }
  return { enabled: routingEnabled, active, reason };
}

/** Firefox's proxy.onRequest answer for one request, from the stored routing state. */
export function firefoxProxyFor(url, routing) {
  if (!routing || !routing.enabled || !routing.config) {
    return { type: "direct" };
  }
  let host;
  try {
    host = new URL(url).hostname;
  } catch {
    return { type: "direct" };
  }
  if (matchingDomain(host, routing.config.domains) === null) {
    return { type: "direct" };
  }
  return { type: "http", host: routing.config.proxy.host, port: routing.config.proxy.port };
}
