// Which notifications are due, decided from the service's status. Pure: the caller shows them and stores
// `notified` so a restarted service worker does not repeat itself.

const SNOOZE_MS = 5 * 60 * 1000;
// Heartbeat alarms come every ~30 s, so the warning lands between ten and nine and a half minutes ahead.
export const QUIET_WARNING_S = 10 * 60;
const MINUTE_MS = 60 * 1000;

export const NOTIFICATION_KINDS = Object.freeze({
  break: { option: "notifyBreak", title: "Time for a breather", buttons: ["Take a break", "5 more minutes"] },
  limit: { option: "notifyLimit", title: "Today's limit is near", buttons: ["Take a break", "5 more minutes"] },
  quiet: { option: "notifyQuietHours", title: "Quiet hours are starting", buttons: [] },
  quietSoon: { option: "notifyQuietHours", title: "Quiet hours are coming", buttons: [] },
});

/** The event each button posts to /api/v1/events: the same kinds as the in-page overlay. */
export function eventForButton(kind, buttonIndex) {
  if (buttonIndex === 0) {
    return "break_taken";
  }
  return kind === "limit" ? "more_time_asked" : "break_snoozed";
}

export function notificationId(kind, site) {
  return `breather:${kind}:${site ?? ""}`;
}

export function parseNotificationId(id) {
  const match = /^breather:(break|limit|quiet|quietSoon):(.*)$/.exec(String(id));
  return match ? { kind: match[1], site: match[2] || null } : null;
}

function localDay(now) {
  return `${now.getFullYear()}-${now.getMonth() + 1}-${now.getDate()}`;
}

/**
 * @param status   the service's /api/v1/status answer
 * @param previous the status seen on the last tick (or null)
 * @param site     the intercepted site in the active tab, or null
 * @param notified what was shown already: {breakAt, limitDay, quietDay, quietSoonFor}
 */
export function dueNotifications({ status, previous, options, site, notified = {}, now = new Date() }) {
  const due = [];
  const next = { ...notified };
  const today = localDay(now);
  const breakDue = typeof status.next_break_in_s === "number" && status.next_break_in_s <= 0;
  const sinceBreakNotice = notified.breakAt ? now.getTime() - Date.parse(notified.breakAt) : Infinity;
  if (options.notifyBreak && site && breakDue && sinceBreakNotice >= SNOOZE_MS) {
    due.push({ kind: "break", site, message: `You have been on ${site} for a while. A short pause helps.` });
    next.breakAt = now.toISOString();
  }
  const remaining = typeof status.limit_minutes === "number" ? status.limit_minutes - status.minutes_today : null;
  if (options.notifyLimit && remaining !== null && remaining > 0 && remaining <= options.limitWarningMinutes) {
    if (notified.limitDay !== today) {
      const minutes = Math.ceil(remaining);
      due.push({ kind: "limit", site, message: `About ${minutes} minute${minutes === 1 ? "" : "s"} left of today's social time.` });
      next.limitDay = today;
    }
  }
  const quietStart = upcomingQuietStart(status, now);
  if (options.notifyQuietHours && quietStart && notified.quietSoonFor !== quietStart.key) {
    const minutes = quietStart.minutes;
    due.push({ kind: "quietSoon", site: null, message: `Quiet hours start in ${minutes} minute${minutes === 1 ? "" : "s"}.` });
    next.quietSoonFor = quietStart.key;
  }
  const quietStarted = status.quiet_hours === true && previous && previous.quiet_hours === false;
  if (options.notifyQuietHours && quietStarted && notified.quietDay !== today) {
    due.push({ kind: "quiet", site: null, message: "Social sites pause now until quiet hours end." });
    next.quietDay = today;
  }
  return {
    notifications: due.map((item) => ({
      ...item,
      id: notificationId(item.kind, item.site),
      ...NOTIFICATION_KINDS[item.kind],
      buttons: buttonsFor(item.kind, item.site),
    })),
    notified: next,
  };
}

// "5 more minutes" near the limit asks for more time on one site: with no social site in front there is none to ask.
function buttonsFor(kind, site) {
  const { buttons } = NOTIFICATION_KINDS[kind];
  return kind === "limit" && !site ? buttons.slice(0, 1) : buttons;
}

/**
 * The quiet hours starting within QUIET_WARNING_S, or null. `key` is the start rounded to the minute (windows start
 * on whole minutes), so each start is announced once however many ticks, or service-worker restarts, see it.
 */
export function upcomingQuietStart(status, now) {
  const inSeconds = status.quiet_hours_change_in_s;
  if (status.quiet_hours !== false || typeof inSeconds !== "number" || inSeconds <= 0 || inSeconds > QUIET_WARNING_S) {
    return null;
  }
  const startsAt = Math.round((now.getTime() + inSeconds * 1000) / MINUTE_MS) * MINUTE_MS;
  return { key: new Date(startsAt).toISOString(), minutes: Math.max(1, Math.ceil(inSeconds / 60)) };
}
