// Every option the person can set, declared once with its default, label and help. The options page is built from
// this table and storage never holds an option that is not in it.

export const DEFAULT_SERVICE_URL = "http://127.0.0.1:8765";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Checks a service address like http://127.0.0.1:8765; throws an Error that names the problem. */
export function parseServiceUrl(raw) {
  const given = String(raw ?? "").trim();
  // People often type the address the way the dashboard shows it in the terminal: without the scheme.
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(given) || given === "" ? given : `http://${given}`;
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`"${text}" is not an address; expected something like ${DEFAULT_SERVICE_URL}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`the address must start with http:// or https://, not ${url.protocol}`);
  }
  if (url.username || url.password || url.search || url.hash || (url.pathname !== "/" && url.pathname !== "")) {
    throw new Error("give only the scheme, host and port (no path, query or password)");
  }
  return url.origin;
}

export function isLoopback(serviceUrl) {
  return LOOPBACK_HOSTS.has(new URL(serviceUrl).hostname);
}

/**
 * The host permission a service on another machine needs, without its port: Firefox's match patterns take no port
 * (a pattern with one does not match), and Chrome's portless pattern covers every port.
 */
export function servicePermission(serviceUrl) {
  const url = new URL(serviceUrl);
  return `${url.protocol}//${url.hostname}/*`;
}

function parseBoolean(raw) {
  if (typeof raw === "boolean") {
    return raw;
  }
  if (raw === "true" || raw === "on") {
    return true;
  }
  if (raw === "false" || raw === "off" || raw === "") {
    return false;
  }
  throw new Error(`expected on or off, got ${JSON.stringify(raw)}`);
}

function integerBetween(min, max) {
  return (raw) => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`expected a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    }
    return value;
  };
}

export const OPTIONS = Object.freeze([
  {
    key: "serviceUrl",
    kind: "text",
    default: DEFAULT_SERVICE_URL,
    label: "Breather service address",
    help: "Where `breather serve` listens (the dashboard's address). On this computer it is " + DEFAULT_SERVICE_URL + ".",
    parse: parseServiceUrl,
  },
  {
    key: "notifyBreak",
    kind: "boolean",
    default: true,
    label: "Tell me when a break is due",
    help:
      "A notification. Chrome shows it with “Take a break” and “5 more minutes” buttons; Firefox shows no buttons on " +
      "notifications: a click on it opens Breather's popup page, with “Take a break now” (and no “5 more minutes”).",
    parse: parseBoolean,
  },
  {
    key: "notifyLimit",
    kind: "boolean",
    default: true,
    label: "Tell me when today's limit is near",
    help: "Shown once a day, a few minutes before the limit.",
    parse: parseBoolean,
  },
  {
    key: "limitWarningMinutes",
    kind: "integer",
    default: 5,
    label: "Minutes before the limit to warn",
    help: "How early the “limit near” notification comes.",
    parse: integerBetween(1, 60),
  },
  {
    key: "notifyQuietHours",
    kind: "boolean",
    default: true,
    label: "Tell me when quiet hours start",
    help: "Social sites pause during quiet hours; this says so ten minutes ahead and again when they begin.",
    parse: parseBoolean,
  },
]);

const BY_KEY = new Map(OPTIONS.map((option) => [option.key, option]));

export function optionDefaults() {
  return Object.fromEntries(OPTIONS.map((option) => [option.key, option.default]));
}

/** Parses raw form values; returns {values} or {errors: {key: "Label: message"}} and never a half-checked mix. */
export function parseOptions(raw) {
  const values = {};
  const errors = {};
  for (const [key, value] of Object.entries(raw)) {
    const option = BY_KEY.get(key);
    if (!option) {
      errors[key] = `${key}: not a Breather option`;
      continue;
    }
    try {
      values[key] = option.parse(value);
    } catch (error) {
      errors[key] = `${option.label}: ${error.message}`;
    }
  }
  return Object.keys(errors).length ? { errors } : { values };
}

/** Stored values over the defaults; unknown or broken stored values fall back to the default. */
export function withDefaults(stored) {
  const result = optionDefaults();
  for (const option of OPTIONS) {
    if (stored && stored[option.key] !== undefined) {
      try {
        result[option.key] = option.parse(stored[option.key]);
      } catch {
        result[option.key] = option.default;
      }
    }
  }
  return result;
}
