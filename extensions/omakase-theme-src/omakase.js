/* Omakase storefront blocks: one deferred script for every block, no framework.
   It talks only to the app proxy (same origin). Liquid renders each block with its final size
   (empty item slots), so filling it moves nothing on the page. Strings come from the block's
   data-t-* attributes (the theme's locale files), reason texts come translated from the app. */
(() => {
  "use strict";
  if (window.omakase) return; // loaded once, even when a theme includes it twice
  const PROXY = "/apps/omakase";
  const CLASS = "omakase__"; // every element class of a block starts with it
  const VISITOR_KEY = "omakase:visitor";
  const HIDDEN_KEY = "omakase:hidden";
  const LIMIT_MAX = 24;

  const stored = (key, fallback) => {
    try {
      return JSON.parse(localStorage.getItem(key)) ?? fallback;
    } catch {
      return fallback;
    }
  };
  const keep = (key, value) => {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch {
      /* private mode: remembered for this page only */
    }
  };

  // The app proxy strips cookies, so a visitor is a random id kept in localStorage.
  const visitorId = () => {
    let id = stored(VISITOR_KEY, "");
    if (!id) {
      id = crypto.randomUUID ? crypto.randomUUID() : Date.now().toString(36) + Math.random().toString(36).slice(2);
      keep(VISITOR_KEY, id);
    }
    return id;
  };

  // el("div", "media") is <div class="omakase__media">; otherwise attributes by name.
  const el = (tag, attributes, ...children) => {
    const node = document.createElement(tag);
    if (typeof attributes === "string") attributes = { class: CLASS + attributes };
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (value === true) node.setAttribute(name, "");
      else if (value != null && value !== false) node.setAttribute(name, value);
    }
    node.append(...children);
    return node;
  };
  const button = (text, onclick, kind = CLASS + "button " + CLASS + "button--plain", type = "button") =>
    el("button", { type, class: kind, text, onclick });
  const fill = (template, ...values) => values.reduce((text, value) => text.replace("%s", value), template || "");

  const call = async (path, body) => {
    const options = { headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body) {
      options.method = "POST";
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    try {
      const response = await fetch(PROXY + path, options);
      return { status: response.status, ok: response.ok, body: await response.json().catch(() => null) };
    } catch {
      return { status: 0, ok: false, body: null };
    }
  };

  const money = (price, locale) => {
    try {
      return new Intl.NumberFormat(locale || undefined, { style: "currency", currency: price.currency }).format(+price.amount);
    } catch {
      return `${price.amount} ${price.currency}`;
    }
  };
  const say = (root, text) => {
    root.querySelector("." + CLASS + "status").textContent = text;
  };

  // Feedback: impressions once per item shown, batched; clicks at once. sendBeacon survives the
  // navigation a click starts; fetch with keepalive where it is missing or refuses.
  let queue = [];
  let timer = 0;
  const flush = () => {
    clearTimeout(timer);
    timer = 0;
    if (!queue.length) return;
    const body = JSON.stringify({ visitor: visitorId(), events: queue });
    queue = [];
    const sent = navigator.sendBeacon && navigator.sendBeacon(PROXY + "/events", new Blob([body], { type: "application/json" }));
    if (!sent) {
      fetch(PROXY + "/events", { method: "POST", body, keepalive: true, headers: { "Content-Type": "application/json" } }).catch(() => {});
    }
  };
  const track = (type, block, productId, reason) => {
    queue.push(reason ? { type, block, product_id: productId, reason } : { type, block, product_id: productId });
    if (type === "click") flush();
    else if (!timer) timer = setTimeout(flush, 1000);
  };
  addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", () => document.visibilityState === "hidden" && flush());
  const seen = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        seen.unobserve(entry.target);
        const data = entry.target.dataset;
        track("impression", data.block, +data.productId, data.reason);
      }
    },
    { threshold: 0.5 },
  );

  // One item in its slot: the card's link covers it; "not for me" sits above the link.
  const itemFill = (slot, item, block, root) => {
    const locale = root.dataset.locale;
    const reason = item.reason?.kind || "";
    slot.replaceChildren();
    slot.removeAttribute("aria-hidden");
    slot.hidden = false;
    Object.assign(slot.dataset, { productId: item.product_id, block, reason });
    const media = el("div", "media");
    if (item.image) media.append(el("img", { src: item.image, alt: "", loading: "lazy", width: 400, height: 400 }));
    const link = el(
      "a",
      { class: CLASS + "link", href: item.url, onclick: () => track("click", block, item.product_id, reason) },
      el("span", { class: CLASS + "title", text: item.title }),
    );
    slot.append(
      media,
      el(
        "div",
        "text",
        link,
        el("span", { class: CLASS + "price", text: item.price ? money(item.price, locale) : "" }),
        el("span", { class: CLASS + "reason", text: item.reason?.text || "" }),
      ),
    );
    seen.observe(slot);
  };

  const emptySlot = () =>
    el("li", { class: CLASS + "item", hidden: true }, el("div", "media"), el("div", "text"));

  const dismiss = async (root, slot, item) => {
    const data = root.dataset;
    const answer = data.signedIn === "true" ? await call("/recommendations/dismiss", { product_id: item.product_id }) : { ok: false };
    if (!answer.ok) {
      // A guest (401) or a failed call: hide it on this device only.
      keep(HIDDEN_KEY, [...stored(HIDDEN_KEY, []), item.product_id].slice(-50));
    }
    track("dismiss", data.block, item.product_id, slot.dataset.reason);
    const list = slot.parentElement;
    const next = slot.nextElementSibling && !slot.nextElementSibling.hidden ? slot.nextElementSibling : slot.previousElementSibling;
    seen.unobserve(slot);
    slot.remove();
    list.append(emptySlot()); // the block keeps its size
    const target = (!next?.hidden && next?.querySelector("a")) || root.querySelector("." + CLASS + "heading");
    target.focus();
    say(root, answer.ok ? data.tDismissed : data.tDismissedHere);
  };

  const recommendations = async (root) => {
    const data = root.dataset;
    const count = +data.count || 4;
    const hidden = new Set(stored(HIDDEN_KEY, []));
    const query = new URLSearchParams({ block: data.block, limit: Math.min(count + hidden.size, LIMIT_MAX) });
    if (data.productId) query.set("product_id", data.productId);
    if (data.locale) query.set("locale", data.locale);
    const answer = await call("/recommendations?" + query);
    const items = ((answer.ok && answer.body?.items) || []).filter((item) => !hidden.has(item.product_id)).slice(0, count);
    const list = root.querySelector("." + CLASS + "list");
    [...list.children].forEach((slot, index) => {
      if (items[index]) {
        itemFill(slot, items[index], data.block, root);
        slot.append(
          el("button", {
            type: "button",
            class: CLASS + "dismiss",
            "aria-label": fill(data.tDismiss, items[index].title),
            text: "×",
            onclick: () => dismiss(root, slot, items[index]),
          }),
        );
      } else {
        slot.hidden = true;
        seen.unobserve(slot);
      }
    });
    list.removeAttribute("aria-busy");
    list.removeAttribute("aria-label");
    root.querySelector("." + CLASS + "heading").tabIndex = -1;
    say(root, items.length ? "" : data.tEmpty);
    data.filled = "true";
    performance.mark("omakase:filled:" + data.block);
  };

  const FACTS = ["favourite_categories", "excluded_categories"];

  const preferences = async (root) => {
    const data = root.dataset;
    const body = root.querySelector(".omakase-preferences__body");
    if (!body) return;
    const answer = await call("/profile");
    body.removeAttribute("aria-busy");
    if (!answer.ok || !answer.body) return body.replaceChildren();
    const told = answer.body.told || {};
    const inferred = answer.body.inferred || {};
    const tastes = Object.keys(inferred.tastes?.value?.product_type || {});
    const believed = {
      favourite_categories: told.favourite_categories ? told.favourite_categories.value || [] : tastes.slice(0, 3),
      excluded_categories: told.excluded_categories?.value || [],
    };
    const source = (name) => (told[name] ? data.tTold : data.tInferred);
    const form = el("form", { class: "omakase-preferences__form", novalidate: true });
    for (const name of FACTS) {
      const id = `${root.id || "omakase"}-${name}`;
      const label = name === "favourite_categories" ? data.tFavouriteCategories : data.tExcludedCategories;
      const input = el("input", { type: "text", id, name, value: believed[name].join(", "), "data-field": name, "aria-describedby": id + "-hint" });
      form.append(
        el("label", { for: id, text: label }),
        input,
        el("p", { class: CLASS + "meta", id: id + "-hint", text: `${data.tCategoriesHint} ${believed[name].length ? "(" + source(name) + ")" : ""}` }),
      );
    }
    const toldSizes = told.sizes?.value || {};
    const sizes = { ...Object.fromEntries(Object.entries(inferred.sizes || {}).map(([type, fact]) => [type, fact.size])), ...toldSizes };
    if (Object.keys(sizes).length) {
      const group = el("fieldset", {}, el("legend", { text: data.tSizes }));
      for (const [type, size] of Object.entries(sizes)) {
        const id = `${root.id || "omakase"}-size-${type}`.replace(/\W+/g, "-");
        group.append(
          el("label", { for: id, text: `${fill(data.tSizeFor, type)} (${type in toldSizes ? data.tTold : data.tInferred})` }),
          el("input", { type: "text", id, name: "size", "data-type": type, "data-field": "sizes." + type, value: size || "" }),
        );
      }
      form.append(group);
    }
    if (data.showPriceBand === "true") {
      const band = inferred.price_band?.value;
      const text = !band ? data.tPriceBandNone : typeof band === "object" ? Object.values(band).join(" – ") : String(band);
      form.append(el("p", {}, el("strong", { text: data.tPriceBand + ": " }), text));
    }
    form.append(el("div", "actions", button(data.tSave, null, CLASS + "button", "submit")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      preferencesSave(root, form, told);
    });
    body.replaceChildren(form);
  };

  const list = (text) => text.split(/[,、，]/).map((part) => part.trim()).filter(Boolean);

  const preferencesSave = async (root, form, told) => {
    const data = root.dataset;
    const facts = {};
    // Only what the shopper changed becomes a told fact; an emptied told fact is withdrawn.
    for (const name of FACTS) {
      const input = form.elements[name];
      if (input.value === input.defaultValue) continue;
      facts[name] = list(input.value).length ? list(input.value) : told[name] ? null : undefined;
    }
    const sizeInputs = [...form.querySelectorAll('input[name="size"]')];
    if (sizeInputs.some((input) => input.value !== input.defaultValue)) {
      const sizes = Object.fromEntries(sizeInputs.filter((input) => input.value.trim()).map((input) => [input.dataset.type, input.value.trim()]));
      facts.sizes = Object.keys(sizes).length ? sizes : null;
    }
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    const answer = await call("/profile", {
      facts: JSON.parse(JSON.stringify(facts)),
      consent: { text: data.consentText, version: data.consentVersion, language: data.locale },
    });
    if (answer.ok) {
      for (const input of form.querySelectorAll("input")) input.defaultValue = input.value;
      say(root, data.tSaved);
      document.dispatchEvent(new CustomEvent("omakase:preferences"));
      return;
    }
    const error = answer.body?.error || {};
    const field = [...form.querySelectorAll("[data-field]")].find((input) => error.field && (input.dataset.field === error.field || error.field.startsWith(input.dataset.field)));
    say(root, fill(data.tError, error.message || answer.status));
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  };

  const WHY = ["style", "size", "price", "taste"];

  const quiz = async (root) => {
    const data = root.dataset;
    const body = root.querySelector(".omakase-quiz__body");
    const answer = await call("/quiz?" + new URLSearchParams({ locale: data.locale || "" }));
    const questions = (answer.ok && answer.body?.quiz?.questions) || [];
    if (!questions.length) {
      root.hidden = true; // no quiz in this shop (404): the block shows nothing
      return;
    }
    const form = el("form", { class: "omakase-quiz__form", novalidate: true });
    const steps = questions.map((question, index) => {
      const step = el("fieldset", { hidden: index > 0 });
      const legend = el(
        "legend",
        { tabindex: "-1" },
        el("span", { class: CLASS + "meta", text: fill(data.tQuestionCount, index + 1, questions.length) + " " }),
        question.text,
      );
      step.append(legend);
      for (const option of question.options || []) {
        const input = el("input", { type: question.kind === "multiple" ? "checkbox" : "radio", name: question.id, value: option.id });
        step.append(el("label", {}, input, " " + option.label));
      }
      const go = (to) => () => {
        step.hidden = true;
        steps[to].hidden = false;
        steps[to].querySelector("legend").focus();
      };
      const actions = el("div", "actions");
      if (index > 0) actions.append(button(data.tBack, go(index - 1)));
      actions.append(
        index < questions.length - 1
          ? button(data.tNext, go(index + 1), CLASS + "button")
          : button(data.tSubmit, null, CLASS + "button", "submit"),
      );
      step.append(actions);
      return step;
    });
    form.append(...steps);
    const results = el("div", { class: "omakase-quiz__results" });
    const state = { answers: {}, shown: [] };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      for (const question of questions) {
        const chosen = [...form.querySelectorAll(`input[name="${CSS.escape(question.id)}"]:checked`)].map((input) => input.value);
        if (chosen.length) state.answers[question.id] = question.kind === "multiple" ? chosen : chosen[0];
      }
      const picked = await call("/quiz/answers", {
        answers: state.answers,
        visitor: visitorId(),
        consent: { text: data.consentText, version: data.consentVersion, language: data.locale },
      });
      picksShow(root, results, state, picked);
    });
    body.removeAttribute("aria-busy");
    body.replaceChildren(form, results);
  };

  const picksShow = (root, results, state, answer) => {
    const data = root.dataset;
    if (!answer.ok || !answer.body) return say(root, data.tError);
    const picks = (answer.body.picks || []).slice(0, +data.count || 3);
    state.shown.push(...picks.map((pick) => pick.product_id));
    const heading = el("h3", { tabindex: "-1", text: data.tResults });
    const items = el("ul", { class: CLASS + "list", role: "list" });
    for (const pick of picks) {
      const slot = el("li", "item");
      items.append(slot);
      itemFill(slot, pick, "quiz", root);
      const why = el("div", { class: CLASS + "why", role: "group", "aria-label": data.tWhy, hidden: true });
      const toggle = el("button", {
        type: "button",
        class: CLASS + "button " + CLASS + "button--plain",
        "aria-expanded": "false",
        text: data.tNotQuite,
        "aria-label": fill(data.tNotQuiteItem, pick.title),
        onclick: () => {
          why.hidden = !why.hidden;
          toggle.setAttribute("aria-expanded", String(!why.hidden));
          if (!why.hidden) why.querySelector("button").focus();
        },
      });
      for (const reason of WHY) {
        const label = data["tWhy" + reason[0].toUpperCase() + reason.slice(1)];
        why.append(
          button(label, async () => {
              say(root, data.tProposing);
              track("dismiss", "quiz", pick.product_id, reason);
              const again = await call("/quiz/retry", {
                answers: state.answers,
                visitor: visitorId(),
                rejected: pick.product_id,
                why: reason,
                shown: state.shown,
              });
              picksShow(root, results, state, again);
              if (again.ok) say(root, data.tProposed);
          }),
        );
      }
      slot.querySelector("." + CLASS + "text").after(el("div", "why-wrap", toggle, why));
    }
    results.replaceChildren(heading, items);
    heading.focus();
  };

  const BLOCKS = { recommendations, preferences, quiz };
  const start = () => {
    for (const root of document.querySelectorAll("[data-omakase]")) {
      if (root.dataset.started) continue;
      root.dataset.started = "true";
      const run = BLOCKS[root.dataset.omakase];
      if (run) run(root);
    }
  };
  // A correction in "my preferences" changes what every block on the page should show.
  document.addEventListener("omakase:preferences", () => document.querySelectorAll('[data-omakase="recommendations"]').forEach(recommendations));
  document.addEventListener("shopify:section:load", start); // the theme editor re-renders sections
  window.omakase = { start, visitor: visitorId };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
