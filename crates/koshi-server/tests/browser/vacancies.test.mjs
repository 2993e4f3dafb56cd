// The labour-market pages (/vacancies, /shortage) in headless Chromium against the running koshi
// server that run.sh starts. The test seeds its own data through the API, as the people would:
// the regional officers of Almaty (KZ-75) and Shymkent (KZ-79) that run.sh created sign in, post
// vacancies, import a job portal's JSON-LD page, change a vacancy and report their job seekers,
// and the administrator adopts a shortage list. Then: the search shows the API's answer, a region
// and a word narrow it, pages follow `next_after`, a vacancy opens with its history, the address
// is a permalink; the shortage page says when no list is adopted and then shows the list's
// statuses; an application for an occupation in surplus is refused on the labour-market test and
// the employer's registry page says why; the tightness map's table and chart hold
// /api/labour-demand's figures; axe-core finds
// no serious or critical violation; every control is reached from the keyboard.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { createRequire } from "node:module";
import { ARTIFACTS, BASE, browser, oneBrowser, required } from "./chromium.mjs";

const PASSWORD = required("KOSHI_TEST_PASSWORD");
const LANGS = ["en", "ru", "kk"];
const TIMEOUT = { timeout: 180_000 };
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const shared = oneBrowser();

// What the setup made, for the tests.
const seed = { almaty: [], shymkent: [], month: "", changed: null };

const api = async (url) => {
  const r = await fetch(`${BASE}${url}`);
  const body = await r.json();
  assert.ok(r.ok, `${url}: ${r.status} ${JSON.stringify(body)}`);
  return body;
};

/** Signs in through the registry's session endpoint: the cookie and the CSRF token. */
async function signIn(name) {
  const r = await fetch(`${BASE}/api/registry/session`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name, password: PASSWORD }),
  });
  const body = await r.json();
  assert.equal(r.status, 200, `${name}: ${JSON.stringify(body)}`);
  return { cookie: r.headers.get("set-cookie").split(";")[0], csrf: body.csrf_token };
}

/** A write by a signed-in person; the answer's JSON. */
async function send(who, method, url, body, status = 200) {
  const r = await fetch(`${BASE}${url}`, {
    method, body: JSON.stringify(body),
    headers: { "content-type": "application/json", cookie: who.cookie, "x-csrf-token": who.csrf },
  });
  const answer = await r.json();
  assert.equal(r.status, status, `${method} ${url}: ${JSON.stringify(answer)}`);
  return answer;
}

/** `YYYY-MM` plus `k` months. */
function addMonths(month, k) {
  const [y, m] = month.split("-").map(Number);
  const d = new Date(Date.UTC(y, m - 1 + k, 1));
  return d.toISOString().slice(0, 7);
}

