// Omakase's web pixel: what a shopper who allows analytics looks at, posted to the app so that
// "because you viewed" and their tastes follow. Runs in Shopify's strict sandbox (a web worker):
// no DOM, only the APIs `register` hands it. It sends ids, a search's words and times, nothing else.
import { register } from "@shopify/web-pixels-extension";

// Events published together (a page and its add to cart) go in one request; none waits for long,
// since the sandbox ends with the page.
const FLUSH_MS = 50;
const BATCH_MAX = 25;

register(({ analytics, init, settings }) => {
  const { key, endpoint } = settings;
  if (!key || !endpoint) return;
  // Shopify gives the customer to a strict pixel when they are signed in; otherwise the events
  // carry the browser's client id only, and the app joins them to the customer at sign-in.
  const customer = init.data?.customer?.id ?? null;
  let queue = [];
  let timer = null;

  const flush = () => {
    timer = null;
    while (queue.length) {
      const events = queue.splice(0, BATCH_MAX);
      fetch(endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ key, customer, events }),
        keepalive: true,
        credentials: "omit",
      }).catch(() => {}); // a lost batch is a lost hint, never an error for the shopper
    }
  };

  const idOf = (value) => (value == null ? null : String(value).split("/").pop());
  const push = (event, fields) => {
    queue.push({ id: event.id, name: event.name, client_id: event.clientId, at: event.timestamp, ...fields });
    if (queue.length >= BATCH_MAX) flush();
    else if (timer === null) timer = setTimeout(flush, FLUSH_MS);
  };

  analytics.subscribe("product_viewed", (event) => {
    const variant = event.data?.productVariant;
    push(event, { product_id: idOf(variant?.product?.id), variant_id: idOf(variant?.id) });
  });
  analytics.subscribe("collection_viewed", (event) => {
    push(event, { collection_id: idOf(event.data?.collection?.id) });
  });
  analytics.subscribe("search_submitted", (event) => {
    push(event, { query: String(event.data?.searchResult?.query ?? "").slice(0, 255) });
  });
  analytics.subscribe("product_added_to_cart", (event) => {
    const line = event.data?.cartLine;
    push(event, {
      product_id: idOf(line?.merchandise?.product?.id),
      variant_id: idOf(line?.merchandise?.id),
      quantity: line?.quantity ?? 1,
    });
  });
});
