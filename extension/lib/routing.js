// Sends only the intercepted social sites through Breather, with the person's consent, and undoes it cleanly.
// Chrome: a PAC script in chrome.proxy.settings (Chrome itself restores the previous settings on clear() or when
// the extension is switched off). Firefox: a proxy.onRequest listener that reads the routing state kept in storage.

import { buildPac, chainedRoutes, matchingDomain, originPatterns } from "./domains.js";

const CONTROLLABLE = new Set(["controllable_by_this_extension", "controlled_by_this_extension"]);

// Firefox routing: it only proxies the sites the person allowed, so each domain's permission is checked on its own.
export const FIREFOX_NOT_ALLOWED = "Firefox has not been allowed to route these sites yet";

const BLOCKED_REASONS = {
  not_controllable: "the browser's proxy settings are locked by a policy",
  controlled_by_other_extensions: "another extension controls the browser's proxy settings",
};

/**
 * Turns routing on for `config` ({domains, proxy}). Resolves to {routed, reason}, and in Chrome `others`: where the
 * other sites go while routing is on (see othersRoute), for the welcome page to say.
 */
export async function applyRouting(platform, config) {
  if (platform.chromeProxy) {
    const before = await platform.chromeProxy.get();
    if (!CONTROLLABLE.has(before.levelOfControl)) {
      await platform.local.set({ routingEnabled: false });
      return { routed: false, reason: BLOCKED_REASONS[before.levelOfControl] ?? before.levelOfControl };
    }
    const previous = await rememberPrevious(platform, before);
    await platform.chromeProxy.setPac(buildPac(config.domains, config.proxy, previous?.value));
    await platform.local.set({ routingEnabled: true });
    return { routed: true, reason: null, others: othersRoute(previous?.value) };
  }
  // The switch stays on whatever Firefox allows: a domain added to the rules later (and not yet allowed) must not
  // switch routing off for the sites that are allowed. Those go through Breather; the popup asks for the rest.
  await platform.local.set({ routingEnabled: true });
  const { permitted, missing } = await firefoxPermissions(platform, config.domains);
  if (permitted.length === 0) {
    return { routed: false, reason: FIREFOX_NOT_ALLOWED, missing };
  }
  return { routed: true, reason: null, missing };
}

/** The setting routing replaces: saved as routing starts, read back when a new PAC replaces Breather's own. */
async function rememberPrevious(platform, before) {
  if (before.levelOfControl === "controlled_by_this_extension") {
    const { previousProxy = null } = await platform.local.get(["previousProxy"]);
    return previousProxy;
  }
  const previousProxy = { value: before.value, levelOfControl: before.levelOfControl };
  await platform.local.set({ previousProxy });
  return previousProxy;
}

// Chrome settings a PAC cannot pass the other sites on to: they go direct while routing is on.
const UNCHAINED_MODES = new Set(["system", "pac_script", "auto_detect"]);

/**
 * Chrome: where the sites other than the social ones go while routing is on. null: direct, as before (or nothing
 * is known); {via: "proxy", proxy}: the person's own proxy, as before; {via: "direct", mode}: direct, though the
 * person's setting (`system`, `pac_script`, `auto_detect`, or servers a PAC cannot name) did something else.
 */
export function othersRoute(previous) {
  const chained = chainedRoutes(previous);
  if (chained) {
    return { via: "proxy", proxy: chained.shown };
  }
  if (UNCHAINED_MODES.has(previous?.mode) || namesServers(previous)) {
    return { via: "direct", mode: previous.mode };
  }
  return null;
}

// A `fixed_servers` setting without any server (only a bypass list) sent everything direct already.
function namesServers(previous) {
  const rules = previous?.mode === "fixed_servers" ? (previous.rules ?? {}) : {};
  return ["singleProxy", "proxyForHttp", "proxyForHttps", "proxyForFtp", "fallbackProxy"].some((key) => rules[key]);
}

/**
 * Firefox: which of `domains` the extension may route (it holds both host permissions for the domain) and which
 * still need the person's OK. Chrome routes by PAC, which needs no host permission: nothing is ever missing there.
 */
export async function firefoxPermissions(platform, domains) {
  const list = domains ?? [];
  if (platform.chromeProxy) {
    return { permitted: [...list], missing: [] };
  }
  const allowed = await Promise.all(list.map((domain) => platform.permissions.contains(originPatterns([domain]))));
  return {
    permitted: list.filter((_, index) => allowed[index]),
    missing: list.filter((_, index) => !allowed[index]),
  };
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
  const { routingEnabled = false, config = null, previousProxy = null } = await platform.local.get([
    "routingEnabled",
    "config",
    "previousProxy",
  ]);
  if (!platform.chromeProxy) {
    // Firefox: on when the switch is on and at least one social site is allowed; `missing` are the sites (and
    // `missingOrigins` the exact permissions) still waiting for the person's OK, which the popup asks for.
    const { permitted, missing } = await firefoxPermissions(platform, config?.domains);
    const active = routingEnabled && permitted.length > 0;
    let reason = null;
    if (!routingEnabled) {
      reason = "routing is off";
    } else if (!active) {
      reason = FIREFOX_NOT_ALLOWED;
    }
    return { enabled: routingEnabled, active, reason, missing, missingOrigins: missing.length ? originPatterns(missing) : [] };
  }
  const now = await platform.chromeProxy.get();
  const active = now.levelOfControl === "controlled_by_this_extension" && now.value?.mode === "pac_script";
  let reason = null;
  if (!active) {
    reason = BLOCKED_REASONS[now.levelOfControl] ?? (routingEnabled ? "the routing was lost; switch it on again" : "routing is off");
  }
  const others = active ? othersRoute(previousProxy?.value) : null;
  return { enabled: routingEnabled, active, reason, missing: [], missingOrigins: [], others };
}

/**
 * Does this browser send `site` (an entry of the config's domains) through Breather now? Then the site cannot load
 * while Breather is down: the browser shows its "proxy server is refusing connections" page in its place.
 */
export async function routesSite(platform, site) {
  const routing = await routingState(platform);
  return routing.active && !routing.missing.includes(site);
}

/**
 * Firefox's proxy.onRequest answer for one request, from the stored routing state. A social site gets Breather's
 * proxy and then null: without that null Firefox fails over to its own proxy setting when Breather is down (a
 * system or manual proxy), so the site would load without the person's limits. With it, the site waits for
 * Breather, as the Chrome PAC makes it.
 */
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
  // Firefox takes a proxy's IPv6 address as a URL's host gives it, without brackets.
  const proxyHost = routing.config.proxy.host.replace(/^\[(.*)\]$/, "$1");
  return [{ type: "http", host: proxyHost, port: routing.config.proxy.port }, null];
}
