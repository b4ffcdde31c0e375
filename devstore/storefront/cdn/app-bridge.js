/* devstore's stand-in for Shopify App Bridge (cdn.shopify.com/shopifycloud/app-bridge.js).
 * Reads <meta name="shopify-api-key">, gives window.shopify.idToken() (a fresh session token
 * from the admin page around the iframe, by postMessage), shopify.toast.show(), and makes
 * same-origin fetch() send "Authorization: Bearer <session token>" as App Bridge does. */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="shopify-api-key"]');
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
  window.fetch = function (input, init) {
    var url = new URL(typeof input === "string" ? input : input.url, window.location.href);
    if (url.origin !== window.location.origin) { return originalFetch(input, init); }
    return idToken().then(function (token) {
      init = Object.assign({}, init || {});
      var headers = new Headers(init.headers || (input instanceof Request ? input.headers : undefined));
      if (!headers.has("Authorization")) { headers.set("Authorization", "Bearer " + token); }
      init.headers = headers;
      return originalFetch(input, init);
    });
  };

  window.shopify = {
    config: { apiKey: meta ? meta.content : null, shop: params.get("shop"), host: params.get("host") },
    idToken: idToken,
    toast: { show: function (message, options) { post("devstore:toast", { message: message, options: options || {} }); } },
    loading: function (on) { post("devstore:loading", { on: on !== false }); },
    modal: { show: function () {}, hide: function () {} },
    saveBar: { show: function () {}, hide: function () {} },
  };
})();
