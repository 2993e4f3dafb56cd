// The permit registry's pages in headless Chromium against a running koshi server (run.sh starts
// it and seeds the users): languages, the public quota, an employer's application, the regional
// officers' queues and decisions, the decision in Russian, the quota consumed, narrow screens.
// The tests run in order and carry the applications they make from one to the next.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { createRequire } from "node:module";
import { ARTIFACTS, BASE, browser, required } from "./chromium.mjs";

required("KOSHI_URL");
const PASSWORD = required("KOSHI_TEST_PASSWORD");
const YEAR = Number(process.env.KOSHI_TEST_YEAR || new Date().getUTCFullYear());
const LANGS = ["en", "ru", "kk"];
const USERS = {
  employerAlmaty: "employer-almaty",
  employerShymkent: "employer-shymkent",
  officerAlmaty: "officer-almaty",
  officerShymkent: "officer-shymkent",
};
const TIMEOUT = { timeout: 120_000 };

// One browser per person, each with a fresh, empty profile (its own cookies and storage).
const people = new Map();
// What one test leaves for the next.
const carried = { workers: 2 };

async function person(name) {
  if (people.has(name)) return people.get(name);
  const session = await browser();
  const context = session.context;
  const page = context.pages()[0] || (await context.newPage());
  const errors = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`page: ${e.message}`));
  const p = { name, session, context, page, errors };
  people.set(name, p);
  return p;
}

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
});

after(async () => {
  for (const p of people.values()) await p.session.close();
});

async function open(page, lang = "en") {
  await page.goto(`${BASE}/registry?lang=${lang}&year=${YEAR}`);
  await page.waitForSelector("body[data-ready=true]");
  await page.waitForSelector(`#quota-table[data-state=loaded][data-year="${YEAR}"]`);
}

async function signIn(page, name, lang = "en") {
  await open(page, lang);
  await page.fill("#signin-name", name);
  await page.fill("#signin-password", PASSWORD);
  await page.click("#signin-form button[type=submit]");
  await page.waitForSelector("#account:not([hidden])");
}

