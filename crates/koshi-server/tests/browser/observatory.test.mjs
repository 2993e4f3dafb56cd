// The observatory's profile pages (/country, /region) and the printable report in headless
// Chromium against the running koshi server that run.sh starts: each page in each language shows
// the API's own figures, every number opens its provenance, the address is a permalink that
// reproduces the view, the vintage control gives the API's as-of answer, and `koshi report`
// writes a page that works with the network cut off.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ARTIFACTS, BASE, browser, oneBrowser } from "./chromium.mjs";


const shared = oneBrowser();

const api = async (url) => {
  const r = await fetch(`${BASE}${url}`);
  assert.ok(r.ok, `${url}: ${r.status}`);
  return r.json();
};

/** A page of the observatory, loaded and rendered, with every script error collected. */
async function open(url) {
  const page = await shared.context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await page.goto(`${BASE}${url}`);
  await page.waitForSelector("body[data-ready=true]");
  return { page, errors };
}

/** A number as the page prints it, back to a plain number: English groups with commas and marks
 *  decimals with a point; Russian and Kazakh group with spaces and mark decimals with a comma. */
const plain = (text, lang = "en") => {
  const bare = text.replace(/[\s\u00a0\u202f]/g, "").replace("−", "-");
  return Number(lang === "en" ? bare.replace(/,/g, "") : bare.replace(",", "."));
};

test("a country's profile shows the API's figures in English, Russian and Kazakh", { timeout: 180_000 }, async () => {
  const profile = await api("/api/profiles/country/KAZ");
  const un = profile.net_migration.find((l) => l.source === "UN_WPP");
  assert.ok(un && un.figures.length > 50, "the UN's net migration series is in the profile");
  assert.ok(profile.forecast, "the profile has a forecast");
  for (const lang of ["en", "ru", "kk"]) {
    const { page, errors } = await open(`/country?code=KAZ&lang=${lang}`);
    assert.equal(await page.textContent("h1"), profile.name[lang], lang);
    assert.equal(await page.getAttribute("html", "lang"), lang);
    // The table under the net migration chart holds the API's figures, year by year.
    await page.click("#net-table summary");
    const rows = await page.$$eval("#net-table tbody tr", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    const header = await page.$$eval("#net-table thead th", (ths) => ths.map((th) => th.textContent));
    const column = header.indexOf(profile.net_migration.find((l) => l.source === "UN_WPP").source_name[lang]);
    assert.ok(column > 0, `${lang}: the UN's column in ${header}`);
    for (const f of un.figures) {
      const row = rows.find((r) => r[0] === f.period);
      assert.ok(row, `${lang}: ${f.period} in the table`);
      assert.equal(plain(row[column], lang), Math.round(f.value), `${lang}: ${f.period}`);
    }
    // The largest origin in the bars' table is the API's.
    await page.click("#origins-table summary");
    const first = await page.$eval("#origins-table tbody tr", (tr) => [...tr.cells].map((c) => c.textContent));
    assert.equal(first[0], profile.top_origins[0].name[lang]);
    assert.equal(plain(first[1]), profile.top_origins[0].value);
    assert.ok(await page.$("#fan-chart svg path"), `${lang}: the fan chart is drawn`);
    await page.screenshot({ path: path.join(ARTIFACTS, `country-KAZ-${lang}.png`), fullPage: true });
    assert.deepEqual(errors, [], lang);
    await page.close();
  }
});

test("every number opens its provenance: source, definition, release and citation", { timeout: 120_000 }, async () => {
  const profile = await api("/api/profiles/country/KAZ");
  const { page, errors } = await open("/country?code=KAZ&lang=en");
  // The first card is the immigrant stock; its figure is a button that opens the provenance.
  const button = page.locator("#cards button.prov").first();
  const shown = plain(await button.textContent());
  const figure = profile.immigrant_stock.flatMap((l) => l.figures).find((f) => Math.round(f.value) === shown);
  assert.ok(figure, `the card's ${shown} is one of the API's figures`);
  await button.focus();
  await page.keyboard.press("Enter");
  const dialog = page.locator("dialog#provenance");
  await dialog.waitFor({ state: "visible" });
  const text = await dialog.textContent();
  for (const part of [figure.source, figure.release, figure.release_date, figure.period]) {
    assert.ok(text.includes(part), `the provenance shows ${part}: ${text}`);
  }
  // The link opens the same figures in the API.
  const href = await dialog.locator("a").getAttribute("href");
  const linked = await api(href);
  assert.ok(linked.items.some((o) => o.source === figure.source && o.time_period === figure.period), href);
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });
  assert.equal(await page.evaluate(() => document.activeElement.classList.contains("prov")), true, "focus goes back to the number");
  assert.deepEqual(errors, []);
  await page.close();
});

