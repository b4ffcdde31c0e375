// The Customers page: segment sizes with their rules, and a search by name or email whose rows
// open a shopper's profile. Words come translated from the server (#customers-words).
"use strict";

const { element, table, getJson, when } = window.omakase;
const words = JSON.parse(document.getElementById("customers-words").textContent);
const number = new Intl.NumberFormat(document.documentElement.lang);
const percent = new Intl.NumberFormat(document.documentElement.lang, { style: "percent" });

function money(amount, currency) {
  if (!currency) return number.format(Number(amount));
  return new Intl.NumberFormat(document.documentElement.lang, { style: "currency", currency }).format(Number(amount));
}

// The segment <select> shows translated names.
document.querySelectorAll("#customer-segment option, #customer-segment s-option").forEach((option) => {
  const key = option.getAttribute("value") ?? option.value;
  if (key) option.textContent = words.segments[key] ?? key;
});

async function showSegments() {
  const summary = await getJson("/api/customers/segments");
  const run = summary.run;
  const status = document.getElementById("profiles-run");
  if (!run) status.textContent = words.list.not_computed;
  else if (run.status === "running") {
    status.textContent = words.list.computing
      .replace("{done}", number.format(run.customers_done))
      .replace("{total}", number.format(run.customers_total));
    setTimeout(showSegments, 3000);
  } else status.textContent = words.list.computed.replace("{when}", when(run.finished_at));
  const rows = summary.segments.map((segment) => [
    words.segments[segment.segment] ?? segment.name,
    words.rules[segment.segment] ?? segment.rule,
    number.format(segment.size),
  ]);
  document.getElementById("segments").replaceChildren(
    table([words.list.segment, words.list.rule, words.list.shoppers], rows),
  );
}

// A link to another page keeps the shop, host and language, not the session token, which will
// have expired: the next page fetches a fresh one.
const pageQuery = (() => {
  const query = new URLSearchParams(window.location.search);
  ["id_token", "hmac", "session", "timestamp"].forEach((name) => query.delete(name));
  return query.toString();
})();

let searchSerial = 0;
async function showCustomers() {
  const serial = ++searchSerial;
  const query = new URLSearchParams({ q: currentQuery, limit: "50" });
  if (currentSegment) query.set("segment", currentSegment);
  const place = document.getElementById("customers");
  let results;
  try {
    results = (await getJson(`/api/customers?${query}`)).results;
  } catch (error) {
    place.replaceChildren(element("s-banner", words.list.failed, { tone: "critical" }));
    return;
  }
  if (serial !== searchSerial) return; // a newer search answered first
  if (!results.length) {
    place.replaceChildren(element("s-paragraph", words.list.none_found));
    return;
  }
  const rows = results.map((row) => [
    element("s-link", row.name || row.email || `#${row.customer_shopify_id}`, {
      href: `/customers/${row.customer_shopify_id}?${pageQuery}`,
    }),
    row.email,
    element("s-badge", words.segments[row.segment] ?? row.segment),
    number.format(row.order_count),
    money(row.total_spent, row.currency),
    money(row.predicted_value_365d, row.currency),
    row.churn_risk === null ? "" : percent.format(row.churn_risk),
    when(row.last_order_at),
  ]);
  place.replaceChildren(
    table(
      [words.list.name, words.list.email, words.list.segment, words.list.orders, words.list.spent,
        words.list.predicted, words.list.churn, words.list.last_order],
      rows,
    ),
  );
}

let currentQuery = "";
let currentSegment = "";
let typingTimer = null;
document.getElementById("customer-query").addEventListener("change", (event) => {
  currentQuery = event.target.value ?? "";
  clearTimeout(typingTimer);
  typingTimer = setTimeout(showCustomers, 250);
});
document.getElementById("customer-segment").addEventListener("change", (event) => {
  currentSegment = event.target.value ?? "";
  showCustomers();
});

showSegments().catch(() => {
  document.getElementById("profiles-run").textContent = words.list.failed;
});
showCustomers();