before(async () => {
  // The server's own month (its clock decides), and the month before it: a complete month.
  const now = (await api("/api/labour-demand?level=1&region=KZ-75&occupation=_T")).to;
  const month = addMonths(now, -1);
  seed.month = month;
  const almaty = await signIn("officer-almaty");
  const shymkent = await signIn("officer-shymkent");
  // Almaty's officer posts nine vacancies (welders, a developer, accountants, drivers).
  const posted = [
    ["Электрогазосварщик", null, 350000, 400000, 2],
    ["Сварщик ручной дуговой сварки", null, 320000, 370000, 2],
    ["Программист Python", "2512", 700000, 750000, 1],
    ["Бухгалтер", "2411", 280000, null, 1],
    ["Главный бухгалтер", "2411", null, 600000, 1],
    ["Водитель автобуса", "8331", 300000, 300000, 4],
    ["Водитель категории C", "8332", 330000, 360000, 2],
    ["Повар", "5120", 250000, 280000, 1],
    ["Электрик", "7411", 300000, 350000, 1],
  ];
  for (const [i, [title, occupation, min, max, openings]] of posted.entries()) {
    const body = { title, region: "KZ-75", settlement: "Алматы", employer_name: "ТОО «Алматы Құрылыс»", posted: `${month}-0${1 + (i % 9)}`,
      openings, valid_through: `${addMonths(now, 2)}-28` };
    if (occupation) body.occupation = occupation;
    if (min != null) body.wage_min = min;
    if (max != null) body.wage_max = max;
    const v = await send(almaty, "POST", "/api/vacancies", body, 201);
    seed.almaty.push(v);
  }
  assert.deepEqual(seed.almaty.slice(0, 2).map((v) => v.record.occupation), ["7212", "7212"], "welders are coded from their titles");
  // Shymkent's officer imports a portal's page: three postings in JSON-LD.
  const postings = [["NP-1", "Электрогазосварщик", "05", 2], ["NP-2", "Программист 1С", "06", 1], ["NP-3", "Медицинская сестра", "07", 3]]
    .map(([id, title, day, n]) => ({
      "@context": "https://schema.org", "@type": "JobPosting", identifier: { "@type": "PropertyValue", name: "Портал", value: id },
      title, datePosted: `${month}-${day}`, url: `https://portal.example.kz/vacancy/${id}`,
      hiringOrganization: { "@type": "Organization", name: "ТОО «Южный Монтаж»" },
      jobLocation: { "@type": "Place", address: { "@type": "PostalAddress", addressLocality: "Шымкент", addressRegion: "г. Шымкент", addressCountry: "KZ" } },
      baseSalary: { "@type": "MonetaryAmount", currency: "KZT", value: { "@type": "QuantitativeValue", minValue: 300000, maxValue: 380000, unitText: "MONTH" } },
      totalJobOpenings: n,
    }));
  const html = `<!doctype html><html lang="ru"><head><title>Вакансии</title><script type="application/ld+json">${JSON.stringify(postings)}</script></head><body></body></html>`;
  const imported = await send(shymkent, "POST",
    `/api/vacancies/imports?source=test-portal&format=jsonld&file_name=portal.html&as_of=${month}-28`, { data: html });
  assert.equal(imported.inserted, 3, JSON.stringify(imported));
  seed.shymkent = (await api("/api/vacancies?region=KZ-79&limit=50")).items;
  assert.equal(seed.shymkent.length, 3);
  // The nurse gets more openings later in the month: a second state in her history.
  const nurse = seed.shymkent.find((v) => v.record.title === "Медицинская сестра");
  seed.changed = (await send(shymkent, "POST", `/api/vacancies/${nurse.id}/changes`, { openings: 5, as_of: `${month}-20` })).id;
  // The centres' job seekers, this month and a year before.
  const rows = (region, list) => list.flatMap(([occupation, seekers, before]) => [
    { region, occupation, month, seekers }, { region, occupation, month: addMonths(month, -12), seekers: before }]);
  await send(almaty, "PUT", "/api/vacancies/seekers",
    { source: "centre-almaty", rows: rows("KZ-75", [["7212", 400, 200], ["2512", 1, 1], ["2411", 50, 50], ["8331", 3, 6], ["3221", 30, 30]]) });
  await send(shymkent, "PUT", "/api/vacancies/seekers",
    { source: "centre-shymkent", rows: rows("KZ-79", [["7212", 3, 3], ["2514", 100, 50], ["2221", 5, 5], ["3221", 1, 1]]) });
});

/** A page, loaded and rendered, with every script error collected. */
async function open(url, ready = "body[data-ready=true]") {
  const page = await shared.context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await page.goto(`${BASE}${url}`);
  await page.waitForSelector(ready);
  return { page, errors };
}

/** A number as the page prints it, back to a number (English: 1,234.5; Russian and Kazakh: 1 234,5). */
const plain = (text, lang = "en") => {
  const bare = text.replace(/[\s\u00a0\u202f]/g, "").replace("−", "-");
  return Number(lang === "en" ? bare.replace(/,/g, "") : bare.replace(",", "."));
};

/** The rows of a table as text, each with the `data-*` marks of its cells' first elements. */
const rowsOf = (page, selector) => page.$$eval(`${selector} tbody tr`, (trs) => trs.map((tr) => ({
  cells: [...tr.cells].map((c) => c.textContent.trim()),
  id: tr.querySelector("a[data-id]")?.dataset.id,
  region: tr.querySelector("[data-region]")?.dataset.region,
  status: tr.querySelector("[data-status]")?.dataset.status,
})).filter((r) => r.cells.length > 1));

/** A wage cell back to its numbers: [min, max] (a single figure is both). */
function wageOf(text, lang) {
  if (text === "–") return [null, null];
  const figures = text.replace(/\s*KZT$/, "").split("–").map((x) => plain(x.replace(/^\D+|\D+$/g, ""), lang));
  return figures.length === 2 ? figures : [figures[0], figures[0]];
}

/** The search's table against the API's items, row for row. */
function assertVacancies(rows, items, lang, regions) {
  assert.deepEqual(rows.map((r) => Number(r.id)), items.map((v) => v.id), `${lang}: the API's vacancies in its order`);
  rows.forEach((row, i) => {
    const r = items[i].record;
    const [title, employer, place, region, occupation, wage, openings, posted, until] = row.cells;
    assert.equal(title, r.title);
    assert.equal(employer, r.employer_name || "–");
    assert.equal(place, r.settlement || "–");
    assert.equal(region, regions[r.region][lang], `${lang}: the region of ${r.title}`);
    if (r.occupation) assert.equal(occupation, occupationText(r, lang), `${lang}: the occupation of ${r.title}`);
    const [min, max] = wageOf(wage, lang);
    if (r.wage_min_month != null) assert.equal(min, r.wage_min_month, `${lang}: ${wage}`);
    if (r.wage_max_month != null) assert.equal(max, r.wage_max_month, `${lang}: ${wage}`);
    assert.equal(plain(openings, lang), r.openings);
    assert.equal(posted, r.posted);
    assert.equal(until, r.valid_through || "–");
  });
}

