// Findings of a review of the extension's worker: consent on re-pairing, the person's own proxy while routing is on,
// a service that answers with errors, notifications, half pairing, a site added to the rules, the update line.
// Logic against the fake browser and service.
import assert from "node:assert/strict";
import { test } from "node:test";
import vm from "node:vm";

import { createPlatform } from "../lib/browser.js";
// Namespaces, not named imports: on the code before these fixes each test fails on its own finding.
import * as controller from "../lib/controller.js";
import * as describe from "../lib/describe.js";
import * as queue from "../lib/queue.js";
import { firefoxProxyFor } from "../lib/routing.js";
import { CODE_VERSION } from "../lib/version.js";
import { fakeBrowser, fakeService } from "./fakes.js";

const SERVICE_URL = "http://127.0.0.1:8765";
const CONSENT = { code: "ABCD-1234", serviceUrl: SERVICE_URL, routing: true, activity: true };

function setUp({ firefox = false, service = fakeService() } = {}) {
  const raw = fakeBrowser({ firefox });
  // Through service.fetch as it is at each call, so a test can make the service fail later.
  return { raw, service, platform: createPlatform(raw, (url, init) => service.fetch(url, init)) };
}

async function paired(options = {}) {
  const world = setUp(options);
  await controller.pair(world.platform, CONSENT);
  return world;
}

function pacRoute(raw, url) {
  const context = vm.createContext({});
  vm.runInContext(raw.world.proxyState.extensionValue.pacScript.data, context);
  return context.FindProxyForURL(url, new URL(url).hostname);
}

function firefoxRoute(raw, url) {
  const stored = raw.storage.local.data;
  return firefoxProxyFor(url, { enabled: Boolean(stored.routingEnabled), config: stored.config });
}

/** The service answers `status` (and a JSON error) on `path`, everything else as usual. */
function failing(service, path, status = 500, message = "database is locked") {
  const real = service.fetch;
  service.fetch = async (url, init) =>
    new URL(url).pathname === path
      ? new Response(JSON.stringify({ error: "InternalError", message }), { status, headers: { "Content-Type": "application/json" } })
      : real(url, init);
  return () => {
    service.fetch = real;
  };
}

const routingLine = async (platform) => describe.describeStatus(await controller.popupState(platform)).routing;

// 1
test("pairing again with routing unticked, after the dashboard unpaired this browser, gives Chrome its own proxy back", async () => {
  const { raw, service, platform } = await paired();
  service.revokeAll();
  await controller.tick(platform); // the dashboard unpaired this browser: the token is forgotten
  await controller.pair(platform, { ...CONSENT, routing: false });
  assert.equal(raw.world.proxyState.extensionValue, null);
  assert.deepEqual(raw.world.proxyState.userValue, { mode: "system" });
  const state = await controller.popupState(platform);
  assert.equal(state.routing.enabled, false, "the popup's switch shows routing on");
  assert.match(describe.describeStatus(state).routing, /do not go through Breather: routing is off/);
});

test("Firefox: pairing again with routing unticked sends the social sites direct again", async () => {
  const { raw, service, platform } = await paired({ firefox: true });
  service.revokeAll();
  await controller.tick(platform);
  await controller.pair(platform, { ...CONSENT, routing: false });
  assert.deepEqual(firefoxRoute(raw, "https://www.reddit.com/"), { type: "direct" });
});

