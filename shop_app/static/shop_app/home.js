// The Overview page (the admin's home): the import, recent orders, webhooks needing attention and
// privacy requests. The shared helpers come from shell.js; the words come translated from the
// server (#home-words).
"use strict";

const { element, table, getJson, when, toast, download, formats, wordsOf } = window.omakase;
const homeWords = wordsOf("home-words");
const say = (key, values = {}) =>
  (homeWords[key] ?? key).replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));

// --- The import of the store's history ----------------------------------------------------
const ordersPlace = document.getElementById("recent-orders");
const importStatus = document.getElementById("backfill-status");
const importProgress = document.getElementById("backfill-progress");
const number = { format: formats.number };
const phase = (backfill) => say(`phase_${backfill.phase}`);

function importSummary(backfill) {
  const counts = say("import_counts", {
    customers: number.format(backfill.customers_imported),
    orders: number.format(backfill.orders_imported),
    products: number.format(backfill.products_imported),
    collections: number.format(backfill.collections_imported),
  });
  return `${say(`import_${backfill.status}`)} (${counts})`;
}

function importShow(backfill) {
  const running = backfill.status === "pending" || backfill.status === "running";
  importProgress.hidden = !running || backfill.phase_total === null;
  if (!running) {
    importStatus.textContent = importSummary(backfill);
    return;
  }
  if (backfill.phase_total === null) {
    // Shopify is still writing this phase's file: nothing to count yet.
    importStatus.textContent = say("import_preparing", { phase: phase(backfill) });
    return;
  }
  importProgress.max = Math.max(backfill.phase_total, 1);
  importProgress.value = backfill.phase_imported;
  importStatus.textContent = say("importing", {
    phase: phase(backfill),
    done: number.format(backfill.phase_imported),
    total: number.format(backfill.phase_total),
  });
}

async function refreshBackfill(failures = 0) {
  let backfill = null;
  try {
    backfill = (await getJson("/api/import")).import;
  } catch (error) {
    if (failures >= 3) importStatus.textContent = say("import_unavailable");
    setTimeout(() => refreshBackfill(failures + 1), Math.min(30000, 3000 * 2 ** failures));
    return;
  }
  if (backfill) importShow(backfill);
  if (!backfill || backfill.status === "pending" || backfill.status === "running") {
    // The newest orders are not known until the history is in: say so rather than list old ones.
    ordersPlace.replaceChildren(element("s-paragraph", say("orders_after_import")));
    setTimeout(refreshBackfill, 3000);
  } else {
    refreshOrders();
  }
}

// --- Recent orders --------------------------------------------------------------------------
async function refreshOrders() {
  try {
    const { results } = await getJson("/api/orders?limit=10");
    ordersPlace.replaceChildren(
      results.length
        ? table(
            [say("order"), say("placed"), say("customer"), say("total"), say("payment"), say("fulfillment")],
            results.map((order) => [
              order.name || order.shopify_id,
              when(order.shopify_created_at),
              order.email,
              formats.money(order.total_price, order.currency),
              order.cancelled_at ? say("cancelled") : say(`financial_${order.financial_status}`),
              say(`fulfillment_${order.fulfillment_status || "unfulfilled"}`),
            ]),
          )
        : element("s-paragraph", say("no_orders")),
    );
  } catch (error) {
    ordersPlace.replaceChildren(element("s-banner", say("orders_unavailable"), { tone: "critical" }));
  }
}

// --- Webhook events that need attention ----------------------------------------------------
const eventsPlace = document.getElementById("failed-events");
async function refreshFailedEvents() {
  try {
    const { results } = await getJson("/api/webhook-events?status=failed");
    if (!results.length) {
      eventsPlace.replaceChildren(element("s-paragraph", say("all_processed")));
      return;
    }
    eventsPlace.replaceChildren(
      table(
        [say("topic"), say("received"), say("attempts"), say("what_happened"), ""],
        results.map((event) => {
          const replay = element("s-button", say("replay"), { "data-event": event.id });
          replay.addEventListener("click", () => replayEvent(event.id));
          // The error's own text is for the logs; the merchant reads what to do.
          return [event.topic, when(event.received_at), number.format(event.attempts), say("event_failed"), replay];
        }),
      ),
    );
  } catch (error) {
    eventsPlace.replaceChildren(element("s-banner", say("events_unavailable"), { tone: "critical" }));
  }
}

async function replayEvent(eventId) {
  const response = await fetch(`/api/webhook-events/${eventId}/replay`, { method: "POST" }).catch(() => null);
  const ok = Boolean(response?.ok);
  toast(ok ? say("replayed") : say("replay_failed"), { error: !ok });
  refreshFailedEvents();
}

// --- Privacy requests ------------------------------------------------------------------------
const privacyPlace = document.getElementById("privacy-requests");
async function refreshPrivacyRequests() {
  try {
    const { results } = await getJson("/api/privacy-requests");
    if (!results.length) {
      privacyPlace.replaceChildren(element("s-paragraph", say("no_privacy_requests")));
      return;
    }
    privacyPlace.replaceChildren(
      table(
        [say("request"), say("about"), say("received"), say("done"), ""],
        results.map((request) => {
          let action = "";
          if (request.has_export) {
            action = element("s-button", say("download"), { "data-request": request.id });
            action.addEventListener("click", () => downloadExport(request.id));
          }
          const done = request.completed_at ? when(request.completed_at) : say("in_progress");
          return [homeWords[`kind_${request.kind}`] ?? request.kind_label, request.subject, when(request.received_at), done, action];
        }),
      ),
    );
  } catch (error) {
    privacyPlace.replaceChildren(element("s-banner", say("privacy_unavailable"), { tone: "critical" }));
  }
}

async function downloadExport(requestId) {
  if (!(await download(`/api/privacy-requests/${requestId}/export`, `data-request-${requestId}.json`))) {
    toast(say("download_failed"), { error: true });
  }
}

refreshBackfill();
refreshFailedEvents();
refreshPrivacyRequests();
