// Heartbeats wait in storage.local while the service is down and are sent, oldest first, when it is back.

/** One day of 30-second heartbeats; beyond that the oldest are dropped (the newest matter most). */
export const QUEUE_CAP = 2880;

export function enqueue(queue, item, cap = QUEUE_CAP) {
  const next = [...(Array.isArray(queue) ? queue : []), item];
  return next.length > cap ? next.slice(next.length - cap) : next;
}

/** How often the service may fail one item with a server error (5xx) before it is dropped and the rest go on. */
export const SERVER_TRIES = 3;

/**
 * Sends queued items in order with `send(item)`, which resolves to "sent" or "rejected" (the service refused this
 * item for good: it is dropped so one bad item cannot block the rest) or rejects with an error whose `kind` is
 * "offline" or "unauthorized" (stop; keep this item and everything after it for later) or "server" (the service
 * failed this item: stop and try it again next time, but drop it after SERVER_TRIES failures, so one item the
 * service keeps failing cannot block the queue for good). Anything else counts as offline: nothing is lost.
 */
export async function drain(queue, send) {
  const items = Array.isArray(queue) ? queue : [];
  const counts = { sent: 0, rejected: 0, dropped: 0 };
  for (let index = 0; index < items.length; index += 1) {
    try {
      const outcome = await send(items[index]);
      counts[outcome === "rejected" ? "rejected" : "sent"] += 1;
    } catch (error) {
      const kind = error && error.kind;
      if (kind !== "server") {
        return { remaining: items.slice(index), ...counts, stoppedBy: kind === "unauthorized" ? "unauthorized" : "offline" };
      }
      const tries = (items[index].tries ?? 0) + 1;
      if (tries < SERVER_TRIES) {
        return { remaining: [{ ...items[index], tries }, ...items.slice(index + 1)], ...counts, stoppedBy: "server" };
      }
      counts.dropped += 1;
    }
  }
  return { remaining: [], ...counts, stoppedBy: null };
}
