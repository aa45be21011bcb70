// Findings of a user test with Firefox ESR: a site added to the rules, private windows, a temporary install, the
// CA check with an unreachable site, and what the pages promise. Logic against the fake browser and service.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { createPlatform } from "../lib/browser.js";
// Namespaces, not named imports: on the code before these fixes each test fails on its own finding.
import * as describe from "../lib/describe.js";
import * as domains from "../lib/domains.js";
import * as controller from "../lib/controller.js";
import { OPTIONS } from "../lib/options.js";
import { firefoxProxyFor } from "../lib/routing.js";
import { fakeBrowser, fakeService } from "./fakes.js";

const { describeStatus } = describe;
const { originPatterns } = domains;
const SERVICE_URL = "http://127.0.0.1:8765";

async function paired({ firefox = false, service = fakeService(), allow = true } = {}) {
  const raw = fakeBrowser({ firefox });
  const platform = createPlatform(raw, service.fetch);
  const answer = await controller.pair(platform, { code: "ABCD-1234", serviceUrl: SERVICE_URL, routing: true, activity: true });
  if (firefox && allow) {
    // What the welcome page's "Allow routing" does from its click.
    await raw.permissions.request({ origins: originPatterns(answer.domains) });
    await controller.setRouting(platform, { enabled: true });
  }
  return { raw, service, platform, answer };
}

function routedBy(raw, url) {
  return firefoxProxyFor(url, { enabled: raw.storage.local.data.routingEnabled, config: raw.storage.local.data.config });
}