// Every view a screenshot is taken of is also checked by axe-core; the last test reads the findings.
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const accessibility = [];
async function shot(page, file) {
  await page.screenshot({ path: path.join(ARTIFACTS, file), fullPage: true });
  await page.addScriptTag({ path: AXE });
  const found = await page.evaluate(async () => (await axe.run(document, { resultTypes: ["violations"] })).violations);
  for (const v of found.filter((v) => v.impact === "serious" || v.impact === "critical")) {
    accessibility.push(`${file}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
  }
}

/** The page's own fetch, with its session cookie: status and JSON. */
async function pageFetch(page, url) {
  return page.evaluate(async (u) => {
    const r = await fetch(u, { headers: { Accept: "application/json" } });
    return { status: r.status, body: await r.json() };
  }, url);
}

async function apiQuota() {
  const r = await fetch(`${BASE}/api/registry/quota/${YEAR}`);
  assert.equal(r.status, 200);
  return r.json();
}

/** The quota table as shown: each row's cell key and the numbers read from the visible text. */
async function pageQuota(page) {
  return page.$$eval("#quota-body tr[data-line]", (rows) =>
    rows.map((r) => {
      const n = (cls) => Number(r.querySelector(cls).textContent.replace(/\D/g, ""));
      const bar = r.querySelector(".bar > span");
      return {
        line: r.dataset.line,
        region: r.dataset.region,
        category: r.dataset.category,
        allocated: n(".c-allocated"),
        used: n(".c-used"),
        left: n(".c-left"),
        bar: bar ? parseFloat(bar.style.width) : null,
      };
    }),
  );
}

const cellKey = (c) => `${c.line}|${c.region}|${c.category}`;
function byKey(cells) {
  return new Map(cells.map((c) => [cellKey(c), c]));
}

function assertQuotaShown(shown, api) {
  assert.equal(shown.length, api.cells.length, "one row per quota cell");
  const apiCells = byKey(api.cells);
  for (const row of shown) {
    const c = apiCells.get(cellKey(row));
    assert.ok(c, `the row ${cellKey(row)} is not in the API's answer`);
    assert.deepEqual(
      { allocated: row.allocated, used: row.used, left: row.left },
      { allocated: c.allocated, used: c.used, left: c.left },
      `cell ${cellKey(row)}`,
    );
    const share = c.allocated > 0 ? Math.min(1, c.used / c.allocated) : c.used > 0 ? 1 : 0;
    assert.ok(Math.abs(row.bar - share * 100) < 0.01, `the bar of ${cellKey(row)} is ${row.bar}% for ${share * 100}%`);
  }
}

/** Every input and select has a label; nothing but a <button> acts as a button. */
async function assertAccessible(page) {
  const problems = await page.evaluate(() => {
    const out = [];
    for (const n of document.querySelectorAll("input, select, textarea")) {
      if (!n.labels || !n.labels.length || ![...n.labels].some((l) => l.textContent.trim())) out.push(`no label: #${n.id}`);
    }
    for (const n of document.querySelectorAll("[onclick], [role=button]")) out.push(`not a button: ${n.outerHTML.slice(0, 80)}`);
    for (const b of document.querySelectorAll("button")) {
      if (!(b.textContent.trim() || b.getAttribute("aria-label"))) out.push(`a button without a name: ${b.outerHTML.slice(0, 80)}`);
    }
    return out;
  });
  assert.deepEqual(problems, []);
}

async function assertNoMissingKeys(page) {
  assert.deepEqual(await page.evaluate(() => window.registryMissingKeys), [], "texts asked for that a language lacks");
}

test("the page loads in English, Russian and Kazakh with every text translated and no console error", TIMEOUT, async () => {
  const { page, errors } = await person("public");
  const headings = {};
  let tables = null;
  for (const lang of LANGS) {
    errors.length = 0;
    await open(page, lang);
    const seen = await page.evaluate(() => ({
      lang: document.documentElement.lang,
      chosen: document.getElementById("lang").value,
      heading: document.getElementById("heading").textContent.trim(),
      title: document.title,
      keys: [...document.querySelectorAll("[data-t]")].map((n) => n.dataset.t),
      blank: [...document.querySelectorAll("[data-t]")].filter((n) => !n.textContent.trim()).map((n) => n.dataset.t),
      tables: window.registryTranslations,
    }));
    assert.equal(seen.lang, lang);
    assert.equal(seen.chosen, lang);
    assert.deepEqual(seen.blank, [], `elements left without text in ${lang}`);
    for (const key of seen.keys) assert.ok(key in seen.tables[lang], `${lang} lacks \`${key}\``);
    await assertNoMissingKeys(page);
    assert.deepEqual(errors, [], `console errors in ${lang}`);
    headings[lang] = `${seen.heading} | ${seen.title}`;
    tables = seen.tables;
    await assertAccessible(page);
    await shot(page, `public-${lang}.png`);
  }
  assert.equal(new Set(Object.values(headings)).size, 3, `the header is the same in two languages: ${JSON.stringify(headings)}`);

  // The translation table: the same keys in every language, none empty, the same {placeholders}.
  assert.deepEqual(Object.keys(tables).sort(), [...LANGS].sort());
  const keys = Object.keys(tables.en).sort();
  const holes = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const lang of LANGS) {
    const own = Object.keys(tables[lang]).sort();
    assert.deepEqual(
      { missing: keys.filter((k) => !own.includes(k)), extra: own.filter((k) => !keys.includes(k)) },
      { missing: [], extra: [] },
      `the ${lang} table's keys`,
    );
    for (const k of keys) {
      assert.ok(typeof tables[lang][k] === "string" && tables[lang][k].trim(), `${lang}.${k} is empty`);
      assert.deepEqual(holes(tables[lang][k]), holes(tables.en[k]), `${lang}.${k} puts in other values than en.${k}`);
    }
  }

  // The switch is kept in the URL: a reload stays in the chosen language.
  await open(page, "en");
  await page.selectOption("#lang", "kk");
  assert.match(page.url(), /[?&]lang=kk(&|$)/);
  assert.equal(await page.textContent("#heading"), headings.kk.split(" | ")[0]);
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  assert.equal(await page.evaluate(() => document.documentElement.lang), "kk");
  assert.equal(await page.inputValue("#lang"), "kk");
  assert.deepEqual(errors, []);
});

