// One message switch per context: named message types, each with one handler. Unknown types and failing handlers
// answer {ok: false, error} instead of leaving the sender waiting.

export const MESSAGE_TYPES = Object.freeze([
  "popup-state",
  "pair",
  "set-routing",
  "take-break",
  "save-options",
  "unpair",
]);

export function createMessageSwitch(handlers) {
  for (const type of Object.keys(handlers)) {
    if (!MESSAGE_TYPES.includes(type)) {
      throw new Error(`no message type named ${type}`);
    }
  }
  return async function dispatch(message, sender) {
    const type = message && typeof message === "object" ? message.type : undefined;
    const handler = Object.hasOwn(handlers, type ?? "") ? handlers[type] : undefined;
    if (!handler) {
      return { ok: false, error: `unknown message type ${JSON.stringify(type)}` };
    }
    try {
      const result = await handler(message, sender);
      return { ok: true, ...result };
    } catch (error) {
      return { ok: false, error: error && error.message ? error.message : String(error) };
    }
  };
}

/** Sends `{type, ...fields}` to the service worker from a page (popup, options, welcome). */
export function send(raw, type, fields = {}) {
  return raw.runtime.sendMessage({ type, ...fields });
}
