/* devstore's stand-in for Polaris web components (cdn.shopify.com/shopifycloud/polaris.js).
 * Minimal custom elements that render into light DOM, so pages are usable and testable. */
(function () {
  "use strict";
  var css = document.createElement("style");
  css.textContent = [
    "s-page{display:block;max-width:1000px;margin:0 auto;padding:16px;font-family:system-ui,sans-serif}",
    "s-section{display:block;background:#fff;border:1px solid #e3e3e3;border-radius:10px;padding:12px 16px;margin:12px 0}",
    "s-stack{display:flex;flex-direction:column;gap:8px}s-stack[direction=inline]{flex-direction:row;flex-wrap:wrap}",
    "s-box{display:block}s-text,s-paragraph{display:block;margin:4px 0}s-heading{display:block;font-weight:600;margin:6px 0}",
    "s-button{display:inline-block;padding:6px 12px;border:1px solid #bbb;border-radius:8px;cursor:pointer;background:#fafafa}",
    "s-button[variant=primary]{background:#303030;color:#fff}s-button[disabled]{opacity:.5;pointer-events:none}",
    "s-badge{display:inline-block;padding:1px 8px;border-radius:10px;background:#eee;font-size:.85em}",
    "s-badge[tone=success]{background:#cdfee1}s-badge[tone=critical]{background:#fedad9}s-badge[tone=warning]{background:#fff1c2}",
    "s-banner{display:block;padding:10px;border-radius:8px;background:#eaf4ff;margin:8px 0}s-banner[tone=critical]{background:#fedad9}",
    "s-table{display:table;width:100%;border-collapse:collapse}s-table-header-row,s-table-row{display:table-row}",
    "s-table-header,s-table-cell{display:table-cell;padding:6px;border-bottom:1px solid #eee}s-table-header{font-weight:600}",
    "s-table-body{display:table-row-group}s-table-header-row{display:table-header-group}",
  ].join("\n");
  document.head.appendChild(css);

  function define(name, setup) {
    if (customElements.get(name)) { return; }
    customElements.define(name, class extends HTMLElement {
      connectedCallback() { if (!this._ready) { this._ready = true; if (setup) { setup(this); } } }
    });
  }

  function headed(tag) {
    return function (el) {
      var heading = el.getAttribute("heading");
      if (heading) { var h = document.createElement(tag); h.textContent = heading; el.prepend(h); }
    };
  }

  define("s-page", headed("h1"));
  define("s-section", headed("h2"));
  define("s-banner", headed("strong"));
  ["s-stack", "s-box", "s-text", "s-paragraph", "s-heading", "s-badge", "s-table",
   "s-table-header-row", "s-table-header", "s-table-body", "s-table-row", "s-table-cell",
   "s-divider", "s-spinner", "s-icon", "s-image", "s-grid", "s-grid-item"].forEach(function (n) { define(n); });

  define("s-link", function (el) {
    el.style.cursor = "pointer"; el.style.textDecoration = "underline";
    el.addEventListener("click", function () { var href = el.getAttribute("href"); if (href) { window.location.href = href; } });
  });

  define("s-button", function (el) {
    el.setAttribute("role", "button");
    el.tabIndex = 0;
    el.addEventListener("click", function () {
      if (el.hasAttribute("disabled")) { return; }
      var href = el.getAttribute("href");
      if (href) { window.location.href = href; return; }
      var form = el.closest("form");
      if (form && (el.getAttribute("type") || "").toLowerCase() === "submit") { form.requestSubmit(); }
    });
  });

  function field(type) {
    return function (el) {
      var label = document.createElement("label");
      label.textContent = el.getAttribute("label") || "";
      var input = document.createElement(type === "textarea" ? "textarea" : "input");
      if (type !== "textarea") { input.type = type; }
      ["name", "value", "placeholder", "min", "max", "required"].forEach(function (a) {
        if (el.hasAttribute(a)) { input.setAttribute(a, el.getAttribute(a)); }
      });
      if (type === "checkbox" && el.hasAttribute("checked")) { input.checked = true; }
      input.addEventListener("input", function () { el.value = input.value; el.dispatchEvent(new Event("change", { bubbles: true })); });
      el.value = input.value;
      label.appendChild(input);
      el.appendChild(label);
    };
  }
  define("s-text-field", field("text"));
  define("s-email-field", field("email"));
  define("s-number-field", field("number"));
  define("s-date-field", field("date"));
  define("s-checkbox", field("checkbox"));
  define("s-text-area", field("textarea"));

  define("s-select", function (el) {
    var label = document.createElement("label");
    label.textContent = el.getAttribute("label") || "";
    var select = document.createElement("select");
    if (el.hasAttribute("name")) { select.name = el.getAttribute("name"); }
    Array.prototype.slice.call(el.querySelectorAll("s-option")).forEach(function (o) {
      var option = document.createElement("option");
      option.value = o.getAttribute("value") || o.textContent;
      option.textContent = o.textContent;
      if (el.getAttribute("value") === option.value) { option.selected = true; }
      select.appendChild(option);
      o.remove();
    });
    label.appendChild(select);
    el.appendChild(label);
  });
  define("s-option");
})();
