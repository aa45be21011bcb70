// What the service worker does. Each function reads what it needs from storage and writes back what must survive:
// the worker can be stopped at any moment, so nothing here relies on module globals (apart from a lock that only
// has meaning while the worker is alive).

import { ApiError, createClient, parsePairingCode } from "./api.js";
import { caProbeDomains, parseDomains, parseProxy, siteOfUrl } from "./domains.js";
import { dueNotifications, eventForButton, parseNotificationId } from "./notify.js";
import { isLoopback, parseOptions, parseServiceUrl, withDefaults } from "./options.js";
import { drain, enqueue } from "./queue.js";
import { applyRouting, routesSite, routingState, stopRouting } from "./routing.js";
import { CODE_VERSION } from "./version.js";

export const PERMISSION_NOTICE_ID = "breather:permission:";

export const HEARTBEAT_ALARM = "breather-heartbeat";
export const HEARTBEAT_PERIOD_MINUTES = 0.5;
export const IDLE_AFTER_SECONDS = 60;
const CONFIG_MAX_AGE_MS = 5 * 60 * 1000;
const CA_PROBE_TIMEOUT_MS = 4000;

const LOCAL_KEYS = ["token", "profile", "consent", "config", "routingEnabled", "needsPairing", "options", "queue"];

export async function loadState(platform) {
  const stored = await platform.local.get(LOCAL_KEYS);
  return { ...stored, options: withDefaults(stored.options), queue: stored.queue ?? [] };
}

function clientFor(platform, state) {
  return createClient({ serviceUrl: state.options.serviceUrl, token: state.token, fetch: platform.fetch });
}

export async function ensureAlarm(platform) {
  const existing = await platform.alarms.get(HEARTBEAT_ALARM);
  if (!existing) {
    await platform.alarms.create(HEARTBEAT_ALARM, {
      periodInMinutes: HEARTBEAT_PERIOD_MINUTES,
      delayInMinutes: HEARTBEAT_PERIOD_MINUTES,
    });
  }
}

async function forgetToken(platform) {
  await platform.local.set({ needsPairing: true });
  await platform.local.remove("token");
  await platform.badge("!");
}

/** The active tab's intercepted site with focus and idle state; null for every other site (nothing is sent). */
export async function observeActivity(platform, domains, now = new Date()) {
  return (await observeTab(platform, domains, now))?.beat ?? null;
}

/**
 * The heartbeat for the tab in front, with the page it shows (`page`: its tab and address, kept in this browser
 * only, never sent) and whether that page is loading; null for every other site.
 */
async function observeTab(platform, domains, now) {
  const tab = await platform.activeTab();
  const site = tab && tab.url ? siteOfUrl(tab.url, domains) : null;
  if (!site) {
    return null;
  }
  const [window, systemIdle] = await Promise.all([
    platform.windowInfo(tab.windowId),
    platform.idleState(IDLE_AFTER_SECONDS),
  ]);
  // A tab playing sound (a video watched without touching anything) is in use, though the system reports idle.
  const idle = systemIdle === "idle" && tab.audible ? "active" : systemIdle;
  const beat = { site, visible: !window.minimized, focused: window.focused, idle, at: now.toISOString() };
  return { beat, page: `${tab.id} ${tab.url}`, loading: tab.status === "loading" };
}

// How many pages the extension remembers as shown while Breather answered, and as failed while it did not.
const PAGES_KEPT = 20;

const tabOfPage = (page) => page.split(" ", 1)[0];

/**
 * A social site this browser routes cannot load while Breather is down: the browser's "proxy server is refusing
 * connections" page stands in its place, and it is not time on the site (a user test had minutes of that page
 * counted once Breather was back). A page that loaded while Breather answered stays on screen, and is. So, per
 * routed page in front: `shown` (seen while Breather answered), `failed` (first seen while it did not: the error
 * page, still there after Breather is back until the tab loads again). Kept in storage.session.
 */
