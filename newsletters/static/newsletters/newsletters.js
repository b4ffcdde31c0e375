// The Newsletters page: figures per topic (an SVG chart with its table), topics with the next
// issue's sections (a form with Shopify's contextual save bar), a live preview as a chosen reader
// gets it, and the sender's details (a second save-bar form).
"use strict";

const { element, table, getJson, send, toast, refusal, failed } = window.omakase;
const words = JSON.parse(document.getElementById("newsletters-words").textContent);
const language = document.documentElement.lang;
const number = new Intl.NumberFormat(language);
const CADENCES = ["weekly", "biweekly", "monthly", "quarterly"];
const SVG = "http://www.w3.org/2000/svg";

function field(form, name) {
  return form.querySelector(`input[name="${name}"], textarea[name="${name}"], select[name="${name}"]`);
}

function settle(form) {
  form.querySelectorAll("input, textarea, select").forEach((input) => {
    if (input.type === "checkbox") input.defaultChecked = input.checked;
    else input.defaultValue = input.value;
  });
}

// --- Figures ---------------------------------------------------------------------------------------

function chart(topics) {
  const width = 640, height = 160, colors = ["#303030", "#2c6ecb", "#d82c0d", "#008060", "#b98900"];
  const days = topics[0]?.days ?? [];
  const most = Math.max(1, ...topics.flatMap((topic) => topic.days.map((day) => day.readers)));
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", words.chart);
  svg.style.width = "100%";
  svg.style.height = "auto";
  topics.forEach((topic, index) => {
    const step = days.length > 1 ? width / (days.length - 1) : width;
    const points = topic.days.map((day, i) => `${(i * step).toFixed(1)},${(height - 4 - (day.readers / most) * (height - 12)).toFixed(1)}`);
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", points.join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", colors[index % colors.length]);
    line.setAttribute("stroke-width", "2");
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${topic.handle}: ${topic.readers}`;
    line.append(title);
    svg.append(line);
  });
  return svg;
}

async function statsShow() {
  const stats = await getJson("/api/newsletters/stats?days=90");
  const place = document.getElementById("stats");
  if (!stats.topics.length) {
    place.replaceChildren(element("s-paragraph", words.no_topics));
    return;
  }
  document.getElementById("stats-chart").replaceChildren(chart(stats.topics));
  place.replaceChildren(
    table(
      [words.topic, words.readers, words.joined, words.left, words.sent, words.delivered, words.opened, words.clicked],
      stats.topics.map((topic) => [
        topic.handle,
        number.format(topic.readers),
        number.format(topic.totals.joined),
        number.format(topic.totals.left),
        number.format(topic.totals.sent),
        number.format(topic.totals.delivered),
        topic.totals.opened ? number.format(topic.totals.opened) : words.unknown,
        number.format(topic.totals.clicked),
      ]),
    ),
  );
}

// --- Topics and compose -------------------------------------------------------------------------------

const topicForm = document.getElementById("topic");
const sectionsPlace = document.getElementById("sections");
let topics = [];
let current = null;

function sectionBlock(section = { heading: {}, body: {} }) {
  const block = element("fieldset", null, { class: "section" });
  for (const lang of ["en", "ja"]) {
    const heading = element("label", `${words.heading} (${lang}) `);
    heading.append(element("input", null, { name: `heading_${lang}`, value: section.heading[lang] ?? "", type: "text" }));
    const body = element("label", `${words.body} (${lang}) `);
    const area = element("textarea", null, { name: `body_${lang}`, rows: "4" });
    area.value = section.body[lang] ?? "";
    body.append(area);
    block.append(heading, body);
  }
  const remove = element("button", words.remove, { type: "button" });
  remove.addEventListener("click", () => { block.remove(); topicForm.dispatchEvent(new Event("change")); });
  block.append(remove);
  return block;
}

function sectionsRead() {
  const texts = (block, prefix) => {
    const found = {};
    for (const lang of ["en", "ja"]) {
      const value = block.querySelector(`[name="${prefix}_${lang}"]`).value.trim();
      if (value) found[lang] = value;
    }
    return found;
  };
  return [...sectionsPlace.querySelectorAll(".section")].map((block) => ({ heading: texts(block, "heading"), body: texts(block, "body") }));
}

function topicShow(topic) {
  current = topic;
  const blank = { id: "", handle: "", names: {}, descriptions: {}, cadences: ["monthly"], season_start_month: null, season_end_month: null, sections: [], collection_handles: [], tags: [], picks_count: 3, active: true, schedule: [] };
  topic = topic ?? blank;
  field(topicForm, "id").value = topic.id;
  field(topicForm, "handle").value = topic.handle;
  field(topicForm, "name_en").value = topic.names.en ?? "";
  field(topicForm, "name_ja").value = topic.names.ja ?? "";
  field(topicForm, "description_en").value = topic.descriptions.en ?? "";
  field(topicForm, "description_ja").value = topic.descriptions.ja ?? "";
  field(topicForm, "season_start_month").value = topic.season_start_month ?? "";
  field(topicForm, "season_end_month").value = topic.season_end_month ?? "";
  field(topicForm, "collection_handles").value = topic.collection_handles.join(", ");
  field(topicForm, "tags").value = topic.tags.join(", ");
  field(topicForm, "picks_count").value = topic.picks_count;
  field(topicForm, "active").checked = topic.active;
  const cadences = document.getElementById("topic-cadences");
  cadences.querySelectorAll("label").forEach((label) => label.remove());
  for (const cadence of CADENCES) {
    const label = element("label", ` ${words[cadence]} `);
    const box = element("input", null, { type: "checkbox", name: "cadence", value: cadence });
    box.checked = topic.cadences.includes(cadence);
    label.prepend(box);
    cadences.append(label);
  }
  sectionsPlace.replaceChildren(...topic.sections.map(sectionBlock));
  document.getElementById("schedule").replaceChildren(
    topic.schedule.length
      ? table([words.cadence, words.send_at, words.readers], topic.schedule.map((next) => [words[next.cadence], new Date(next.send_at).toLocaleString(language), number.format(next.readers)]))
      : element("span"),
  );
  settle(topicForm);
  readersLoad();
}

function topicRead() {
  const list = (name) => field(topicForm, name).value.split(",").map((word) => word.trim()).filter(Boolean);
  const month = (name) => (field(topicForm, name).value ? Number(field(topicForm, name).value) : null);
  const texts = (prefix) => {
    const found = {};
    for (const lang of ["en", "ja"]) if (field(topicForm, `${prefix}_${lang}`).value.trim()) found[lang] = field(topicForm, `${prefix}_${lang}`).value.trim();
    return found;
  };
  return {
    handle: field(topicForm, "handle").value.trim(),
    names: texts("name"),
    descriptions: texts("description"),
    cadences: [...topicForm.querySelectorAll('input[name="cadence"]:checked')].map((box) => box.value),
    season_start_month: month("season_start_month"),
    season_end_month: month("season_end_month"),
    sections: sectionsRead(),
    collection_handles: list("collection_handles"),
    tags: list("tags"),
    picks_count: Number(field(topicForm, "picks_count").value || 0),
    active: field(topicForm, "active").checked,
    position: current?.position ?? topics.length,
  };
}

function topicsList() {
  const buttons = topics.map((topic) => {
    const button = element("s-button", topic.names[language] ?? topic.names.en ?? topic.handle);
    button.addEventListener("click", () => topicShow(topic));
    return button;
  });
  const add = element("s-button", words.new_topic);
  add.addEventListener("click", () => topicShow(null));
  document.getElementById("topic-list").replaceChildren(...buttons, add);
}

async function topicsLoad(selected) {
  topics = (await getJson("/api/newsletters/topics")).topics;
  topicsList();
  topicShow(topics.find((topic) => topic.id === selected) ?? topics[0] ?? null);
}

topicForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const place = document.getElementById("topic-error");
  const id = field(topicForm, "id").value;
  const [ok, answer] = await send(id ? `/api/newsletters/topics/${id}` : "/api/newsletters/topics", id ? "PUT" : "POST", topicRead());
  if (!ok) return refusal(place, answer, topicForm);
  place.replaceChildren();
  window.shopify?.saveBar.hide("topic");
  toast(words.topic_saved);
  await topicsLoad(answer.id);
  statsShow();
});
topicForm.addEventListener("reset", () => {
  document.getElementById("topic-error").replaceChildren();
  setTimeout(() => topicShow(current));
});
document.getElementById("add-section").addEventListener("click", () => {
  sectionsPlace.append(sectionBlock());
  topicForm.dispatchEvent(new Event("change"));
});

// --- Live preview -------------------------------------------------------------------------------------

const readerSelect = () => document.querySelector("#preview-reader select");

async function readersLoad() {
  const select = readerSelect();
  if (!select) return;
  const options = [element("option", words.a_new_reader, { value: "" })];
  if (current) {
    const { readers } = await getJson(`/api/newsletters/topics/${current.id}/preview`);
    readers.forEach((reader) => options.push(element("option", `${reader.email} (${reader.language})`, { value: String(reader.id) })));
  }
  select.replaceChildren(...options);
  previewShow();
}

let previewTimer = null;
async function previewShow() {
  if (!current) return;
  const reader = readerSelect()?.value;
  const [ok, answer] = await send(`/api/newsletters/topics/${current.id}/preview`, "POST", {
    subscriber_id: reader ? Number(reader) : null,
    sections: sectionsRead(),
  });
  if (!ok) return;
  document.getElementById("preview-subject").textContent = `${answer.subject} → ${answer.to}`;
  document.getElementById("preview").srcdoc = answer.html;
}

document.getElementById("preview-show").addEventListener("click", previewShow);
// Live: the preview follows the sections as they are written.
sectionsPlace.addEventListener("input", () => {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(previewShow, 400);
});

// --- Sender ---------------------------------------------------------------------------------------------

const settingsForm = document.getElementById("settings");

function settingsShow(values) {
  for (const name of ["sender_name", "from_email", "postal_address", "contact_email", "send_hour"]) field(settingsForm, name).value = values[name] ?? "";
  settle(settingsForm);
}

settingsForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const place = document.getElementById("settings-error");
  const body = Object.fromEntries(["sender_name", "from_email", "postal_address", "contact_email"].map((name) => [name, field(settingsForm, name).value]));
  body.send_hour = Number(field(settingsForm, "send_hour").value || 9);
  const [ok, answer] = await send("/api/newsletters/settings", "PUT", body);
  if (!ok) return refusal(place, answer, settingsForm);
  place.replaceChildren();
  settingsShow(answer);
  window.shopify?.saveBar.hide("settings");
  toast(words.saved);
});
settingsForm.addEventListener("reset", () => document.getElementById("settings-error").replaceChildren());

getJson("/api/newsletters/settings").then(settingsShow).catch(() => failed(document.getElementById("settings-error")));
topicsLoad().catch(() => failed(document.getElementById("topic-error")));
statsShow()
  .catch(() => document.getElementById("stats").replaceChildren(element("s-banner", words.failed, { tone: "critical" })))
  .finally(() => document.getElementById("stats-chart").removeAttribute("aria-busy"));
