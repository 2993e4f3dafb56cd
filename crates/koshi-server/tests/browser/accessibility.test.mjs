// Accessibility of the pages, checked by axe-core in headless Chromium against the running koshi
// server: no serious or critical violation on the dashboard, the profiles or the registry's public view, in any
// of the three languages, and both can be worked from the keyboard (every control is reached).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { BASE, oneBrowser } from "./chromium.mjs";

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

const shared = oneBrowser();

/// The serious and critical violations axe-core finds on the page as it is now.
async function violations(page) {
  await page.addScriptTag({ path: AXE });
  const found = await page.evaluate(async () => (await axe.run(document, { resultTypes: ["violations"] })).violations);
  return found
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
}

const PAGES = [
  ["/", "#alerts tr[data-rule]"],
  ["/registry", "#quota-table[data-state=loaded]"],
  ["/country", "body[data-ready=true]"],
  ["/region", "body[data-ready=true]"],
  ["/explorer", "body[data-ready=true]"],
  ["/quality", "body[data-ready=true]"],
  ["/corridors", "body[data-ready=true]"],
  ["/models", "body[data-ready=true]"],
];

for (const [where, ready] of PAGES) {
  test(`${where} has no serious or critical accessibility violation in any language`, { timeout: 120_000 }, async () => {
    const page = await shared.context.newPage();
    for (const lang of ["en", "ru", "kk"]) {
      await page.goto(`${BASE}${where}?lang=${lang}`);
      await page.waitForSelector(ready);
      assert.deepEqual(await violations(page), [], `${where}?lang=${lang}`);
    }
    await page.close();
  });

  test(`${where} can be worked from the keyboard`, { timeout: 120_000 }, async () => {
    const page = await shared.context.newPage();
    await page.goto(`${BASE}${where}?lang=en`);
    await page.waitForSelector(ready);
    // Every visible, enabled control is reached by Tab, in some order (each marked first, as the
    // pages rewrite their tables' contents while they load).
    // What a closed <details> holds is reached once it is opened (its summary is a control itself).
    const controls = await page.$$eval("a[href], button, input, select, textarea, summary, [tabindex]", (els) =>
      els.filter((e) => !e.disabled && e.tabIndex >= 0 && e.getClientRects().length > 0)
        .filter((e) => !(e.parentElement && e.parentElement.closest("details:not([open])")) || e.tagName === "SUMMARY")
        .map((e, i) => {
          e.dataset.keyboardCheck = String(i);
          return `${i}: ${e.id || e.getAttribute("name") || e.tagName.toLowerCase()}`;
        }));
    const reached = new Set();
    for (let i = 0; i < controls.length * 2 + 10; i++) {
      await page.keyboard.press("Tab");
      reached.add(await page.evaluate(() => document.activeElement?.dataset.keyboardCheck ?? ""));
    }
    const missed = controls.filter((c) => !reached.has(c.split(":")[0]));
    assert.ok(controls.length >= 3, `${where}: ${controls.length} controls`);
    assert.deepEqual(missed, [], `${where}: controls Tab never reaches`);
    await page.close();
  });
}