// 3
test("Chrome: with the person's own proxy set before, other sites keep going through it while routing is on", async () => {
  const { raw, service, platform } = setUp();
  raw.world.proxyState.userValue = {
    mode: "fixed_servers",
    rules: { singleProxy: { scheme: "http", host: "corp-proxy", port: 3128 }, bypassList: ["*.corp.example", "10.0.0.0/8", "<local>"] },
  };
  const paired = await controller.pair(platform, CONSENT);
  assert.deepEqual(paired.routing.others, { via: "proxy", proxy: "corp-proxy:3128" }, "the welcome page says where");
  assert.equal(pacRoute(raw, "https://www.reddit.com/"), "PROXY 127.0.0.1:8080");
  assert.equal(pacRoute(raw, "https://news.example.org/"), "PROXY corp-proxy:3128");
  assert.equal(pacRoute(raw, "https://wiki.corp.example/"), "DIRECT", "the person's bypass list is kept");
  assert.equal(pacRoute(raw, "http://10.1.2.3/"), "DIRECT");
  assert.equal(pacRoute(raw, "http://printer/"), "DIRECT");
  assert.equal(await routingLine(platform), "Social sites go through Breather; everything else goes through your own proxy (corp-proxy:3128), as before.");

  service.domains = ["reddit.com", "x.com", "tiktok.com"]; // a new PAC replaces Breather's own: still chained
  await controller.refreshConfig(platform, { force: true });
  assert.equal(pacRoute(raw, "https://www.tiktok.com/"), "PROXY 127.0.0.1:8080");
  assert.equal(pacRoute(raw, "https://news.example.org/"), "PROXY corp-proxy:3128");

  await controller.setRouting(platform, { enabled: false });
  assert.equal(raw.world.proxyState.extensionValue, null);
  assert.equal(raw.world.proxyState.userValue.rules.singleProxy.host, "corp-proxy");
});

test("Chrome: system settings or a proxy script, which a PAC cannot pass sites on to, are named in the popup", async () => {
  const system = await paired();
  assert.equal(
    await routingLine(system.platform),
    "Social sites go through Breather; everything else goes direct while routing is on, even where your system's " +
      "proxy settings name a proxy (Chrome cannot combine the two).",
  );
  const { raw, platform } = setUp();
  raw.world.proxyState.userValue = { mode: "pac_script", pacScript: { url: "http://wpad.corp.example/proxy.pac" } };
  await controller.pair(platform, CONSENT);
  assert.equal(pacRoute(raw, "https://news.example.org/"), "DIRECT");
  assert.match(await routingLine(platform), /everything else goes direct while routing is on, not through your own proxy script/);
});

test("Chrome: a previous proxy whose address is not one is never written into the PAC", async () => {
  const { raw, platform } = setUp();
  raw.world.proxyState.userValue = {
    mode: "fixed_servers",
    rules: { singleProxy: { host: "corp\";alert(1);//", port: 3128 }, bypassList: ["x\"]);alert(2);//"] },
  };
  await controller.pair(platform, CONSENT);
  const pac = raw.world.proxyState.extensionValue.pacScript.data;
  assert.doesNotMatch(pac, /alert/);
  assert.equal(pacRoute(raw, "https://news.example.org/"), "DIRECT");
  assert.match(await routingLine(platform), /goes direct while routing is on, not through the proxy you set/);
});

// 4
test("the popup says Breather answered with an error, not that it is not running", async () => {
  const { service, platform } = await paired();
  const restore = failing(service, "/api/v1/status");
  const state = await controller.popupState(platform);
  assert.equal(state.view, "error");
  assert.equal(describe.errorText?.(state.problem), "Breather answered with an error: database is locked.");
  restore();
  service.up = false;
  assert.equal((await controller.popupState(platform)).view, "down");
});

test("a heartbeat the service keeps failing (5xx) does not stop notifications and is dropped after a few tries", async () => {
  const { raw, service, platform } = await paired();
  const restore = failing(service, "/api/v1/heartbeat");
  service.status = { ...service.status, next_break_in_s: 0 };
  const first = await controller.tick(platform, new Date("2026-01-05T10:00:00Z"));
  assert.deepEqual(first.notifications, ["breather:break:reddit.com"], "the due break is not notified");
  assert.equal(raw.storage.session.data.serviceDown, false);
  for (let tick = 1; tick < 3; tick += 1) {
    await controller.tick(platform, new Date(Date.UTC(2026, 0, 5, 10, 0, 30 * tick)));
  }
  restore();
  await controller.tick(platform, new Date("2026-01-05T10:01:30Z"));
  // The first heartbeat failed three times and was dropped; the later ones arrive, in order.
  assert.deepEqual(
    service.heartbeats.map((beat) => beat.at),
    ["2026-01-05T10:00:30.000Z", "2026-01-05T10:01:00.000Z", "2026-01-05T10:01:30.000Z"],
  );
  assert.deepEqual(raw.storage.local.data.queue, []);
});