test("the public quota table shows the numbers of GET /api/registry/quota/{year}", TIMEOUT, async () => {
  const { page } = await person("public");
  await open(page, "ru");
  const api = await apiQuota();
  assert.ok(api.cells.length >= 2, "the quota was set by run.sh");
  assertQuotaShown(await pageQuota(page), api);
  carried.quotaBefore = api;
  // Another year through the form: none is set, and the table says so.
  await page.fill("#quota-year", "2031");
  await page.click("#quota-form button[type=submit]");
  await page.waitForSelector('#quota-table[data-year="2031"]');
  assert.equal(await page.locator("#quota-body tr[data-line]").count(), 0);
  assert.match(page.url(), /[?&]year=2031(&|$)/);
});

async function apply(page, { count, nationality, worker }) {
  await page.fill("#a-nationality", nationality);
  await page.selectOption("#a-category", "3");
  await page.fill("#a-term", "12");
  await page.fill("#a-count", String(count));
  await page.fill("#a-worker-name", worker);
  await page.fill("#a-document", "N01234567");
  await page.fill("#a-birth", "1990-04-12");
  const before = await page.$$eval("#my-apps-body tr[data-id]", (rows) => rows.map((r) => Number(r.dataset.id)));
  await page.click("#apply-form button[type=submit]");
  // The notice names the new application's number.
  const named = await page.waitForFunction((known) => {
    const m = document.getElementById("notice").textContent.match(/^Application no\. (\d+) submitted\.$/);
    return m && !known.includes(Number(m[1])) ? Number(m[1]) : null;
  }, before);
  const id = await named.jsonValue();
  await page.waitForSelector(`#my-apps-body tr[data-id="${id}"]`);
  await page.waitForSelector(`#app-detail[data-id="${id}"]:not([hidden])`);
  return id;
}

