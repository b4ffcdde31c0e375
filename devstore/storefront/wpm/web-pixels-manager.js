/* devstore's web pixels manager: what Shopify's does for an app pixel, on the page.
   - The consent banner (rendered by the theme's devstore-pixels snippet) records the shopper's
     choice in the _tracking_consent cookie; window.Shopify.customerPrivacy reads and sets it.
   - A pixel runs only with every permission its toml's [customer_privacy] asks for: then (and only
     then) the browser gets its client id (_shopify_y) and the pixel a Web Worker of its own (the
     strict sandbox), where `shopify.extend("WebPixel::Render", ...)` hands it analytics, browser,
     init, settings and customerPrivacy.
   - The page's standard events (product_viewed, collection_viewed, search_submitted,
     product_added_to_cart) are published to it in Shopify's envelope. Withdrawing consent ends it. */
(() => {
  "use strict";
  const config = JSON.parse(document.getElementById("devstore-web-pixels")?.textContent || "null");
  if (!config) return;
  const banner = document.getElementById("devstore-consent");
  const YEAR = 365 * 24 * 3600;
  const cookie = (name) =>
    document.cookie.split("; ").find((part) => part.startsWith(name + "="))?.slice(name.length + 1);
  const setCookie = (name, value, maxAge) =>
    (document.cookie = `${name}=${value}; path=/; max-age=${maxAge}; samesite=lax`);
  const uuid = () => crypto.randomUUID();

  let consent = config.consent; // null until the shopper chooses
  const workers = new Map();
  let seq = 0;
  const queued = config.events.slice();
  // Published once: this page's events go to a pixel when it starts (even after a late consent).
  setCookie("devstore_cart_added", "", 0);

  const allowed = (pixel) =>
    !!consent && Object.entries(pixel.needs).every(([permission, needed]) => !needed || consent[permission]);

  const privacy = () => ({
    analyticsProcessingAllowed: !!consent?.analytics,
    marketingAllowed: !!consent?.marketing,
    preferencesProcessingAllowed: !!consent?.preferences,
    saleOfDataAllowed: !!consent?.sale_of_data,
  });

  const clientId = () => {
    let id = cookie("_shopify_y");
    if (!id) {
      id = uuid();
      setCookie("_shopify_y", id, YEAR);
    }
    return id;
  };

  const context = () => ({
    document: {
      characterSet: document.characterSet,
      location: locationOf(location),
      referrer: document.referrer,
      title: document.title,
    },
    navigator: {
      cookieEnabled: navigator.cookieEnabled,
      language: navigator.language,
      languages: [...navigator.languages],
      userAgent: navigator.userAgent,
    },
    window: {
      innerHeight: innerHeight,
      innerWidth: innerWidth,
      location: locationOf(location),
      origin: location.origin,
      outerHeight: outerHeight,
      outerWidth: outerWidth,
      pageXOffset: scrollX,
      pageYOffset: scrollY,
      screen: { height: screen.height, width: screen.width },
      screenX: screenX,
      screenY: screenY,
      scrollX: scrollX,
      scrollY: scrollY,
    },
  });
  const locationOf = (l) => ({
    hash: l.hash, host: l.host, hostname: l.hostname, href: l.href, origin: l.origin,
    pathname: l.pathname, port: l.port, protocol: l.protocol, search: l.search,
  });

  const envelope = (event) => ({
    id: uuid(),
    clientId: clientId(),
    name: event.name,
    timestamp: new Date().toISOString(),
    seq: ++seq,
    type: "standard",
    context: context(),
    data: event.data,
  });

  // The sandbox's browser API answers through the page, asynchronously, as Shopify's does.
  const browserCall = ({ area, method, args }) => {
    if (area === "cookie") {
      if (method === "get") return args[0] ? cookie(args[0]) ?? "" : document.cookie;
      document.cookie = args.length > 1 ? `${args[0]}=${args[1]}` : args[0];
      return document.cookie;
    }
    if (area === "sendBeacon") return navigator.sendBeacon(args[0], args[1]);
    const storage = area === "localStorage" ? localStorage : sessionStorage;
    if (method === "key") return storage.key(args[0]);
    if (method === "length") return storage.length;
    if (method === "clear") return storage.clear();
    return storage[method](...args);
  };

  const start = (pixel) => {
    if (workers.has(pixel.id) || !allowed(pixel)) return;
    const worker = new Worker(config.sandbox, { name: `web-pixel-${pixel.handle}` });
    worker.onmessage = ({ data }) => {
      if (data?.type !== "browser") return;
      let result;
      try {
        result = { id: data.id, value: browserCall(data) };
      } catch (error) {
        result = { id: data.id, error: String(error) };
      }
      worker.postMessage({ type: "browser-result", ...result });
    };
    worker.postMessage({
      type: "start",
      bundle: new URL(pixel.src, location.href).href,
      settings: pixel.settings,
      init: { context: context(), data: config.init, customerPrivacy: privacy() },
    });
    workers.set(pixel.id, worker);
    for (const event of queued) worker.postMessage({ type: "event", event: envelope(event) });
  };

  const stopAll = () => {
    for (const worker of workers.values()) worker.terminate();
    workers.clear();
  };

  const apply = () => {
    for (const pixel of config.pixels) {
      if (allowed(pixel)) start(pixel);
    }
    if (!consent?.analytics) stopAll();
    for (const worker of workers.values()) {
      worker.postMessage({ type: "privacy", name: "visitorConsentCollected", payload: { customerPrivacy: privacy() } });
    }
  };

  const choose = (choice) => {
    consent = { analytics: false, marketing: false, preferences: false, sale_of_data: false, ...choice };
    setCookie("_tracking_consent", encodeURIComponent(JSON.stringify(consent)), YEAR);
    if (!consent.analytics) setCookie("_shopify_y", "", 0);
    if (banner) banner.hidden = true;
    apply();
  };

  window.Shopify = window.Shopify || {};
  window.Shopify.customerPrivacy = {
    analyticsProcessingAllowed: () => !!consent?.analytics,
    marketingAllowed: () => !!consent?.marketing,
    preferencesProcessingAllowed: () => !!consent?.preferences,
    saleOfDataAllowed: () => !!consent?.sale_of_data,
    currentVisitorConsent: () => consent,
    shouldShowBanner: () => consent === null,
    setTrackingConsent: (choice, callback) => {
      choose(choice);
      callback?.();
    },
  };

  banner?.addEventListener("click", (event) => {
    const button = event.target.closest("[data-consent]");
    if (!button) return;
    const yes = button.dataset.consent === "accept";
    choose({ analytics: yes, marketing: yes, preferences: yes, sale_of_data: yes });
  });
  apply();
})();