// 5
test("'limit near' with no social site in front offers no '5 more minutes' (there is no site to ask for)", async () => {
  const { raw, service, platform } = await paired();
  raw.world.activeTab.url = "https://mail.example/";
  service.status = { ...service.status, minutes_today: 57, limit_minutes: 60 };
  await controller.tick(platform);
  assert.deepEqual(raw.world.notifications.get("breather:limit:").buttons, [{ title: "Take a break" }]);
  await controller.onNotificationButton(platform, "breather:limit:", 1);
  assert.deepEqual(service.events, []);
  const onSite = await paired();
  onSite.raw.world.activeTab.url = "https://x.com/home";
  onSite.service.status = { ...onSite.service.status, minutes_today: 57, limit_minutes: 60 };
  await controller.tick(onSite.platform);
  assert.equal(onSite.raw.world.notifications.get("breather:limit:x.com").buttons.length, 2);
});

// 6
test("opening the popup as quiet hours begin does not swallow 'Quiet hours are starting'", async () => {
  const { raw, service, platform } = await paired();
  await controller.tick(platform, new Date("2026-01-05T21:59:40Z"));
  service.status = { ...service.status, quiet_hours: true, quiet_hours_change_in_s: 32400 };
  await controller.popupState(platform); // the person opens the popup at 22:00:05
  const result = await controller.tick(platform, new Date("2026-01-05T22:00:10Z"));
  assert.deepEqual(result.notifications, ["breather:quiet:"]);
  assert.equal(raw.world.notifications.get("breather:quiet:").title, "Quiet hours are starting");
});

// 7
test("'limit near' stays once a day across a browser restart (which empties storage.session)", async () => {
  const { raw, service, platform } = await paired();
  service.status = { ...service.status, minutes_today: 57, limit_minutes: 60 };
  const first = await controller.tick(platform, new Date("2026-01-05T15:00:00"));
  assert.deepEqual(first.notifications, ["breather:limit:reddit.com"]);
  for (const key of Object.keys(raw.storage.session.data)) delete raw.storage.session.data[key];
  const restarted = createPlatform(raw, platform.fetch);
  await controller.onStartup(restarted);
  const again = await controller.tick(restarted, new Date("2026-01-05T15:05:00"));
  assert.deepEqual(again.notifications, []);
  const tomorrow = await controller.tick(restarted, new Date("2026-01-06T15:00:00"));
  assert.deepEqual(tomorrow.notifications, ["breather:limit:reddit.com"]);
});

