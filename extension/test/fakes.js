// A fake WebExtension API (enough of chrome.* / browser.* for Breather) and a fake Breather service behind fetch.
// Both keep their state in plain objects the tests look at.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

const MANIFEST = JSON.parse(readFileSync(new URL("../manifest.json", import.meta.url), "utf8"));

// The schemes of the manifest's optional_host_permissions (all hosts: "http://*/*", "https://*/*").
const OPTIONAL_SCHEMES = new Set(MANIFEST.optional_host_permissions.map((pattern) => pattern.split("://")[0]));

function event() {
  const listeners = [];
  return {
    listeners,
    addListener: (listener, ...extra) => listeners.push({ listener, extra }),
    removeListener: (listener) => {
      const index = listeners.findIndex((entry) => entry.listener === listener);
      if (index >= 0) listeners.splice(index, 1);
    },
    hasListener: (listener) => listeners.some((entry) => entry.listener === listener),
    fire: (...args) => listeners.map((entry) => entry.listener(...args)),
  };
}

function pick(data, keys) {
  if (keys === null || keys === undefined) return structuredClone(data);
  const list = typeof keys === "string" ? [keys] : Array.isArray(keys) ? keys : Object.keys(keys);
  const result = {};
  for (const key of list) {
    if (key in data) result[key] = structuredClone(data[key]);
    else if (!Array.isArray(keys) && typeof keys === "object") result[key] = keys[key];
  }
  return result;
}

function storageArea(name, onChanged) {
  const data = {};
  return {
    data,
    async get(keys) {
      return pick(data, keys);
    },
    async set(items) {
      const changes = {};
      for (const [key, value] of Object.entries(items)) {
        changes[key] = { oldValue: data[key], newValue: value };
        data[key] = structuredClone(value);
      }
      onChanged.fire(changes, name);
    },
    async remove(keys) {
      const changes = {};
      for (const key of typeof keys === "string" ? [keys] : keys) {
        changes[key] = { oldValue: data[key] };
        delete data[key];
      }
      onChanged.fire(changes, name);
    },
  };
}

/** Chrome's proxy setting with its precedence: an extension's value sits over the user's until clear(). */
function chromeProxySetting(state) {
  return {
    get(details, done) {
      const value = state.extensionValue ?? state.userValue;
      setTimeout(() => done({ value: structuredClone(value), levelOfControl: state.levelOfControl }));
    },
    set(details, done) {
      if (state.levelOfControl === "not_controllable" || state.levelOfControl === "controlled_by_other_extensions") {
        state.lastError = { message: "Can't modify" };
      } else {
        state.extensionValue = structuredClone(details.value);
        state.levelOfControl = "controlled_by_this_extension";
      }
      setTimeout(() => {
        done();
        state.lastError = undefined;
      });
    },
    clear(details, done) {
      if (state.levelOfControl === "controlled_by_this_extension") {
        state.extensionValue = null;
        state.levelOfControl = "controllable_by_this_extension";
      }
      setTimeout(() => done());
    },
  };
}

export function fakeBrowser({ firefox = false } = {}) {
  const onChanged = event();
  const proxyState = { userValue: { mode: "system" }, extensionValue: null, levelOfControl: "controllable_by_this_extension" };
  const alarms = new Map();
  const world = {
    activeTab: { id: 1, windowId: 7, url: "https://www.reddit.com/r/aww/" },
    window: { id: 7, focused: true, state: "normal" },
    idle: "active",
    grantedOrigins: new Set(),
    notifications: new Map(),
    createdTabs: [],
    badge: "",
    proxyState,
    // As installed: not allowed in private/incognito windows until the person allows it; a normal install.
    incognitoAllowed: false,
    installType: "normal",
    // The version of the manifest the browser read from the folder, and how often the extension was reloaded.
    manifestVersion: MANIFEST.version,
    reloads: 0,
  };
  const raw = {
    world,
    runtime: {
      id: "breather-test",
      get lastError() {
        return proxyState.lastError;
      },
      getURL: (path) => `chrome-extension://breather-test/${path}`,
      getManifest: () => ({ ...structuredClone(MANIFEST), version: world.manifestVersion }),
      reload: () => void (world.reloads += 1),
      onInstalled: event(),
      onStartup: event(),
      onMessage: event(),
      sendMessage: async () => undefined,
    },
    storage: { local: storageArea("local", onChanged), session: storageArea("session", onChanged), onChanged },
    extension: { isAllowedIncognitoAccess: async () => world.incognitoAllowed },
    management: { getSelf: async () => ({ id: "breather-test", installType: world.installType }) },
    tabs: {
      query: async (query) => (query.active && world.activeTab ? [structuredClone(world.activeTab)] : []),
      create: async ({ url }) => {
        world.createdTabs.push(url);
        return { id: 99, url };
      },
    },
    windows: {
      get: async (id) => {
        if (id !== world.window.id) throw new Error(`No window with id: ${id}`);
        return structuredClone(world.window);
      },
    },
    idle: { queryState: async () => world.idle },
    alarms: {
      all: alarms,
      create: async (name, info) => void alarms.set(name, { name, ...info }),
      get: async (name) => alarms.get(name),
      clear: async (name) => alarms.delete(name),
      onAlarm: event(),
    },
    notifications: {
      create: async (id, options) => {
        world.notifications.set(id, structuredClone(options));
        return id;
      },
      clear: async (id) => world.notifications.delete(id),
      onClicked: event(),
      onButtonClicked: event(),
    },
    action: {
      setBadgeText: async ({ text }) => void (world.badge = text),
      setBadgeBackgroundColor: async () => undefined,
    },
    permissions: {
      contains: async ({ origins }) => origins.every((origin) => world.grantedOrigins.has(origin)),
      request: async ({ origins }) => {
        // Like Firefox: only origins within the manifest's optional host permissions may be asked for.
        const undeclared = origins.find((origin) => !OPTIONAL_SCHEMES.has(origin.split("://")[0]));
        if (undeclared) {
          throw new Error(`Cannot request origin permission for ${undeclared} since it was not declared in the manifest`);
        }
        origins.forEach((origin) => world.grantedOrigins.add(origin));
        return true;
      },
    },
    proxy: firefox
      ? { onRequest: event(), onError: event(), settings: {} }
      : { settings: chromeProxySetting(proxyState) },
  };
  if (firefox) {
    raw.runtime.getBrowserInfo = async () => ({ name: "Firefox", version: "140.0" });
    delete raw.notifications.onButtonClicked;
  }
  return raw;
}

