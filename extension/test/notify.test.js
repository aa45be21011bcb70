import assert from "node:assert/strict";
import { test } from "node:test";

import { dueNotifications, eventForButton, parseNotificationId } from "../lib/notify.js";
import { optionDefaults } from "../lib/options.js";

const calm = { minutes_today: 10, limit_minutes: 60, next_break_in_s: 900, quiet_hours: false };
const options = optionDefaults();
const at = (text) => new Date(text);

test("nothing is due on a calm day", () => {
  const { notifications } = dueNotifications({ status: calm, previous: calm, options, site: "reddit.com" });
  assert.deepEqual(notifications, []);
});

test("a due break is shown with both buttons, then not again for five minutes", () => {
  const status = { ...calm, next_break_in_s: 0 };
  const first = dueNotifications({ status, previous: calm, options, site: "reddit.com", now: at("2026-01-05T10:00:00Z") });
  assert.equal(first.notifications.length, 1);
  assert.equal(first.notifications[0].id, "breather:break:reddit.com");
  assert.deepEqual(first.notifications[0].buttons, ["Take a break", "5 more minutes"]);
  const soon = dueNotifications({ status, options, site: "reddit.com", notified: first.notified, now: at("2026-01-05T10:04:00Z") });
  assert.deepEqual(soon.notifications, []);
  const later = dueNotifications({ status, options, site: "reddit.com", notified: first.notified, now: at("2026-01-05T10:05:30Z") });
  assert.equal(later.notifications.length, 1);
});

test("a due break is not announced when no social site is in front", () => {
  const { notifications } = dueNotifications({ status: { ...calm, next_break_in_s: 0 }, options, site: null });
  assert.deepEqual(notifications, []);
});

test("limit near is shown once a day, a few minutes before the limit", () => {
  const status = { ...calm, minutes_today: 56 };
  const first = dueNotifications({ status, options, site: "x.com", now: at("2026-01-05T20:00:00") });
  assert.equal(first.notifications.length, 1);
  assert.match(first.notifications[0].message, /About 4 minutes left/);
  const again = dueNotifications({ status, options, site: "x.com", notified: first.notified, now: at("2026-01-05T20:10:00") });
  assert.deepEqual(again.notifications, []);
  const tomorrow = dueNotifications({ status, options, site: "x.com", notified: first.notified, now: at("2026-01-06T20:00:00") });
  assert.equal(tomorrow.notifications.length, 1);
});

test("no limit, or a limit already passed, gives no limit-near notification", () => {
  assert.deepEqual(dueNotifications({ status: { ...calm, limit_minutes: null }, options }).notifications, []);
  assert.deepEqual(dueNotifications({ status: { ...calm, minutes_today: 61 }, options }).notifications, []);
});

test("quiet hours are announced when they start, not on every tick during them", () => {
  const quiet = { ...calm, quiet_hours: true };
  const starting = dueNotifications({ status: quiet, previous: calm, options });
  assert.deepEqual(starting.notifications.map((item) => item.kind), ["quiet"]);
  const during = dueNotifications({ status: quiet, previous: quiet, options, notified: {} });
  assert.deepEqual(during.notifications, []);
});

test("quiet hours are announced once about ten minutes ahead, however many ticks see them coming", () => {
  const far = dueNotifications({ status: { ...calm, quiet_hours_change_in_s: 11 * 60 }, options, now: at("2026-01-05T21:49:00Z") });
  assert.deepEqual(far.notifications, []);
  const near = { ...calm, quiet_hours_change_in_s: 9 * 60 + 31 };
  const first = dueNotifications({ status: near, options, now: at("2026-01-05T21:50:29Z") });
  assert.deepEqual(first.notifications.map((item) => [item.kind, item.message]), [["quietSoon", "Quiet hours start in 10 minutes."]]);
  assert.equal(first.notifications[0].title, "Quiet hours are coming");
  // The next tick 30 s later (and a little clock skew) is the same start: not announced again.
  const next = { ...calm, quiet_hours_change_in_s: 9 * 60 + 2 };
  const again = dueNotifications({ status: next, options, notified: first.notified, now: at("2026-01-05T21:50:59Z") });
  assert.deepEqual(again.notifications, []);
  const tomorrow = { ...calm, quiet_hours_change_in_s: 60 };
  const nextNight = dueNotifications({ status: tomorrow, options, notified: again.notified, now: at("2026-01-06T21:59:00Z") });
  assert.deepEqual(nextNight.notifications.map((item) => item.message), ["Quiet hours start in 1 minute."]);
});

test("no early quiet-hours notice while quiet hours are on, or when there are none", () => {
  const during = { ...calm, quiet_hours: true, quiet_hours_change_in_s: 300 };
  assert.deepEqual(dueNotifications({ status: during, previous: during, options }).notifications, []);
  assert.deepEqual(dueNotifications({ status: { ...calm, quiet_hours_change_in_s: null }, options }).notifications, []);
  assert.deepEqual(dueNotifications({ status: calm, options }).notifications, []);
});

test("a notification the person switched off is never shown", () => {
  const off = { ...options, notifyBreak: false, notifyLimit: false, notifyQuietHours: false };
  const status = { ...calm, next_break_in_s: 0, minutes_today: 58, quiet_hours: true };
  assert.deepEqual(dueNotifications({ status, previous: calm, options: off, site: "reddit.com" }).notifications, []);
  const soon = { ...calm, quiet_hours_change_in_s: 300 };
  assert.deepEqual(dueNotifications({ status: soon, options: off }).notifications, []);
});

test("buttons post the same events as the in-page overlay", () => {
  assert.equal(eventForButton("break", 0), "break_taken");
  assert.equal(eventForButton("break", 1), "break_snoozed");
  assert.equal(eventForButton("limit", 1), "more_time_asked");
  assert.deepEqual(parseNotificationId("breather:limit:x.com"), { kind: "limit", site: "x.com" });
  assert.equal(parseNotificationId("someone-else"), null);
});
