() => {
  /* The chat page's own script (Gradio runs it once on load): labels for screen readers in the page's language
     and without markup, the copy button, and Escape inside the widget's iframe closing the widget. */
  const T = /*TEXTS*/{};
  const plain = (el) => (el ? (el.innerText || el.textContent || "") : "").replace(/\s+/g, " ").trim();

  function message(el) {
    const part = el.querySelector(".rag-answer, .rag-abstain, .rag-error, .rag-status, .rag-q");
    return plain(part || el);
  }

  function label() {
    document.querySelectorAll("[data-testid='user'][aria-label], [data-testid='bot'][aria-label]").forEach((el) => {
      const text = (el.dataset.testid === "user" ? T.user_message : T.bot_message) + ": " + message(el);
      if (el.getAttribute("aria-label") !== text) el.setAttribute("aria-label", text);
    });
    document.querySelectorAll("button.example, .examples button, [class*='example'] > button").forEach((b) => {
      const text = T.example + ": " + plain(b);
      if (plain(b) && b.getAttribute("aria-label") !== text) b.setAttribute("aria-label", text);
    });
    const likes = { like: T.like, dislike: T.dislike };
    document.querySelectorAll("button[aria-label]").forEach((b) => {
      const key = b.getAttribute("aria-label").toLowerCase();
      if (likes[key]) { b.setAttribute("aria-label", likes[key]); b.title = likes[key]; }
    });
    const box = document.querySelector("#rag-question textarea");
    if (box && !box.getAttribute("aria-label")) box.setAttribute("aria-label", T.question_label);
    const send = document.querySelector("#rag-question button.submit-button, #rag-question button[aria-label]");
    if (send && send.getAttribute("aria-label") !== T.send) send.setAttribute("aria-label", T.send);
  }

  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; label(); });
  }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["aria-label"] });
  label();

  document.addEventListener("click", (e) => {
    const button = e.target.closest(".rag-copy");
    if (!button) return;
    const bot = button.closest("[data-testid='bot']") || button.parentElement;
    const sources = [...bot.querySelectorAll(".rag-sources li")].map((li, i) => {
      const a = li.querySelector("a.rag-cite");
      return `[${i + 1}] ${plain(a)} — ${new URL(a.getAttribute("href"), location.href).href}`;
    });
    const text = [plain(bot.querySelector(".rag-answer")), ...sources].join("\n");
    const done = () => { button.textContent = T.copied; button.setAttribute("aria-label", T.copied); };
    (navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.reject()).then(done, () => {
      const area = document.createElement("textarea");  // no clipboard API (plain http): the old way
      area.value = text; document.body.appendChild(area); area.select(); document.execCommand("copy"); area.remove(); done();
    });
  });

  if (window.parent !== window) {
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape") window.parent.postMessage({ type: "rag-widget-close" }, "*");
    }, true);
  }
}
