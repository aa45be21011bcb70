// Loads the real background.js against the fake chrome.* API, the way the browser does after evicting the worker.
import assert from "node:assert/strict";
import { test } from "node:test";

import { fakeBrowser, fakeService } from "./fakes.js";

const raw = fakeBrowser();
const service = fakeService();
globalThis.chrome = raw;
globalThis.fetch = service.fetch;
await import("../background.js");

function ask(message, sender = { id: raw.runtime.id }) {
  return new Promise((resolve) => {
    const [keptOpen] = raw.runtime.onMessage.fire(message, sender, resolve);
    if (!keptOpen) resolve("no answer");
  });
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

test("every listener is registered at the top level, as soon as the worker starts", () => {
  for (const event of [raw.runtime.onInstalled, raw.runtime.onStartup, raw.runtime.onMessage, raw.alarms.onAlarm]) {
    assert.equal(event.listeners.length, 1);
  }
  assert.equal(raw.notifications.onButtonClicked.listeners.length, 1);
  assert.equal(raw.notifications.onClicked.listeners.length, 1);
});

test("messages from other extensions or web pages are ignored", async () => {
  assert.equal(await ask({ type: "unpair" }, { id: "someone-else" }), "no answer");
});

test("the pages talk to the worker through the message switch, and alarms send heartbeats", async () => {
  assert.equal((await ask({ type: "popup-state" })).view, "welcome");
  const paired = await ask({ type: "pair", code: "ABCD-1234", serviceUrl: "http://127.0.0.1:8765", routing: true, activity: true });
  assert.equal(paired.ok, true, paired.error);
  raw.alarms.onAlarm.fire({ name: "breather-heartbeat" });
  await settle();
  assert.deepEqual(service.heartbeats.map((beat) => beat.site), ["reddit.com"]);
  const state = await ask({ type: "popup-state" });
  assert.equal(state.view, "status");
  assert.equal(state.status.minutes_today, 12);
});

test("installing opens the consent page", async () => {
  raw.runtime.onInstalled.fire({ reason: "install" });
  await settle();
  assert.ok(raw.world.createdTabs.includes("chrome-extension://breather-test/welcome/welcome.html"));
});
