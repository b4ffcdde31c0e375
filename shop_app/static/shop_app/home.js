// The Overview page (the admin's home): the import, recent orders, webhooks needing attention and
// privacy requests. The shared helpers come from shell.js.
"use strict";

const { element, table, getJson, when, toast, download } = window.omakase;

// --- The import of the store's history ----------------------------------------------------
const ordersPlace = document.getElementById("recent-orders");
const importStatus = document.getElementById("backfill-status");
const importProgress = document.getElementById("backfill-progress");
const number = new Intl.NumberFormat();

function importSummary(backfill) {
  const counts = [
    `${number.format(backfill.customers_imported)} customers`,
    `${number.format(backfill.orders_imported)} orders`,
    `${number.format(backfill.products_imported)} products`,
    `${number.format(backfill.collections_imported)} collections`,
  ];
  return `Import: ${backfill.status} (${counts.join(", ")})`;
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
    importStatus.textContent = `Import: Shopify is preparing your ${backfill.phase}…`;
    return;
  }
  importProgress.max = Math.max(backfill.phase_total, 1);
  importProgress.value = backfill.phase_imported;
  importStatus.textContent =
    `Importing ${backfill.phase}: ${number.format(backfill.phase_imported)} of ${number.format(backfill.phase_total)}`;
}

async function refreshBackfill(failures = 0) {
  let backfill = null;
  try {
    backfill = (await getJson("/api/import")).import;
  } catch (error) {
    if (failures >= 3) importStatus.textContent = "Import: progress unavailable, retrying…";
    setTimeout(() => refreshBackfill(failures + 1), Math.min(30000, 3000 * 2 ** failures));
    return;
  }
  if (backfill) importShow(backfill);
  if (!backfill || backfill.status === "pending" || backfill.status === "running") {
    // The newest orders are not known until the history is in: say so rather than list old ones.
    ordersPlace.replaceChildren(element("s-paragraph", "Your newest orders appear here once the import finishes."));
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
            ["Order", "Placed", "Customer", "Total", "Payment", "Fulfillment"],
            results.map((order) => [
              order.name || order.shopify_id,
              when(order.shopify_created_at),
              order.email,
              `${order.total_price} ${order.currency}`,
              order.cancelled_at ? "cancelled" : order.financial_status,
              order.fulfillment_status || "unfulfilled",
            ]),
          )
        : element("s-paragraph", "No orders yet."),
    );
  } catch (error) {
    ordersPlace.replaceChildren(element("s-paragraph", "Orders are unavailable right now."));
  }
}

// --- Webhook events that need attention ----------------------------------------------------
const eventsPlace = document.getElementById("failed-events");
async function refreshFailedEvents() {
  try {
    const { results } = await getJson("/api/webhook-events?status=failed");
    if (!results.length) {
      eventsPlace.replaceChildren(element("s-paragraph", "Every webhook was processed."));
      return;
    }
    eventsPlace.replaceChildren(
      table(
        ["Topic", "Received", "Attempts", "Error", ""],
        results.map((event) => {
          const replay = element("s-button", "Replay", { "data-event": event.id });
          replay.addEventListener("click", () => replayEvent(event.id));
          return [event.topic, when(event.received_at), event.attempts, event.last_error, replay];
        }),
      ),
    );
  } catch (error) {
    eventsPlace.replaceChildren(element("s-paragraph", "Webhook events are unavailable right now."));
  }
}

async function replayEvent(eventId) {
  const response = await fetch(`/api/webhook-events/${eventId}/replay`, { method: "POST" });
  toast(response.ok ? "Sent again for processing" : "Could not replay that event", { error: !response.ok });
  refreshFailedEvents();
}

// --- Privacy requests ------------------------------------------------------------------------
const privacyPlace = document.getElementById("privacy-requests");
async function refreshPrivacyRequests() {
  try {
    const { results } = await getJson("/api/privacy-requests");
    if (!results.length) {
      privacyPlace.replaceChildren(element("s-paragraph", "No privacy requests."));
      return;
    }
    privacyPlace.replaceChildren(
      table(
        ["Request", "About", "Received", "Done", ""],
        results.map((request) => {
          let action = "";
          if (request.has_export) {
            action = element("s-button", "Download", { "data-request": request.id });
            action.addEventListener("click", () => downloadExport(request.id));
          }
          const done = request.completed_at ? when(request.completed_at) : "In progress";
          return [request.kind_label, request.subject, when(request.received_at), done, action];
        }),
      ),
    );
  } catch (error) {
    privacyPlace.replaceChildren(element("s-paragraph", "Privacy requests are unavailable right now."));
  }
}

async function downloadExport(requestId) {
  if (!(await download(`/api/privacy-requests/${requestId}/export`, `data-request-${requestId}.json`))) {
    toast("Could not download that export", { error: true });
  }
}

refreshBackfill();
refreshFailedEvents();
refreshPrivacyRequests();
