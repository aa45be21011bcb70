// Loads the real background.js against a fake Firefox browser.* API: routing goes through proxy.onRequest.
import assert from "node:assert/strict";
import { test } from "node:test";

import { fakeBrowser, fakeService } from "./fakes.js";

const raw = fakeBrowser({ firefox: true });
const service = fakeService();
globalThis.browser = raw;
globalThis.fetch = service.fetch;
await import("../background.js");

const [{ listener: onRequest, extra }] = raw.proxy.onRequest.listeners;

test("proxy.onRequest is registered at the top level for all URLs", () => {
  assert.deepEqual(extra[0], { urls: ["<all_urls>"] });
});

test("before consent every request goes direct; afterwards only the social sites go to Breather", async () => {
  assert.deepEqual(await onRequest({ url: "https://www.reddit.com/" }), { type: "direct" });
  await raw.storage.local.set({
    routingEnabled: true,
    config: { domains: ["reddit.com"], proxy: { host: "127.0.0.1", port: 8080 }, fetchedAt: 0 },
  });
  // Ending in null: when Breather is down the social site waits for it instead of failing over to Firefox's own proxy.
  assert.deepEqual(await onRequest({ url: "https://www.reddit.com/" }), [{ type: "http", host: "127.0.0.1", port: 8080 }, null]);
  assert.deepEqual(await onRequest({ url: "https://mybank.example/" }), { type: "direct" });
  await raw.storage.local.set({ routingEnabled: false });
  assert.deepEqual(await onRequest({ url: "https://www.reddit.com/" }), { type: "direct" });
});