test("an employer applies through the form and sees it; another employer does not", TIMEOUT, async () => {
  const { page, errors } = await person("employer-almaty");
  await signIn(page, USERS.employerAlmaty);
  await page.waitForSelector("#employer:not([hidden])");
  await page.waitForSelector("#my-apps-body[data-state=loaded]", { state: "attached" });
  // The employer's own region is chosen to begin with.
  assert.deepEqual(await page.$eval("#a-regions", (s) => [...s.selectedOptions].map((o) => o.value)), ["KZ-75"]);
  await assertAccessible(page);

  const granted = await apply(page, { count: carried.workers, nationality: "uz", worker: "Aziz Karimov" });
  const row = page.locator(`#my-apps-body tr[data-id="${granted}"]`);
  assert.equal(await row.locator(".c-status .status").getAttribute("data-status"), "pending");
  assert.equal(await row.locator(".c-status").textContent(), "pending");
  assert.equal(await page.locator("#detail-status").textContent(), "pending");
  const refused = await apply(page, { count: 1, nationality: "TJ", worker: "Rustam Nazarov" });
  carried.granted = granted;
  carried.refused = refused;
  const own = await pageFetch(page, `/api/registry/applications/${granted}`);
  assert.equal(own.status, 200);
  assert.deepEqual([own.body.workers, own.body.nationality, own.body.regions], [carried.workers, "UZ", ["KZ-75"]]);
  assert.equal(own.body.worker.name, "Aziz Karimov");
  assert.deepEqual(errors, []);
  await shot(page, "employer.png");

  // The other employer signs in from the keyboard alone, and sees neither application.
  const other = await person("employer-shymkent");
  await open(other.page);
  let reached = false;
  for (let i = 0; i < 40 && !reached; i++) {
    await other.page.keyboard.press("Tab");
    reached = await other.page.evaluate(() => document.activeElement && document.activeElement.id === "signin-name");
  }
  assert.ok(reached, "the sign-in form is reached with the Tab key");
  await other.page.keyboard.type(USERS.employerShymkent);
  await other.page.keyboard.press("Tab");
  // A wrong password first: the API's refusal is shown in the alert.
  await other.page.keyboard.type(`${PASSWORD}-wrong`);
  await other.page.keyboard.press("Enter");
  const alert = other.page.locator("#alert");
  await alert.waitFor({ state: "visible" });
  assert.match(await other.page.textContent("#alert-text"), /^Error \(401 [A-Z_]+\): \S/);
  await other.page.fill("#signin-password", "");
  await other.page.focus("#signin-password");
  await other.page.keyboard.type(PASSWORD);
  await other.page.keyboard.press("Enter");
  await other.page.waitForSelector("#my-apps-body[data-state=loaded]", { state: "attached" });
  await alert.waitFor({ state: "hidden" });
  for (const id of [granted, refused]) {
    assert.equal(await other.page.locator(`#my-apps-body tr[data-id="${id}"]`).count(), 0);
  }
  // Asked for by its number, the application is not found: the page says so in its alert.
  await other.page.fill("#find-id", String(granted));
  await other.page.click("#find-form button[type=submit]");
  await alert.waitFor({ state: "visible" });
  assert.equal(await alert.getAttribute("role"), "alert");
  assert.match(await other.page.textContent("#alert-text"), new RegExp(`404 NOT_FOUND\\): unknown application \`${granted}\``));
  assert.equal(await other.page.locator("#app-detail").isHidden(), true);
  const direct = await pageFetch(other.page, `/api/registry/applications/${granted}`);
  assert.equal(direct.status, 404);
  assert.equal(direct.body.error.status, 404);
  await shot(other.page, "employer-other-404.png");
  // The alert can be dismissed from the keyboard.
  await other.page.focus("#alert-dismiss");
  await other.page.keyboard.press("Enter");
  await alert.waitFor({ state: "hidden" });
});

test("the KZ-75 officer decides from the queue; the KZ-79 officer's queue does not have it", TIMEOUT, async () => {
  assert.ok(carried.granted && carried.refused, "the applications of the previous test");
  const shymkent = await person("officer-shymkent");
  await signIn(shymkent.page, USERS.officerShymkent);
  await shymkent.page.waitForSelector("#queue[data-state=loaded]", { state: "attached" });
  for (const id of [carried.granted, carried.refused]) {
    assert.equal(await shymkent.page.locator(`#queue li[data-id="${id}"]`).count(), 0);
  }
  assert.equal(await shymkent.page.isVisible("#queue-empty"), true);
  await shot(shymkent.page, "officer-kz79.png");

  const { page, errors } = await person("officer-almaty");
  await signIn(page, USERS.officerAlmaty);
  await page.waitForSelector("#queue[data-state=loaded]", { state: "attached" });
  assert.match(await page.textContent("#queue-h"), /KZ-75/);
  for (const id of [carried.granted, carried.refused]) await page.waitForSelector(`#queue li[data-id="${id}"]`);
  await assertAccessible(page);
  await shot(page, "officer-queue.png");

  // A contested finding: refused on ground 1, its text shown.
  const refusedItem = page.locator(`#queue li[data-id="${carried.refused}"]`);
  await refusedItem.getByLabel("The documents are authentic").uncheck();
  await refusedItem.getByRole("button", { name: `Decide application no. ${carried.refused}` }).click();
  await page.waitForSelector(`#outcome[data-id="${carried.refused}"]:not([hidden])`);
  await page.waitForSelector(`#queue li[data-id="${carried.refused}"]`, { state: "detached" });
  assert.equal(await page.getAttribute("#outcome .summary .status", "data-status"), "refused");
  const refusedRecord = (await pageFetch(page, `/api/registry/applications/${carried.refused}`)).body;
  assert.equal(refusedRecord.status, "refused");
  assert.deepEqual(refusedRecord.grounds, ["1"]);
  assert.equal(
    await page.textContent('#outcome li.ground[data-ground="1"] .ground-text'),
    refusedRecord.decision.refusals[0].text.en,
  );

  // Nothing contested: granted, with its permit.
  await page
    .locator(`#queue li[data-id="${carried.granted}"]`)
    .getByRole("button", { name: `Decide application no. ${carried.granted}` })
    .click();
  await page.waitForSelector(`#outcome[data-id="${carried.granted}"]:not([hidden])`);
  await page.waitForSelector(`#queue li[data-id="${carried.granted}"]`, { state: "detached" });
  assert.equal(await page.getAttribute("#outcome .summary .status", "data-status"), "granted");
  assert.equal(await page.textContent("#outcome .summary .status"), "granted");
  const grantedRecord = (await pageFetch(page, `/api/registry/applications/${carried.granted}`)).body;
  assert.equal(grantedRecord.status, "granted");
  assert.equal(await page.textContent("#outcome .summary-text"), grantedRecord.decision.summary.en);
  assert.match(await page.textContent("#outcome .permit-id"), /^\d+$/);
  carried.permit = Number(await page.textContent("#outcome .permit-id"));
  carried.consumes = grantedRecord.decision.consumes;
  assert.match(await page.textContent("#notice"), new RegExp(`Application no\\. ${carried.granted}: granted\\.`));
  await assertNoMissingKeys(page);
  assert.deepEqual(errors, []);
  await shot(page, "officer-decided.png");

  // The other region's officer still has neither.
  await shymkent.page.click("#queue-refresh");
  await shymkent.page.waitForSelector("#queue[data-state=loaded]", { state: "attached" });
  assert.equal(await shymkent.page.locator("#queue li[data-id]").count(), 0);
});