async function rememberedPages(platform) {
  const { pages = null } = await platform.session.get(["pages"]);
  return { shown: pages?.shown ?? [], failed: pages?.failed ?? [] };
}

/** After a flush: note the routed page in front as shown (Breather answered) or failed (it did not). */
async function notePage(platform, pages, seen, serviceDown) {
  const { page, loading } = seen;
  // The tab shows another page now, or loads this one again: its failed page is gone.
  let failed = pages.failed.filter((known) => tabOfPage(known) !== tabOfPage(page) || (known === page && !loading));
  let shown = pages.shown;
  if (serviceDown && !shown.includes(page) && !failed.includes(page)) {
    failed = [page, ...failed].slice(0, PAGES_KEPT);
  }
  if (!serviceDown && !failed.includes(page)) {
    shown = [page, ...shown.filter((known) => known !== page)].slice(0, PAGES_KEPT);
  }
  await platform.session.set({ pages: { shown, failed } });
}

/** The proxy saw this member's social traffic again: a failed page was loaded again through it. */
async function forgetFailedPages(platform, pages) {
  if (pages.failed.length > 0) {
    await platform.session.set({ pages: { shown: pages.shown, failed: [] } });
  }
}

function sendQueued(client) {
  return async (item) => {
    try {
      if (item.kind === "event") {
        await client.event(item.body);
      } else {
        await client.heartbeat(item.body);
      }
      return "sent";
    } catch (error) {
      if (error instanceof ApiError && error.kind === "rejected") {
        return "rejected";
      }
      throw error; // drain() tells "offline", "unauthorized" and "server" apart by the error's kind
    }
  };
}

let flushing = Promise.resolve();

/**
 * Adds `items` to the stored queue and sends everything queued; one flush at a time. `keepIfOffline` false: the
 * items are dropped, not kept for later, when the service cannot be reached.
 */
export function queueAndFlush(platform, items = [], { keepIfOffline = true } = {}) {
  const run = async () => {
    const state = await loadState(platform);
    let queue = state.queue;
    for (const item of items) {
      queue = enqueue(queue, item);
    }
    await platform.local.set({ queue });
    if (!state.token) {
      return { stoppedBy: "unpaired", queued: queue.length };
    }
    const result = await drain(queue, sendQueued(clientFor(platform, state)));
    if (result.stoppedBy === "offline" && !keepIfOffline) {
      result.remaining = result.remaining.filter((item) => !items.includes(item));
    }
    await platform.local.set({ queue: result.remaining });
    await platform.session.set({ serviceDown: result.stoppedBy === "offline" });
    if (result.stoppedBy === "unauthorized") {
      await forgetToken(platform);
    }
    return { stoppedBy: result.stoppedBy, queued: result.remaining.length, flushed: result.sent };
  };
  flushing = flushing.then(run, run);
  return flushing;
}

/** The service's /api/v1/config answer as stored; throws on domains or a proxy the extension cannot use. */
function parseConfig(answer, fetchedAt) {
  return {
    domains: parseDomains(answer.domains),
    proxy: parseProxy(answer.proxy),
    extensionVersion: typeof answer.extension_version === "string" ? answer.extension_version : null,
    version: typeof answer.config_version === "string" ? answer.config_version : null,
    fetchedAt,
  };
}

/**
 * Does the service route other sites than the stored config says? Its status names the version of its config
 * (`config_version`); when either side does not name one, only the config's age says (five minutes).
 */
function configOutdated(config, status) {
  const current = status?.config_version;
  return typeof current === "string" && typeof config?.version === "string" && current !== config.version;
}

/** Fetches /api/v1/config when older than five minutes (or `force`), re-applying routing if it changed. */
export async function refreshConfig(platform, { force = false, now = Date.now() } = {}) {
  const state = await loadState(platform);
  if (!state.token || (!force && state.config && now - state.config.fetchedAt < CONFIG_MAX_AGE_MS)) {
    return state.config ?? null;
  }
  const config = parseConfig(await clientFor(platform, state).config(), now);
  await platform.local.set({ config });
  const changed =
    !state.config ||
    JSON.stringify([state.config.domains, state.config.proxy]) !== JSON.stringify([config.domains, config.proxy]);
  if (state.routingEnabled && state.consent?.routing && changed) {
    const routed = await applyRouting(platform, config);
    await announceMissingPermissions(platform, routed.missing ?? []);
  }
  return config;
}

