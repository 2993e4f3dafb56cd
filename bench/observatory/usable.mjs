// How long one observatory page takes to become usable in headless Chromium (Debian's, through
// the tests' launcher): the page is opened N times, each time in a new tab of one browser with an
// empty profile, so the first load fetches everything and the later ones have the browser's cache
// (ECharts, the map, the words) warm. The time is the page's own clock, `performance.now()`, whose
// origin is the start of the navigation, read in the page at the first animation frame where the
// page is usable:
//   /         a row of #alerts with data-rule and a path drawn in #map's SVG;
//   /country  body[data-ready=true] (the profile is drawn, or its error is shown);
//   /region   body[data-ready=true].
// The wall time from just before goto to the end of the wait, on the bench's side, is reported
// beside it. A load that ends with a script error, or a profile page without its cards, fails.
//
// usage: node usable.mjs BASE_URL PAGE N      (PAGE: home | country | region | corridors | quality | explorer | models)
// prints one JSON line.
import { browser } from "../../crates/koshi-server/tests/browser/chromium.mjs";

const [base, which, n = "5"] = process.argv.slice(2);
const PAGES = {
  // Each test answers the page's clock once the page is usable (and nothing before).
  home: { path: "/", usable: () => !!(document.querySelector("#alerts tr[data-rule]") && document.querySelector("#map svg path")) && performance.now() },
  country: { path: "/country", usable: () => !!document.querySelector("body[data-ready=true]") && performance.now(), drawn: "#cards .card" },
  region: { path: "/region", usable: () => !!document.querySelector("body[data-ready=true]") && performance.now(), drawn: "#cards .card" },
  corridors: { path: "/corridors", usable: () => !!document.querySelector("body[data-ready=true]") && performance.now() },
  quality: { path: "/quality", usable: () => !!document.querySelector("body[data-ready=true]") && performance.now() },
  explorer: { path: "/explorer", usable: () => !!document.querySelector("body[data-ready=true]") && performance.now() },
  models: { path: "/models", usable: () => !!document.querySelector("body[data-ready=true]") && performance.now() },
};
const page = PAGES[which];
if (!base || !page || !(Number(n) > 0)) {
  console.error("usage: node usable.mjs BASE_URL home|country|region|corridors|quality|explorer|models N");
  process.exit(2);
}
const url = new URL(page.path, base);
if (!["127.0.0.1", "localhost"].includes(url.hostname)) throw new Error("the bench talks to 127.0.0.1 only");

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };
const session = await browser();
const clock = [], wall = [];
try {
  for (let i = 0; i < Number(n); i++) {
    const tab = await session.context.newPage();
    const errors = [];
    tab.on("pageerror", (e) => errors.push(e.message));
    tab.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    const start = performance.now();
    await tab.goto(url.href, { waitUntil: "commit", timeout: 60_000 });
    const handle = await tab.waitForFunction(page.usable, null, { polling: "raf", timeout: 60_000 });
    wall.push(performance.now() - start);
    clock.push(await handle.jsonValue());
    if (page.drawn && !(await tab.$(page.drawn))) errors.push(`${page.drawn} missing: the page shows an error`);
    if (errors.length) throw new Error(`${url.pathname}, load ${i + 1}: ${errors.join("; ")}`);
    await tab.close();
  }
} finally {
  await session.close();
}
const r = (x) => Math.round(x * 10) / 10;
console.log(JSON.stringify({
  page: which, path: page.path, loads: clock.length,
  first_ms: r(clock[0]), median_ms: r(median(clock)), max_ms: r(Math.max(...clock)),
  wall_first_ms: r(wall[0]), wall_median_ms: r(median(wall)), wall_max_ms: r(Math.max(...wall)),
  clock_ms: clock.map(r), wall_ms: wall.map(r),
}));