test("the employer sees the decisions with their grounds in Russian after switching to ru", TIMEOUT, async () => {
  assert.ok(carried.permit, "the decisions of the previous test");
  const { page, errors } = await person("employer-almaty");
  await page.click("#apps-refresh");
  await page.waitForSelector(`#my-apps-body tr[data-id="${carried.refused}"] .status[data-status=refused]`);
  await page.waitForSelector(`#my-apps-body tr[data-id="${carried.granted}"] .status[data-status=granted]`);
  await page.getByRole("button", { name: `Open application no. ${carried.refused}` }).click();
  await page.waitForSelector(`#app-detail[data-id="${carried.refused}"] li.ground`);

  await page.selectOption("#lang", "ru");
  assert.match(page.url(), /[?&]lang=ru(&|$)/);
  const refused = (await pageFetch(page, `/api/registry/applications/${carried.refused}`)).body;
  assert.equal(await page.textContent("#detail-h"), `Заявление № ${carried.refused}`);
  assert.equal(await page.textContent("#detail-status"), "отказано");
  assert.equal(await page.textContent('#app-detail li.ground[data-ground="1"] .ground-text'), refused.decision.refusals[0].text.ru);
  assert.equal(await page.textContent("#app-detail .summary-text"), refused.decision.summary.ru);
  assert.match(refused.decision.refusals[0].text.ru, /недостоверны/);
  await shot(page, "employer-ru-refused.png");

  await page.getByRole("button", { name: `Открыть заявление № ${carried.granted}` }).click();
  await page.waitForSelector(`#app-detail[data-id="${carried.granted}"] .permit-id`);
  const granted = (await pageFetch(page, `/api/registry/applications/${carried.granted}`)).body;
  assert.equal(await page.textContent("#detail-status"), "выдано");
  assert.equal(await page.textContent("#app-detail .summary-text"), granted.decision.summary.ru);
  assert.equal(Number(await page.textContent("#app-detail .permit-id")), carried.permit);
  const permit = (await pageFetch(page, `/api/registry/permits/${carried.permit}`)).body;
  assert.equal(permit.application, carried.granted);
  assert.equal(permit.workers, carried.workers);
  assert.ok((await page.textContent("#app-detail dl.permit")).includes(permit.valid_until));
  // A reload keeps Russian (and the session).
  await page.reload();
  await page.waitForSelector("#my-apps-body[data-state=loaded]", { state: "attached" });
  assert.equal(await page.evaluate(() => document.documentElement.lang), "ru");
  assert.equal(await page.textContent(`#my-apps-body tr[data-id="${carried.granted}"] .c-status`), "выдано");
  await assertNoMissingKeys(page);
  assert.deepEqual(errors, []);
  await page.getByRole("button", { name: `Открыть заявление № ${carried.granted}` }).click();
  await page.waitForSelector(`#app-detail[data-id="${carried.granted}"] .permit-id`);
  await shot(page, "employer-ru-granted.png");
});

