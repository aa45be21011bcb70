// A routed social site cannot load while Breather is down: the browser's "proxy server is refusing connections"
// page stands in its place. A reviewer's test had that page in front for a minute, and once Breather was back the
// queued heartbeats counted 1.5 minutes on reddit, which never showed. A page that loaded before Breather stopped
// stays on screen, and its time still counts; a site loaded directly (routing off) is counted as before.

import assert from "node:assert/strict";
import { test } from "node:test";

import { createPlatform } from "../lib/browser.js";
import { originPatterns } from "../lib/domains.js";
import * as controller from "../lib/controller.js";
import { fakeBrowser, fakeService } from "./fakes.js";

const at = (seconds) => new Date(Date.UTC(2026, 0, 5, 10, 0, seconds));

async function paired({ routing = true, firefox = false } = {}) {
  const raw = fakeBrowser({ firefox });
  const service = fakeService();
  service.status = { ...service.status, through_proxy: false };
  const platform = createPlatform(raw, service.fetch);
  if (firefox) {
    raw.world.grantedOrigins = new Set(originPatterns(["reddit.com"])); // x.com is not allowed: it goes direct
  }
  await controller.pair(platform, { code: "ABCD-1234", serviceUrl: "http://127.0.0.1:8765", routing, activity: true });
  return { raw, service, platform };
}

test("a routed page opened while Breather is down is not queued, nor counted once Breather is back", async () => {
  const { raw, service, platform } = await paired();
  service.up = false;
  await controller.tick(platform, at(0));
  await controller.tick(platform, at(30));
  assert.deepEqual(raw.storage.local.data.queue, [], "the browser's error page is not time on the site");
  service.up = true;
  const back = await controller.tick(platform, at(60)); // the error page is still in front
  assert.equal(back.heartbeat, null);
  assert.deepEqual(service.heartbeats, []);
  raw.world.activeTab.url = "https://www.reddit.com/r/cats/"; // the tab moves on, through Breather
  await controller.tick(platform, at(90));
  assert.deepEqual(
    service.heartbeats.map((beat) => [beat.at, beat.routed]),
    [[at(90).toISOString(), true]],
  );
});

test("a routed page that loaded before Breather stopped stays on screen: its heartbeats wait and arrive", async () => {
  const { raw, service, platform } = await paired();
  await controller.tick(platform, at(0));
  service.up = false;
  await controller.tick(platform, at(30));
  await controller.tick(platform, at(60));
  assert.equal(raw.storage.local.data.queue.length, 2);
  raw.world.activeTab.url = "https://www.reddit.com/r/cats/"; // a link followed while Breather is down fails
  await controller.tick(platform, at(90));
  assert.equal(raw.storage.local.data.queue.length, 2);
  service.up = true;
  raw.world.activeTab.url = "https://www.reddit.com/r/aww/"; // back to the page that had loaded
  await controller.tick(platform, at(120));
  assert.deepEqual(
    service.heartbeats.map((beat) => beat.at),
    [at(0), at(30), at(60), at(120)].map((moment) => moment.toISOString()),
  );
});

test("a failed page loaded again through Breather once it is back counts again", async () => {
  const { raw, service, platform } = await paired();
  service.up = false;
  await controller.tick(platform, at(0));
  service.up = true;
  raw.world.activeTab.status = "loading"; // reloaded: the tick catches it loading
  await controller.tick(platform, at(30));
  raw.world.activeTab.status = "complete";
  await controller.tick(platform, at(60));
  assert.deepEqual(
    service.heartbeats.map((beat) => beat.at),
    [at(60).toISOString()],
  );
});

test("a failed page counts again once the proxy sees the member's social traffic (reloaded between two ticks)", async () => {
  const { raw, service, platform } = await paired();
  service.up = false;
  await controller.tick(platform, at(0));
  service.up = true;
  await controller.tick(platform, at(30)); // not counted; the answer says the proxy saw nothing yet
  service.status = { ...service.status, through_proxy: true };
  await controller.tick(platform, at(60)); // not counted; the proxy has seen the page load again
  await controller.tick(platform, at(90));
  assert.deepEqual(service.heartbeats.map((beat) => beat.at), [at(90).toISOString()]);
  assert.equal(raw.storage.local.data.queue.length, 0);
});

test("with routing off the site loads directly: heartbeats wait while Breather is down, as before", async () => {
  const { raw, service, platform } = await paired({ routing: false });
  service.up = false;
  await controller.tick(platform, at(0));
  await controller.tick(platform, at(30));
  assert.equal(raw.storage.local.data.queue.length, 2);
  service.up = true;
  await controller.tick(platform, at(60));
  assert.deepEqual(
    service.heartbeats.map((beat) => [beat.at, beat.routed]),
    [at(0), at(30), at(60)].map((moment) => [moment.toISOString(), false]),
  );
});

test("Firefox: a site Firefox has not allowed the extension to route loads directly and is queued", async () => {
  const { raw, service, platform } = await paired({ firefox: true });
  service.up = false;
  await controller.tick(platform, at(0)); // reddit.com: routed, opened while Breather is down
  raw.world.activeTab.url = "https://x.com/home"; // not routed: loads directly
  await controller.tick(platform, at(30));
  assert.deepEqual(
    raw.storage.local.data.queue.map((item) => [item.body.site, item.body.routed]),
    [["x.com", false]],
  );
});

test("the pages remembered stay in this browser: no address is sent", async () => {
  const { service, platform } = await paired();
  await controller.tick(platform, at(0));
  assert.equal(JSON.stringify(service.heartbeats).includes("/r/aww"), false);
});