/**
 * Firefox: sites added to the rules need the person's OK before Firefox lets the extension route them (the sites
 * already allowed keep going through Breather meanwhile). Said once per set of waiting sites; a click on the
 * notification opens the popup page, whose button asks Firefox for exactly those sites.
 */
async function announceMissingPermissions(platform, missing) {
  const key = missing.join(" ");
  const { permissionNoticeFor = "" } = await platform.local.get(["permissionNoticeFor"]);
  if (key === permissionNoticeFor) {
    return;
  }
  await platform.local.set({ permissionNoticeFor: key });
  if (missing.length === 0) {
    await platform.notifications.clear(PERMISSION_NOTICE_ID);
    return;
  }
  const count = missing.length === 1 ? "1 new site needs" : `${missing.length} new sites need`;
  await platform.notifications.create(PERMISSION_NOTICE_ID, {
    type: "basic",
    iconUrl: platform.extensionUrl("icons/icon-128.png"),
    title: `${count} Firefox's OK`,
    message: `${missing.join(", ")} ${missing.length === 1 ? "goes" : "go"} direct, without your limits, until you allow it: click here, then “Allow in Firefox”. The other social sites still go through Breather.`,
  });
}

// `notified` is kept in storage.local: "once a day" must hold across a browser restart, which empties storage.session.
async function notifyFromStatus(platform, state, status, site, now) {
  const { lastStatus = null } = await platform.session.get(["lastStatus"]);
  const { notified = {} } = await platform.local.get(["notified"]);
  const { notifications, notified: next } = dueNotifications({
    status,
    previous: lastStatus,
    options: state.options,
    site,
    notified,
    now,
  });
  await platform.session.set({ lastStatus: status });
  await platform.local.set({ notified: next });
  for (const item of notifications) {
    await platform.notifications.create(item.id, {
      type: "basic",
      iconUrl: platform.extensionUrl("icons/icon-128.png"),
      title: item.title,
      message: item.message,
      buttons: item.buttons.length ? item.buttons.map((title) => ({ title })) : undefined,
    });
  }
  return notifications;
}

/** Every ~30 s: one heartbeat for the active social tab, the queue flushed, config and notifications refreshed. */
export async function tick(platform, now = new Date()) {
  const state = await loadState(platform);
  if (!state.token || !state.consent) {
    return { skipped: "not paired" };
  }
  // Without consent to report activity nothing is observed, but routing still follows the service's domain list.
  const seen = state.consent.activity ? await observeTab(platform, state.config?.domains ?? [], now) : null;
  const routed = seen ? await routesSite(platform, seen.beat.site) : false;
  const pages = routed ? await rememberedPages(platform) : null;
  // `routed` lets the service tell Breather's block page (shown in a routed site's place) from the site itself.
  const beat = seen && !pages?.failed.includes(seen.page) ? { ...seen.beat, routed } : null;
  // A routed page first seen while Breather is down is the browser's error page: not kept for later.
  const loadedBefore = !routed || pages.shown.includes(seen.page);
  const items = beat ? [{ kind: "heartbeat", body: beat }] : [];
  const flushed = await queueAndFlush(platform, items, { keepIfOffline: loadedBefore });
  if (routed) {
    await notePage(platform, pages, seen, flushed.stoppedBy === "offline");
  }
  // A server error on one queued item is not the service being away: status and notifications still come.
  if (flushed.stoppedBy && flushed.stoppedBy !== "server") {
    return { heartbeat: beat, ...flushed };
  }
  try {
    const config = await refreshConfig(platform, { now: now.getTime() });
    const status = await clientFor(platform, state).status(beat?.site ?? null);
    if (routed && status.through_proxy === true) {
      await forgetFailedPages(platform, await rememberedPages(platform));
    }
    if (configOutdated(config, status)) {
      await refreshConfig(platform, { force: true, now: now.getTime() });
    }
    const shown = await notifyFromStatus(platform, state, status, beat?.site ?? null, now);
    return { heartbeat: beat, ...flushed, notifications: shown.map((item) => item.id) };
  } catch (error) {
    return handleApiFailure(platform, error, { heartbeat: beat, ...flushed });
  }
}

