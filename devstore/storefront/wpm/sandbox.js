/* devstore's strict pixel sandbox: one Web Worker per pixel. The worker has no DOM; the pixel's
   bundle (built from @shopify/web-pixels-extension) calls `shopify.extend("WebPixel::Render",
   fn)`, and fn gets what Shopify's strict runtime gives: analytics.subscribe, an asynchronous
   browser (cookie, localStorage, sessionStorage, sendBeacon, answered by the page), init,
   settings and customerPrivacy.subscribe. */
"use strict";
const EXTENSION_POINT = "WebPixel::Render";
const subscribers = new Map(); // event name -> callbacks
const privacySubscribers = new Map();
const pending = new Map();
let nextCall = 0;
let api = null;
const early = [];

const call = (area, method, args) =>
  new Promise((resolve, reject) => {
    const id = ++nextCall;
    pending.set(id, { resolve, reject });
    self.postMessage({ type: "browser", id, area, method, args });
  });
const storage = (area) => ({
  getItem: (key) => call(area, "getItem", [key]),
  setItem: (key, value) => call(area, "setItem", [key, value]),
  removeItem: (key) => call(area, "removeItem", [key]),
  key: (index) => call(area, "key", [index]),
  length: () => call(area, "length", []),
  clear: () => call(area, "clear", []),
});
const subscribe = (table) => (name, callback) => {
  if (!table.has(name)) table.set(name, new Set());
  table.get(name).add(callback);
  return () => table.get(name).delete(callback);
};

const deliver = (event) => {
  for (const name of [event.name, "all_events", `all_${event.type}_events`]) {
    for (const callback of subscribers.get(name) || []) {
      try {
        callback(event);
      } catch (error) {
        console.error("web pixel subscriber failed", error);
      }
    }
  }
};

self.shopify = {
  extend(point, extend) {
    if (point !== EXTENSION_POINT) throw new Error(`unknown extension point ${point}`);
    extend(api);
  },
};

self.onmessage = ({ data }) => {
  if (data.type === "start") {
    api = Object.freeze({
      settings: Object.freeze({ ...data.settings }),
      init: data.init,
      analytics: { subscribe: subscribe(subscribers) },
      customerPrivacy: { subscribe: subscribe(privacySubscribers) },
      browser: {
        cookie: {
          get: (name) => call("cookie", "get", name ? [name] : []),
          set: (nameOrCookie, value) => call("cookie", "set", value === undefined ? [nameOrCookie] : [nameOrCookie, value]),
        },
        localStorage: storage("localStorage"),
        sessionStorage: storage("sessionStorage"),
        sendBeacon: (url, body) => call("sendBeacon", "send", [url, body]),
      },
      _pixelInfo: { runtimeContext: "strict", type: "APP" },
    });
    importScripts(data.bundle);
    for (const event of early.splice(0)) deliver(event);
  } else if (data.type === "event") {
    if (api) deliver(data.event);
    else early.push(data.event);
  } else if (data.type === "privacy") {
    for (const callback of privacySubscribers.get(data.name) || []) callback(data.payload);
  } else if (data.type === "browser-result") {
    const waiting = pending.get(data.id);
    pending.delete(data.id);
    if (waiting) "error" in data ? waiting.reject(new Error(data.error)) : waiting.resolve(data.value);
  }
};
