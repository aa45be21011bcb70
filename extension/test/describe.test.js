import assert from "node:assert/strict";
import { test } from "node:test";

import { describeStatus, roundLikeDashboard } from "../lib/describe.js";

const status = {
  minutes_today: 41.6,
  limit_minutes: 60,
  next_break_in_s: 170,
  decision: { kind: "allow", reason: "within your limits" },
  quiet_hours: false,
  through_proxy: true,
};
const routed = { enabled: true, active: true, reason: null };

test("the popup reads minutes against the limit and the time to the next break", () => {
  const text = describeStatus({ status, routing: routed, caTrusted: true });
  assert.equal(text.minutes, 42);
  assert.equal(text.limit, " of 60");
  assert.equal(text.nextBreak, "Next break in 3 minutes.");
  assert.equal(text.routing, "Social sites go through Breather; everything else goes direct.");
  assert.equal(text.ca, "This browser trusts Breather's certificate.");
});

test("the decision is told in the person's own words when the service sends them", () => {
  const told = { ...status, decision: { kind: "allow", reason: "Allowed for sam: 41m of 1h", message: "You have used 41 minutes of your 1 hour on all sites today." } };
  assert.equal(describeStatus({ status: told, routing: routed, caTrusted: true }).decision, told.decision.message);
  assert.equal(describeStatus({ status, routing: routed, caTrusted: true }).decision, "within your limits");
});

test("a due break, no limit and quiet hours are said plainly", () => {
  const text = describeStatus({
    status: { ...status, limit_minutes: null, next_break_in_s: 0, quiet_hours: true },
    routing: routed,
    caTrusted: null,
  });
  assert.equal(text.limit, " (no daily limit)");
  assert.equal(text.limitFraction, null);
  assert.equal(text.nextBreak, "A break is due now.");
  assert.equal(text.decision, "Quiet hours: social sites are paused.");
  assert.equal(text.ca, "");
});

test("once the sites are closed there is no next break to tell, and no claim that none is set", () => {
  // A user test's popup at the limit said "No break reminders are set." for a profile with a break every minute.
  const limit = {
    ...status,
    next_break_in_s: null,
    decision: { kind: "limit_reached", reason: "Daily limit", message: "You have used 3 minutes of your 3 minutes on all sites today." },
  };
  const atLimit = describeStatus({ status: limit, routing: routed, caTrusted: true });
  assert.equal(atLimit.nextBreak, "");
  assert.equal(atLimit.decision, limit.decision.message);
  const quiet = { ...status, next_break_in_s: null, quiet_hours: true, decision: { kind: "quiet_hours", reason: "Quiet hours" } };
  assert.equal(describeStatus({ status: quiet, routing: routed, caTrusted: true }).nextBreak, "");
  const noBreaks = { ...status, next_break_in_s: null };
  assert.equal(describeStatus({ status: noBreaks, routing: routed, caTrusted: true }).nextBreak, "No break reminders are set.");
});

test("routing that is off or unseen, and an untrusted CA, are flagged as problems", () => {
  const off = describeStatus({ status, routing: { enabled: false, active: false, reason: "routing is off" }, caTrusted: null });
  assert.equal(off.routing, "Social sites do not go through Breather: routing is off.");
  assert.equal(off.routingOk, false);
  const unseen = describeStatus({ status: { ...status, through_proxy: false }, routing: routed, caTrusted: false });
  assert.match(unseen.routing, /has not seen your social traffic/);
  assert.match(unseen.ca, /could not open a secure social site/);
  assert.equal(unseen.caOk, false);
});

test("whole minutes are rounded the way the dashboard rounds them (half to even)", () => {
  assert.deepEqual([20.5, 21.5, 20.4, 20.6, 0.5, 0].map(roundLikeDashboard), [20, 22, 20, 21, 0, 0]);
});