async function handleApiFailure(platform, error, extra = {}) {
  if (!(error instanceof ApiError)) {
    throw error;
  }
  if (error.kind === "unauthorized") {
    await forgetToken(platform);
  }
  if (error.kind === "offline") {
    await platform.session.set({ serviceDown: true });
  }
  return { ...extra, stoppedBy: error.kind, error: error.message };
}

/**
 * The first-run page's "Pair" button: code + consent → token, config, routing, alarm. Nothing is stored before the
 * config is read with the new token, so a failure leaves the browser as it was, not half paired. Routing follows
 * this consent alone: a browser unpaired on the dashboard kept its routing, which must not outlive a "no" here.
 */
export async function pair(platform, { code, serviceUrl, routing, activity }) {
  const cleanUrl = parseServiceUrl(serviceUrl);
  const answer = await askToPair(platform, cleanUrl, parsePairingCode(code));
  const config = await firstConfig(platform, cleanUrl, answer.token);
  const { options: storedOptions = {} } = await platform.local.get(["options"]);
  await platform.local.set({
    token: answer.token,
    profile: answer.profile,
    needsPairing: false,
    consent: { routing: Boolean(routing), activity: Boolean(activity), at: new Date().toISOString() },
    options: { ...storedOptions, serviceUrl: cleanUrl },
    config,
  });
  await platform.badge("");
  const routed = routing ? await applyRouting(platform, config) : await routingDeclined(platform);
  await ensureAlarm(platform);
  return { profile: answer.profile, domains: config.domains, routing: routed, notes: await browserNotes(platform) };
}

async function routingDeclined(platform) {
  await stopRouting(platform);
  return { routed: false, reason: "routing is off" };
}

async function askToPair(platform, serviceUrl, code) {
  try {
    return await createClient({ serviceUrl, fetch: platform.fetch }).pair(code, platform.browser);
  } catch (error) {
    if (error instanceof ApiError && error.kind === "offline") {
      throw new Error(`Breather is not running at ${serviceUrl}. Start it with “breather run”, then try again.`);
    }
    if (error instanceof ApiError && (error.kind === "rejected" || error.kind === "unauthorized")) {
      throw new Error(`The service did not accept the code: ${error.message}`);
    }
    throw error;
  }
}

// The code is spent once the service answered: a config that cannot be used asks for a new code, with the reason.
async function firstConfig(platform, serviceUrl, token) {
  try {
    return parseConfig(await createClient({ serviceUrl, token, fetch: platform.fetch }).config(), Date.now());
  } catch (error) {
    throw new Error(
      `Breather took the code, but its settings could not be used (${error.message}), so this browser is not paired. ` +
        "Get a new code on the dashboard's Setup page and try again.",
    );
  }
}

/** The popup's switch (and the first-run page's second step on Firefox, after the permission prompt). */
export async function setRouting(platform, { enabled }) {
  const { consent = null } = await platform.local.get(["consent"]);
  if (!enabled) {
    await stopRouting(platform);
    await platform.local.set({ consent: { ...(consent ?? {}), routing: false } });
    return { routing: await routingState(platform) };
  }
  const config = await refreshConfig(platform, { force: false });
  if (!config) {
    throw new Error("Pair with Breather first: the extension does not know which sites to route yet.");
  }
  await platform.local.set({ consent: { ...(consent ?? {}), routing: true } });
  await applyRouting(platform, config);
  return { routing: await routingState(platform) };
}

