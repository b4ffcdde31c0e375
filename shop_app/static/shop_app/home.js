// The embedded admin's home page. Every fetch to our own origin carries a fresh session token:
// App Bridge adds the Authorization header. Data is written with textContent only, never as HTML.
"use strict";

function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function table(headers, rows) {
  const wrapper = element("s-table");
  const head = element("s-table-header-row");
  headers.forEach((header) => head.append(element("s-table-header", header)));
  const body = element("s-table-body");
  rows.forEach((cells) => {
    const row = element("s-table-row");
    cells.forEach((cell) => {
      const td = element("s-table-cell");
      if (cell instanceof Node) td.append(cell); else td.textContent = cell ?? "";
      row.append(td);
    });
    body.append(row);
  });
  wrapper.append(head, body);
  return wrapper;
}

async function getJson(url, options) {
  const response = await fetch(url, options);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

function when(value) {
  return value ? new Date(value).toLocaleString() : "";
}

// --- The import of the store's history ----------------------------------------------------
const importStatus = document.getElementById("backfill-status");
async function refreshBackfill(failures = 0) {
  let backfill = null;
  try {
    backfill = (await getJson("/api/import")).import;
  } catch (error) {
    if (failures >= 3) importStatus.textContent = "Import: progress unavailable, retrying…";
    setTimeout(() => refreshBackfill(failures + 1), Math.min(30000, 3000 * 2 ** failures));
    return;
  }
  if (backfill) {
    importStatus.textContent =
      `Import: ${backfill.status} (${backfill.customers_imported} customers, ${backfill.orders_imported} orders)`;
  }
  if (!backfill || backfill.status === "pending" || backfill.status === "running") {
    setTimeout(refreshBackfill, 3000);
  } else {
    refreshOrders();
  }
}

// --- Recent orders --------------------------------------------------------------------------
const ordersPlace = document.getElementById("recent-orders");
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
  window.shopify?.toast.show(response.ok ? "Sent again for processing" : "Could not replay that event");
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
        ["Request", "Customer", "Received", "Done", ""],
        results.map((request) => {
          let action = "";
          if (request.has_export) {
            action = element("s-button", "Download", { "data-request": request.id });
            action.addEventListener("click", () => downloadExport(request.id));
          }
          return [request.kind, request.customer_shopify_id, when(request.received_at), when(request.completed_at), action];
        }),
      ),
    );
  } catch (error) {
    privacyPlace.replaceChildren(element("s-paragraph", "Privacy requests are unavailable right now."));
  }
}

async function downloadExport(requestId) {
  // A plain link would not carry the session token, so fetch the file and hand it over.
  const response = await fetch(`/api/privacy-requests/${requestId}/export`);
  if (!response.ok) {
    window.shopify?.toast.show("Could not download that export");
    return;
  }
  const link = element("a", null, {
    href: URL.createObjectURL(await response.blob()),
    download: `data-request-${requestId}.json`,
  });
  document.body.append(link);
  link.click();
  link.remove();
}

refreshBackfill();
refreshOrders();
refreshFailedEvents();
refreshPrivacyRequests();
