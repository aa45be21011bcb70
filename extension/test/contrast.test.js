// The extension's pages read at WCAG AA (4.5:1) in light and dark mode: an accessibility test found every button
// and link at 3.3:1 (white on #2a9d8f, the same teal on the page).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

const css = readFileSync(new URL("../ui/common.css", import.meta.url), "utf8");
const [light, dark] = css.split("@media (prefers-color-scheme: dark)");

function colour(block, name) {
  const found = block.match(new RegExp(`--breather-${name}:\\s*(#[0-9a-f]{6})`, "i"));
  return found && found[1];
}

function background(block) {
  return block.match(/body\s*\{[^}]*background:\s*(#[0-9a-f]{6})/i)[1];
}

function luminance(hex) {
  const [r, g, b] = [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16) / 255);
  const linear = (c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

function contrast(one, other) {
  const [high, low] = [luminance(one), luminance(other)].sort((a, b) => b - a);
  return (high + 0.05) / (low + 0.05);
}

test("text, links and buttons meet 4.5:1 on the light page", () => {
  const page = background(light);
  for (const name of ["ink", "muted", "teal", "warn"]) {
    assert.ok(contrast(colour(light, name), page) >= 4.5, `${name} on ${page}`);
  }
  assert.ok(contrast("#ffffff", colour(light, "button")) >= 4.5, "white on the button");
});

test("and on the dark page, where the teal and the red are lighter", () => {
  const page = background(dark);
  for (const name of ["ink", "muted", "teal", "warn"]) {
    assert.ok(contrast(colour(dark, name) || colour(light, name), page) >= 4.5, `${name} on ${page}`);
  }
});