let isco = null;
/** The ISCO-08 groups by code, as /api/occupations gives them (loaded by `regions()`). */
async function occupations() {
  if (!isco) isco = new Map((await api("/api/occupations")).items.map((g) => [g.code, g]));
  return isco;
}

/** How an occupation reads in a language: the code and its title in that language; where the
 * group has none, its English title and, in brackets, its sub-major group's title. */
function occupationText(r, lang) {
  const group = isco.get(r.occupation);
  const own = group?.[`title_${lang}`];
  if (own) return `${r.occupation} ${own}`;
  const english = group?.title_en || r.occupation_title;
  const wider = lang !== "en" && isco.get(r.occupation.slice(0, 2))?.[`title_${lang}`];
  return `${r.occupation}${english ? ` ${english}` : ""}${wider ? ` (${wider})` : ""}`;
}

let regionNames = null;
/** The 20 regions' names by code and language (the code list the pages name them by). */
async function regions() {
  await occupations();
  if (!regionNames) {
    const area = await api("/api/codelists/AREA");
    regionNames = Object.fromEntries(area.codes.filter((c) => ["kz_region", "kz_city"].includes(c.properties?.kind) && !c.valid_to)
      .map((c) => [c.id, c.labels]));
    assert.equal(Object.keys(regionNames).length, 20);
  }
  return regionNames;
}

const loaded = (page, url) => page.waitForFunction((u) => document.querySelector("#results")?.dataset.state === "loaded" &&
  document.querySelector("#results").dataset.url === u, url);