test("Firefox: a site added to the rules does not switch routing off for the sites already allowed", async () => {
  const { raw, service, platform } = await paired({ firefox: true });
  assert.deepEqual(routedBy(raw, "https://old.reddit.com/"), [{ type: "http", host: "127.0.0.1", port: 8080 }, null]);
  service.domains = ["reddit.com", "x.com", "lobste.rs"];
  await controller.refreshConfig(platform, { force: true });
  assert.equal(raw.storage.local.data.routingEnabled, true, "the new domain switched routing off");
  assert.deepEqual(routedBy(raw, "https://old.reddit.com/"), [{ type: "http", host: "127.0.0.1", port: 8080 }, null]);

  const state = await controller.popupState(platform);
  assert.equal(state.routing.active, true);
  assert.deepEqual(state.routing.missing, ["lobste.rs"]);
  assert.deepEqual(state.routing.missingOrigins, originPatterns(["lobste.rs"]));
  const text = describeStatus(state);
  assert.equal(text.routingOk, true);
  assert.match(text.permission, /^1 site needs Firefox's OK before going through Breather: lobste\.rs\./);
  assert.match(text.permission, /The other social sites go through Breather\./);

  // Told once by a notification (the extension notifies already); a click on it opens the popup page.
  const notice = raw.world.notifications.get(controller.PERMISSION_NOTICE_ID);
  assert.ok(notice, "no notification about the new site");
  assert.match(notice.title, /^1 new site needs Firefox's OK$/);
  assert.match(notice.message, /lobste\.rs/);
  raw.world.notifications.clear();
  service.domains = ["reddit.com", "x.com", "lobste.rs", "x.org"];
  await controller.refreshConfig(platform, { force: true });
  assert.match(raw.world.notifications.get(controller.PERMISSION_NOTICE_ID).title, /^2 new sites need/);
  raw.world.notifications.clear();
  await controller.refreshConfig(platform, { force: true });
  assert.equal(raw.world.notifications.size, 0, "the same waiting sites are announced once");

  // The popup's button asks for exactly the missing origins; then nothing waits.
  const asked = (await controller.popupState(platform)).routing.missingOrigins;
  assert.deepEqual(asked, originPatterns(["lobste.rs", "x.org"]));
  await raw.permissions.request({ origins: asked });
  const after = await controller.setRouting(platform, { enabled: true });
  assert.deepEqual(after.routing.missing, []);
  assert.equal(describeStatus({ ...(await controller.popupState(platform)) }).permission, "");
});

test("Firefox: routing not allowed yet is said as such in the popup, not as 'routing is off'", async () => {
  const { platform } = await paired({ firefox: true, allow: false });
  const state = await controller.popupState(platform);
  assert.equal(state.routing.enabled, true);
  assert.equal(state.routing.active, false);
  assert.match(state.routing.reason, /Firefox has not been allowed/);
  assert.deepEqual(state.routing.missingOrigins, originPatterns(["reddit.com", "x.com"]));
  assert.match(describeStatus(state).routing, /Firefox has not been allowed/);
  // Switched on again without the permission (the person said no): still the real reason.
  const again = await controller.setRouting(platform, { enabled: true });
  assert.match(again.routing.reason, /Firefox has not been allowed/);
});

test("private windows left out by the browser are said plainly, with how to include them", async () => {
  const firefox = await paired({ firefox: true });
  const state = await controller.popupState(firefox.platform);
  assert.deepEqual(state.notes, { browser: "firefox", privateAllowed: false, installType: "normal" });
  assert.match(describeStatus(state).privateWindows, /about:addons → Breather → “Run in Private Windows” → Allow/);
  assert.deepEqual(firefox.answer.notes.privateAllowed, false, "the welcome page's last step is told too");
  firefox.raw.world.incognitoAllowed = true;
  assert.equal(describeStatus(await controller.popupState(firefox.platform)).privateWindows, "");

  const chrome = await paired();
  assert.match(describeStatus(await controller.popupState(chrome.platform)).privateWindows, /Allow in Incognito/);
});

test("a temporary Firefox add-on is flagged (it is gone when Firefox closes); Chrome's unpacked install is not", async () => {
  const firefox = await paired({ firefox: true });
  firefox.raw.world.installType = "development";
  assert.match(describeStatus(await controller.popupState(firefox.platform)).temporary, /temporary add-on/);
  const chrome = await paired();
  chrome.raw.world.installType = "development";
  assert.equal(describeStatus(await controller.popupState(chrome.platform)).temporary, "");
});

test("the CA check tries one site per family and blames the certificate only as one possibility", async () => {
  const service = fakeService({ domains: ["api.twitter.com", "twitter.com", "news.ycombinator.com"] });
  const { platform } = await paired({ service });
  service.unreachable.add("twitter.com");
  service.unreachable.add("api.twitter.com");
  const state = await controller.popupState(platform);
  assert.equal(state.caTrusted, true, "one unreachable site made the CA look untrusted");
  service.unreachable.add("news.ycombinator.com");
  const none = await controller.popupState(platform);
  assert.equal(none.caTrusted, false);
  const text = describeStatus(none).ca;
  assert.match(text, /tried api\.twitter\.com, news\.ycombinator\.com, twitter\.com/);
  assert.match(text, /cannot be reached right now/);
  assert.deepEqual(domains.caProbeDomains(["a.one.com", "b.one.com", "c.one.com", "two.com", "x.three.com"], 4), [
    "a.one.com",
    "two.com",
    "x.three.com",
    "b.one.com",
  ]);
  assert.deepEqual(
    domains.caProbeDomains(["api.twitter.com", "twitter.com", "api.x.com", "x.com", "old.reddit.com", "reddit.com"]),
    ["api.twitter.com", "api.x.com", "old.reddit.com", "twitter.com", "x.com", "reddit.com"],
  );
});

test("what the pages promise holds in both browsers", () => {
  const notifyBreak = OPTIONS.find((option) => option.key === "notifyBreak");
  assert.match(notifyBreak.help, /Firefox shows no buttons/);
  const welcome = readFileSync(new URL("../welcome/welcome.html", import.meta.url), "utf8");
  for (const id of ["consent-activity", "consent-routing"]) {
    const box = new RegExp(`<input[^>]*id="${id}"[^>]*>`).exec(welcome)?.[0];
    assert.ok(box, id);
    assert.doesNotMatch(box, /\bchecked\b/, `${id} must not come ticked`);
  }
  assert.match(describe.toolbarText("firefox"), /puzzle piece → the gear next to Breather → “Pin to Toolbar”/);
  assert.match(describe.toolbarText("chrome"), /puzzle piece → the pin next to Breather/);
});
