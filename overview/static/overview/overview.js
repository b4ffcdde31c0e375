// The Overview's checklist and dashboard (overview/). Figures come from /api/overview (daily
// rollups), the steps from /api/overview/checklist. Charts are inline SVG, each with its figures
// as a table beside it for screen readers. Words come translated from the server.
"use strict";

(function () {
  const { element, table, getJson, formats, svg, language } = window.omakase;
  const words = JSON.parse(document.getElementById("overview-words").textContent);
  const say = (key, values = {}) =>
    (words[key] || key).replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));

  // --- The checklist ------------------------------------------------------------------------
  const checklistPlace = document.getElementById("checklist");
  const progressPlace = document.getElementById("checklist-progress");

  // A step on one of our own pages keeps the shop, host and language of this page, not its
  // session token, which will have expired: the next page fetches a fresh one.
  const pageQuery = (() => {
    const query = new URLSearchParams(window.location.search);
    ["id_token", "hmac", "session", "timestamp"].forEach((name) => query.delete(name));
    return query.toString();
  })();

  function stepRow(step) {
    const row = element("li", null, { class: "overview-step", "data-step": step.key, "data-done": String(step.done) });
    const tone = step.done === true ? "success" : step.done === null ? "warning" : "attention";
    const state = step.done === true ? say("done") : step.done === null ? say("unknown") : say("to_do");
    const text = element("div", null, { class: "overview-step-text" });
    text.append(element("s-text", say(`step_${step.key}`), { type: "strong" }), element("s-text", say(`step_${step.key}_help`), { tone: "subdued" }));
    row.append(element("s-badge", state, { tone }), text);
    if (step.done !== true && step.key !== "import") {
      const attributes = { href: step.external ? step.url : `${step.url}?${pageQuery}`, "data-action": step.key };
      // The theme editor is Shopify's own page: open it at the top, out of the app's frame.
      if (step.external) attributes.target = "_top";
      row.append(element("s-button", step.external ? say("open_theme_editor") : say("start"), attributes));
    }
    return row;
  }

  async function refreshChecklist() {
    let steps;
    try {
      steps = (await getJson("/api/overview/checklist")).steps;
    } catch (error) {
      progressPlace.textContent = say("checklist_error");
      return;
    }
    const done = steps.filter((step) => step.done === true).length;
    progressPlace.textContent = done === steps.length ? say("all_done") : say("steps_done", { done, total: steps.length });
    const list = element("ol", null, { class: "overview-steps" });
    steps.forEach((step) => list.append(stepRow(step)));
    const parts = [list];
    if (steps.some((step) => step.done === null)) parts.unshift(element("s-banner", say("theme_unknown"), { tone: "warning" }));
    checklistPlace.replaceChildren(...parts);
  }

  // --- The date range ------------------------------------------------------------------------
  const rangeForm = document.getElementById("range");
  const preset = document.getElementById("range-preset");
  const startField = document.getElementById("range-start");
  const endField = document.getElementById("range-end");
  const comparedPlace = document.getElementById("range-compared");
  const isoDay = (date) => date.toISOString().slice(0, 10);

  function chosenRange() {
    const value = preset.querySelector("select")?.value || "30";
    if (value !== "custom") {
      const end = new Date();
      const start = new Date(end.getTime() - (Number(value) - 1) * 86400000);
      return { start: isoDay(start), end: isoDay(end) };
    }
    return { start: startField.querySelector("input")?.value, end: endField.querySelector("input")?.value };
  }

  // --- Charts ---------------------------------------------------------------------------------
  const WIDTH = 640;
  const HEIGHT = 160;

  function figure(title, chart, headers, rows) {
    const place = element("figure", null, { class: "overview-chart" });
    place.append(element("figcaption", title));
    if (chart) place.append(chart);
    const details = element("details");
    details.append(element("summary", say("show_table")), table(headers, rows));
    place.append(details);
    return place;
  }

  function columns(values, { color = "var(--p-color-bg-fill-brand, #303030)", label, format = formats.number } = {}) {
    const most = Math.max(...values, 0) || 1;
    const gap = 2;
    const width = WIDTH / Math.max(values.length, 1);
    // Stretched to the card's width at a fixed height; the scale is written beside it in HTML.
    const picture = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: "none", role: "img", "aria-label": label, class: "overview-svg overview-columns" });
    picture.append(svg("line", { x1: 0, x2: WIDTH, y1: HEIGHT - 0.5, y2: HEIGHT - 0.5, stroke: "#e3e3e3" }));
    values.forEach((value, index) => {
      const height = (value / most) * (HEIGHT - 8);
      picture.append(svg("rect", { x: index * width + gap / 2, y: HEIGHT - height, width: Math.max(width - gap, 1), height, rx: 2, fill: color }));
    });
    const place = element("div", null, { class: "overview-columns-place" });
    place.append(element("s-text", format(most), { tone: "subdued", class: "overview-scale" }), picture);
    return place;
  }

  function bars(items, { label, format = formats.number } = {}) {
    // Horizontal bars, this period against the one before (a lighter bar under each).
    const most = Math.max(...items.flatMap((item) => [item.value || 0, item.previous || 0]), 0) || 1;
    const row = 34;
    const picture = svg("svg", { viewBox: `0 0 ${WIDTH} ${items.length * row + 4}`, role: "img", "aria-label": label, class: "overview-svg" });
    items.forEach((item, index) => {
      const top = index * row;
      picture.append(svg("text", { x: 0, y: top + 14, class: "overview-label" }, item.name));
      const left = 200;
      const span = WIDTH - left - 90;
      picture.append(svg("rect", { x: left, y: top + 3, height: 12, rx: 3, width: ((item.value || 0) / most) * span, fill: "var(--p-color-bg-fill-brand, #303030)" }));
      if (item.previous !== null && item.previous !== undefined) {
        picture.append(svg("rect", { x: left, y: top + 17, height: 6, rx: 3, width: (item.previous / most) * span, fill: "#b5b5b5" }));
      }
      picture.append(svg("text", { x: WIDTH, y: top + 14, "text-anchor": "end", class: "overview-value" }, format(item.value)));
    });
    return picture;
  }

  function change(current, previous) {
    if (previous === null || previous === undefined || Number(previous) === 0) return "";
    const ratio = (Number(current) - Number(previous)) / Math.abs(Number(previous));
    if (ratio === 0) return say("no_change");
    const text = new Intl.NumberFormat(language, { style: "percent", maximumFractionDigits: 1, signDisplay: "always" }).format(ratio);
    return text;
  }

  function tile(key, current, previous, format) {
    const place = element("div", null, { class: "overview-tile", "data-figure": key });
    place.append(element("s-text", say(key), { tone: "subdued" }), element("s-heading", format(current)));
    const moved = change(current, previous);
    const note = `${say("previous")}: ${format(previous)}${moved ? ` (${moved})` : ""}`;
    place.append(element("s-text", note, { tone: "subdued" }));
    return place;
  }

  // --- The dashboard ------------------------------------------------------------------------
  const dashboardPlace = document.getElementById("dashboard");

  function render(data) {
    const money = (amount) => formats.money(amount, data.currency);
    const now = data.current;
    const before = data.previous;
    comparedPlace.textContent = `${formats.day(data.start)} – ${formats.day(data.end)} · ${say("previous")}: ${formats.day(data.previous_start)} – ${formats.day(data.previous_end)}`;
    const parts = [];
    if (!data.ready) parts.push(element("s-banner", say("preparing"), { tone: "info" }));

    const tiles = element("div", null, { class: "overview-tiles" });
    tiles.append(
      tile("attributed_revenue", now.attributed_revenue, before.attributed_revenue, money),
      tile("impressions", now.impressions, before.impressions, formats.number),
      tile("click_rate", now.click_rate, before.click_rate, formats.percent),
      tile("points_issued", now.points_issued, before.points_issued, formats.number),
      tile("points_redeemed", now.points_redeemed, before.points_redeemed, formats.number),
      tile("points_outstanding", now.points_outstanding, before.points_outstanding, formats.number),
    );
    parts.push(tiles);

    parts.push(
      figure(
        say("attributed_revenue"),
        columns(data.days.map((day) => Number(day.attributed_revenue)), { label: say("attributed_revenue"), format: money }),
        [say("day"), say("attributed_revenue"), say("impressions"), say("clicks")],
        data.days.map((day) => [formats.day(day.day), money(day.attributed_revenue), formats.number(day.impressions), formats.number(day.clicks)]),
      ),
      figure(
        say("impressions"),
        columns(data.days.map((day) => day.impressions), { label: say("impressions"), color: "var(--p-color-bg-fill-info, #91d0ff)" }),
        [say("day"), say("impressions"), say("clicks")],
        data.days.map((day) => [formats.day(day.day), formats.number(day.impressions), formats.number(day.clicks)]),
      ),
    );

    parts.push(
      data.blocks.length
        ? table(
            [say("block"), say("impressions"), say("clicks"), say("click_rate"), say("attributed_revenue"), say("previous")],
            data.blocks.map((block) => [
              say(`block_${block.block}`),
              formats.number(block.impressions),
              formats.number(block.clicks),
              formats.percent(block.click_rate),
              money(block.attributed_revenue),
              money(block.previous_revenue),
            ]),
          )
        : element("s-paragraph", say("no_blocks")),
    );

    const repeat = [
      { name: say("members"), value: now.member_repeat_rate, previous: before.member_repeat_rate },
      { name: say("non_members"), value: now.other_repeat_rate, previous: before.other_repeat_rate },
    ];
    parts.push(
      figure(
        say("repeat_rate"),
        bars(repeat.map((item) => ({ ...item, value: item.value || 0 })), { label: say("repeat_rate"), format: formats.percent }),
        [say("group"), say("this_period"), say("previous")],
        repeat.map((item) => [item.name, formats.percent(item.value), formats.percent(item.previous)]),
      ),
    );

    parts.push(
      data.topics.length
        ? figure(
            say("subscribers"),
            bars(data.topics.map((topic) => ({ name: topic.name, value: topic.subscribers, previous: topic.previous })), { label: say("subscribers") }),
            [say("topic"), say("subscribers"), say("previous")],
            data.topics.map((topic) => [topic.name, formats.number(topic.subscribers), formats.number(topic.previous)]),
          )
        : element("s-paragraph", say("no_topics")),
    );

    parts.push(
      data.facts.length
        ? figure(
            say("share"),
            bars(data.facts.map((fact) => ({ name: say(`fact_${fact.fact}`), value: fact.share || 0, previous: fact.previous_share })), { label: say("share"), format: formats.percent }),
            [say("fact"), say("shoppers"), say("share"), say("previous")],
            data.facts.map((fact) => [say(`fact_${fact.fact}`), formats.number(fact.shoppers), formats.percent(fact.share), formats.percent(fact.previous_share)]),
          )
        : element("s-paragraph", say("no_facts")),
    );

    parts.push(
      data.segments.length
        ? figure(
            say("segment"),
            bars(data.segments.map((segment) => ({ name: say(`segment_${segment.segment}`), value: segment.shoppers, previous: segment.previous })), { label: say("segment") }),
            [say("segment"), say("shoppers"), say("previous"), say("change")],
            data.segments.map((segment) => [
              say(`segment_${segment.segment}`),
              formats.number(segment.shoppers),
              segment.previous === null ? say("not_known") : formats.number(segment.previous),
              segment.previous === null ? "" : change(segment.shoppers, segment.previous) || say("no_change"),
            ]),
          )
        : element("s-paragraph", say("no_segments")),
    );
    dashboardPlace.replaceChildren(...parts);
  }

  async function refreshDashboard() {
    const range = chosenRange();
    if (!range.start || !range.end || range.start > range.end) {
      dashboardPlace.replaceChildren(element("s-banner", say("range_error"), { tone: "warning" }));
      return;
    }
    dashboardPlace.setAttribute("aria-busy", "true");
    try {
      const query = new URLSearchParams({ ...range, locale: language });
      render(await getJson(`/api/overview?${query}`));
    } catch (error) {
      dashboardPlace.replaceChildren(element("s-banner", say("figures_error"), { tone: "critical" }));
    } finally {
      dashboardPlace.removeAttribute("aria-busy");
    }
  }

  rangeForm.addEventListener("submit", (event) => {
    event.preventDefault();
    refreshDashboard();
  });
  rangeForm.addEventListener("change", (event) => {
    if (event.target.closest("#range-preset")) refreshDashboard();
  });

  refreshChecklist();
  refreshDashboard();
})();
