import assert from "node:assert/strict";
import { test } from "node:test";
import vm from "node:vm";

import { createPlatform } from "../lib/browser.js";
import { originPatterns } from "../lib/domains.js";
import * as controller from "../lib/controller.js";
import { firefoxProxyFor } from "../lib/routing.js";
import { fakeBrowser, fakeService } from "./fakes.js";

const SERVICE_URL = "http://127.0.0.1:8765";

function setUp({ firefox = false, service = fakeService() } = {}) {
  const raw = fakeBrowser({ firefox });
  const platform = createPlatform(raw, service.fetch);
  return { raw, service, platform };
}

async function paired({ routing = true, ...options } = {}) {
  const world = setUp(options);
  const answer = await controller.pair(world.platform, {
    code: "abcd 1234",
    serviceUrl: SERVICE_URL,
    routing,
    activity: true,
  });
  return { ...world, answer };
}

function pacRoute(raw, url) {
  const context = vm.createContext({});
  vm.runInContext(raw.world.proxyState.extensionValue.pacScript.data, context);
  return context.FindProxyForURL(url, new URL(url).hostname);
}

test("pairing stores the token, routes only the service's domains through the proxy and starts heartbeats", async () => {
  const { raw, service, answer } = await paired();
  assert.equal(answer.profile, "me");
  assert.equal(service.pairedBrowser, "chrome");
  assert.equal(raw.storage.local.data.token, "token-1");
  assert.equal(raw.world.proxyState.levelOfControl, "controlled_by_this_extension");
  assert.equal(pacRoute(raw, "https://www.reddit.com/"), "PROXY 127.0.0.1:8080");
  assert.equal(pacRoute(raw, "https://mybank.example/"), "DIRECT");
  assert.equal(raw.alarms.all.get(controller.HEARTBEAT_ALARM).periodInMinutes, 0.5);
});

test("a wrong pairing code is refused with the service's words and nothing is stored", async () => {
  const { raw, platform } = setUp();
  await assert.rejects(
    controller.pair(platform, { code: "ZZZZ-9999", serviceUrl: SERVICE_URL, routing: true, activity: true }),
    /did not accept the code: unknown or expired code/,
  );
  assert.equal(raw.storage.local.data.token, undefined);
  assert.equal(raw.world.proxyState.extensionValue, null);
});

test("pairing while Breather is down says plainly how to start it", async () => {
  const service = fakeService();
  service.up = false;
  const { platform } = setUp({ service });
  await assert.rejects(
    controller.pair(platform, { code: "ABCD-1234", serviceUrl: SERVICE_URL, routing: true, activity: true }),
    /Breather is not running at http:\/\/127\.0\.0\.1:8765\. Start it with “breather run”/,
  );
});

test("without routing consent the browser's proxy settings are left alone", async () => {
  const { raw, platform } = setUp();
  await controller.pair(platform, { code: "ABCD-1234", serviceUrl: SERVICE_URL, routing: false, activity: true });
  assert.equal(raw.world.proxyState.extensionValue, null);
  assert.deepEqual(raw.world.proxyState.userValue, { mode: "system" });
});

test("a tick on a social tab sends one heartbeat with the site, focus and idle state", async () => {
  const { raw, service, platform } = await paired();
  raw.world.idle = "idle";
  raw.world.window.focused = false;
  const result = await controller.tick(platform, new Date("2026-01-05T10:00:00Z"));
  assert.equal(result.stoppedBy, null);
  assert.deepEqual(service.heartbeats, [
    { site: "reddit.com", visible: true, focused: false, idle: "idle", at: "2026-01-05T10:00:00.000Z", routed: true },
  ]);
  assert.equal(service.lastStatusSite, "reddit.com");
});

test("a tab playing sound counts as in use while the system says idle", async () => {
  const { raw, service, platform } = await paired();
  raw.world.idle = "idle";
  raw.world.activeTab.audible = true;
  await controller.tick(platform, new Date("2026-01-05T10:00:00Z"));
  assert.equal(service.heartbeats[0].idle, "active");
  raw.world.idle = "locked";
  await controller.tick(platform, new Date("2026-01-05T10:00:30Z"));
  assert.equal(service.heartbeats[1].idle, "locked");
});

