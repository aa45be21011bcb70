import assert from "node:assert/strict";
import { test } from "node:test";

import { createMessageSwitch } from "../lib/messages.js";

test("a named message reaches its handler and the answer says ok", async () => {
  const dispatch = createMessageSwitch({ "take-break": async () => ({ sent: true }) });
  assert.deepEqual(await dispatch({ type: "take-break" }), { ok: true, sent: true });
});

test("an unknown or malformed message gets an answer instead of silence", async () => {
  const dispatch = createMessageSwitch({ unpair: async () => ({}) });
  assert.deepEqual(await dispatch({ type: "format-disk" }), { ok: false, error: 'unknown message type "format-disk"' });
  assert.deepEqual(await dispatch(null), { ok: false, error: "unknown message type undefined" });
  assert.equal((await dispatch({ type: "toString" })).ok, false);
});

test("a failing handler answers with its message", async () => {
  const dispatch = createMessageSwitch({
    pair: async () => {
      throw new Error("the pairing code looks like ABCD-1234");
    },
  });
  assert.deepEqual(await dispatch({ type: "pair" }), { ok: false, error: "the pairing code looks like ABCD-1234" });
});

test("a handler for a type that does not exist is a programming error caught at start-up", () => {
  assert.throws(() => createMessageSwitch({ "popup-stat": async () => ({}) }), /no message type named popup-stat/);
});