/** "Take a break now" in the popup, and the notification buttons. Queued if the service is down. */
export async function postEvent(platform, kind, site) {
  const body = { kind, site: site ?? null };
  if (kind === "more_time_asked") {
    body.minutes = 5;
  }
  const result = await queueAndFlush(platform, [{ kind: "event", body }]);
  return { sent: !result.stoppedBy, ...result };
}

export async function takeBreak(platform) {
  const state = await loadState(platform);
  const tab = await platform.activeTab();
  const site = tab?.url ? siteOfUrl(tab.url, state.config?.domains ?? []) : null;
  return postEvent(platform, "break_taken", site);
}

export async function onNotificationButton(platform, notificationId, buttonIndex) {
  const parsed = parseNotificationId(notificationId);
  if (!parsed) {
    return null;
  }
  await platform.notifications.clear(notificationId);
  const kind = eventForButton(parsed.kind, buttonIndex);
  if (kind === "more_time_asked" && !parsed.site) {
    return null; // more time is asked for one site; a yes to an ask for none would let nothing through
  }
  return postEvent(platform, kind, parsed.site);
}

/**
 * Does a secure request to an intercepted site through the proxy succeed? Only then is the Breather CA known to be
 * trusted by this browser. The path is answered by the proxy itself, so no request reaches the social site; but the
 * proxy connects to the site before it answers, so one unreachable site looks the same as an untrusted CA. A few
 * sites (one per site family) are tried at once: `trusted` is true when any answers, false when none did (then it
 * cannot tell which of the two it is), null when there is nothing to try. `tried` names the sites.
 */
export async function probeCaTrusted(platform, domains) {
  const tried = caProbeDomains(domains ?? []);
  if (tried.length === 0) {
    return { trusted: null, tried };
  }
  const probe = (domain) =>
    platform.fetch(`https://${domain}/__breather__/ping`, {
      method: "GET",
      mode: "no-cors",
      cache: "no-store",
      credentials: "omit",
      signal: AbortSignal.timeout(CA_PROBE_TIMEOUT_MS),
    });
  try {
    await Promise.any(tried.map(probe));
    return { trusted: true, tried };
  } catch {
    return { trusted: false, tried };
  }
}

/** What this browser does that the person should know about: private windows left out, a temporary install. */
export async function browserNotes(platform) {
  const [privateAllowed, installType] = await Promise.all([platform.incognitoAllowed(), platform.installType()]);
  return { browser: platform.browser, privateAllowed, installType };
}

/**
 * When this browser runs another version of the extension's code than the one in its folder (the manifest there is
 * newer: Chromium kept the old code) or than the one its service ships (the browser has not read the folder since
 * `git pull`): both versions and how this install is reloaded. "button": an unpacked extension in Chrome, which
 * `runtime.reload()` reads again from its folder; "about:debugging": a temporary add-on in Firefox; "install": a
 * packed install, which only a new package updates. null: this code is the one expected.
 */
export async function updateNeeded(platform, config) {
  const expected = [platform.manifestVersion(), config?.extensionVersion].find((version) => isNewerVersion(version, CODE_VERSION));
  if (!expected) {
    return null;
  }
  const installType = await platform.installType();
  const how = installType !== "development" ? "install" : platform.browser === "firefox" ? "about:debugging" : "button";
  return { running: CODE_VERSION, expected, how };
}

/** Is `version` ("0.10.0") newer than `than` ("0.9.2")? Compared part by part as numbers; false when either is not one. */
export function isNewerVersion(version, than) {
  const parts = (text) => (typeof text === "string" && /^\d+(\.\d+)*$/.test(text) ? text.split(".").map(Number) : null);
  const [mine, theirs] = [parts(version), parts(than)];
  if (!mine || !theirs) {
    return false;
  }
  for (let index = 0; index < Math.max(mine.length, theirs.length); index += 1) {
    const difference = (mine[index] ?? 0) - (theirs[index] ?? 0);
    if (difference !== 0) {
      return difference > 0;
    }
  }
  return false;
}

