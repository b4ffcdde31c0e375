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

  // The merchant's language (the page's lang, from Shopify's locale).
  const language = document.documentElement.lang || "en";

  // Words from a page's <template> of <data value="key">word</data>, translated on the server.
  function wordsOf(id) {
    const found = {};
    document.getElementById(id)?.content.querySelectorAll("data").forEach((word) => {
      found[word.getAttribute("value")] = word.textContent;
    });
    return found;
  }
  const words = wordsOf("omakase-words");

  function when(value) {
    return value ? new Date(value).toLocaleString(language) : "";
  }

  // A form the API refused ({field: [messages]}, as DRF answers), or no answer at all: a sentence
  // naming the field by its label in the form, never the raw field name or the API's own text.
  function refusal(place, answer, form) {
    const [name] = Object.keys(answer ?? {});
    const control = name && form ? form.querySelector(`[name="${CSS.escape(name)}"]`) : null;
    const label = control?.closest("[label]")?.getAttribute("label") || control?.closest("label")?.textContent?.trim();
    const text = !answer ? words.unreachable : label ? words.refused.replace("%(field)s", label) : words.refused_form;
    place.replaceChildren(element("s-banner", text, { tone: "critical" }));
  }

  // A JSON request whose answer is [ok, body]; [false, null] when there was no usable answer.
  async function send(url, method, body) {
    try {
      const response = await fetch(url, {
        method,
        headers: { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (response.status === 204) return [response.ok, {}];
      const answer = await response.json().catch(() => null);
      return [response.ok && answer !== null, response.status >= 500 ? null : answer];
    } catch (error) {
      return [false, null];
    }
  }

  // A place that could not be filled: say so, and what to try.
  function failed(place) {
    place.replaceChildren(element("s-banner", words.failed, { tone: "critical" }));
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

  // Numbers, money and shares in the merchant's language.
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

  // Amounts the server wrote as <data value="12.50" data-currency="JPY">: in the merchant's format.
  document.querySelectorAll("data[data-currency]").forEach((amount) => {
    if (amount.dataset.currency && amount.value !== "") amount.textContent = formats.money(amount.value, amount.dataset.currency);
  });

  // An SVG element (charts are drawn in the page, no library).
  function svg(tag, attributes = {}, text) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  window.omakase = {
    element, table, getJson, send, when, toast, download, formats, svg, language, words, wordsOf, refusal, failed,
  };
})();
