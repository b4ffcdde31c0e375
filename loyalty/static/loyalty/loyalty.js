// The Loyalty page: the program's figures, ways to earn and policies (forms with Shopify's
// contextual save bar), rewards and tiers, a customer's ledger with manual adjustment, and a
// live preview of the storefront widget as a shopper gets it.
"use strict";

const { element, table, getJson, send, when, toast, refusal, failed } = window.omakase;
const words = JSON.parse(document.getElementById("loyalty-words").textContent);
const kinds = JSON.parse(document.getElementById("loyalty-kinds").textContent);
const language = document.documentElement.lang;
const percent = new Intl.NumberFormat(language, { style: "percent", maximumFractionDigits: 1 });
const number = new Intl.NumberFormat(language);
const PROFILE = ["birthday", "gender", "region", "quiz", "topics"];

function field(form, name) {
  return form.querySelector(`[name="${name}"]`);
}

function settle(form) {
  form.querySelectorAll("input, textarea, select").forEach((input) => {
    if (input.type === "checkbox") input.defaultChecked = input.checked;
    else input.defaultValue = input.value;
  });
}

const rate = (value) => (value === null || value === undefined ? "—" : percent.format(value));

// --- Figures --------------------------------------------------------------------------------------

async function figuresShow() {
  const place = document.getElementById("figures");
  try {
    const f = await getJson("/api/loyalty/figures");
    place.replaceChildren(table(
      [words.members, words.liability, words.redemption_rate, words.repeat_members, words.repeat_others, words.repeat_holdout],
      [[number.format(f.members), number.format(f.points_liability), rate(f.redemption_rate),
        rate(f.repeat_rate_members), rate(f.repeat_rate_non_members), rate(f.repeat_rate_holdout)]],
    ));
  } catch (error) {
    place.replaceChildren(element("s-banner", words.failed, { tone: "critical" }));
  }
}

// --- Rules and policies -----------------------------------------------------------------------------

const rulesForm = document.getElementById("rules");
const policiesForm = document.getElementById("policies");
const POLICIES = ["expiry_mode", "expiry_days", "reminder_days", "refund_policy", "unused_code_policy",
  "tier_basis", "tier_period_days", "birthday_points", "holdout_percent", "incentive_notice"];

function programShow(program) {
  field(rulesForm, "points_per_unit").value = program.rules.points_per_unit;
  field(rulesForm, "pending_days").value = program.rules.pending_days;
  field(rulesForm, "join_points").value = program.rules.join_points;
  PROFILE.forEach((name) => { field(rulesForm, `profile_${name}`).value = program.rules.profile_points[name] ?? 0; });
  POLICIES.forEach((name) => { field(policiesForm, name).value = program[name]; });
  field(policiesForm, "enabled").checked = program.enabled;
  settle(rulesForm);
  settle(policiesForm);
}

async function programSave(form, body, place) {
  const [ok, answer] = await send("/api/loyalty/program", "PUT", body);
  if (!ok) return refusal(place, answer, form);
  place.replaceChildren();
  programShow(answer);
  window.shopify?.saveBar.hide(form.id);
  toast(words.saved);
  previewShow();
}

rulesForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const profile = {};
  PROFILE.forEach((name) => { profile[name] = Number(field(rulesForm, `profile_${name}`).value || 0); });
  programSave(rulesForm, {
    rules: {
      points_per_unit: field(rulesForm, "points_per_unit").value || "0",
      pending_days: Number(field(rulesForm, "pending_days").value || 0),
      join_points: Number(field(rulesForm, "join_points").value || 0),
      profile_points: profile,
    },
  }, document.getElementById("rules-error"));
});

policiesForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const body = { enabled: field(policiesForm, "enabled").checked };
  POLICIES.forEach((name) => {
    const value = field(policiesForm, name).value;
    body[name] = ["expiry_mode", "refund_policy", "unused_code_policy", "tier_basis", "incentive_notice"].includes(name)
      ? value : Number(value || 0);
  });
  programSave(policiesForm, body, document.getElementById("policies-error"));
});

[rulesForm, policiesForm].forEach((form) => form.addEventListener("reset", () => setTimeout(programLoad)));

function programLoad() {
  getJson("/api/loyalty/program").then(programShow).catch(() => failed(document.getElementById("policies-error")));
}

// --- Rewards and tiers --------------------------------------------------------------------------------

async function rewardsShow() {
  const { rewards } = await getJson("/api/loyalty/rewards");
  document.getElementById("rewards").replaceChildren(table(
    [words.name, words.kind, words.value, words.cost, words.minimum, words.active, ""],
    rewards.map((reward) => {
      const withdraw = element("s-button", words.withdraw);
      withdraw.addEventListener("click", async () => {
        await send(`/api/loyalty/rewards/${reward.id}`, "PATCH", { active: false });
        rewardsShow();
        previewShow();
      });
      return [reward.name, kinds[reward.kind] ?? reward.kind, reward.value, number.format(reward.points_cost),
        reward.minimum_order ?? "", reward.active ? "✓" : "", reward.active ? withdraw : ""];
    }),
  ));
}

function formValues(form, names) {
  const values = {};
  names.forEach((name) => {
    const value = field(form, name).value;
    if (value !== "" && value !== undefined) values[name] = value;
  });
  return values;
}

