// The newsletter topic picker (blocks/newsletter-topics.liquid): lists the shop's topics with the
// cadences each offers, and posts the choice through the app proxy. The shop sends a confirmation
// email; nothing starts before the shopper confirms it.
(() => {
  const base = "/apps/omakase/newsletters/";
  const add = (parent, tag, props) => parent.appendChild(Object.assign(document.createElement(tag), props));
  document.querySelectorAll("[data-omakase-newsletter]").forEach(async (root) => {
    const data = root.dataset;
    const form = root.querySelector("form");
    const box = root.querySelector("fieldset");
    const status = root.querySelector("[role=status]");
    try {
      const answer = await (await fetch(`${base}topics?locale=${data.locale || ""}`)).json();
      box.querySelector("p").remove();
      for (const topic of answer.topics) {
        const row = add(box, "div", { className: "omakase-newsletter__topic" });
        const label = add(row, "label", { textContent: ` ${topic.name}` });
        label.prepend(Object.assign(document.createElement("input"), { type: "checkbox", name: "topic", value: topic.id }));
        const select = add(row, "select", { name: `cadence_${topic.id}` });
        select.setAttribute("aria-label", topic.name);
        for (const cadence of topic.cadences) add(select, "option", { value: cadence.value, textContent: cadence.label });
        if (topic.description) add(row, "small", { textContent: topic.description });
      }
      box.removeAttribute("aria-busy");
    } catch {
      status.textContent = data.tError;
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const topics = [...form.querySelectorAll("[name=topic]:checked")].map((box) => ({
        id: Number(box.value),
        cadence: form.querySelector(`[name=cadence_${box.value}]`).value,
      }));
      const body = { topics, consent: { text: root.querySelector(".omakase-consent").textContent.trim(), version: data.consentVersion, language: (data.locale || "en").split("-")[0] } };
      if (form.email) body.email = form.email.value;
      const response = await fetch(`${base}subscriptions`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      status.textContent = response.status === 202 ? data.tSent : (await response.json()).error?.message || data.tError;
    });
  });
})();