test("nothing at all is sent about other sites", async () => {
  const { raw, service, platform } = await paired();
  raw.world.activeTab.url = "https://mybank.example/accounts/1234";
  await controller.tick(platform);
  assert.deepEqual(service.heartbeats, []);
  assert.equal(JSON.stringify(raw.storage.local.data).includes("mybank"), false);
});

test("heartbeats wait while the service is down and arrive in order, with their own times, when it is back", async () => {
  // Not routed, the social sites load directly while Breather is down (routed ones: routing-down.test.js).
  const { raw, service, platform } = await paired({ routing: false });
  service.up = false;
  await controller.tick(platform, new Date("2026-01-05T10:00:00Z"));
  raw.world.activeTab.url = "https://x.com/home";
  await controller.tick(platform, new Date("2026-01-05T10:00:30Z"));
  assert.equal(raw.storage.local.data.queue.length, 2);
  assert.equal(raw.storage.session.data.serviceDown, true);
  const popup = await controller.popupState(platform);
  assert.equal(popup.view, "down");
  service.up = true;
  await controller.tick(platform, new Date("2026-01-05T10:01:00Z"));
  assert.deepEqual(
    service.heartbeats.map((beat) => [beat.site, beat.at]),
    [
      ["reddit.com", "2026-01-05T10:00:00.000Z"],
      ["x.com", "2026-01-05T10:00:30.000Z"],
      ["x.com", "2026-01-05T10:01:00.000Z"],
    ],
  );
  assert.deepEqual(raw.storage.local.data.queue, []);
});

test("without consent to report activity nothing is sent, yet routing follows the service's domain list", async () => {
  const { raw, service, platform } = setUp();
  await controller.pair(platform, { code: "ABCD-1234", serviceUrl: SERVICE_URL, routing: true, activity: false });
  service.domains = ["reddit.com", "tiktok.com"];
  await controller.tick(platform, new Date(Date.now() + 10 * 60 * 1000));
  assert.deepEqual(service.heartbeats, []);
  assert.equal(pacRoute(raw, "https://www.tiktok.com/"), "PROXY 127.0.0.1:8080");
});

test("a revoked token asks to pair again, keeps the queued activity and marks the toolbar button", async () => {
  const { raw, service, platform } = await paired();
  service.revokeAll();
  const result = await controller.tick(platform);
  assert.equal(result.stoppedBy, "unauthorized");
  assert.equal(raw.storage.local.data.token, undefined);
  assert.equal(raw.storage.local.data.needsPairing, true);
  assert.equal(raw.storage.local.data.queue.length, 1);
  assert.equal(raw.world.badge, "!");
  assert.deepEqual(await controller.popupState(platform).then((state) => [state.view, state.revoked]), ["pair", true]);
  await controller.pair(platform, { code: "ABCD-1234", serviceUrl: SERVICE_URL, routing: true, activity: true });
  await controller.tick(platform);
  assert.equal(service.heartbeats.length, 2);
  assert.equal(raw.world.badge, "");
});

test("a restarted service worker carries on from storage alone", async () => {
  const { raw, service } = await paired();
  await controller.tick(createPlatform(raw, service.fetch)); // the page loads while Breather answers
  service.up = false;
  await controller.tick(createPlatform(raw, service.fetch));
  service.up = true;
  const fresh = createPlatform(raw, service.fetch);
  await controller.onStartup(fresh);
  await controller.tick(fresh);
  assert.equal(service.heartbeats.length, 3);
});

test("routing the browser lost over a restart is put back as it starts", async () => {
  const { raw, service } = await paired();
  raw.world.proxyState.extensionValue = null; // Chromium came back without the extension's PAC script
  raw.world.proxyState.levelOfControl = "controllable_by_this_extension";
  const fresh = createPlatform(raw, service.fetch);
  assert.equal((await controller.popupState(fresh)).routing.active, false);

  await controller.onStartup(fresh);

  assert.equal(pacRoute(raw, "https://www.reddit.com/r/all"), "PROXY 127.0.0.1:8080");
  assert.equal(pacRoute(raw, "https://example.org/"), "DIRECT");
  assert.deepEqual((await controller.popupState(fresh)).routing, {
    enabled: true,
    active: true,
    reason: null,
    missing: [],
    missingOrigins: [],
    others: { via: "direct", mode: "system" },
  });
});

