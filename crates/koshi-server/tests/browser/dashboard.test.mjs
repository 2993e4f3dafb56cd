// The dashboard (/) in headless Chromium against the running koshi server that run.sh starts:
// the monitoring alerts are listed in each language with the API's own messages and figures,
// and the page links to the registry's pages.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { ARTIFACTS, BASE, oneBrowser } from "./chromium.mjs";


const shared = oneBrowser();

test("the alerts are listed in English, Russian and Kazakh as the API gives them", { timeout: 120_000 }, async () => {
  const api = await (await fetch(`${BASE}/api/alerts?limit=20`)).json();
  assert.ok(api.total > 0, "the bundled data raise alerts");
  const page = shared.context.pages()[0] || (await shared.context.newPage());
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  for (const lang of ["en", "ru", "kk"]) {
    await page.goto(`${BASE}/?lang=${lang}`);
    await page.waitForSelector("#alerts tr[data-rule]");
    const rows = await page.$$eval("#alerts tr[data-rule]", (trs) =>
      trs.map((tr) => ({ rule: tr.dataset.rule, period: tr.cells[0].textContent, message: tr.cells[1].textContent })));
    assert.equal(rows.length, api.items.length, lang);
    rows.forEach((row, i) => {
      assert.equal(row.rule, api.items[i].rule, `${lang} row ${i}`);
      assert.equal(row.period, api.items[i].period, `${lang} row ${i}`);
      assert.equal(row.message, api.items[i].message[lang], `${lang} row ${i}`);
    });
    const heading = await page.textContent("h2[data-t=alerts]");
    assert.equal(heading, { en: "Alerts", ru: "Сигналы", kk: "Дабылдар" }[lang]);
    await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-alerts-${lang}.png`), fullPage: false });
  }
  const link = await page.getAttribute("#registry-link", "href");
  assert.equal(link, "/registry");
  assert.deepEqual(errors, [], "no script errors");
});

test("the chart is drawn by ECharts from the same figures as the API's", { timeout: 120_000 }, async () => {
  const key = "KAZ.WLD._T._T.NET";
  const api = await (await fetch(`${BASE}/api/data/MIG_EXT?key=${key}&limit=10000`)).json();
  const expected = {};
  for (const o of api.items) {
    if (!/^\d{4}$/.test(o.time_period) || o.value == null) continue;
    (expected[o.source] ||= {})[o.time_period] = o.value * Math.pow(10, o.unit_mult);
  }
  assert.ok(Object.keys(expected).length >= 1, "the bundled data have yearly figures");
  const page = shared.context.pages()[0] || (await shared.context.newPage());
  await page.goto(`${BASE}/?lang=en`);
  await page.waitForFunction(() => {
    const c = window.echarts && echarts.getInstanceByDom(document.getElementById("chart"));
    return c && (c.getOption().series || []).length > 0;
  });
  const drawn = await page.evaluate(() => {
    const option = echarts.getInstanceByDom(document.getElementById("chart")).getOption();
    const years = option.xAxis[0].data;
    return Object.fromEntries(option.series.map((s) => [s.name, Object.fromEntries(
      s.data.map((v, i) => [years[i], v]).filter(([, v]) => v != null))]));
  });
  assert.deepEqual(drawn, expected);
  // The chart is an SVG drawn in the page, nothing fetched from elsewhere.
  assert.ok(await page.$("#chart svg path"), "an SVG chart");
  await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-chart.png"), fullPage: false });
});

test("the map of the regions shows the API's indicator values with the boundaries' credit", { timeout: 120_000 }, async () => {
  const api = await (await fetch(`${BASE}/api/indicators/NET/MIG_INT?limit=10000`)).json();
  const annual = api.items.filter((v) => /^\d{4}$/.test(v.period));
  const latest = annual.map((v) => v.period).sort().pop();
  const expected = Object.fromEntries(annual.filter((v) => v.period === latest).map((v) => [v.key, v.value]));
  assert.equal(Object.keys(expected).length, 20, "the 20 units of the 2022 layout");
  const page = shared.context.pages()[0] || (await shared.context.newPage());
  for (const [lang, credit] of [["en", "OpenStreetMap contributors"], ["ru", "участники OpenStreetMap"], ["kk", "OpenStreetMap қатысушылары"]]) {
    await page.goto(`${BASE}/?lang=${lang}`);
    await page.waitForSelector("#map-table tr[data-region]");
    const drawn = await page.evaluate(() => {
      const option = echarts.getInstanceByDom(document.getElementById("map")).getOption();
      return { year: document.getElementById("map-year").value, data: option.series[0].data };
    });
    assert.equal(drawn.year, latest);
    assert.deepEqual(Object.fromEntries(drawn.data.map((d) => [d.name, d.value])), expected, lang);
    const rows = await page.$$eval("#map-table tr[data-region]", (trs) => trs.map((tr) => tr.dataset.region));
    assert.deepEqual(rows.sort(), Object.keys(expected).sort());
    assert.ok((await page.textContent("p[data-t=map_credit]")).includes(credit), lang);
    assert.ok(await page.$("#map svg path"), "the regions are drawn");
    await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-map-${lang}.png`), fullPage: true });
  }
  // Another indicator and year redraw the map from the API.
  await page.selectOption("#map-indicator", "EFFECTIVENESS");
  await page.waitForFunction(() => {
    const d = echarts.getInstanceByDom(document.getElementById("map")).getOption().series[0].data;
    return d.length && d.every((x) => Math.abs(x.value) <= 100);
  });
});

test("the map's colour scale is symmetric about zero when figures have both signs", { timeout: 60_000 }, async () => {
  const page = shared.context.pages()[0] || (await shared.context.newPage());
  await page.goto(`${BASE}/?lang=en`);
  await page.waitForSelector("#map-table tr[data-region]");
  const scale = await page.evaluate(() => {
    const option = echarts.getInstanceByDom(document.getElementById("map")).getOption();
    const values = option.series[0].data.map((d) => d.value);
    return { min: option.visualMap[0].min, max: option.visualMap[0].max, lo: Math.min(...values), hi: Math.max(...values) };
  });
  assert.ok(scale.lo < 0 && scale.hi > 0, "net migration has gaining and losing regions");
  assert.equal(scale.min, -scale.max);
  assert.ok(scale.max >= Math.max(-scale.lo, scale.hi));
});