test("after the grant the quota table's used and left changed by the application's workers", TIMEOUT, async () => {
  assert.ok(carried.quotaBefore && carried.consumes, "the quota and the grant of the previous tests");
  const before = byKey(carried.quotaBefore.cells);
  const now = await apiQuota();
  const consumed = new Set(carried.consumes.map(cellKey));
  assert.ok(consumed.has(`general|KZ-75|*`), `the grant consumed ${[...consumed]}`);
  for (const c of now.cells) {
    const b = before.get(cellKey(c));
    const change = consumed.has(cellKey(c)) ? carried.workers : 0;
    assert.deepEqual([c.used - b.used, b.left - c.left], [change, change], `cell ${cellKey(c)}: used and left`);
  }
  const { page } = await person("public");
  await open(page, "kk");
  const shown = await pageQuota(page);
  assertQuotaShown(shown, now);
  const almaty = shown.find((r) => cellKey(r) === "general|KZ-75|*");
  const was = before.get("general|KZ-75|*");
  assert.deepEqual([almaty.used, almaty.left], [was.used + carried.workers, was.left - carried.workers]);
  assert.ok(almaty.bar > 0);
  // The officer's page refreshed its own table after deciding.
  const officer = await person("officer-almaty");
  assertQuotaShown(await pageQuota(officer.page), now);
});

test("at 375 px no view is wider than the screen", TIMEOUT, async () => {
  const views = [
    ["public", "public"],
    ["employer-almaty", "employer"],
    ["employer-shymkent", "employer-other"],
    ["officer-almaty", "officer"],
    ["officer-shymkent", "officer-kz79"],
  ];
  const widths = {};
  for (const [who, file] of views) {
    const { page } = await person(who);
    await page.setViewportSize({ width: 375, height: 812 });
    await page.waitForTimeout(100);
    widths[file] = await page.evaluate(() => document.scrollingElement.scrollWidth);
    await shot(page, `${file}-375.png`);
  }
  for (const [view, width] of Object.entries(widths)) assert.ok(width <= 375, `${view} is ${width} px wide at 375 px`);
  // The employer's detail with the rules' steps opened is the widest content of all.
  const { page } = await person("employer-almaty");
  await page.click("#app-detail details summary");
  const opened = await page.evaluate(() => document.scrollingElement.scrollWidth);
  await shot(page, "employer-steps-375.png");
  assert.ok(opened <= 375, `the decision's steps are ${opened} px wide at 375 px`);
});

test("signing out ends the session and goes back to the public view", TIMEOUT, async () => {
  const { page, errors } = await person("officer-almaty");
  await page.setViewportSize({ width: 1200, height: 900 });
  await page.click("#signout");
  await page.waitForSelector("#signin:not([hidden])");
  assert.equal(await page.isHidden("#officer"), true);
  assert.equal(await page.isHidden("#account"), true);
  assert.match(await page.textContent("#notice"), /^Signed out\.$/);
  // The session is over on the server too, and a reload does not bring it back.
  const me = await pageFetch(page, "/api/registry/session");
  assert.equal(me.status, 401);
  errors.length = 0;
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  assert.equal(await page.isVisible("#signin"), true);
  assert.deepEqual(errors, []);
});

test("no view of the registry's pages has a serious or critical accessibility violation", () => {
  assert.ok(people.size > 0, "the views were opened");
  assert.deepEqual(accessibility, []);
});