test("a restart leaves routing off when the person switched it off, or another extension holds the proxy", async () => {
  const { raw, service, platform } = await paired();
  await controller.setRouting(platform, { enabled: false });
  await controller.onStartup(createPlatform(raw, service.fetch));
  assert.equal(raw.world.proxyState.extensionValue, null);

  await controller.setRouting(platform, { enabled: true });
  raw.world.proxyState.extensionValue = null;
  raw.world.proxyState.levelOfControl = "controlled_by_other_extensions";
  await controller.onStartup(createPlatform(raw, service.fetch));
  assert.equal(raw.world.proxyState.levelOfControl, "controlled_by_other_extensions");
  assert.equal(raw.storage.local.data.routingEnabled, true); // the person's choice is kept for when it is free again
});

test("the popup shows today's minutes against the limit, routing and the CA check", async () => {
  const { service, platform } = await paired();
  const state = await controller.popupState(platform);
  assert.equal(state.view, "status");
  assert.equal(state.status.minutes_today, 12);
  assert.equal(state.status.limit_minutes, 60);
  assert.equal(state.routing.active, true);
  assert.equal(state.caTrusted, true);
  assert.ok(service.requests.includes("GET reddit.com/__breather__/ping"));
  service.caTrusted = false;
  assert.equal((await controller.popupState(platform)).caTrusted, false);
});

test("switching routing off restores the proxy settings the browser had before", async () => {
  const { raw, platform } = await paired();
  await controller.setRouting(platform, { enabled: false });
  assert.equal(raw.world.proxyState.extensionValue, null);
  assert.equal(raw.world.proxyState.levelOfControl, "controllable_by_this_extension");
  assert.equal(raw.storage.local.data.routingEnabled, false);
  const state = await controller.popupState(platform);
  assert.equal(state.routing.active, false);
  assert.equal(state.caTrusted, null);
});

test("when another extension controls the proxy, routing is not forced and the popup says why", async () => {
  const { raw, platform } = setUp();
  raw.world.proxyState.levelOfControl = "controlled_by_other_extensions";
  const answer = await controller.pair(platform, { code: "ABCD-1234", serviceUrl: SERVICE_URL, routing: true, activity: true });
  assert.deepEqual(answer.routing, { routed: false, reason: "another extension controls the browser's proxy settings" });
  const state = await controller.popupState(platform);
  assert.match(state.routing.reason, /another extension/);
});

test("a changed domain list from the service re-routes the new site", async () => {
  const { raw, service, platform } = await paired();
  service.domains = ["reddit.com", "x.com", "tiktok.com"];
  await controller.refreshConfig(platform, { force: true });
  assert.equal(pacRoute(raw, "https://www.tiktok.com/"), "PROXY 127.0.0.1:8080");
});

test("a due break shows a notification whose buttons post break_taken and break_snoozed", async () => {
  const { raw, service, platform } = await paired();
  service.status = { ...service.status, next_break_in_s: 0 };
  const result = await controller.tick(platform);
  assert.deepEqual(result.notifications, ["breather:break:reddit.com"]);
  const shown = raw.world.notifications.get("breather:break:reddit.com");
  assert.deepEqual(shown.buttons, [{ title: "Take a break" }, { title: "5 more minutes" }]);
  await controller.onNotificationButton(platform, "breather:break:reddit.com", 1);
  await controller.onNotificationButton(platform, "breather:break:reddit.com", 0);
  assert.deepEqual(service.events, [
    { kind: "break_snoozed", site: "reddit.com" },
    { kind: "break_taken", site: "reddit.com" },
  ]);
  assert.equal(raw.world.notifications.has("breather:break:reddit.com"), false);
});