// 8
test("a config the extension cannot use leaves the browser unpaired, saying why and that a new code is needed", async () => {
  for (const breakIt of [
    (service) => void (service.proxy = { host: "a b", port: 8080 }),
    (service) => failing(service, "/api/v1/config"),
  ]) {
    const service = fakeService();
    breakIt(service);
    const { raw, platform } = setUp({ service });
    await assert.rejects(controller.pair(platform, CONSENT), /this browser is not paired\. Get a new code on the dashboard's Setup page/);
    assert.equal(raw.storage.local.data.token, undefined, "a token is kept that nothing uses");
    assert.equal(raw.storage.local.data.consent, undefined);
    assert.equal(raw.world.proxyState.extensionValue, null);
    assert.equal((await controller.popupState(platform)).view, "welcome");
  }
});

test("a proxy at an IPv6 address, in brackets, is routed to in Chrome and Firefox", async () => {
  const chrome = await paired({ service: fakeService({ proxy: { host: "[::1]", port: 8080 } }) });
  assert.equal(pacRoute(chrome.raw, "https://www.reddit.com/"), "PROXY [::1]:8080");
  assert.equal(chrome.raw.alarms.all.size, 1);
  const firefox = await paired({ firefox: true, service: fakeService({ proxy: { host: "[::1]", port: 8080 } }) });
  assert.deepEqual(firefoxRoute(firefox.raw, "https://www.reddit.com/"), [{ type: "http", host: "::1", port: 8080 }, null]);
});

// 9
test("Chrome: a site added to the rules goes through Breather from the next tick, not five minutes later", async () => {
  const { raw, service, platform } = await paired();
  const t0 = raw.storage.local.data.config.fetchedAt;
  service.domains = ["reddit.com", "x.com", "tiktok.com"];
  await controller.tick(platform, new Date(t0 + 30 * 1000));
  assert.equal(pacRoute(raw, "https://www.tiktok.com/"), "PROXY 127.0.0.1:8080");
});

test("a service that does not name its config version is asked for the config every five minutes, as before", async () => {
  const { raw, service, platform } = await paired({ service: fakeService({ configVersion: false }) });
  const t0 = raw.storage.local.data.config.fetchedAt;
  const configRequests = () => service.requests.filter((request) => request.endsWith("/api/v1/config")).length;
  const before = configRequests();
  for (let s = 30; s < 300; s += 30) await controller.tick(platform, new Date(t0 + s * 1000));
  assert.equal(configRequests(), before);
  await controller.tick(platform, new Date(t0 + 300 * 1000));
  assert.equal(configRequests(), before + 1);
});

// 10
test("the update line asks only for a newer version, compared as numbers", async () => {
  const older = await paired({ service: fakeService({ extensionVersion: "0.0.1" }) });
  assert.equal((await controller.popupState(older.platform)).update, null);
  const [major, minor] = CODE_VERSION.split(".").map(Number);
  const newer = `${major}.${minor + 10}.0`; // "0.12.0" after "0.2.1": newer as numbers, older as text
  const updated = await paired({ service: fakeService({ extensionVersion: newer }) });
  assert.equal((await controller.popupState(updated.platform)).update?.expected, newer);
});

test("versions compare part by part as numbers", () => {
  const newer = controller.isNewerVersion;
  assert.equal(newer?.("0.10.0", "0.9.2"), true);
  assert.equal(newer("0.2.1", "0.2.1"), false);
  assert.equal(newer("0.1.9", "0.2.1"), false);
  assert.equal(newer("1.0", "0.9.9"), true);
  assert.equal(newer("0.2.1.1", "0.2.1"), true);
  assert.equal(newer("soon", "0.2.1"), false);
  assert.equal(newer(null, "0.2.1"), false);
});

test("queue: an item the service fails with a 5xx is tried SERVER_TRIES times, then dropped so the rest go on", async () => {
  const serverError = () => Object.assign(new Error("database is locked"), { kind: "server" });
  let items = [{ body: "bad" }, { body: "good" }];
  const sent = [];
  const send = async (item) => {
    if (item.body === "bad") throw serverError();
    sent.push(item.body);
    return "sent";
  };
  for (let attempt = 1; attempt < queue.SERVER_TRIES; attempt += 1) {
    const result = await queue.drain(items, send);
    assert.equal(result.stoppedBy, "server");
    assert.deepEqual(result.remaining.map((item) => item.body), ["bad", "good"]);
    items = result.remaining;
  }
  const last = await queue.drain(items, send);
  assert.deepEqual([last.stoppedBy, last.dropped, last.remaining, sent], [null, 1, [], ["good"]]);
});

test("Chrome: a previous setting that sent everything direct is not announced as a proxy left out", async () => {
  for (const userValue of [{ mode: "direct" }, { mode: "fixed_servers", rules: { bypassList: ["<local>"] } }]) {
    const { raw, platform } = setUp();
    raw.world.proxyState.userValue = userValue;
    await controller.pair(platform, CONSENT);
    assert.equal(await routingLine(platform), "Social sites go through Breather; everything else goes direct.", JSON.stringify(userValue));
  }
});
