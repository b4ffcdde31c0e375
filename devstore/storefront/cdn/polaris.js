/* devstore's stand-in for Polaris web components (cdn.shopify.com/shopifycloud/polaris.js).
 * Custom elements that render into light DOM, so pages are usable and testable, drawn with
 * Shopify's design tokens (@shopify/polaris-tokens, vendored beside this file as
 * polaris-tokens.css): page, section (a card), stack, grid, text, heading, badge, banner, button,
 * link, text/number/email/date fields, text area, select, checkbox, table, modal, divider. */
(function () {
  "use strict";
  var here = document.currentScript && document.currentScript.src;
  if (here) {
    var tokens = document.createElement("link");
    tokens.rel = "stylesheet";
    tokens.href = new URL("polaris-tokens.css", here).toString();
    document.head.appendChild(tokens);
  }
  var css = document.createElement("style");
  css.textContent = [
    "html{background:var(--p-color-bg,#f1f1f1)}",
    "body{margin:0;font-family:var(--p-font-family-sans,system-ui,sans-serif);font-size:var(--p-font-size-325,.8125rem);",
    " line-height:var(--p-font-line-height-500,1.25rem);color:var(--p-color-text,#303030);background:var(--p-color-bg,#f1f1f1);",
    " -webkit-font-smoothing:antialiased}",
    "s-page{display:block;max-width:62rem;margin:0 auto;padding:var(--p-space-600,1.5rem) var(--p-space-400,1rem)}",
    "s-page>h1{font-size:var(--p-text-heading-lg-font-size,1.25rem);font-weight:var(--p-text-heading-lg-font-weight,650);",
    " line-height:var(--p-text-heading-lg-font-line-height,1.5rem);margin:0 0 var(--p-space-400,1rem)}",
    "s-section{display:block;background:var(--p-color-bg-surface,#fff);border-radius:var(--p-border-radius-300,.75rem);",
    " box-shadow:var(--p-shadow-100);padding:var(--p-space-400,1rem);margin:0 0 var(--p-space-400,1rem);",
    " outline:var(--p-border-width-025,1px) solid transparent}",
    "s-section>h2{font-size:var(--p-text-heading-sm-font-size,.875rem);font-weight:var(--p-text-heading-sm-font-weight,650);",
    " line-height:var(--p-text-heading-sm-font-line-height,1.25rem);margin:0 0 var(--p-space-300,.75rem)}",
    "s-stack{display:flex;flex-direction:column;gap:var(--p-space-200,.5rem)}s-stack[direction=inline]{flex-direction:row;flex-wrap:wrap;align-items:center}",
    "s-grid{display:grid;gap:var(--p-space-400,1rem);grid-template-columns:repeat(auto-fit,minmax(12rem,1fr))}",
    "s-box,s-grid-item{display:block}",
    "s-text,s-paragraph{display:block;margin:var(--p-space-100,.25rem) 0}s-text{display:inline}",
    "s-text[type=strong]{font-weight:var(--p-font-weight-semibold,600)}s-text[tone=subdued]{color:var(--p-color-text-secondary,#616161)}",
    "s-heading{display:block;font-size:var(--p-text-heading-md-font-size,.875rem);font-weight:var(--p-text-heading-md-font-weight,650);margin:var(--p-space-150,.375rem) 0}",
    "s-divider{display:block;border-top:var(--p-border-width-025,1px) solid var(--p-color-border-secondary,#ebebeb);margin:var(--p-space-300,.75rem) 0}",
    // Buttons: the secondary look by default, the brand fill for primary.
    "s-button{display:inline-flex;align-items:center;justify-content:center;min-height:1.75rem;box-sizing:border-box;",
    " padding:var(--p-space-150,.375rem) var(--p-space-300,.75rem);border-radius:var(--p-border-radius-200,.5rem);",
    " background:var(--p-color-bg-surface,#fff);color:var(--p-color-text,#303030);box-shadow:var(--p-shadow-button);",
    " font-weight:var(--p-font-weight-medium,550);cursor:pointer;user-select:none;white-space:nowrap}",
    "s-button:hover{background:var(--p-color-bg-surface-hover,#f7f7f7);box-shadow:var(--p-shadow-button-hover)}",
    "s-button:focus-visible{outline:var(--p-border-width-050,2px) solid var(--p-color-border-focus,#005bd3);outline-offset:1px}",
    "s-button[variant=primary]{background:var(--p-color-bg-fill-brand,#303030);color:var(--p-color-text-brand-on-bg-fill,#fff);",
    " box-shadow:var(--p-shadow-button-primary)}",
    "s-button[variant=primary]:hover{background:var(--p-color-bg-fill-brand-hover,#1a1a1a)}",
    "s-button[tone=critical]{color:var(--p-color-text-critical,#8e0b21)}",
    "s-button[disabled]{opacity:.5;pointer-events:none}",
    "s-link{color:var(--p-color-text-link,#005bd3)}",
    // Badges and banners in Shopify's tones.
    "s-badge{display:inline-flex;align-items:center;padding:var(--p-space-050,.125rem) var(--p-space-200,.5rem);",
    " border-radius:var(--p-border-radius-200,.5rem);background:var(--p-color-bg-fill-transparent-secondary,rgba(0,0,0,.06));",
    " font-size:var(--p-font-size-300,.75rem);font-weight:var(--p-font-weight-medium,550);line-height:1rem;white-space:nowrap}",
    "s-badge[tone=success]{background:var(--p-color-bg-fill-success-secondary,#affebf);color:var(--p-color-text-success,#014b40)}",
    "s-badge[tone=critical]{background:var(--p-color-bg-fill-critical-secondary,#fed1d7);color:var(--p-color-text-critical,#8e0b21)}",
    "s-badge[tone=warning]{background:var(--p-color-bg-fill-warning-secondary,#ffd6a4);color:var(--p-color-text-warning,#5e4200)}",
    "s-badge[tone=attention]{background:var(--p-color-bg-fill-caution-secondary,#ffeb78);color:var(--p-color-text-caution,#4f4700)}",
    "s-badge[tone=info]{background:var(--p-color-bg-fill-info-secondary,#d5ebff);color:var(--p-color-text-info,#003a5a)}",
    "s-banner{display:block;padding:var(--p-space-300,.75rem);border-radius:var(--p-border-radius-300,.75rem);",
    " background:var(--p-color-bg-surface-info,#eaf4ff);margin:var(--p-space-200,.5rem) 0;box-shadow:var(--p-shadow-100)}",
    "s-banner>strong{display:block;margin-bottom:var(--p-space-100,.25rem)}",
    "s-banner[tone=critical]{background:var(--p-color-bg-surface-critical,#fee9e8)}",
    "s-banner[tone=warning]{background:var(--p-color-bg-surface-warning,#fff1e3)}",
    "s-banner[tone=success]{background:var(--p-color-bg-surface-success,#cdfee1)}",
    // Fields: the label above, Polaris' input box.
    "s-text-field,s-email-field,s-number-field,s-date-field,s-text-area,s-select{display:block;margin:var(--p-space-200,.5rem) 0}",
    "s-text-field label,s-email-field label,s-number-field label,s-date-field label,s-text-area label,s-select label{",
    " display:flex;flex-direction:column;gap:var(--p-space-100,.25rem)}",
    "s-text-field input,s-email-field input,s-number-field input,s-date-field input,s-text-area textarea,s-select select{",
    " font:inherit;color:inherit;min-height:2rem;box-sizing:border-box;padding:var(--p-space-150,.375rem) var(--p-space-300,.75rem);",
    " border:var(--p-border-width-0165,.66px) solid var(--p-color-input-border,#8a8a8a);border-radius:var(--p-border-radius-200,.5rem);",
    " background:var(--p-color-input-bg-surface,#fdfdfd)}",
    "s-text-field input:focus,s-date-field input:focus,s-select select:focus,s-text-area textarea:focus,s-number-field input:focus,s-email-field input:focus{",
    " outline:var(--p-border-width-050,2px) solid var(--p-color-border-focus,#005bd3);outline-offset:1px}",
    "s-option{display:none}",
    "s-checkbox{display:block;margin:var(--p-space-200,.5rem) 0}s-checkbox label{display:flex;flex-direction:row-reverse;justify-content:flex-end;",
    " align-items:center;gap:var(--p-space-200,.5rem)}s-checkbox input{width:1rem;height:1rem;accent-color:var(--p-color-bg-fill-brand,#303030)}",
    // Tables: Polaris' index table look.
    "s-table{display:table;width:100%;border-collapse:collapse;border-radius:var(--p-border-radius-200,.5rem);overflow:hidden}",
    "s-table-header-row,s-table-row{display:table-row}s-table-body{display:table-row-group}s-table-header-row{display:table-header-group}",
    "s-table-header,s-table-cell{display:table-cell;padding:var(--p-space-150,.375rem) var(--p-space-300,.75rem);",
    " border-bottom:var(--p-border-width-025,1px) solid var(--p-color-border-secondary,#ebebeb);vertical-align:middle}",
    "s-table-header{font-weight:var(--p-font-weight-medium,550);color:var(--p-color-text-secondary,#616161);",
    " background:var(--p-color-bg-surface-secondary,#f7f7f7);font-size:var(--p-font-size-300,.75rem)}",
    "s-table-row:hover{background:var(--p-color-bg-surface-hover,#f7f7f7)}",
    // The modal: a centred card over a dimmed page.
    "s-modal{display:none}s-modal[open]{display:flex;position:fixed;inset:0;z-index:var(--p-z-index-11,510);align-items:center;",
    " justify-content:center;background:var(--p-color-backdrop-bg,rgba(0,0,0,.71))}",
    "s-modal>.s-modal-card{background:var(--p-color-bg-surface,#fff);border-radius:var(--p-border-radius-400,1rem);",
    " box-shadow:var(--p-shadow-600);min-width:20rem;max-width:38rem;padding:var(--p-space-400,1rem)}",
    "s-spinner{display:inline-block;width:1.25rem;height:1.25rem;border-radius:50%;border:2px solid var(--p-color-border-secondary,#ebebeb);",
    " border-top-color:var(--p-color-bg-fill-brand,#303030);animation:s-spin 1s linear infinite}@keyframes s-spin{to{transform:rotate(360deg)}}",
  ].join("\n");
  document.head.appendChild(css);

  // Elements that read their children: while the page is still parsing, the children come after
  // the element is connected, so wait for the document.
  function parsed(setup) {
    return function (el) {
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", function () { setup(el); });
      } else {
        setup(el);
      }
    };
  }

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
  define("s-banner", function (el) {
    headed("strong")(el);
    var tone = el.getAttribute("tone");
    el.setAttribute("role", tone === "critical" || tone === "warning" ? "alert" : "status");
  });
  ["s-stack", "s-box", "s-text", "s-paragraph", "s-heading", "s-badge", "s-table",
   "s-table-header-row", "s-table-header", "s-table-body", "s-table-row", "s-table-cell",
   "s-divider", "s-spinner", "s-icon", "s-image", "s-grid", "s-grid-item"].forEach(function (n) { define(n); });

  function follow(el) {
    var href = el.getAttribute("href");
    if (!href) { return false; }
    var target = el.getAttribute("target");
    if (target) { window.open(href, target); } else { window.location.href = href; }
    return true;
  }

  define("s-link", function (el) {
    el.style.cursor = "pointer"; el.style.textDecoration = "underline";
    el.setAttribute("role", "link");
    el.tabIndex = 0;
    el.addEventListener("click", function () { follow(el); });
  });

  define("s-button", function (el) {
    el.setAttribute("role", el.getAttribute("href") ? "link" : "button");
    el.tabIndex = 0;
    el.addEventListener("click", function () {
      if (el.hasAttribute("disabled")) { return; }
      if (follow(el)) { return; }
      var form = el.closest("form");
      if (form && (el.getAttribute("type") || "").toLowerCase() === "submit") { form.requestSubmit(); }
      var modal = el.getAttribute("commandfor");
      if (modal && document.getElementById(modal)) {
        var command = el.getAttribute("command") || "--show";
        document.getElementById(modal)[command === "--hide" ? "hide" : "show"]();
      }
    });
    el.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); el.click(); }
    });
  });

  // The element's property, kept on its inner control (a value set before the upgrade is kept).
  function mirror(el, control, property) {
    var early = Object.prototype.hasOwnProperty.call(el, property) ? el[property] : undefined;
    delete el[property];
    Object.defineProperty(el, property, {
      configurable: true,
      get: function () { return control[property]; },
      set: function (value) { control[property] = property === "checked" ? Boolean(value) : (value == null ? "" : String(value)); },
    });
    if (early !== undefined) { el[property] = early; }
  }

  function field(type) {
    return function (el) {
      var label = document.createElement("label");
      var caption = document.createElement("span");
      caption.textContent = el.getAttribute("label") || "";
      label.appendChild(caption);
      var input = document.createElement(type === "textarea" ? "textarea" : "input");
      if (type !== "textarea") { input.type = type; }
      ["name", "value", "placeholder", "min", "max", "required"].forEach(function (a) {
        if (el.hasAttribute(a)) { input.setAttribute(a, el.getAttribute(a)); }
      });
      if (type === "checkbox" && el.hasAttribute("checked")) { input.checked = true; }
      // Polaris' fields answer `value` (and a checkbox `checked`) themselves, read and written.
      mirror(el, input, "value");
      if (type === "checkbox") { mirror(el, input, "checked"); }
      input.addEventListener("input", function () { el.dispatchEvent(new Event("change", { bubbles: true })); });
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
    var caption = document.createElement("span");
    caption.textContent = el.getAttribute("label") || "";
    label.appendChild(caption);
    var select = document.createElement("select");
    if (el.hasAttribute("name")) { select.name = el.getAttribute("name"); }
    mirror(el, select, "value");
    label.appendChild(select);
    el.appendChild(label);
    // The options follow the element while the page parses: take them now and once it is parsed.
    parsed(function () {
      Array.prototype.slice.call(el.querySelectorAll("s-option")).forEach(function (o) {
        var option = document.createElement("option");
        option.value = o.getAttribute("value") || o.textContent;
        option.textContent = o.textContent;
        if (el.getAttribute("value") === option.value) { option.selected = true; }
        select.appendChild(option);
        o.remove();
      });
    })(el);
  });
  define("s-option");

  // The modal: its children in a card; show() and hide(), Escape and the backdrop close it.
  define("s-modal", parsed(function (el) {
    var card = document.createElement("div");
    card.className = "s-modal-card";
    card.setAttribute("role", "dialog");
    card.setAttribute("aria-modal", "true");
    if (el.getAttribute("heading")) {
      var h = document.createElement("h2");
      h.textContent = el.getAttribute("heading");
      card.appendChild(h);
      card.setAttribute("aria-label", el.getAttribute("heading"));
    }
    while (el.firstChild) { card.appendChild(el.firstChild); }
    el.appendChild(card);
    el.show = function () { el.setAttribute("open", ""); };
    el.hide = function () { el.removeAttribute("open"); };
    el.addEventListener("click", function (event) { if (event.target === el) { el.hide(); } });
    document.addEventListener("keydown", function (event) { if (event.key === "Escape") { el.hide(); } });
  }));
})();
