import assert from "node:assert/strict";
import { test } from "node:test";
import vm from "node:vm";

import { buildPac, matchingDomain, originPatterns, parseDomains, siteOfUrl } from "../lib/domains.js";

function runPac(pac, url) {
  const context = vm.createContext({});
  vm.runInContext(pac, context);
  return context.FindProxyForURL(url, new URL(url).hostname);
}

test("the PAC sends intercepted domains and their subdomains to the proxy, everything else direct", () => {
  const pac = buildPac(["reddit.com", "X.com"], { host: "127.0.0.1", port: 8080 });
  assert.equal(runPac(pac, "https://reddit.com/"), "PROXY 127.0.0.1:8080");
  assert.equal(runPac(pac, "https://old.reddit.com/r/aww"), "PROXY 127.0.0.1:8080");
  assert.equal(runPac(pac, "https://x.com/home"), "PROXY 127.0.0.1:8080");
  assert.equal(runPac(pac, "https://notreddit.com/"), "DIRECT");
  assert.equal(runPac(pac, "https://reddit.com.evil.example/"), "DIRECT");
  assert.equal(runPac(pac, "https://mybank.example/login"), "DIRECT");
  assert.equal(runPac(pac, "http://127.0.0.1:8765/api/v1/status"), "DIRECT");
});

test("a trailing dot or capitals on a social site's name still go through Breather", () => {
  const pac = buildPac(["reddit.com"], { host: "127.0.0.1", port: 8080 });
  assert.equal(runPac(pac, "https://reddit.com./"), "PROXY 127.0.0.1:8080");
  assert.equal(runPac(pac, "https://WWW.Reddit.com./r/aww"), "PROXY 127.0.0.1:8080");
  // the host as a browser may hand it over, not lower-cased by URL() first
  const context = vm.createContext({});
  vm.runInContext(pac, context);
  assert.equal(context.FindProxyForURL("https://WWW.Reddit.com./r/aww", "WWW.Reddit.com."), "PROXY 127.0.0.1:8080");
  assert.equal(runPac(pac, "https://reddit.com.evil.example./"), "DIRECT");
});

test("the PAC never falls back to DIRECT for a social site (Breather down means the site waits)", () => {
  const pac = buildPac(["reddit.com"], { host: "127.0.0.1", port: 9090 });
  assert.doesNotMatch(runPac(pac, "https://www.reddit.com/"), /DIRECT/);
});

test("an empty domain list routes nothing", () => {
  const pac = buildPac([], { host: "127.0.0.1", port: 8080 });
  assert.equal(runPac(pac, "https://reddit.com/"), "DIRECT");
});

test("a domain that is not a domain name is refused with its value, so nothing can be injected into the PAC", () => {
  assert.throws(() => buildPac(['reddit.com"];alert(1);//'], { host: "127.0.0.1", port: 8080 }), /not a domain name: .*reddit\.com/);
  assert.throws(() => parseDomains(["good.com", ""]), /not a domain name: ""/);
  assert.throws(() => parseDomains("reddit.com"), /must be a list/);
  assert.throws(() => parseDomains([42]), /must be text, got 42/);
});

test("a bad proxy address is refused and says which part is wrong", () => {
  assert.throws(() => buildPac(["reddit.com"], { host: "127.0.0.1", port: 70000 }), /port must be 1-65535, got 70000/);
  assert.throws(() => buildPac(["reddit.com"], { host: "a b", port: 8080 }), /proxy host/);
  assert.throws(() => buildPac(["reddit.com"], null), /proxy must be an object/);
});

test("wildcards and trailing dots from the service are normalised and duplicates dropped", () => {
  assert.deepEqual(parseDomains(["*.Reddit.com", "reddit.com.", "x.com"]), ["reddit.com", "x.com"]);
});

test("the most specific intercepted domain wins, and other sites match nothing", () => {
  const domains = ["google.com", "news.google.com"];
  assert.equal(matchingDomain("www.news.google.com", domains), "news.google.com");
  assert.equal(matchingDomain("mail.google.com", domains), "google.com");
  assert.equal(matchingDomain("example.org", domains), null);
});

test("only web pages on intercepted sites have a site; browser pages and other sites do not", () => {
  const domains = ["reddit.com"];
  assert.equal(siteOfUrl("https://www.reddit.com/r/aww/comments/1", domains), "reddit.com");
  assert.equal(siteOfUrl("chrome://extensions/", domains), null);
  assert.equal(siteOfUrl("about:blank", domains), null);
  assert.equal(siteOfUrl("https://en.wikipedia.org/wiki/Reddit", domains), null);
  assert.equal(siteOfUrl("not a url", domains), null);
});

test("host-permission patterns cover a domain and its subdomains, for the schemes the manifest declares", () => {
  assert.deepEqual(originPatterns(["reddit.com"]), ["https://*.reddit.com/*", "http://*.reddit.com/*"]);
});

test("Chrome's per-scheme proxies from before routing keep serving their schemes, failing closed as they did (no DIRECT fallback)", () => {
  const previous = {
    mode: "fixed_servers",
    rules: {
      proxyForHttp: { host: "web-proxy", port: 8000 },
      proxyForHttps: { scheme: "https", host: "tls-proxy" },
      fallbackProxy: { scheme: "socks5", host: "2001:db8::5", port: 1080 },
      bypassList: ["[2001:db8::9]:443", "https://.Intranet.example:8443", "192.168.0.0/16"],
    },
  };
  const pac = buildPac(["reddit.com"], { host: "127.0.0.1", port: 8080 }, previous);
  assert.equal(runPac(pac, "https://www.reddit.com/"), "PROXY 127.0.0.1:8080");
  assert.equal(runPac(pac, "http://example.org/"), "PROXY web-proxy:8000");
  assert.equal(runPac(pac, "https://example.org/"), "HTTPS tls-proxy:443");
  assert.equal(runPac(pac, "ftp://files.example.org/"), "SOCKS5 [2001:db8::5]:1080");
  assert.equal(runPac(pac, "https://wiki.intranet.example/"), "DIRECT");
  assert.equal(runPac(pac, "https://intranet.example.org/"), "HTTPS tls-proxy:443");
  assert.equal(runPac(pac, "http://192.168.4.20/"), "DIRECT");
  assert.equal(runPac(pac, "http://192.169.4.20/"), "PROXY web-proxy:8000");
  assert.equal(runPac(pac, "https://[2001:db8::9]/"), "DIRECT");
});

test("a previous setting that names no proxy (direct, system, a proxy script) leaves the other sites DIRECT", () => {
  for (const previous of [{ mode: "direct" }, { mode: "system" }, { mode: "pac_script", pacScript: { url: "http://wpad/wpad.dat" } }, null]) {
    const pac = buildPac(["reddit.com"], { host: "127.0.0.1", port: 8080 }, previous);
    assert.equal(runPac(pac, "https://example.org/"), "DIRECT", JSON.stringify(previous));
  }
});

test("an IPv6 proxy address is taken with or without brackets and written in brackets", () => {
  const pac = buildPac(["reddit.com"], { host: "[::1]", port: 8080 });
  assert.equal(runPac(pac, "https://reddit.com/"), "PROXY [::1]:8080");
  assert.equal(runPac(buildPac(["reddit.com"], { host: "::1", port: 8080 }), "https://reddit.com/"), "PROXY [::1]:8080");
  assert.throws(() => buildPac(["reddit.com"], { host: "[::1]]", port: 8080 }), /proxy host/);
});
