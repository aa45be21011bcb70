// The one place that touches chrome.* / browser.*. Everything else gets a `platform` object from here, so the
// same code runs in Chrome and Firefox, and tests hand in a fake `raw` API.

function promisify(raw, call) {
  return new Promise((resolve, reject) => {
    call((value) => {
      const error = raw.runtime.lastError;
      if (error) {
        reject(new Error(error.message));
      } else {
        resolve(value);
      }
    });
  });
}

export function detectRaw() {
  return globalThis.browser ?? globalThis.chrome;
}

function storageArea(raw, name) {
  const area = raw.storage[name];
  if (area) {
    return {
      get: (keys) => area.get(keys),
      set: (items) => area.set(items),
      remove: (keys) => area.remove(keys),
    };
  }
  // Older browsers without storage.session: keep the same keys under a prefix in local storage.
  const local = raw.storage.local;
  const prefix = `${name}:`;
  return {
    async get(keys) {
      const list = Array.isArray(keys) ? keys : [keys];
      const stored = await local.get(list.map((key) => prefix + key));
      return Object.fromEntries(list.filter((key) => prefix + key in stored).map((key) => [key, stored[prefix + key]]));
    },
    set: (items) => local.set(Object.fromEntries(Object.entries(items).map(([key, value]) => [prefix + key, value]))),
    remove: (keys) => local.remove((Array.isArray(keys) ? keys : [keys]).map((key) => prefix + key)),
  };
}

function chromeProxy(raw) {
  const setting = raw.proxy.settings;
  return {
    get: () => promisify(raw, (done) => setting.get({ incognito: false }, done)),
    setPac: (data) =>
      promisify(raw, (done) => setting.set({ value: { mode: "pac_script", pacScript: { data, mandatory: true } }, scope: "regular" }, done)),
    clear: () => promisify(raw, (done) => setting.clear({ scope: "regular" }, done)),
  };
}

export function createPlatform(raw = detectRaw(), fetchFn = globalThis.fetch?.bind(globalThis)) {
  const isFirefox = typeof raw.runtime.getBrowserInfo === "function";
  return {
    raw,
    browser: isFirefox ? "firefox" : "chrome",
    fetch: fetchFn,
    local: storageArea(raw, "local"),
    session: storageArea(raw, "session"),
    extensionUrl: (path) => raw.runtime.getURL(path),
    // The manifest's version as the browser last read it from the extension's folder (see lib/version.js).
    manifestVersion: () => raw.runtime.getManifest?.().version ?? null,
    openTab: (url) => raw.tabs.create({ url }),
    async activeTab() {
      const [tab] = await raw.tabs.query({ active: true, lastFocusedWindow: true });
      return tab ?? null;
    },
    async windowInfo(windowId) {
      try {
        const window = await raw.windows.get(windowId);
        return { focused: Boolean(window.focused), minimized: window.state === "minimized" };
      } catch {
        return { focused: false, minimized: false };
      }
    },
    idleState: (seconds) => raw.idle.queryState(seconds),
    alarms: {
      create: (name, info) => raw.alarms.create(name, info),
      get: (name) => raw.alarms.get(name),
      clear: (name) => raw.alarms.clear(name),
    },
    notifications: {
      // Firefox shows no buttons on notifications: the options are dropped there and a click opens the popup page.
      supportsButtons: !isFirefox,
      create(id, options) {
        const shown = isFirefox ? { ...options, buttons: undefined } : options;
        if (!shown.buttons) {
          delete shown.buttons;
        }
        return raw.notifications.create(id, shown);
      },
      clear: (id) => raw.notifications.clear(id),
    },
    badge: (text, color = "#b3261e") =>
      Promise.all([raw.action.setBadgeText({ text }), raw.action.setBadgeBackgroundColor({ color })]),
    permissions: {
      contains: (origins) => raw.permissions.contains({ origins }),
      request: (origins) => raw.permissions.request({ origins }),
    },
    chromeProxy: isFirefox ? null : chromeProxy(raw),
    // Does the extension run in private (Firefox) / incognito (Chrome) windows? Off unless the person allows it;
    // there its routing (Firefox) and its activity reports (both) do not reach. null: the browser does not say.
    async incognitoAllowed() {
      try {
        return typeof raw.extension?.isAllowedIncognitoAccess === "function"
          ? Boolean(await raw.extension.isAllowedIncognitoAccess())
          : null;
      } catch {
        return null;
      }
    },
    // "development" for a temporary add-on (Firefox's about:debugging, gone when Firefox closes) or an unpacked one
    // (Chrome, which keeps it); management.getSelf needs no permission. null: the browser does not say.
    async installType() {
      try {
        return typeof raw.management?.getSelf === "function" ? ((await raw.management.getSelf()).installType ?? null) : null;
      } catch {
        return null;
      }
    },
  };
}