/** Everything the popup shows, in one answer. `view` picks the popup's panel. */
export async function popupState(platform) {
  const state = await loadState(platform);
  const base = {
    serviceUrl: state.options.serviceUrl,
    dashboardUrl: `${state.options.serviceUrl}/`,
    queued: state.queue.length,
    update: await updateNeeded(platform, state.config),
  };
  if (!state.consent) {
    return { ...base, view: "welcome" };
  }
  if (!state.token) {
    return { ...base, view: "pair", revoked: Boolean(state.needsPairing) };
  }
  let status;
  try {
    status = await clientFor(platform, state).status();
  } catch (error) {
    const failure = await handleApiFailure(platform, error);
    if (failure.stoppedBy === "unauthorized") {
      return { ...base, view: "pair", revoked: true };
    }
    // Running but failing is not "not running": the person is told what Breather answered.
    return { ...base, view: failure.stoppedBy === "offline" ? "down" : "error", problem: failure.error };
  }
  // Not `lastStatus`: that is the last status the notifications saw, and quiet hours starting are told from it.
  await platform.session.set({ serviceDown: false });
  const routing = await routingState(platform);
  const probe = routing.active ? await probeCaTrusted(platform, state.config?.domains) : { trusted: null, tried: [] };
  const notes = await browserNotes(platform);
  return { ...base, view: "status", profile: state.profile, status, routing, caTrusted: probe.trusted, caTried: probe.tried, notes };
}

export async function saveOptions(platform, { values }) {
  const parsed = parseOptions(values ?? {});
  if (parsed.errors) {
    return { ok: false, errors: parsed.errors, error: Object.values(parsed.errors).join("; ") };
  }
  const { options: stored = {}, token = null } = await platform.local.get(["options", "token"]);
  const next = { ...stored, ...parsed.values };
  await platform.local.set({ options: next });
  const moved = withDefaults(next).serviceUrl !== withDefaults(stored).serviceUrl;
  if (moved && token) {
    // A token belongs to one service: another address means pairing with that service.
    await stopRouting(platform);
    await platform.local.remove(["token", "config"]);
    await platform.local.set({ needsPairing: true });
    await platform.badge("!");
  }
  return { options: withDefaults(next), mustPair: moved && Boolean(token), needsHostPermission: !isLoopback(withDefaults(next).serviceUrl) };
}

export async function unpair(platform) {
  await stopRouting(platform);
  await platform.local.remove(["token", "profile", "config", "consent", "queue", "needsPairing"]);
  await platform.alarms.clear(HEARTBEAT_ALARM);
  await platform.badge("");
  return {};
}

export async function onInstalled(platform, details) {
  if (details.reason === "install") {
    await platform.openTab(platform.extensionUrl("welcome/welcome.html"));
  }
  await onStartup(platform);
}

export async function onStartup(platform) {
  const state = await loadState(platform);
  if (state.token && state.consent) {
    await ensureAlarm(platform);
    await restoreRouting(platform, state);
  }
  await platform.badge(state.needsPairing ? "!" : "");
}

/**
 * Chromium may start without the PAC script the extension set (a user test saw it after every restart with the
 * extension loaded unpacked): the social sites then went direct, with no warnings and no limits, until the person
 * switched routing off and on. Routing the person switched on is put back as the browser starts; a proxy setting
 * another extension or a policy holds is left alone (the popup says why).
 */
async function restoreRouting(platform, state) {
  if (!platform.chromeProxy || !state.routingEnabled || !state.consent?.routing || !state.config) {
    return;
  }
  const now = await platform.chromeProxy.get();
  const ours = now.levelOfControl === "controlled_by_this_extension" && now.value?.mode === "pac_script";
  if (!ours && now.levelOfControl === "controllable_by_this_extension") {
    await applyRouting(platform, state.config);
  }
}