test("the search lists the API's vacancies in three languages, and a region and a word narrow it", TIMEOUT, async () => {
  const names = await regions();
  const all = await api("/api/vacancies?status=open&limit=20");
  assert.equal(all.items.length, 12);
  for (const lang of LANGS) {
    const { page, errors } = await open(`/vacancies?lang=${lang}`);
    await loaded(page, "/api/vacancies?status=open&limit=20");
    const rows = await rowsOf(page, "#results");
    assertVacancies(rows, all.items, lang, names);
    // Russian and Kazakh readers read the groups' titles in their language.
    if (lang !== "en") {
      const titled = all.items.filter((v) => v.record.occupation && isco.get(v.record.occupation.slice(0, 2))?.[`title_${lang}`]);
      assert.ok(titled.length >= 5, `${titled.length} vacancies with a ${lang} group title`);
      for (const v of titled) assert.ok(rows[all.items.indexOf(v)].cells[4].includes(isco.get(v.record.occupation.slice(0, 2))[`title_${lang}`]) ||
        rows[all.items.indexOf(v)].cells[4].includes(isco.get(v.record.occupation)?.[`title_${lang}`] ?? "\u0000"), `${lang}: ${v.record.occupation}`);
    }
    assert.equal(await page.getAttribute("html", "lang"), lang);
    // The region list names the 20 regions in the page's language.
    const options = await page.$$eval("#v-region option", (os) => os.map((o) => [o.value, o.textContent]));
    assert.equal(options.length, 21);
    for (const [code, text] of options.slice(1)) assert.equal(text, names[code][lang]);
    assert.deepEqual(errors, [], lang);
    await page.close();
  }

  // Almaty's welders: the region chosen, the word typed, the search sent with Enter.
  const { page, errors } = await open("/vacancies?lang=ru");
  await page.selectOption("#v-region", "KZ-75");
  await page.fill("#v-q", "сварщик");
  await page.focus("#v-q");
  await page.keyboard.press("Enter");
  const url = "/api/vacancies?region=KZ-75&q=%D1%81%D0%B2%D0%B0%D1%80%D1%89%D0%B8%D0%BA&status=open&limit=20";
  await loaded(page, url);
  const welders = await api(url);
  assert.deepEqual(welders.items.map((v) => v.id), seed.almaty.slice(0, 2).map((v) => v.id), "the two welders of Almaty");
  let rows = await rowsOf(page, "#results");
  assertVacancies(rows, welders.items, "ru", names);
  const address = new URL(page.url());
  assert.equal(address.searchParams.get("region"), "KZ-75");
  assert.equal(address.searchParams.get("q"), "сварщик");
  assert.equal(address.searchParams.get("lang"), "ru");
  // The permalink gives the same view.
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  await loaded(page, url);
  assert.deepEqual(await rowsOf(page, "#results"), rows);
  assert.equal(await page.inputValue("#v-region"), "KZ-75");
  assert.equal(await page.inputValue("#v-q"), "сварщик");

  // A major group, chosen from its list, writes its digit as the code: professionals (2).
  await page.fill("#v-q", "");
  await page.selectOption("#v-region", "");
  await page.selectOption("#v-group", "2");
  assert.equal(await page.inputValue("#v-code"), "2");
  await page.click("#search-form button[type=submit]");
  const professionals = await api("/api/vacancies?occupation=2&status=open&limit=20");
  await loaded(page, "/api/vacancies?occupation=2&status=open&limit=20");
  rows = await rowsOf(page, "#results");
  assertVacancies(rows, professionals.items, "ru", names);
  assert.ok(rows.length >= 4 && professionals.items.every((v) => v.record.occupation.startsWith("2")), `${rows.length} professionals`);
  // A code that is not one is refused on the page, in its language, before the API is asked.
  await page.fill("#v-code", "72a");
  await page.click("#search-form button[type=submit]");
  await page.waitForSelector("#error:not([hidden])");
  assert.match(await page.textContent("#error"), /МСКЗ-08/);
  assert.equal(await page.getAttribute("#v-code", "aria-invalid"), "true");
  assert.equal(new URL(page.url()).searchParams.get("occupation"), "2", "the refused code is not in the address");
  await page.screenshot({ path: path.join(ARTIFACTS, "vacancies-search-ru.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test("pages follow next_after, and a vacancy opens with its history, kept in the address", TIMEOUT, async () => {
  const names = await regions();
  const { page, errors } = await open("/vacancies?lang=kk&limit=10");
  const first = await api("/api/vacancies?status=open&limit=10");
  await loaded(page, "/api/vacancies?status=open&limit=10");
  assertVacancies(await rowsOf(page, "#results"), first.items, "kk", names);
  assert.ok(first.next_after, "more than one page");
  assert.equal(await page.isHidden("#first-page"), true);
  await page.click("#next-page");
  const second = await api(`/api/vacancies?status=open&limit=10&after=${first.next_after}`);
  await loaded(page, `/api/vacancies?status=open&limit=10&after=${first.next_after}`);
  assertVacancies(await rowsOf(page, "#results"), second.items, "kk", names);
  assert.equal(second.next_after, null);
  assert.equal(await page.isHidden("#next-page"), true, "no page after the last");
  assert.equal(new URL(page.url()).searchParams.get("after"), String(first.next_after));
  // Back one page, then forward again.
  await page.click("#previous-page");
  await loaded(page, "/api/vacancies?status=open&limit=10");
  await page.click("#next-page");
  await loaded(page, `/api/vacancies?status=open&limit=10&after=${first.next_after}`);

  // The nurse of Shymkent: opened from the table, with both her states.
  const detail = await api(`/api/vacancies/${seed.changed}`);
  assert.equal(detail.history.length, 2);
  const link = page.locator(`#results a[data-id="${seed.changed}"]`);
  await link.focus();
  await page.keyboard.press("Enter");
  await page.waitForSelector(`#detail[data-id="${seed.changed}"]:not([hidden])`);
  assert.equal(await page.evaluate(() => document.activeElement.id), "detail-title", "the focus goes to the vacancy");
  assert.equal(await page.textContent("#detail-title"), detail.vacancy.record.title);
  const history = await rowsOf(page, "#history");
  assert.deepEqual(history.map((r) => [Number(r.cells[0]), r.cells[1], plain(r.cells[4], "kk")]),
    detail.history.map((h) => [h.seq, h.as_of, h.record.openings]));
  assert.deepEqual(history.map((r) => r.cells[2]), ["орналастырылды", "шарттары өзгертілді"]);
  const fields = await page.$$eval("#detail-fields dd", (dds) => dds.map((d) => d.textContent));
  assert.ok(fields.includes(names["KZ-79"].kk), fields.join(" | "));
  assert.equal(await page.getAttribute("#detail-fields a", "href"), detail.vacancy.record.url);
  assert.equal(new URL(page.url()).searchParams.get("id"), String(seed.changed));
  // The permalink opens the same page of results and the same vacancy.
  const shown = await rowsOf(page, "#results");
  await page.reload();
  await page.waitForSelector(`#detail[data-id="${seed.changed}"]:not([hidden])`);
  assert.deepEqual(await rowsOf(page, "#results"), shown);
  assert.deepEqual(await rowsOf(page, "#history"), history);
  await page.screenshot({ path: path.join(ARTIFACTS, "vacancies-detail-kk.png"), fullPage: true });
  await page.click("#close-detail");
  await page.waitForSelector("#detail[hidden]", { state: "attached" });
  assert.equal(new URL(page.url()).searchParams.get("id"), null);
  assert.deepEqual(errors, []);
  await page.close();
});

/** The list as the API gives it (with the page's filters). */
const latest = (query = "") => api(`/api/shortage/lists/latest${query}`);
const listLoaded = (page, url) => page.waitForFunction((u) => {
  const box = document.querySelector("#list-table");
  return box && box.dataset.state === "loaded" && box.dataset.url === u;
}, url);

test("before a list is adopted the shortage page says so; then it shows the list's statuses and reasons", TIMEOUT, async () => {
  const none = await fetch(`${BASE}/api/shortage/lists/latest`);
  assert.equal(none.status, 404, "no list is adopted before this test");
  for (const lang of LANGS) {
    const { page, errors } = await open(`/shortage?lang=${lang}`);
    await page.waitForSelector("#no-list:not([hidden])");
    const words = { en: /No shortage list has been adopted yet/, ru: /ещё не утверждён/, kk: /әлі бекітілмеген/ }[lang];
    assert.match(await page.textContent("#no-list"), words);
    assert.equal(await page.isHidden("#list-controls"), true);
    // Chromium reports the API's 404 in the console; the page expects it and says why.
    assert.deepEqual(errors.filter((e) => !/status of 404/.test(e)), [], lang);
    await page.close();
  }

  const admin = await signIn("admin");
  const adopted = await send(admin, "POST", "/api/shortage/lists", { month: seed.month }, 201);
  assert.ok(adopted.list > 0);
  const names = await regions();
  const list = await latest();
  assert.ok(list.entries.length >= 6, JSON.stringify(list.entries.map((e) => [e.region, e.occupation, e.status])));
  const statuses = new Set(list.entries.map((e) => e.status));
  assert.ok(statuses.has("in_demand") && statuses.has("not_in_demand"), [...statuses].join());
  const summary = JSON.parse(list.list.summary);
  const words = {
    en: { in_demand: "in demand", balanced: "balanced", not_in_demand: "not in demand" },
    ru: { in_demand: "востребовано", balanced: "сбалансировано", not_in_demand: "невостребовано" },
    kk: { in_demand: "сұранысқа ие", balanced: "теңгерімді", not_in_demand: "сұранысқа ие емес" },
  };
  for (const lang of LANGS) {
    const { page, errors } = await open(`/shortage?lang=${lang}`);
    await listLoaded(page, "/api/shortage/lists/latest");
    assert.equal(await page.isHidden("#no-list"), true);
    const rows = await rowsOf(page, "#list-table");
    assert.equal(rows.length, list.entries.length);
    rows.forEach((row, i) => {
      const e = list.entries[i];
      assert.equal(row.region, e.region);
      assert.equal(row.cells[0], names[e.region][lang]);
      assert.ok(row.cells[1].startsWith(e.occupation), row.cells[1]);
      assert.equal(row.status, e.status);
      if (words[lang][e.status]) assert.ok(row.cells[2].startsWith(words[lang][e.status]), `${lang}: ${row.cells[2]}`);
      assert.equal(row.cells[3] === "–" ? null : plain(row.cells[3], lang), e.seekers);
      assert.equal(plain(row.cells[4], lang), e.vacancies);
    });
    // The reasons in the page's language, under each entry.
    const first = page.locator("#list-table tbody tr").first().locator("details");
    await first.locator("summary").click();
    const reasons = await first.locator("li").allTextContents();
    assert.deepEqual(reasons, list.entries[0].reasons[lang]);
    // The rule and its version named, with the published methodology linked.
    const rule = await page.textContent("#list-rule");
    assert.ok(rule.includes(summary.rule.id) && rule.includes(summary.rule.version_from), rule);
    assert.equal(await page.getAttribute("#rule-source", "href"), summary.rule.source);
    assert.ok((await page.textContent("#list-about")).includes(list.list.as_of));
    if (lang === "ru") await page.screenshot({ path: path.join(ARTIFACTS, "shortage-list-ru.png"), fullPage: true });
    assert.deepEqual(errors, [], lang);
    await page.close();
  }

  // Filtered by region and status, from the keyboard; the filters are kept in the address.
  const { page, errors } = await open("/shortage?lang=en");
  await listLoaded(page, "/api/shortage/lists/latest");
  await page.focus("#l-region");
  await page.selectOption("#l-region", "KZ-79");
  await listLoaded(page, "/api/shortage/lists/latest?region=KZ-79");
  await page.selectOption("#l-status", "not_in_demand");
  const url = "/api/shortage/lists/latest?region=KZ-79&status=not_in_demand";
  await listLoaded(page, url);
  const filtered = await api(url);
  assert.ok(filtered.entries.length >= 1);
  let rows = await rowsOf(page, "#list-table");
  assert.deepEqual(rows.map((r) => [r.region, r.cells[1].slice(0, 4), r.status]), filtered.entries.map((e) => [e.region, e.occupation, e.status]));
  assert.ok(rows.every((r) => r.region === "KZ-79" && r.status === "not_in_demand"));
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  await listLoaded(page, url);
  assert.deepEqual(await rowsOf(page, "#list-table"), rows);
  assert.equal(await page.inputValue("#l-status"), "not_in_demand");
  assert.deepEqual(errors, []);
  await page.close();
});

test("an application for an occupation the list finds in surplus is refused on the labour-market test, and the employer's page says why", TIMEOUT, async () => {
  // The occupation the list finds most clearly in surplus: not in demand, the most seekers.
  const list = await latest("?status=not_in_demand");
  const surplus = list.entries.filter((e) => e.occupation.length === 4 && ["KZ-75", "KZ-79"].includes(e.region))
    .sort((a, b) => (b.seekers ?? 0) - (a.seekers ?? 0))[0];
  assert.ok(surplus, JSON.stringify(list.entries));
  const who = { "KZ-75": ["employer-almaty", "officer-almaty"], "KZ-79": ["employer-shymkent", "officer-shymkent"] }[surplus.region];
  const employerName = who[0];
  const employer = await signIn(who[0]);
  const officer = await signIn(who[1]);
  const body = {
    request: { nationality: "UZ", category: "4", regions: [surplus.region], term_months: 12, occupation: surplus.occupation },
    worker: { name: "Aziz Karimov", birth_date: "1990-05-04", document: "AB7654321" },
  };
  const submitted = await send(employer, "POST", "/api/registry/applications", body, 201);
  await send(officer, "POST", `/api/registry/applications/${submitted.id}/decision`, {});
  const decided = await (await fetch(`${BASE}/api/registry/applications/${submitted.id}`, { headers: { cookie: employer.cookie } })).json();
  assert.equal(decided.status, "refused", JSON.stringify(decided));
  assert.ok(decided.grounds.includes("local_candidates"), JSON.stringify(decided.grounds));
  const test = decided.decision.steps.find((s) => s.rule === "LABOUR_MARKET_TEST");
  assert.equal(test.status, "failed", JSON.stringify(test));
  const reason = decided.decision.refusals.find((r) => /local job seekers/.test(r.text.en));
  assert.ok(reason, JSON.stringify(decided.decision.refusals));

  // The employer signs in on the registry's page, in Russian, and opens the decision.
  const session = await browser();
  try {
    const page = session.context.pages()[0] || (await session.context.newPage());
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    await page.goto(`${BASE}/registry?lang=ru`);
    await page.waitForSelector("body[data-ready=true]");
    await page.fill("#signin-name", employerName);
    await page.fill("#signin-password", PASSWORD);
    await page.click("#signin-form button[type=submit]");
    await page.waitForSelector("#account:not([hidden])");
    await page.waitForSelector(`#my-apps-body tr[data-id="${submitted.id}"] .status[data-status=refused]`);
    await page.getByRole("button", { name: `Открыть заявление № ${submitted.id}` }).click();
    await page.waitForSelector(`#app-detail[data-id="${submitted.id}"] li.ground`);
    const grounds = await page.$$eval("#app-detail li.ground .ground-text", (els) => els.map((e) => e.textContent));
    assert.ok(grounds.includes(reason.text.ru), `${JSON.stringify(grounds)} lacks ${reason.text.ru}`);
    assert.match(reason.text.ru, /внутреннем рынке труда/);
    await page.screenshot({ path: path.join(ARTIFACTS, "labour-market-test-refused-ru.png"), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await session.close();
  }
});

/** The tightness table: region → [vacancies, seekers, seekers per vacancy, vacancies per seeker] as printed. */
const tightnessRows = async (page) => Object.fromEntries((await rowsOf(page, "#map-table")).map((r) => [r.region, r.cells.slice(1)]));
const mapLoaded = (page, url) => page.waitForFunction((u) => {
  const box = document.querySelector("#map-table");
  return box && box.dataset.state === "loaded" && box.dataset.url === u;
}, url);

/** The table's rows against the API's cells, every region. */
function assertTightness(shown, cells, lang) {
  assert.equal(Object.keys(shown).length, 20, "the 20 regions");
  assert.equal(cells.length, 20);
  const round = (x, digits) => (x == null ? null : Number(x.toFixed(digits)));
  for (const c of cells) {
    const [stock, seekers, perVacancy, tightness] = shown[c.region].map((x) => (x === "–" ? null : plain(x, lang)));
    assert.deepEqual([stock, seekers, perVacancy, tightness],
      [c.stock, c.seekers, round(c.seekers_per_vacancy, 2), round(c.tightness, 3)], `${lang}: ${c.region} ${c.occupation} ${c.month}`);
  }
}

test("the tightness map's table and chart hold /api/labour-demand's figures, and its view is kept in the address", TIMEOUT, async () => {
  const month = seed.month;
  const { page, errors } = await open(`/shortage?lang=ru&month=${month}`);
  // All occupations, major groups: the default.
  await mapLoaded(page, `/api/labour-demand?level=1&from=${month}&to=${month}&occupation=_T`);
  const total = await api(`/api/labour-demand?level=1&from=${month}&to=${month}&occupation=_T`);
  assertTightness(await tightnessRows(page), total.cells, "ru");
  const almaty = total.cells.find((c) => c.region === "KZ-75");
  assert.ok(almaty.stock >= 9 && almaty.seekers >= 454 && almaty.tightness > 0, JSON.stringify(almaty));
  assert.ok((await page.$$("#map svg path")).length >= 20, "the 20 regions are drawn");
  // The chart draws the same figures as the table.
  const drawn = async () => page.evaluate(() => Object.fromEntries(
    echarts.getInstanceByDom(document.getElementById("map")).getOption().series[0].data
      .filter((d) => d.value != null && !Number.isNaN(d.value)).map((d) => [d.name, d.value])));
  assert.deepEqual(await drawn(), Object.fromEntries(total.cells.filter((c) => c.tightness != null).map((c) => [c.region, c.tightness])));

  // Sub-major group 72 (metal and machinery trades), chosen from the keyboard; seekers per vacancy.
  await page.focus("#m-level");
  await page.selectOption("#m-level", "2");
  await mapLoaded(page, `/api/labour-demand?level=2&from=${month}&to=${month}&occupation=_T`);
  await page.selectOption("#m-occupation", "72");
  const url = `/api/labour-demand?level=2&from=${month}&to=${month}&occupation=72`;
  await mapLoaded(page, url);
  await page.selectOption("#m-measure", "seekers_per_vacancy");
  await page.waitForFunction(() => document.querySelector("#m-measure").value === "seekers_per_vacancy" &&
    /Соискателей/.test(document.querySelector("#map-about").textContent));
  await mapLoaded(page, url);
  const metal = await api(url);
  assertTightness(await tightnessRows(page), metal.cells, "ru");
  assert.deepEqual(await drawn(), Object.fromEntries(metal.cells.filter((c) => c.seekers_per_vacancy != null).map((c) => [c.region, c.seekers_per_vacancy])));
  const welders = metal.cells.find((c) => c.region === "KZ-75");
  assert.equal(welders.seekers, 400);
  const address = new URL(page.url());
  assert.deepEqual(["month", "level", "occ", "measure"].map((k) => address.searchParams.get(k)), [month, "2", "72", "seekers_per_vacancy"]);
  const shown = await tightnessRows(page);
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  await mapLoaded(page, url);
  assert.deepEqual(await tightnessRows(page), shown, "the permalink gives the same view");
  assert.equal(await page.inputValue("#m-occupation"), "72");
  assert.equal(await page.inputValue("#m-measure"), "seekers_per_vacancy");
  // The map credits OpenStreetMap.
  assert.match(await page.textContent("[data-t=map_credit]"), /OpenStreetMap.*ODbL 1\.0/);
  await page.screenshot({ path: path.join(ARTIFACTS, "shortage-tightness-ru.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

/** The serious and critical violations axe-core finds on the page as it is now. */
async function violations(page) {
  await page.addScriptTag({ path: AXE });
  const found = await page.evaluate(async () => (await axe.run(document, { resultTypes: ["violations"] })).violations);
  return found.filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
}

const VIEWS = [
  ["/vacancies", () => `id=${seed.changed}`, () => `#detail[data-id="${seed.changed}"]:not([hidden])`],
  ["/shortage", () => `month=${seed.month}`, () => "#map-table[data-state=loaded]"],
];

test("the forecasting centre's relocation scenario shows /api/labour-demand/coordination's figures, with a package's cost, kept in the address", TIMEOUT, async () => {
  const q = new URLSearchParams({ month: seed.month, level: "1", transport: "100000", housing_per_month: "80000", housing_months: "6",
    microcredit: "500000", package_source: "programme rules" });
  const url = `/api/labour-demand/coordination?${q}`;
  const answer = await api(url);
  assert.ok(answer.movers > 0, JSON.stringify(answer.occupations.map((o) => [o.occupation, o.movers])));
  // Almaty's nurses registered without a vacancy could fill Shymkent's nurse's openings.
  const perPerson = 100000 + 6 * 80000 + 500000;
  assert.ok(Math.abs(answer.cost.total - answer.movers * perPerson) < 1e-6 * answer.cost.total, JSON.stringify(answer.cost));
  const majors = new Map((await api("/api/occupations?level=1")).items.map((g) => [g.code, g]));
  for (const lang of LANGS) {
    const address = `/models?lang=${lang}&rmonth=${seed.month}&rlevel=1&transport=100000&housing_per_month=80000&housing_months=6&microcredit=500000&package_source=${encodeURIComponent("programme rules")}`;
    const { page, errors } = await open(address);
    await page.waitForFunction((u) => document.querySelector("#relocation-table")?.dataset.state === "loaded" &&
      document.querySelector("#relocation-table").dataset.url === u, url);
    const rows = await rowsOf(page, "#relocation-table");
    assert.equal(rows.length, answer.occupations.length);
    rows.forEach((row, i) => {
      const o = answer.occupations[i];
      const g = majors.get(o.occupation);
      assert.equal(row.cells[0], `${o.occupation} ${g[`title_${lang}`] || g.title_en}`);
      assert.equal(plain(row.cells[1], lang), Math.round(o.movers));
      assert.equal(plain(row.cells[2], lang), Math.round(o.surplus_left));
      assert.equal(plain(row.cells[3], lang), Math.round(o.gap_left));
      assert.equal(plain(row.cells[4].replace(/\s*KZT$/, ""), lang), Math.round(o.cost.total));
    });
    const status = await page.textContent("#relocation-status");
    assert.ok(status.includes(answer.flows_year) && status.includes("programme rules"), status);
    if (lang === "ru") await page.screenshot({ path: path.join(ARTIFACTS, "relocation-scenario-ru.png"), fullPage: true });
    assert.deepEqual(errors, [], lang);
    await page.close();
  }
  // A new question from the form: sub-major groups, no package; the address keeps it.
  const { page, errors } = await open(`/models?lang=en&rmonth=${seed.month}`);
  await page.waitForSelector("#relocation-table[data-state=loaded]");
  await page.selectOption("#r-level", "2");
  await page.click("#relocation-form button[type=submit]");
  const plainUrl = `/api/labour-demand/coordination?month=${seed.month}&level=2`;
  await page.waitForFunction((u) => document.querySelector("#relocation-table")?.dataset.url === u &&
    document.querySelector("#relocation-table").dataset.state === "loaded", plainUrl);
  const subMajor = await api(plainUrl);
  assert.equal(subMajor.cost, null);
  assert.equal((await rowsOf(page, "#relocation-table")).length, subMajor.occupations.length);
  assert.equal(new URL(page.url()).searchParams.get("rlevel"), "2");
  assert.deepEqual(errors, []);
  await page.close();
});

test("axe-core finds no serious or critical violation on the pages in any language", TIMEOUT, async () => {
  for (const [where, query, ready] of VIEWS) {
    const page = await shared.context.newPage();
    for (const lang of LANGS) {
      await page.goto(`${BASE}${where}?lang=${lang}&${query()}`);
      await page.waitForSelector("body[data-ready=true]");
      await page.waitForSelector(ready());
      // With a closed <details> opened too (the list's reasons).
      await page.$$eval("details", (ds) => ds.slice(0, 1).forEach((d) => { d.open = true; }));
      assert.deepEqual(await violations(page), [], `${where}?lang=${lang}`);
    }
    await page.close();
  }
});

test("every control of the pages is reached from the keyboard", TIMEOUT, async () => {
  for (const [where, query, ready] of VIEWS) {
    const page = await shared.context.newPage();
    await page.goto(`${BASE}${where}?lang=en&${query()}`);
    await page.waitForSelector("body[data-ready=true]");
    await page.waitForSelector(ready());
    // Every visible, enabled control is reached by Tab (what a closed <details> holds once it is opened).
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
    assert.ok(controls.length >= 10, `${where}: ${controls.length} controls`);
    assert.deepEqual(missed, [], `${where}: controls Tab never reaches`);
    await page.close();
  }
});

test("neither page overflows a 375 px wide screen", TIMEOUT, async () => {
  const narrow = await browser({ width: 375, height: 800 });
  try {
    for (const [where, query, ready] of VIEWS) {
      const page = await narrow.context.newPage();
      await page.goto(`${BASE}${where}?lang=kk&${query()}`);
      await page.waitForSelector("body[data-ready=true]");
      await page.waitForSelector(ready());
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${where} overflows by ${overflow} px`);
      await page.screenshot({ path: path.join(ARTIFACTS, `narrow-${where.slice(1)}.png`), fullPage: true });
      await page.close();
    }
  } finally {
    await narrow.close();
  }
});