function json(status, body) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** A Breather service as docs/interfaces.md describes /api/v1, kept in memory. */
export function fakeService({
  domains = ["reddit.com", "x.com"],
  proxy = { host: "127.0.0.1", port: 8080 },
  extensionVersion = undefined,
  configVersion = true,
} = {}) {
  const service = {
    // the extension version the service ships (its checkout's manifest); undefined as from an installed wheel
    extensionVersion,
    // Whether config and status carry `config_version` (a short digest of the domains and proxy), as services do
    // since it was added; false as from an older service.
    configVersion,
    up: true,
    code: "ABCD-1234",
    tokens: new Set(),
    domains,
    proxy,
    heartbeats: [],
    events: [],
    requests: [],
    caTrusted: true,
    // Sites the proxy cannot reach: it connects upstream before answering the CA check, so those checks fail too.
    unreachable: new Set(),
    status: {
      profile: "me",
      minutes_today: 12,
      limit_minutes: 60,
      next_break_in_s: 600,
      decision: { kind: "allow", reason: "within limits" },
      quiet_hours: false,
      quiet_hours_change_in_s: null,
      through_proxy: true,
    },
  };
  const versionField = () =>
    service.configVersion
      ? { config_version: createHash("sha256").update(JSON.stringify([service.domains, service.proxy])).digest("hex").slice(0, 12) }
      : {};
  service.fetch = async (url, init = {}) => {
    const parsed = new URL(url);
    service.requests.push(`${init.method ?? "GET"} ${parsed.host}${parsed.pathname}`);
    if (parsed.protocol === "https:") {
      if (!service.caTrusted || service.unreachable.has(parsed.hostname)) throw new TypeError("Failed to fetch");
      return new Response(null, { status: 204 });
    }
    if (!service.up) throw new TypeError("Failed to fetch");
    const method = init.method ?? "GET";
    const body = init.body ? JSON.parse(init.body) : null;
    const auth = init.headers?.Authorization ?? "";
    const authorised = service.tokens.has(auth.replace(/^Bearer /, ""));
    const route = `${method} ${parsed.pathname}`;
    service.lastStatusSite = parsed.searchParams.get("site");
    if (route === "POST /api/v1/pair") {
      if (body.code !== service.code) return json(400, { error: "BadRequest", message: "unknown or expired code" });
      const token = `token-${service.tokens.size + 1}`;
      service.tokens.add(token);
      service.pairedBrowser = body.browser;
      return json(200, { token, profile: "me" });
    }
    if (!authorised) return json(401, { error: "Unauthorized", message: "pair again" });
    switch (route) {
      case "GET /api/v1/config":
        return json(200, {
          proxy: service.proxy,
          domains: service.domains,
          pac_url: `${parsed.origin}/api/v1/pac`,
          ...(service.extensionVersion === undefined ? {} : { extension_version: service.extensionVersion }),
          ...versionField(),
        });
      case "GET /api/v1/status":
        return json(200, { ...service.status, ...versionField() });
      case "POST /api/v1/heartbeat":
        if (typeof body.site !== "string") return json(400, { error: "BadRequest", message: "site missing" });
        service.heartbeats.push(body);
        return json(200, service.status);
      case "POST /api/v1/events":
        service.events.push(body);
        return json(200, { status: "ok" });
      default:
        return json(404, { error: "NotFound", message: route });
    }
  };
  service.revokeAll = () => service.tokens.clear();
  return service;
}
