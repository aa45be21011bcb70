// Heartbeats wait in storage.local while the service is down and are sent, oldest first, when it is back.

/** One day of 30-second heartbeats; beyond that the oldest are dropped (the newest matter most). */
export const QUEUE_CAP = 2880;

export function enqueue(queue, item, cap = QUEUE_CAP) {
  const next = [...(Array.isArray(queue) ? queue : []), item];
  return next.length > cap ? next.slice(next.length - cap) : next;
}

/**
 * Sends queued items in order with `send(item)`, which resolves to "sent" or "rejected" (the service refused this
 * item for good: it is dropped so one bad item cannot block the rest) or rejects with an error whose `kind` is
 * "offline" or "unauthorized" (stop; keep this item and everything after it for later).
 */
export async function drain(queue, send) {
  const items = Array.isArray(queue) ? queue : [];
  let sent = 0;
  let rejected = 0;
  for (let index = 0; index < items.length; index += 1) {
    try {
      const outcome = await send(items[index]);
      if (outcome === "rejected") {
        rejected += 1;
      } else {
        sent += 1;
      }
    } catch (error) {
      const stoppedBy = error && error.kind === "unauthorized" ? "unauthorized" : "offline";
      return { remaining: items.slice(index), sent, rejected, stoppedBy };
    }
  }
  return { remaining: [], sent, rejected, stoppedBy: null };
}
