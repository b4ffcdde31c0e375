// The embedded admin's shared helpers, for every module's page script (window.omakase). Every
// fetch to our own origin carries a fresh session token: App Bridge adds the Authorization header.
// Data is written with textContent only, never as HTML.
"use strict";

(function () {
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

  // Shopify's toast, at the bottom of the admin.
  function toast(message, { error = false } = {}) {
    window.shopify?.toast.show(message, { isError: error });
  }

  // A file from an API: a plain link would not carry the session token, so fetch it and hand the
  // browser the blob. Returns whether it worked.
  async function download(url, filename) {
    const response = await fetch(url);
    if (!response.ok) return false;
    const link = element("a", null, { href: URL.createObjectURL(await response.blob()), download: filename });
    document.body.append(link);
    link.click();
    link.remove();
    return true;
  }

  // Numbers, money and shares in the merchant's language (the page's lang, from Shopify's locale).
  const language = document.documentElement.lang || "en";
  const formats = {
    number: (value) => new Intl.NumberFormat(language).format(value),
    money: (amount, currency) =>
      new Intl.NumberFormat(language, { style: "currency", currency }).format(Number(amount)),
    percent: (share) =>
      share === null || share === undefined
        ? "–"
        : new Intl.NumberFormat(language, { style: "percent", maximumFractionDigits: 1 }).format(share),
    day: (value) => new Date(`${value}T00:00:00`).toLocaleDateString(language, { month: "short", day: "numeric" }),
  };

  // An SVG element (charts are drawn in the page, no library).
  function svg(tag, attributes = {}, text) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  window.omakase = { element, table, getJson, when, toast, download, formats, svg, language };
})();
