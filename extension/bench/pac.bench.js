// How much the extension costs the browser: PAC look-ups per request, and the size of what it stores and sends.
// Run with `node bench/pac.bench.js`; numbers go in docs/extension.md (printed, never asserted).
import vm from "node:vm";

import { buildPac } from "../lib/domains.js";
import { QUEUE_CAP, enqueue } from "../lib/queue.js";

const domains = Array.from({ length: 20 }, (_, index) => `social${index}.example`).concat(["reddit.com", "x.com"]);
const context = vm.createContext({});
vm.runInContext(buildPac(domains, { host: "127.0.0.1", port: 8080 }), context);
const hosts = ["www.reddit.com", "mail.example.org", "x.com", "bank.example", "cdn.social7.example"];

const rounds = 1_000_000;
const started = process.hrtime.bigint();
let proxied = 0;
for (let index = 0; index < rounds; index += 1) {
  const host = hosts[index % hosts.length];
  if (context.FindProxyForURL(`https://${host}/`, host) !== "DIRECT") proxied += 1;
}
const elapsed = Number(process.hrtime.bigint() - started);
console.log(`PAC: ${(elapsed / rounds).toFixed(0)} ns per look-up with ${domains.length} domains (${proxied} proxied)`);

const beat = { kind: "heartbeat", body: { site: "old.reddit.com", visible: true, focused: true, idle: "active", at: new Date().toISOString() } };
console.log(`heartbeat request body: ${JSON.stringify(beat.body).length} bytes`);
let queue = [];
for (let index = 0; index < QUEUE_CAP + 10; index += 1) queue = enqueue(queue, beat);
console.log(`a full queue (${queue.length} heartbeats, one day at 30 s): ${(JSON.stringify(queue).length / 1024).toFixed(0)} KiB of storage.local`);
