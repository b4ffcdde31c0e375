/* devstore's stand-in for Shopify App Bridge (cdn.shopify.com/shopifycloud/app-bridge.js).
 * Reads <meta name="shopify-api-key"> (or the script's data-api-key), gives
 * window.shopify.idToken() (a fresh session token from the admin page around the iframe, by
 * postMessage), shopify.toast.show(), and makes same-origin fetch() send
 * "Authorization: Bearer <session token>" as App Bridge does, retrying once with a fresh token
 * when the app answers 401 with X-Shopify-Retry-Invalid-Session-Request. On the app's "patch ID
 * token" page (a `shopify-reload` parameter) it reloads that path with a fresh `id_token`.
 * Like App Bridge, it hides the app's <ui-nav-menu> and hands its links to the admin around the
 * iframe, which shows them in its sidebar. And it gives forms marked `data-save-bar` the admin's
 * contextual save bar: shown on the first change, Save submits the form, Discard resets it, and
 * it hides again on submit or reset (App Bridge's behaviour; shopify.saveBar.hide() too). */
(function () {
  "use strict";
  var script = document.currentScript;
  var meta = document.querySelector('meta[name="shopify-api-key"]') ||
    (script && script.dataset.apiKey ? { content: script.dataset.apiKey } : null);
  var params = new URLSearchParams(window.location.search);
  var pending = {};
  var sequence = 0;

  window.addEventListener("message", function (event) {
    var data = event.data || {};
    if (data.type === "devstore:idToken" && pending[data.requestId]) {
      pending[data.requestId].resolve(data.token);
      delete pending[data.requestId];
    }
  });

  function idToken() {
    return new Promise(function (resolve, reject) {
      if (window.parent === window) {
        reject(new Error("App Bridge: the app is not embedded in the admin"));
        return;
      }
      var id = ++sequence;
      pending[id] = { resolve: resolve, reject: reject };
      window.parent.postMessage({ type: "devstore:requestIdToken", requestId: id,
                                  apiKey: meta ? meta.content : null }, "*");
      setTimeout(function () {
        if (pending[id]) { delete pending[id]; reject(new Error("App Bridge: idToken timed out")); }
      }, 5000);
    });
  }

  function post(type, payload) {
    if (window.parent !== window) {
      window.parent.postMessage(Object.assign({ type: type }, payload), "*");
    }
  }

  var originalFetch = window.fetch.bind(window);
  function fetchWithToken(input, init) {
    return idToken().then(function (token) {
      var options = Object.assign({}, init || {});
      var headers = new Headers(options.headers || (input instanceof Request ? input.headers : undefined));
      if (!headers.has("Authorization")) { headers.set("Authorization", "Bearer " + token); }
      options.headers = headers;
      return originalFetch(input, options);
    });
  }
  window.fetch = function (input, init) {
    var url = new URL(typeof input === "string" ? input : input.url, window.location.href);
    if (url.origin !== window.location.origin) { return originalFetch(input, init); }
    return fetchWithToken(input, init).then(function (response) {
      if (response.status === 401 && response.headers.get("X-Shopify-Retry-Invalid-Session-Request") === "1") {
        return fetchWithToken(input, init);
      }
      return response;
    });
  };

  var reload = params.get("shopify-reload");
  if (reload) {
    var target = new URL(reload, window.location.href);
    if (target.origin === window.location.origin) {
      idToken().then(function (token) {
        target.searchParams.set("id_token", token);
        window.location.replace(target.toString());
      });
    }
  }

  // The navigation menu: App Bridge never shows <ui-nav-menu> inside the app; the admin's sidebar
  // lists its links (the one with rel="home" is the app's own entry, its name).
  var hidden = document.createElement("style");
  hidden.textContent = "ui-nav-menu{display:none !important}";
  (document.head || document.documentElement).appendChild(hidden);
  function navMenuSend() {
    var menu = document.querySelector("ui-nav-menu");
    if (!menu) { return; }
    var items = Array.prototype.map.call(menu.querySelectorAll("a"), function (link) {
      var url = new URL(link.getAttribute("href"), window.location.href);
      return { label: link.textContent.trim(), path: url.pathname, home: link.getAttribute("rel") === "home" };
    });
    post("devstore:navMenu", { items: items, current: window.location.pathname });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", navMenuSend);
  } else {
    navMenuSend();
  }

  // The contextual save bar, drawn by the admin around the iframe.
  var dirtyForms = new Set();
  function saveBarSend() { post("devstore:saveBar", { visible: dirtyForms.size > 0 }); }
  function saveBarForm(form) {
    function changed() { if (!dirtyForms.has(form)) { dirtyForms.add(form); saveBarSend(); } }
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    form.addEventListener("reset", function () { dirtyForms.delete(form); saveBarSend(); });
  }
  function saveBarFormsWatch() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-save-bar]"), saveBarForm);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", saveBarFormsWatch);
  } else {
    saveBarFormsWatch();
  }
  window.addEventListener("message", function (event) {
    var data = event.data || {};
    if (data.type !== "devstore:saveBarAction") { return; }
    dirtyForms.forEach(function (form) {
      if (data.action === "save") { form.requestSubmit(); } else { form.reset(); }
    });
  });

  window.shopify = {
    config: { apiKey: meta ? meta.content : null, shop: params.get("shop"), host: params.get("host") },
    idToken: idToken,
    toast: { show: function (message, options) { post("devstore:toast", { message: message, options: options || {} }); } },
    loading: function (on) { post("devstore:loading", { on: on !== false }); },
    modal: { show: function () {}, hide: function () {} },
    saveBar: {
      show: function () { post("devstore:saveBar", { visible: true }); return Promise.resolve(); },
      hide: function () { dirtyForms.clear(); saveBarSend(); return Promise.resolve(); },
    },
  };
})();
