// The service worker (Chrome) / background script (Firefox). Listeners are registered synchronously at the top
// level so an evicted worker is woken by the event; all state lives in storage (see lib/controller.js).

import { createPlatform } from "./lib/browser.js";
import * as controller from "./lib/controller.js";
import { createMessageSwitch } from "./lib/messages.js";
import { firefoxProxyFor } from "./lib/routing.js";

const platform = createPlatform();
const raw = platform.raw;

function logFailure(what) {
  return (error) => console.warn(`Breather: ${what} failed:`, error);
}

const dispatch = createMessageSwitch({
  "popup-state": () => controller.popupState(platform),
  pair: (message) => controller.pair(platform, message),
  "set-routing": (message) => controller.setRouting(platform, message),
  "take-break": () => controller.takeBreak(platform),
  "save-options": (message) => controller.saveOptions(platform, message),
  unpair: () => controller.unpair(platform),
});

raw.runtime.onInstalled.addListener((details) => {
  controller.onInstalled(platform, details).catch(logFailure("install"));
});

raw.runtime.onStartup.addListener(() => {
  controller.onStartup(platform).catch(logFailure("start-up"));
});

raw.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name !== controller.HEARTBEAT_ALARM) {
    return;
  }
  controller.tick(platform).catch(logFailure("heartbeat"));
});

raw.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (sender.id !== raw.runtime.id) {
    return false;
  }
  dispatch(message, sender).then(sendResponse);
  return true;
});

raw.notifications.onButtonClicked?.addListener((notificationId, buttonIndex) => {
  controller.onNotificationButton(platform, notificationId, buttonIndex).catch(logFailure("notification button"));
});

raw.notifications.onClicked.addListener((notificationId) => {
  raw.notifications.clear(notificationId);
  platform.openTab(platform.extensionUrl("popup/popup.html")).catch(logFailure("open popup"));
});

// Chrome: a PAC or proxy failure shows up here (the popup's routing line says what the person can do about it).
raw.proxy.onProxyError?.addListener(logFailure("proxy"));

// Firefox: decide per request. The stored routing state is cached here only as a copy, dropped on every change.
if (raw.proxy?.onRequest) {
  let cached = null;
  const routing = () => {
    cached ??= platform.local.get(["routingEnabled", "config"]).then((stored) => ({
      enabled: Boolean(stored.routingEnabled),
      config: stored.config ?? null,
    }));
    return cached;
  };
  raw.storage.onChanged.addListener((changes, area) => {
    if (area === "local" && ("routingEnabled" in changes || "config" in changes)) {
      cached = null;
    }
  });
  raw.proxy.onRequest.addListener(async (details) => firefoxProxyFor(details.url, await routing()), {
    urls: ["<all_urls>"],
  });
  raw.proxy.onError.addListener(logFailure("proxy"));
}