async function rewardAdd(event) {
  event?.preventDefault();
  const form = document.getElementById("reward-new");
  const place = document.getElementById("reward-error");
  const body = formValues(form, ["name", "kind", "value", "points_cost", "minimum_order", "expires_after_days"]);
  const [ok, answer] = await send("/api/loyalty/rewards", "POST", body);
  if (!ok) return refusal(place, answer, form);
  place.replaceChildren();
  form.reset();
  rewardsShow();
  previewShow();
}

async function tiersShow() {
  const { tiers } = await getJson("/api/loyalty/tiers");
  document.getElementById("tiers").replaceChildren(table(
    [words.name, words.threshold, words.multiplier, words.benefits, ""],
    tiers.map((tier) => {
      const remove = element("s-button", words.remove);
      remove.addEventListener("click", async () => { await send(`/api/loyalty/tiers/${tier.id}`, "DELETE"); tiersShow(); });
      return [tier.name, tier.threshold, tier.multiplier, tier.benefits, remove];
    }),
  ));
}

async function tierAdd(event) {
  event?.preventDefault();
  const form = document.getElementById("tier-new");
  const [ok, answer] = await send("/api/loyalty/tiers", "POST", formValues(form, ["name", "threshold", "multiplier", "benefits"]));
  if (!ok) return refusal(document.getElementById("reward-error"), answer, form);
  form.reset();
  tiersShow();
}

document.getElementById("reward-new").addEventListener("submit", rewardAdd);
document.getElementById("reward-add").addEventListener("click", rewardAdd);
document.getElementById("tier-new").addEventListener("submit", tierAdd);
document.getElementById("tier-add").addEventListener("click", tierAdd);

// --- A customer's ledger and adjustment -------------------------------------------------------------

function customerId() {
  return document.querySelector("#customer-id input")?.value ?? document.getElementById("customer-id").value ?? "";
}

async function customerShow() {
  const id = customerId();
  const place = document.getElementById("customer");
  const adjust = document.getElementById("adjust");
  if (!id) return;
  try {
    const ledger = await getJson(`/api/loyalty/customers/${encodeURIComponent(id)}`);
    adjust.hidden = false;
    if (!ledger.member) {
      place.replaceChildren(element("s-paragraph", words.not_member));
      return;
    }
    const m = ledger.member;
    place.replaceChildren(
      table([words.available, words.pending, words.lifetime, words.debt, words.tier],
        [[number.format(m.available), number.format(m.pending), number.format(m.lifetime), number.format(m.debt), m.tier ?? ""]]),
      table([words.when, words.points, words.cause, words.reason, words.by],
        ledger.entries.map((entry) => [when(entry.created_at), entry.points > 0 ? `+${entry.points}` : String(entry.points),
          entry.cause, entry.reason, entry.actor])),
    );
  } catch (error) {
    place.replaceChildren(element("s-banner", words.failed, { tone: "critical" }));
  }
}

async function adjustSave(event) {
  event?.preventDefault();
  const form = document.getElementById("adjust");
  const body = { points: Number(field(form, "points").value || 0), reason: field(form, "reason").value };
  const [ok, answer] = await send(`/api/loyalty/customers/${encodeURIComponent(customerId())}/adjustments`, "POST", body);
  if (!ok) return refusal(document.getElementById("customer"), answer, form);
  form.reset();
  toast(words.adjusted);
  customerShow();
  figuresShow();
}

document.getElementById("customer-show").addEventListener("click", customerShow);
document.getElementById("adjust").addEventListener("submit", adjustSave);
document.getElementById("adjust-save").addEventListener("click", adjustSave);

// --- Preview of the widget --------------------------------------------------------------------------

async function previewShow() {
  const customer = document.querySelector("#preview-customer input")?.value ?? "";
  const query = new URLSearchParams({ locale: language });
  if (customer) query.set("customer_id", customer);
  const place = document.getElementById("preview");
  try {
    const widget = await getJson(`/api/loyalty/preview?${query}`);
    const parts = [];
    if (widget.member) {
      const m = widget.member;
      parts.push(element("s-heading", `${number.format(m.available)} ${widget.labels.points}`));
      parts.push(element("s-paragraph", `${widget.labels.pending}: ${number.format(m.pending)}` +
        (m.tier ? ` · ${m.tier}` : "") +
        (m.tier_progress.next ? ` · ${m.tier_progress.to_next} ${widget.labels.to_next} ${m.tier_progress.next}` : "")));
    }
    parts.push(table([words.ways, words.points, ""], widget.ways_to_earn.map((way) =>
      [way.label, way.key === "orders" ? `${way.points} / ${way.per}` : String(way.points), way.done ? "✓" : ""])));
    parts.push(table([words.rewards, words.points, ""], widget.rewards.map((reward) =>
      [reward.name, number.format(reward.points_cost), reward.affordable ? widget.labels.redeem : ""])));
    place.replaceChildren(...parts);
  } catch (error) {
    place.replaceChildren(element("s-banner", words.failed, { tone: "critical" }));
  }
}

document.getElementById("preview-show").addEventListener("click", previewShow);
programLoad();
rewardsShow().catch(() => failed(document.getElementById("rewards")));
tiersShow().catch(() => failed(document.getElementById("tiers")));
figuresShow();
previewShow();