test("the address is a permalink: a chosen country, language and vintage come back on reload", { timeout: 120_000 }, async () => {
  const { page, errors } = await open("/country?code=KAZ&lang=en");
  await page.selectOption("#country", "BLR");
  await page.waitForFunction(() => document.querySelector("h1").textContent === "Belarus");
  await page.selectOption("#lang", "kk");
  await page.waitForFunction(() => document.documentElement.lang === "kk");
  await page.fill("#asof", "2020-01-01");
  await page.dispatchEvent("#asof", "change");
  const asOf = await api("/api/profiles/country/BLR?as_of=2020-01-01");
  // Known on 2020-01-01, the UN's 2024 estimates were not yet released.
  assert.ok(!asOf.net_migration.some((l) => l.source === "UN_WPP"), "WPP 2024 is not known on 2020-01-01");
  const url = new URL(page.url());
  assert.equal(url.searchParams.get("code"), "BLR");
  assert.equal(url.searchParams.get("lang"), "kk");
  assert.equal(url.searchParams.get("as_of"), "2020-01-01");
  const before = await page.$eval("#cards", (c) => c.textContent);
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  assert.equal(await page.textContent("h1"), asOf.name.kk);
  assert.equal(await page.inputValue("#country"), "BLR");
  assert.equal(await page.inputValue("#asof"), "2020-01-01");
  assert.equal(await page.$eval("#cards", (c) => c.textContent), before, "the reloaded view is the same");
  // The vintage's cards hold the as-of answer's figures, not today's.
  const stock = asOf.immigrant_stock.flatMap((l) => l.figures).map((f) => Math.round(f.value));
  const cardText = await page.locator("#cards .figure").first().textContent();
  if (stock.length) assert.ok(stock.includes(plain(cardText)), `${cardText} is one of the as-of figures`);
  else assert.equal(cardText, "–", "no figure known then, none shown");
  // The net migration table has a column for each source known then, and none for the UN's 2024 estimates.
  const today = await api("/api/profiles/country/BLR");
  const unName = today.net_migration.find((l) => l.source === "UN_WPP").source_name.kk;
  const heads = await page.$$eval("#net-table thead th", (ths) => ths.map((th) => th.textContent));
  assert.deepEqual(heads.slice(1), asOf.net_migration.map((l) => l.source_name.kk));
  assert.ok(!heads.includes(unName), `${heads}`);
  await page.screenshot({ path: path.join(ARTIFACTS, "country-BLR-kk-2020.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test("a region's profile and map show the API's figures, and the map's table leads to other regions", { timeout: 180_000 }, async () => {
  for (const lang of ["en", "ru", "kk"]) {
    const profile = await api("/api/profiles/region/KZ-61");
    const { page, errors } = await open(`/region?code=KZ-61&lang=${lang}`);
    assert.equal(await page.textContent("h1"), profile.name[lang]);
    // Turkistan Region was formed from South Kazakhstan Region: the page says so.
    assert.ok((await page.textContent("#territory")).includes(profile.predecessors[0].name[lang]), lang);
    assert.ok((await page.$$("#map svg path")).length >= 20, `${lang}: the 20 regions are drawn`);
    await page.click("#annual-table summary");
    const rows = await page.$$eval("#annual-table tbody tr", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    const net = profile.migration.find((m) => m.measure === "NET").annual.filter((f) => f.key.startsWith("KZ-61."));
    assert.ok(net.length >= 2, "two years of internal migration");
    for (const f of net) {
      const row = rows.find((r) => r[0] === f.period && r[1] === profile.name[lang]);
      assert.ok(row, `${lang}: ${f.period}`);
      assert.equal(plain(row[4], lang), f.value, `${lang}: net ${f.period}`);
    }
    await page.screenshot({ path: path.join(ARTIFACTS, `region-KZ-61-${lang}.png`), fullPage: true });
    if (lang === "en") {
      await page.click("#map-table summary");
      await page.click("#map-table a >> nth=0");
      await page.waitForSelector("body[data-ready=true]");
      const code = new URL(page.url()).searchParams.get("code");
      const other = await api(`/api/profiles/region/${code}`);
      assert.equal(await page.textContent("h1"), other.name.en);
    }
    assert.deepEqual(errors, [], lang);
    await page.close();
  }
});

test("the region map shows each measure for a year or a month as the API gives it, and keeps the choice in the address", { timeout: 180_000 }, async () => {
  const { page, errors } = await open("/region?code=KZ-75&lang=ru");
  /** The map's table: region code (from its link) → the figure as printed. */
  const mapTable = async () => {
    if (!(await page.$eval("#map-table details", (d) => d.open))) await page.click("#map-table summary");
    return Object.fromEntries(await page.$$eval("#map-table tbody tr", (trs) => trs.map((tr) =>
      [new URL(tr.cells[0].querySelector("a").href).searchParams.get("code"), tr.cells[1].textContent])));
  };
  const settled = async (measure, period) => page.waitForFunction(([m, p]) =>
    document.querySelector("#map-measure").value === m && document.querySelector("#map-period").value === p &&
    (document.querySelector("#map-table caption")?.textContent || "").endsWith(p), [measure, period]);

  // Rates per 1,000: the latest year with rates, every region's value as the API computes it.
  const rates = await api("/api/profiles/regions?measure=NET_RATE");
  const year = rates.years.at(-1);
  assert.ok(year, "a year with rates");
  await page.selectOption("#map-measure", "NET_RATE");
  await settled("NET_RATE", year);
  let shown = await mapTable();
  const ofYear = rates.figures.filter((f) => f.period === year);
  assert.equal(Object.keys(shown).length, ofYear.length);
  assert.ok(ofYear.length >= 20, `${ofYear.length} regions with a ${year} rate`);
  for (const f of ofYear) assert.equal(plain(shown[f.region], "ru"), Number(f.value.toFixed(2)), `${f.region} ${year}`);

  // Arrivals in one month, chosen from the keyboard.
  const arrivals = await api("/api/profiles/regions?measure=ARR");
  const month = arrivals.months[2];
  await page.selectOption("#map-measure", "ARR");
  await settled("ARR", arrivals.years.at(-1));
  await page.focus("#map-period");
  await page.selectOption("#map-period", month);
  await settled("ARR", month);
  const url = new URL(page.url());
  assert.equal(url.searchParams.get("map"), "ARR");
  assert.equal(url.searchParams.get("period"), month);
  shown = await mapTable();
  const ofMonth = arrivals.figures.filter((f) => f.period === month);
  assert.equal(Object.keys(shown).length, ofMonth.length);
  for (const f of ofMonth) assert.equal(plain(shown[f.region], "ru"), f.value, `${f.region} ${month}`);

  // The permalink gives the same view again.
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  await settled("ARR", month);
  assert.deepEqual(await mapTable(), shown);
  await page.screenshot({ path: path.join(ARTIFACTS, `region-map-ARR-${month}.png`), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test("no page overflows a 375 px wide screen", { timeout: 120_000 }, async () => {
  const narrow = await browser({ width: 375, height: 800 });
  try {
    for (const url of ["/country?code=KAZ", "/region?code=KZ-75&lang=kk", "/explorer?lang=ru", "/quality", "/corridors?lang=kk", "/models?lang=ru", "/?lang=kk"]) {
      const page = await narrow.context.newPage();
      await page.goto(`${BASE}${url}`);
      await page.waitForSelector(url.startsWith("/?") ? "#headline .card" : "body[data-ready=true]");
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${url} overflows by ${overflow} px`);
      await page.screenshot({ path: path.join(ARTIFACTS, `narrow-${url.slice(1).split("?")[0] || "home"}.png`), fullPage: true });
      await page.close();
    }
  } finally {
    await narrow.close();
  }
});

test("koshi report writes a self-contained page that works offline and prints", { timeout: 180_000 }, async () => {
  const bin = process.env.KOSHI_BIN, db = process.env.KOSHI_DB;
  assert.ok(bin && db, "KOSHI_BIN and KOSHI_DB are set by run.sh");
  const dir = await mkdtemp(path.join(tmpdir(), "koshi-report-"));
  try {
    for (const [kind, code, lang] of [["country", "KAZ", "ru"], ["region", "KZ-75", "kk"]]) {
      const out = path.join(dir, `${code}.html`);
      execFileSync(bin, ["--db", db, "report", kind, code, "--lang", lang, "--out", out], { stdio: "pipe" });
      const profile = await api(`/api/profiles/${kind}/${code}`);
      const page = await shared.context.newPage();
      const errors = [], requests = [];
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
      // Nothing may be fetched: the page carries everything it shows.
      await page.route("**/*", (route) => {
        if (route.request().url().startsWith("file:")) return route.continue();
        requests.push(route.request().url());
        return route.abort();
      });
      await page.goto(`file://${out}`);
      await page.waitForSelector("body[data-ready=true]");
      assert.equal(await page.textContent("h1"), profile.name[lang]);
      assert.ok((await page.$$("svg path")).length > 10, `${code}: charts are drawn`);
      assert.deepEqual(requests, [], `${code}: the report asked the network`);
      assert.deepEqual(errors, [], code);
      const pdf = await page.pdf({ format: "A4" });
      assert.ok(pdf.length > 20_000, `${code}: prints (${pdf.length} bytes of PDF)`);
      await page.screenshot({ path: path.join(ARTIFACTS, `report-${code}-${lang}.png`), fullPage: true });
      await page.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the explorer finds series by words, filters by labels, downloads what the bank holds and keeps the view in the address", { timeout: 180_000 }, async () => {
  const { page, errors } = await open("/explorer?lang=ru");
  // Search in Russian; the first hit becomes the selection.
  await page.fill("#q", "чистая миграция Казахстан");
  await page.click("#search-form button[type=submit]");
  await page.waitForSelector("#hits button[data-hit]");
  const hits = await api(`/api/search?q=${encodeURIComponent("чистая миграция Казахстан")}&limit=10`);
  assert.equal(await page.textContent("#hits button[data-hit] >> nth=0"), `${hits.items[0].name.ru}: ${hits.items[0].codes.map((c) => c.label.ru).join(", ")}`);
  const before = await page.getAttribute("#table", "data-view");
  await page.click("#hits button[data-hit] >> nth=0");
  await page.waitForFunction((v) => document.querySelector("#table").dataset.view !== v, before);
  // The address holds the key the choices make; the table holds the API's figures for it.
  const url = new URL(page.url());
  const key = url.searchParams.get("key");
  assert.ok(key && key.includes("REF_AREA=KAZ"), key);
  const data = await api(`/api/data/${url.searchParams.get("dataflow")}?key=${encodeURIComponent(key)}&limit=2000`);
  await page.waitForFunction((n) => document.querySelectorAll("#table tbody tr").length === n, Math.min(data.items.length, 2000));
  const values = await page.$$eval("#table tbody tr", (trs) => trs.map((tr) => tr.querySelector("td.num").textContent));
  data.items.forEach((o, i) => {
    if (o.value_base != null) assert.ok(Math.abs(plain(values[i]) - o.value_base) <= 0.001 * Math.max(1, Math.abs(o.value_base)), `row ${i}: ${values[i]} vs ${o.value_base}`);
  });
  // Choose by label: Belarus as well, the harmonised view; then reload the permalink.
  await page.selectOption("#dim-0", [{ label: "Казахстан (KAZ)" }, { label: "Беларусь (BLR)" }]);
  await page.check("#harmonised");
  await page.click("#show");
  await page.waitForSelector("#table[data-view*='harmonised=true'][data-view*='BLR']");
  const shown = await page.$eval("#result-about", (p) => p.textContent);
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  assert.equal(await page.$eval("#result-about", (p) => p.textContent), shown, "the reloaded view is the same");
  assert.deepEqual(await page.$$eval("#dim-0 option:checked", (os) => os.map((o) => o.value).sort()), ["BLR", "KAZ"]);
  assert.equal(await page.isChecked("#harmonised"), true);
  // The download is a ZIP whose data.csv holds the figures the API gives for the same selection.
  const view = new URL(page.url());
  const harmonised = await api(`/api/data/${view.searchParams.get("dataflow")}?key=${encodeURIComponent(view.searchParams.get("key"))}&harmonised=true&limit=10000`);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-zip")]);
  assert.match(download.suggestedFilename(), /^koshi-MIG_EXT-.*\.zip$/);
  const file = path.join(ARTIFACTS, download.suggestedFilename());
  await download.saveAs(file);
  const listing = JSON.parse(execFileSync("python3", ["-c", `
import csv, io, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = z.namelist()
data = next(n for n in names if n.endswith("/data.csv"))
rows = list(csv.DictReader(io.TextIOWrapper(z.open(data), encoding="utf-8")))
readme = z.read(next(n for n in names if n.endswith("/README.md"))).decode()
meta = json.loads(z.read(next(n for n in names if n.endswith("/metadata.json"))))
print(json.dumps({"names": names, "rows": rows, "readme": readme, "meta": meta}))
`, file], { maxBuffer: 64 << 20 }).toString());
  assert.equal(listing.rows.length, harmonised.total);
  harmonised.items.forEach((h, i) => {
    const r = listing.rows[i];
    assert.equal(`${r.REF_AREA}.${r.COUNTERPART}.${r.SEX}.${r.EDUCATION}.${r.MEASURE}`, h.key.join("."));
    assert.equal(r.time_period, h.time_period);
    assert.equal(r.value === "" ? null : Number(r.value), h.value_base, `${h.key.join(".")} ${h.time_period}`);
    assert.equal(r.source, h.source);
  });
  assert.ok(listing.readme.includes("CC BY 3.0 IGO"), "the README carries the UN's licence");
  assert.equal(listing.meta.selection.harmonised, true);
  assert.deepEqual(errors, []);
  await page.screenshot({ path: path.join(ARTIFACTS, "explorer-ru.png"), fullPage: true });
  await page.close();
});

test("the data-quality page's vintage control gives the API's as-of answer, and each side opens its release", { timeout: 180_000 }, async () => {
  for (const lang of ["en", "ru", "kk"]) {
    const { page, errors } = await open(`/quality?dataflow=TRADE&since=2020-01-01&lang=${lang}`);
    await page.waitForSelector("#vintage-counts[data-since]");
    assert.equal(await page.inputValue("#vintage"), "2020-01-01");
    const report = await api("/api/changes/TRADE?since=2020-01-01&limit=200");
    assert.ok(report.counts.revised > 0, "the correction revised the as-printed figures");
    const rows = await page.$$eval("#vintage-table tbody tr", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    assert.equal(rows.length, report.items.length, lang);
    // Each "then" figure is the one the API gives as known on the vintage's date.
    const asOf = await api("/api/data/TRADE?as_of=2020-01-01&harmonised=true&limit=1000");
    report.items.forEach((c, i) => {
      assert.equal(rows[i][0], c.key);
      assert.equal(rows[i][1], c.period);
      if (c.then) {
        const known = asOf.items.find((h) => h.key.join(".") === c.key && h.time_period === c.period);
        assert.ok(known, `${c.key} ${c.period} was known then`);
        assert.equal(plain(rows[i][3], lang), known.value_base, `${lang}: ${c.key} ${c.period}`);
      }
    });
    // The latest releases' list is the API's.
    const latest = await api("/api/changes?latest=5");
    const listed = await page.$$eval("#latest p[data-release]", (ps) => ps.map((p) => Number(p.dataset.release)));
    assert.deepEqual(listed, latest.map((r) => r.release_id));
    if (lang === "en") {
      await page.click("#vintage-table button.prov >> nth=0");
      const dialog = page.locator("dialog#provenance");
      await dialog.waitFor({ state: "visible" });
      assert.ok((await dialog.textContent()).includes("as-printed"), "the old figure's release");
      await page.keyboard.press("Escape");
      // Choosing another vintage goes to the address.
      const other = await page.$$eval("#vintage option", (os) => os.map((o) => o.value).find((v) => v !== "2020-01-01"));
      await page.selectOption("#vintage", other);
      await page.waitForSelector(`#vintage-counts[data-since="${other}"]`);
      assert.equal(new URL(page.url()).searchParams.get("since"), other);
    }
    await page.screenshot({ path: path.join(ARTIFACTS, `quality-${lang}.png`), fullPage: true });
    assert.deepEqual(errors, [], lang);
    await page.close();
  }
});

test("the corridors page maps the chosen set's stocks and shows a bilateral page with its risk view", { timeout: 180_000 }, async () => {
  for (const lang of ["en", "ru", "kk"]) {
    const { page, errors } = await open(`/corridors?a=KAZ&b=CHN&set=KAZ,RUS,UZB,CHN&lang=${lang}`);
    const set = await api("/api/corridors?countries=KAZ,RUS,UZB,CHN");
    assert.ok((await page.$$("#flow-map svg path")).length > 100, `${lang}: the world is drawn`);
    assert.ok((await page.$$("#sankey svg path")).length >= set.links.length, `${lang}: the Sankey's links`);
    await page.click("#links-table summary");
    const rows = await page.$$eval("#links-table tbody tr", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    assert.equal(rows.length, set.links.length);
    set.links.forEach((l, i) => assert.equal(plain(rows[i][2], lang), l.persons, `${lang}: ${l.origin} → ${l.destination}`));
    // Kazakhstan–China: the risk view's values are the API's.
    const c = await api("/api/corridors/KAZ/CHN");
    await page.waitForSelector("#pair-chart[data-pair='KAZ-CHN']");
    assert.equal(await page.textContent("#pair-title"), `${c.a_name[lang]} – ${c.b_name[lang]}`);
    const riskTables = await page.$$eval("#risk table", (ts) => ts.map((t) => [...t.querySelectorAll("tbody tr")].map((tr) => tr.cells[1].textContent)));
    assert.equal(riskTables.length, c.risk.length);
    c.risk.forEach((v, i) => v.indicators.forEach((ind, j) => {
      const shown = riskTables[i][j];
      if (ind.value == null) assert.equal(shown, "–", `${lang}: ${v.viewpoint} ${ind.id}`);
      else assert.ok(Math.abs(plain(shown, lang) - ind.value) <= 0.006 * Math.max(1, Math.abs(ind.value)), `${lang}: ${v.viewpoint} ${ind.id}: ${shown} vs ${ind.value}`);
    }));
    if (lang === "en") {
      // The other bilateral page, by its link; the address holds the pair.
      await page.click("#kaz-blr");
      await page.waitForSelector("#pair-chart[data-pair='KAZ-BLR']");
      assert.equal(new URL(page.url()).searchParams.get("b"), "BLR");
      const blr = await api("/api/corridors/KAZ/BLR");
      assert.equal(await page.textContent("#pair-title"), `${blr.a_name.en} – ${blr.b_name.en}`);
    }
    await page.screenshot({ path: path.join(ARTIFACTS, `corridors-${lang}.png`), fullPage: true });
    assert.deepEqual(errors, [], lang);
    await page.close();
  }
});

test("the models page shows the gravity fit, push and pull and the backtest the API gives", { timeout: 180_000 }, async () => {
  const fit = await api(`/api/gravity/fit?formula=${encodeURIComponent("flow ~ log(dist) + contig + eaeu | orig^year + dest^year")}&data=undesa-panel`);
  const backtest = await api("/api/backtest/MIG_EXT?key=KAZ.WLD._T._T.NET&horizon=5");
  for (const lang of ["en", "kk"]) {
    const { page, errors } = await open(`/models?lang=${lang}`);
    const rows = await page.$$eval("#gravity-table tbody tr", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    assert.deepEqual(rows.map((r) => r[0]), fit.coefficients.map((c) => c.term));
    fit.coefficients.forEach((c, i) => assert.ok(Math.abs(plain(rows[i][1], lang) - c.estimate) < 0.0006, `${lang}: ${c.term}`));
    const models = await page.$$eval("#backtest-table tbody tr", (trs) => trs.map((tr) => tr.cells[0].textContent));
    assert.deepEqual(models, backtest.rows.map((r) => r.model));
    assert.ok(await page.$("#gravity-chart svg path"), "the coefficients are drawn");
    await page.screenshot({ path: path.join(ARTIFACTS, `models-${lang}.png`), fullPage: true });
    assert.deepEqual(errors, [], lang);
    await page.close();
  }
});

test("the models page shows the counterfactual scenario the API computes, chosen from the keyboard and kept in the address", { timeout: 300_000 }, async () => {
  const fitUrl = `/api/gravity/fit?formula=${encodeURIComponent("flow ~ log(dist) + contig + eaeu | orig^year + dest^year")}&data=undesa-panel`;
  const scenarioUrl = (edit, within) => `${fitUrl}&counterfactual=${encodeURIComponent(edit)}&within=${encodeURIComponent(within)}`;
  const loaded = (id) => `#scenario-table[data-state=loaded][data-scenario='${id}']`;
  /** The scenario's table holds the API's rows for the same address, in the page's language. */
  async function sameFigures(page, url, lang) {
    const answer = await api(url);
    assert.equal(new URL(await page.getAttribute("#scenario-api", "href"), BASE).href, new URL(url, BASE).href, "the page asked the same address");
    const rows = await page.$$eval("#scenario-table tbody tr", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    assert.equal(rows.length, answer.counterfactual.length, `${lang}: one row per scope`);
    answer.counterfactual.forEach((r, i) => {
      const [, n, baseline, scenario, change, interval] = rows[i];
      const [low, high] = interval.split(" … ");
      assert.equal(plain(n, lang), r.rows, `${lang}: ${r.scope}: rows`);
      assert.equal(plain(baseline, lang), Math.round(r.baseline), `${lang}: ${r.scope}: baseline`);
      assert.equal(plain(scenario, lang), Math.round(r.scenario), `${lang}: ${r.scope}: scenario`);
      for (const [shown, value] of [[change, r.percent_change], [low, r.ci_low], [high, r.ci_high]]) {
        assert.ok(Math.abs(plain(shown, lang) - value) <= 0.051, `${lang}: ${r.scope}: ${shown} vs ${value}`);
      }
    });
    assert.ok(await page.$("#scenario-chart svg path"), `${lang}: the scenario is drawn`);
    return answer;
  }
  const { page, errors } = await open("/models?lang=ru");
  // The rest of the page is there while the scenario is computed; then the default scenario.
  assert.ok((await page.$$("#gravity-table tbody tr")).length >= 3, "the fit does not wait for the scenario");
  await page.waitForSelector(loaded("eaeu-in-kaz"), { timeout: 120_000 });
  const eaeu = await sameFigures(page, scenarioUrl("eaeu=0 where eaeu=1", "dest=KAZ and year=2019"), "ru");
  // Without the union's effect, fewer migrants are predicted in Kazakhstan.
  assert.ok(eaeu.counterfactual.at(-1).percent_change < 0, "the EAEU's effect is positive");
  // Two steps down the list from the keyboard: Uzbekistan counted as a member.
  await page.focus("#scenario");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  assert.equal(await page.inputValue("#scenario"), "uzb-eaeu");
  await page.waitForSelector(loaded("uzb-eaeu"), { timeout: 120_000 });
  assert.equal(new URL(page.url()).searchParams.get("scenario"), "uzb-eaeu");
  const uzbUrl = scenarioUrl("eaeu=1 where orig=UZB and dest=KAZ,RUS,KGZ,ARM,BLR and year=2019", "dest=KAZ and year=2019");
  await sameFigures(page, uzbUrl, "ru");
  const before = await page.$eval("#scenario-table", (d) => d.textContent);
  // The address is a permalink: the reloaded page shows the same scenario; in Kazakh as well.
  await page.reload();
  await page.waitForSelector(loaded("uzb-eaeu"), { timeout: 120_000 });
  assert.equal(await page.inputValue("#scenario"), "uzb-eaeu");
  assert.equal(await page.$eval("#scenario-table", (d) => d.textContent), before, "the reloaded view is the same");
  await page.selectOption("#lang", "kk");
  await page.waitForFunction(() => document.documentElement.lang === "kk");
  await page.waitForSelector(`${loaded("uzb-eaeu")}[data-lang=kk]`);
  await sameFigures(page, uzbUrl, "kk");
  assert.equal(new URL(page.url()).searchParams.get("scenario"), "uzb-eaeu");
  await page.screenshot({ path: path.join(ARTIFACTS, "models-scenario-kk.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
  // The scenario's table and chart fit a 375 px wide screen.
  const narrow = await browser({ width: 375, height: 800 });
  try {
    const small = await narrow.context.newPage();
    await small.goto(`${BASE}/models?lang=kk&scenario=eaeu-from-kaz`);
    await small.waitForSelector(loaded("eaeu-from-kaz"), { timeout: 120_000 });
    await sameFigures(small, scenarioUrl("eaeu=0 where eaeu=1", "orig=KAZ and year=2019"), "kk");
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `/models with a scenario overflows by ${overflow} px`);
    await small.screenshot({ path: path.join(ARTIFACTS, "narrow-models-scenario.png"), fullPage: true });
  } finally {
    await narrow.close();
  }
});

test("the home page heads with Kazakhstan's latest figures and what the latest releases changed", { timeout: 120_000 }, async () => {
  const profile = await api("/api/profiles/country/KAZ");
  const changes = await api("/api/changes?latest=3");
  const un = profile.net_migration.find((l) => l.source === "UN_WPP").figures.at(-1);
  for (const lang of ["en", "ru"]) {
    const page = await shared.context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${BASE}/?lang=${lang}`);
    await page.waitForSelector("#headline .card");
    const first = await page.$eval("#headline .card .figure", (d) => ({ key: d.dataset.key, text: d.textContent }));
    assert.equal(first.key, un.key);
    assert.equal(plain(first.text, lang), Math.round(un.value));
    assert.deepEqual(await page.$$eval("#changed li[data-release]", (lis) => lis.map((li) => Number(li.dataset.release))), changes.map((c) => c.release_id));
    // Every observatory page is linked, in the page's language.
    const links = await page.$$eval("a[data-page]", (as) => as.map((a) => a.getAttribute("href")));
    for (const p of ["/country", "/region", "/corridors", "/models", "/explorer", "/quality"]) assert.ok(links.includes(`${p}?lang=${lang}`), `${p} in ${links}`);
    assert.deepEqual(errors, [], lang);
    await page.close();
  }
});
