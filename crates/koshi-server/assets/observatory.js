// What every observatory page shares: the interface's words in three languages, reading the
// API, the view kept in the URL (a permalink), the provenance of every number, and tables
// beside the charts. A printable report is the same page with the API's answers written into
// it (window.KOSHI_EMBEDDED, keyed by the URL the page would have asked).
"use strict";
const KOSHI = (() => {
  const LANGS = ["en", "ru", "kk"];
  // A report carries its view with it; a page reads it from its address.
  const view = window.KOSHI_VIEW || null;
  const params = new URLSearchParams(location.search);
  const asked = view ? view.lang : params.get("lang");
  let lang = LANGS.includes(asked) ? asked : "en";
  let words = null;
  let onLanguage = () => {};
  const embedded = window.KOSHI_EMBEDDED || null;
  const figures = [];

  async function getJson(url) {
    if (embedded) {
      if (url in embedded) return embedded[url];
      throw new Error(`${url}: not in this report`);
    }
    const r = await fetch(url);
    const j = await r.json();
    // Errors are {"error": {"status", "code", "message"}}.
    if (!r.ok) throw new Error((j.error && j.error.message) || String(r.status));
    return j;
  }

  const t = (key) => (words && ((words[lang] && words[lang][key]) || words.en[key])) || key;
  const label = (labels) => (labels && (labels[lang] || labels.en)) || "";
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  // Kazakh writes numbers as Russian does (space groups, decimal comma); browsers' kk data vary.
  const locale = () => (lang === "en" ? "en-GB" : "ru-RU");
  const fmt = (v, digits = 1) => (v == null || Number.isNaN(v) ? "–" : Number(v).toLocaleString(locale(), { maximumFractionDigits: digits }));
  const $ = (id) => document.getElementById(id);

  // The view in the URL: reloading the address shows the same view.
  function state(name, fallback) {
    const v = view ? view[name] : new URLSearchParams(location.search).get(name);
    return v == null || v === "" ? fallback : v;
  }
  function setState(values) {
    if (view) { Object.assign(view, values); return; }
    const q = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(values)) { if (v == null || v === "") q.delete(k); else q.set(k, v); }
    history.replaceState(null, "", `${location.pathname}?${q}`);
  }

  // Every number shown can be opened to see its source, definition, release and citation.
  function prov(figure, text) {
    figures.push(figure);
    return `<button type="button" class="prov" data-prov="${figures.length - 1}" aria-haspopup="dialog">${esc(text ?? fmt(figure.value))}</button>`;
  }
  function openProvenance(figure, opener) {
    const d = $("provenance");
    const rows = [
      ["value", `${fmt(figure.value, 3)} ${figure.unit || ""}`],
      ["period", figure.period],
      ["source", figure.source_label ? `${figure.source} — ${figure.source_label}` : figure.source],
      ["definition", figure.definition_labels ? label(figure.definition_labels) : figure.definition],
      ["release", figure.release_date ? `${figure.release} (${figure.release_date})` : figure.release],
      ["citation", figure.citation],
      ["why_chosen", figure.reason_labels ? label(figure.reason_labels) : figure.reason],
      ["computed_from", figure.inputs && figure.inputs.map((i) => `${i.key} ${i.period}: ${fmt(i.value)} (${i.source}, ${i.release})`).join("; ")],
      ["dataflow_key", figure.dataflow ? `${figure.dataflow} ${figure.key}` : figure.key],
    ].filter(([, v]) => v != null && v !== "");
    d.querySelector("dl").innerHTML = rows.map(([k, v]) => `<dt>${esc(t(k))}</dt><dd>${esc(v)}</dd>`).join("");
    const link = d.querySelector("a");
    if (figure.dataflow && figure.key) {
      link.hidden = embedded != null;
      link.href = `/api/data/${encodeURIComponent(figure.dataflow)}?key=${encodeURIComponent(figure.key)}&limit=100`;
    } else link.hidden = true;
    d.returnTo = opener;
    d.showModal();
    d.querySelector("button").focus();
  }

  function table(caption, head, rows) {
    return `<div class="table-wrap" tabindex="0" role="region" aria-label="${esc(caption)}"><table><caption>${esc(caption)}</caption>` +
      `<thead><tr>${head.map((h) => `<th scope="col"${h.num ? ' class="num"' : ""}>${esc(h.text ?? h)}</th>`).join("")}</tr></thead>` +
      `<tbody>${rows.length ? rows.map((r) => `<tr>${r.map((c, i) => `<td${head[i] && head[i].num ? ' class="num"' : ""}>${c}</td>`).join("")}</tr>`).join("")
        : `<tr><td colspan="${head.length}">${esc(t("none"))}</td></tr>`}</tbody></table></div>`;
  }

  const charts = new Map();
  function chart(id, option) {
    let c = charts.get(id);
    if (!c) { c = echarts.init($(id), null, { renderer: "svg" }); charts.set(id, c); }
    c.setOption({ animation: false, ...option }, true);
    return c;
  }
  // Charts follow the window's size once it has settled (a map on geographic coordinates fails
  // inside ECharts 6.1 when resized while its box is momentarily empty).
  let resizing = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => charts.forEach((c) => {
      const box = c.getDom();
      if (box.clientWidth > 0 && box.clientHeight > 0) c.resize();
    }), 150);
  });

  const PAGES = [["/", "home"], ["/country", "country_profile"], ["/region", "region_profile"], ["/corridors", "corridors_nav"], ["/models", "models"], ["/explorer", "explorer"], ["/quality", "quality"], ["/vacancies", "vacancies_nav"], ["/shortage", "shortage_nav"], ["/registry", "registry"]];
  function header(current) {
    const links = PAGES.map(([href, key]) => `<li><a href="${href}?lang=${lang}"${href === current ? ' aria-current="page"' : ""}>${esc(t(key))}</a></li>`).join("");
    document.querySelector("header").innerHTML =
      `<a class="brand" href="/?lang=${lang}">koshi</a><nav aria-label="${esc(t("pages"))}"><ul>${embedded ? "" : links}</ul></nav>` +
      `<div class="lang"><label for="lang">${esc(t("language"))}</label><select id="lang">` +
      `<option value="en">English</option><option value="ru">Русский</option><option value="kk">Қазақша</option></select></div>`;
    $("lang").value = lang;
    $("lang").addEventListener("change", (e) => {
      lang = e.target.value;
      setState({ lang });
      translate(current);
      onLanguage();
    });
  }

  function translate(current) {
    document.documentElement.lang = lang;
    header(current);
    document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
    document.querySelectorAll("[data-t-label]").forEach((el) => { el.setAttribute("aria-label", t(el.dataset.tLabel)); });
  }

  function showError(e) {
    const box = $("error");
    box.textContent = e.message || String(e);
    box.hidden = false;
  }

  // What every page has around its own content: a skip link, the header, an error box, the
  // provenance dialog and the footer.
  function frame() {
    document.body.insertAdjacentHTML("afterbegin", '<a class="skip" href="#content" data-t="skip"></a><header></header>');
    $("content").insertAdjacentHTML("afterbegin", '<div id="error" class="error" role="alert" hidden></div>');
    document.body.insertAdjacentHTML("beforeend",
      '<dialog id="provenance" aria-labelledby="provenance-title"><h2 id="provenance-title" data-t="provenance"></h2>' +
      '<dl></dl><p><a data-t="open_in_api"></a></p><button type="button" data-t="close"></button></dialog>' +
      '<footer><p data-t="credits"></p></footer>');
  }

  async function start(current, render) {
    frame();
    words = await getJson("/assets/observatory-i18n.json");
    // A report shows the one view it was written for.
    if (embedded) document.body.classList.add("report");
    onLanguage = () => { figures.length = 0; render().catch(showError); };
    translate(current);
    document.addEventListener("click", (e) => {
      const b = e.target.closest("button.prov");
      if (b) openProvenance(figures[Number(b.dataset.prov)], b);
    });
    const d = $("provenance");
    d.querySelector("button").addEventListener("click", () => d.close());
    d.addEventListener("close", () => d.returnTo && d.returnTo.focus());
    figures.length = 0;
    await render().catch(showError);
    document.body.dataset.ready = "true";
  }

  return {
    get lang() { return lang; }, embedded, getJson, t, label, esc, fmt, $, state, setState, prov, table, chart, start, showError,
    resetFigures: () => { figures.length = 0; },
  };
})();
