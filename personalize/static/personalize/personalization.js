// The Personalization page: what the blocks do (a chart with its table), the merchant's rules and
// quiz, each a form with Shopify's contextual save bar (App Bridge shows it while a form has
// unsaved changes; Save submits, Discard resets), and a preview of a block as a shopper gets it.
"use strict";

const { element, table, getJson, send, toast, refusal, failed, words: shared } = window.omakase;
const words = JSON.parse(document.getElementById("personalization-words").textContent);
const language = document.documentElement.lang;
// A block by its name in the merchant's language (its handle when it has none).
const blockName = (handle) => shared[`block_${handle}`] ?? handle;
document.querySelectorAll("#preview-block s-option, #preview-block option").forEach((option) => {
  option.textContent = blockName(option.getAttribute("value") ?? option.value);
});
const number = new Intl.NumberFormat(language);
const percent = new Intl.NumberFormat(language, { style: "percent", maximumFractionDigits: 1 });

// A form control by name: a Polaris field (its value on the element; devstore's stand-in also
// draws a native input inside it) or a native input.
function control(form, name) {
  const element = form.querySelector(`[name="${name}"]`);
  const inner = element?.matches("input, textarea, select") ? null : element?.querySelector("input, textarea, select");
  return {
    get value() { return (inner ?? element)?.value ?? ""; },
    set value(value) { if (element) element.value = value; if (inner) inner.value = value; },
    get checked() { return Boolean((inner ?? element)?.checked); },
    set checked(on) { if (element) element.checked = on; if (inner) inner.checked = on; },
  };
}

// What a form holds once loaded or saved is its reset state: Discard goes back to it.
function settle(form) {
  form.querySelectorAll("input, textarea, select").forEach((input) => {
    if (input.type === "checkbox") input.defaultChecked = input.checked;
    else input.defaultValue = input.value;
  });
}

// --- What the blocks do -------------------------------------------------------------------------

function money(amount, currency) {
  return new Intl.NumberFormat(language, { style: "currency", currency }).format(Number(amount));
}

// Daily clicks as bars, drawn as SVG (no library); the table below says the same for screen readers.
function chart(days) {
  const width = 640, height = 120, gap = 2;
  const most = Math.max(1, ...days.map((day) => day.clicks));
  const bar = days.length ? (width - gap * days.length) / days.length : 0;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", words.chart);
  svg.style.width = "100%";
  svg.style.height = "auto";
  days.forEach((day, index) => {
    const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    const tall = Math.max(1, (day.clicks / most) * (height - 10));
    rect.setAttribute("x", String(index * (bar + gap)));
    rect.setAttribute("y", String(height - tall));
    rect.setAttribute("width", String(Math.max(bar, 1)));
    rect.setAttribute("height", String(tall));
    rect.setAttribute("fill", "#303030");
    const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
    title.textContent = `${day.day}: ${day.clicks}`;
    rect.append(title);
    svg.append(rect);
  });
  return svg;
}

async function statsShow() {
  const stats = await getJson("/api/recommendations/stats?days=30");
  const place = document.getElementById("stats");
  if (!stats.blocks.length) {
    place.replaceChildren(element("s-paragraph", words.no_events));
    return;
  }
  document.getElementById("stats-chart").replaceChildren(chart(stats.days));
  place.replaceChildren(
    table(
      [words.block, words.impressions, words.clicks, words.click_rate, words.orders, words.revenue],
      stats.blocks.map((block) => [
        blockName(block.block),
        number.format(block.impressions),
        number.format(block.clicks),
        block.click_rate === null ? "" : percent.format(block.click_rate),
        number.format(block.attributed_orders),
        money(block.attributed_revenue, stats.currency),
      ]),
    ),
  );
}

// --- Rules ------------------------------------------------------------------------------------------

const rulesForm = document.getElementById("rules");

function rulesField(name) {
  return control(rulesForm, name);
}

function rulesShow(rules) {
  rulesField("discovery_share").value = Math.round(rules.discovery_share * 100);
  rulesField("taste_half_life_days").value = rules.taste_half_life_days;
  rulesField("pinned").value = rules.pinned.join("\n");
  rulesField("excluded").value = rules.excluded.join("\n");
  document.getElementById("block-limits").replaceChildren(
    ...rules.blocks.map((block) => {
      const label = element("label", `${blockName(block)} `);
      label.append(element("input", null, {
        type: "number", min: "1", max: "24", name: `limit:${block}`,
        value: String(rules.block_limits[block] ?? rules.limit_default),
      }));
      return label;
    }),
  );
  settle(rulesForm);
}

function rulesRead() {
  const lines = (name) => rulesField(name).value.split("\n").map((line) => line.trim()).filter(Boolean);
  const limits = {};
  rulesForm.querySelectorAll('input[name^="limit:"]').forEach((input) => {
    limits[input.name.slice("limit:".length)] = Number(input.value);
  });
  return {
    discovery_share: Number(rulesField("discovery_share").value || 0) / 100,
    taste_half_life_days: Number(rulesField("taste_half_life_days").value || 180),
    pinned: lines("pinned"),
    excluded: lines("excluded"),
    block_limits: limits,
  };
}

rulesForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const place = document.getElementById("rules-error");
  const [ok, answer] = await send("/api/recommendations/rules", "PUT", rulesRead());
  if (!ok) return refusal(place, answer, rulesForm);
  place.replaceChildren();
  rulesShow(answer);
  window.shopify?.saveBar.hide("rules");
  toast(words.saved);
});
rulesForm.addEventListener("reset", () => document.getElementById("rules-error").replaceChildren());

// --- The quiz builder ---------------------------------------------------------------------------------

const quizForm = document.getElementById("quiz");
const questionsPlace = document.getElementById("quiz-questions");

function input(name, value, label) {
  const wrapper = element("label", `${label} `);
  wrapper.append(element("input", null, { name, value: value ?? "", type: "text" }));
  return wrapper;
}

function optionRow(option = {}) {
  const row = element("div", null, { class: "quiz-option" });
  const remove = element("button", words.remove, { type: "button" });
  remove.addEventListener("click", () => { row.remove(); quizForm.dispatchEvent(new Event("change")); });
  row.append(
    input("label", option.label, words.answer),
    input("product_types", (option.product_types ?? []).join(", "), words.product_types),
    input("tags", (option.tags ?? []).join(", "), words.tags),
    remove,
  );
  return row;
}

function questionBlock(question = { kind: "single", options: [{}, {}] }) {
  const block = element("fieldset", null, { class: "quiz-question" });
  block.append(element("legend", words.question));
  block.append(input("text", question.text, words.question));
  const kind = element("select", null, { name: "kind" });
  for (const value of ["single", "multiple"]) {
    const option = element("option", words[value], { value });
    if (question.kind === value) option.selected = true;
    kind.append(option);
  }
  const options = element("div", null, { class: "quiz-options" });
  question.options.forEach((option) => options.append(optionRow(option)));
  const add = element("button", words.add_answer, { type: "button" });
  add.addEventListener("click", () => { options.append(optionRow()); quizForm.dispatchEvent(new Event("change")); });
  const remove = element("button", words.remove, { type: "button" });
  remove.addEventListener("click", () => { block.remove(); quizForm.dispatchEvent(new Event("change")); });
  block.append(kind, options, add, remove);
  return block;
}

function quizShow(quiz) {
  control(quizForm, "title").value = quiz.title;
  control(quizForm, "published").checked = quiz.published;
  questionsPlace.replaceChildren(...quiz.questions.map(questionBlock));
  settle(quizForm);
}

function quizRead() {
  const list = (text) => text.split(",").map((word) => word.trim()).filter(Boolean);
  return {
    title: control(quizForm, "title").value,
    published: control(quizForm, "published").checked,
    questions: [...questionsPlace.querySelectorAll(".quiz-question")].map((block) => ({
      text: block.querySelector('[name="text"]').value,
      kind: block.querySelector('[name="kind"]').value,
      options: [...block.querySelectorAll(".quiz-option")].map((row) => ({
        label: row.querySelector('[name="label"]').value,
        product_types: list(row.querySelector('[name="product_types"]').value),
        tags: list(row.querySelector('[name="tags"]').value),
      })),
    })),
  };
}

document.getElementById("quiz-add-question").addEventListener("click", () => {
  questionsPlace.append(questionBlock());
  quizForm.dispatchEvent(new Event("change"));
});

quizForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const place = document.getElementById("quiz-error");
  const [ok, answer] = await send("/api/quiz", "PUT", quizRead());
  if (!ok) return refusal(place, answer, quizForm);
  place.replaceChildren();
  quizShow(answer);
  window.shopify?.saveBar.hide("quiz");
  toast(words.quiz_saved);
});
// Discard: the saved quiz again (added questions are not part of the form's reset state).
quizForm.addEventListener("reset", () => {
  document.getElementById("quiz-error").replaceChildren();
  setTimeout(() => getJson("/api/quiz").then(quizShow));
});

// --- Preview --------------------------------------------------------------------------------------

async function previewShow() {
  const customer = control(document, "customer_id").value;
  const block = control(document, "block").value || "for-you";
  const query = new URLSearchParams({ block, locale: language });
  if (customer) query.set("customer_id", customer);
  const place = document.getElementById("preview");
  try {
    const { items } = await getJson(`/api/recommendations/preview?${query}`);
    place.replaceChildren(
      items.length
        ? table([words.product, words.why, words.kind], items.map((item) => [item.title, item.reason.text, item.reason.kind]))
        : element("s-paragraph", words.nothing),
    );
  } catch (error) {
    place.replaceChildren(element("s-banner", words.failed, { tone: "critical" }));
  }
}

document.getElementById("preview-show").addEventListener("click", previewShow);
getJson("/api/recommendations/rules").then(rulesShow).catch(() => failed(document.getElementById("rules-error")));
getJson("/api/quiz").then(quizShow).catch(() => failed(document.getElementById("quiz-error")));
statsShow().catch(() => failed(document.getElementById("stats")));