test("quiet hours coming are announced once, even across a service-worker restart", async () => {
  const { raw, service, platform } = await paired();
  service.status = { ...service.status, quiet_hours_change_in_s: 590 };
  const first = await controller.tick(platform, new Date("2026-01-05T21:50:10Z"));
  assert.deepEqual(first.notifications, ["breather:quietSoon:"]);
  assert.equal(raw.world.notifications.get("breather:quietSoon:").message, "Quiet hours start in 10 minutes.");
  raw.world.notifications.clear();
  const fresh = createPlatform(raw, service.fetch);
  await controller.onStartup(fresh);
  service.status = { ...service.status, quiet_hours_change_in_s: 560 };
  const afterRestart = await controller.tick(fresh, new Date("2026-01-05T21:50:40Z"));
  assert.deepEqual(afterRestart.notifications, []);
  assert.equal(raw.world.notifications.size, 0);
});

test("asking for 5 more minutes near the limit posts more_time_asked with the minutes", async () => {
  const { service, platform } = await paired();
  await controller.onNotificationButton(platform, "breather:limit:x.com", 1);
  assert.deepEqual(service.events, [{ kind: "more_time_asked", site: "x.com", minutes: 5 }]);
});

test("take a break now reaches the service later if it is down when pressed", async () => {
  const { service, platform } = await paired();
  service.up = false;
  assert.equal((await controller.takeBreak(platform)).sent, false);
  service.up = true;
  await controller.tick(platform);
  assert.deepEqual(service.events, [{ kind: "break_taken", site: "reddit.com" }]);
});

test("options with a mistake are refused whole, naming the field", async () => {
  const { raw, platform } = await paired();
  const answer = await controller.saveOptions(platform, { values: { notifyBreak: false, limitWarningMinutes: "lots" } });
  assert.equal(answer.ok, false);
  assert.match(answer.error, /Minutes before the limit to warn: expected a whole number/);
  assert.equal(raw.storage.local.data.options.notifyBreak, undefined);
});

test("moving to another service address asks to pair there", async () => {
  const { raw, platform } = await paired();
  const answer = await controller.saveOptions(platform, { values: { serviceUrl: "http://192.168.1.20:8765" } });
  assert.equal(answer.mustPair, true);
  assert.equal(answer.needsHostPermission, true);
  assert.equal(raw.storage.local.data.token, undefined);
  assert.equal(raw.world.proxyState.extensionValue, null);
});

test("Firefox routes through proxy.onRequest only once it may, and only the social sites", async () => {
  const { raw, service, platform, answer } = await paired({ firefox: true });
  assert.equal(service.pairedBrowser, "firefox");
  assert.equal(answer.routing.routed, false);
  assert.match(answer.routing.reason, /Firefox has not been allowed/);
  await assert.rejects(raw.permissions.request({ origins: ["*://*.reddit.com/*"] }), /not declared in the manifest/);
  await raw.permissions.request({ origins: originPatterns(["reddit.com", "x.com"]) });
  const result = await controller.setRouting(platform, { enabled: true });
  assert.equal(result.routing.active, true);
  const routing = { enabled: true, config: raw.storage.local.data.config };
  assert.deepEqual(firefoxProxyFor("https://old.reddit.com/", routing), [{ type: "http", host: "127.0.0.1", port: 8080 }, null]);
  assert.deepEqual(firefoxProxyFor("https://mybank.example/", routing), { type: "direct" });
  assert.deepEqual(firefoxProxyFor("https://x.com/", { ...routing, enabled: false }), { type: "direct" });
});

test("Firefox notifications have no buttons (it cannot show them)", async () => {
  const { raw, service, platform } = await paired({ firefox: true });
  service.status = { ...service.status, next_break_in_s: 0 };
  await controller.tick(platform);
  assert.equal(raw.world.notifications.get("breather:break:reddit.com").buttons, undefined);
});

test("the first install opens the consent page", async () => {
  const { raw, platform } = setUp();
  await controller.onInstalled(platform, { reason: "install" });
  assert.deepEqual(raw.world.createdTabs, ["chrome-extension://breather-test/welcome/welcome.html"]);
  await controller.onInstalled(platform, { reason: "update" });
  assert.equal(raw.world.createdTabs.length, 1);
});

test("unpairing stops routing, heartbeats and forgets the token", async () => {
  const { raw, platform } = await paired();
  await controller.unpair(platform);
  assert.equal(raw.world.proxyState.extensionValue, null);
  assert.equal(raw.alarms.all.size, 0);
  assert.equal(raw.storage.local.data.token, undefined);
  assert.equal((await controller.popupState(platform)).view, "welcome");
});
