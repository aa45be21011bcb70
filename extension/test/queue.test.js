import assert from "node:assert/strict";
import { test } from "node:test";

import { drain, enqueue } from "../lib/queue.js";

const offline = () => Object.assign(new Error("down"), { kind: "offline" });
const unauthorized = () => Object.assign(new Error("revoked"), { kind: "unauthorized" });

test("the queue keeps the newest items when it is full", () => {
  let queue = [];
  for (let n = 1; n <= 5; n += 1) {
    queue = enqueue(queue, n, 3);
  }
  assert.deepEqual(queue, [3, 4, 5]);
});

test("enqueue does not change the stored array it was given", () => {
  const stored = [1];
  const next = enqueue(stored, 2);
  assert.deepEqual(stored, [1]);
  assert.deepEqual(next, [1, 2]);
});

test("everything is sent in order when the service answers", async () => {
  const seen = [];
  const result = await drain([1, 2, 3], async (item) => {
    seen.push(item);
    return "sent";
  });
  assert.deepEqual(seen, [1, 2, 3]);
  assert.deepEqual(result, { remaining: [], sent: 3, rejected: 0, dropped: 0, stoppedBy: null });
});

test("when the service goes down mid-way the unsent items stay, in order, for later", async () => {
  const result = await drain([1, 2, 3, 4], async (item) => {
    if (item === 3) throw offline();
    return "sent";
  });
  assert.deepEqual(result.remaining, [3, 4]);
  assert.equal(result.sent, 2);
  assert.equal(result.stoppedBy, "offline");
});

test("an unexpected error counts as the service being down: nothing is lost", async () => {
  const result = await drain([1, 2], async () => {
    throw new TypeError("Failed to fetch");
  });
  assert.deepEqual(result.remaining, [1, 2]);
  assert.equal(result.stoppedBy, "offline");
});

test("a revoked token stops the flush and keeps the items for after pairing again", async () => {
  const result = await drain([1, 2], async () => {
    throw unauthorized();
  });
  assert.deepEqual(result.remaining, [1, 2]);
  assert.equal(result.stoppedBy, "unauthorized");
});

test("an item the service refuses for good is dropped so it cannot block the rest", async () => {
  const sent = [];
  const result = await drain([1, "bad", 2], async (item) => {
    if (item === "bad") return "rejected";
    sent.push(item);
    return "sent";
  });
  assert.deepEqual(sent, [1, 2]);
  assert.equal(result.rejected, 1);
  assert.deepEqual(result.remaining, []);
});
