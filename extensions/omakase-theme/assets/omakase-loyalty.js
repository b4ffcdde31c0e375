// The loyalty block: balance, pending, tier, ways to earn and rewards from /apps/omakase/loyalty;
// Redeem posts once per click with its own idempotency key and shows the code. Text only, never HTML.
(() => {
  const base = "/apps/omakase/loyalty";
  const el = (tag, text) => { const n = document.createElement(tag); if (text != null) n.textContent = text; return n; };
  async function show(root) {
    const body = root.querySelector("[data-part=body]");
    const r = await fetch(`${base}?locale=${encodeURIComponent(root.dataset.locale || "")}`, { credentials: "same-origin" });
    if (!r.ok) return;
    const w = await r.json(), L = w.labels, m = w.member, parts = [];
    if (m) {
      parts.push(el("p", `${m.available} ${L.points} · ${L.pending}: ${m.pending}${m.tier ? " · " + m.tier : ""}`));
      const p = m.tier_progress;
      if (p.next) parts.push(el("p", `${p.to_next} ${L.to_next} ${p.next}`));
    }
    const ways = el("ul");
    w.ways_to_earn.forEach((x) => ways.append(el("li", `${x.done ? "✓ " : ""}${x.label}: ${x.points}${x.per ? " / " + x.per : ""}`)));
    parts.push(ways);
    const list = el("ul");
    w.rewards.forEach((x) => {
      const li = el("li", `${x.name} · ${x.points_cost} ${L.points} `);
      if (m) {
        const b = el("button", x.affordable ? L.redeem : L.not_enough);
        b.type = "button";
        b.disabled = !x.affordable;
        b.dataset.reward = x.id;
        b.onclick = async () => {
          b.disabled = true;
          const a = await fetch(`${base}/redeem`, { method: "POST", headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ reward_id: x.id, idempotency_key: `w-${Date.now()}-${Math.random().toString(36).slice(2, 10)}` }) });
          const d = await a.json();
          li.append(el("strong", a.ok ? `${L.your_code}: ${d.code || ""}` : d.error.message));
          if (a.ok) setTimeout(() => show(root), 4000);
        };
        li.append(b);
      }
      list.append(li);
    });
    parts.push(list);
    body.replaceChildren(...parts);
  }
  document.querySelectorAll("[data-omakase-loyalty]").forEach(show);
})();
