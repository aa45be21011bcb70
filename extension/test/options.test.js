import assert from "node:assert/strict";
import { test } from "node:test";

import {
  DEFAULT_SERVICE_URL,
  OPTIONS,
  isLoopback,
  parseOptions,
  parseServiceUrl,
  servicePermission,
  withDefaults,
} from "../lib/options.js";

test("every option has a default that its own parser accepts, a label and help", () => {
  for (const option of OPTIONS) {
    assert.deepEqual(option.parse(option.default), option.default, option.key);
    assert.ok(option.label && option.help, option.key);
  }
});

test("a service address is reduced to its origin", () => {
  assert.equal(parseServiceUrl(" http://127.0.0.1:8765/ "), "http://127.0.0.1:8765");
  assert.equal(parseServiceUrl("http://breather.home.arpa:8765"), "http://breather.home.arpa:8765");
  assert.equal(parseServiceUrl("127.0.0.1:8765"), "http://127.0.0.1:8765");
});

test("a bad service address says what is wrong", () => {
  assert.throws(() => parseServiceUrl(""), /"" is not an address; expected something like http:\/\/127\.0\.0\.1:8765/);
  assert.throws(() => parseServiceUrl("http://bad host:8765"), /is not an address/);
  assert.throws(() => parseServiceUrl("http://127.0.0.1:8765/api"), /no path/);
  assert.throws(() => parseServiceUrl("ftp://127.0.0.1"), /http:\/\/ or https:\/\/, not ftp:/);
});

test("loopback addresses are told apart from other machines", () => {
  assert.equal(isLoopback(DEFAULT_SERVICE_URL), true);
  assert.equal(isLoopback("http://localhost:8765"), true);
  assert.equal(isLoopback("http://192.168.1.20:8765"), false);
});

test("form values are all parsed or all refused, each error naming its field", () => {
  assert.deepEqual(parseOptions({ notifyBreak: false, limitWarningMinutes: "10" }), {
    values: { notifyBreak: false, limitWarningMinutes: 10 },
  });
  const refused = parseOptions({ notifyBreak: true, limitWarningMinutes: "0", colour: "red" });
  assert.equal(refused.values, undefined);
  assert.match(refused.errors.limitWarningMinutes, /^Minutes before the limit to warn: expected a whole number from 1 to 60, got "0"/);
  assert.match(refused.errors.colour, /not a Breather option/);
});

test("broken stored values fall back to defaults instead of breaking the extension", () => {
  const values = withDefaults({ serviceUrl: "ftp://old-setting", notifyLimit: false });
  assert.equal(values.serviceUrl, DEFAULT_SERVICE_URL);
  assert.equal(values.notifyLimit, false);
  assert.equal(values.notifyBreak, true);
});

test("a service on another machine is asked for without its port, which Firefox's match patterns do not take", () => {
  assert.equal(servicePermission("http://192.168.1.20:8765"), "http://192.168.1.20/*");
  assert.equal(servicePermission("https://family-pc.local:9000"), "https://family-pc.local/*");
  assert.equal(servicePermission("http://[fd00::5]:8765"), "http://[fd00::5]/*");
});
