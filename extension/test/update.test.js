// After `git pull` Chromium kept running the extension's old code (a user test: its routing was not put back after
// a browser restart, so social sites went direct) and nothing told the person to reload it. Chromium 156 re-reads
// the manifest of an unpacked extension as it starts but keeps the worker's old code from its cache, so the code
// knows its own version (lib/version.js), and the popup says when this browser runs another version than the one in
// its folder or the one the service ships.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { createPlatform } from "../lib/browser.js";
import * as controller from "../lib/controller.js";
import { updateText } from "../lib/describe.js";
import { CODE_VERSION } from "../lib/version.js";
import { fakeBrowser, fakeService } from "./fakes.js";

const SERVICE_URL = "http://127.0.0.1:8765";
const NEWER = "99.0.0";

async function pairedWith({ shipped = undefined, onDisk = CODE_VERSION, firefox = false, installType = "development" }) {
  const service = fakeService({ extensionVersion: shipped });
  const raw = fakeBrowser({ firefox });
  raw.world.installType = installType;
  const platform = createPlatform(raw, service.fetch);
  await controller.pair(platform, { code: "ABCD-1234", serviceUrl: SERVICE_URL, routing: true, activity: true });
  raw.world.manifestVersion = onDisk; // `git pull` after pairing
  return { raw, service, platform };
}

test("the code's own version is the manifest's", () => {
  const manifest = JSON.parse(readFileSync(new URL("../manifest.json", import.meta.url), "utf8"));
  assert.equal(CODE_VERSION, manifest.version, "lib/version.js's CODE_VERSION must be manifest.json's version");
});

test("old code under a newer manifest (Chromium's worker cache after `git pull`) says so, and never reloads itself", async () => {
  // Not by itself: in Chromium 156 with --load-extension a runtime.reload() leaves the extension unloaded until the
  // browser restarts, routing included; the person presses the button when they choose.
  const { raw, platform } = await pairedWith({ onDisk: NEWER });
  await controller.onStartup(platform);
  await controller.onInstalled(platform, { reason: "update" });
  assert.equal(raw.world.reloads, 0);
  assert.deepEqual((await controller.popupState(platform)).update, { running: CODE_VERSION, expected: NEWER, how: "button" });
});

test("an unpacked extension older than its service's says so, with the reload button", async () => {
  const { platform } = await pairedWith({ shipped: NEWER });
  const state = await controller.popupState(platform);
  assert.equal(state.view, "status");
  assert.deepEqual(state.update, { running: CODE_VERSION, expected: NEWER, how: "button" });
  const text = updateText(state.update);
  assert.equal(
    text.update,
    "Breather was updated: reload this extension (chrome://extensions → ⟳ Breather) so it runs the new version " +
      `(${NEWER}; this browser runs ${CODE_VERSION}).`,
  );
  assert.equal(text.reloadButton, true);
});

test("the same version, or a service that does not say (an installed wheel), shows nothing", async () => {
  for (const shipped of [CODE_VERSION, undefined]) {
    const { platform } = await pairedWith({ shipped });
    const state = await controller.popupState(platform);
    assert.equal(state.update, null, `service ships ${shipped}`);
    assert.deepEqual(updateText(state.update), { update: "", reloadButton: false });
  }
});

test("a service updated while the browser runs is noticed at the next config refresh", async () => {
  const { service, platform } = await pairedWith({ shipped: CODE_VERSION });
  service.extensionVersion = NEWER; // `git pull`, `make run`
  assert.equal((await controller.popupState(platform)).update, null); // the config is at most five minutes old
  await controller.tick(platform, new Date(Date.now() + 6 * 60 * 1000));
  assert.equal((await controller.popupState(platform)).update?.expected, NEWER);
});

test("a Firefox temporary add-on is told to reload in about:debugging, without a button", async () => {
  const { platform } = await pairedWith({ shipped: NEWER, firefox: true });
  const text = updateText((await controller.popupState(platform)).update);
  assert.match(text.update, /about:debugging → This Firefox → Breather → Reload/);
  assert.equal(text.reloadButton, false);
});

test("a packed install is told to install the new version: reloading it would run the same old one", async () => {
  const { platform } = await pairedWith({ shipped: NEWER, installType: "normal" });
  const text = updateText((await controller.popupState(platform)).update);
  assert.match(text.update, /install its new version in this browser/);
  assert.equal(text.reloadButton, false);
});
