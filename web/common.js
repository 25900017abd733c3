// Shared by every page: the page's string catalog, the language switcher, copy buttons,
// revealing NSFW media and confirming deletions. Catalog strings are data: they reach the
// page through textContent only.

const catalog = JSON.parse(document.getElementById("i18n")?.textContent || "{}");

/** The catalog string for `key`, with each `{name}` replaced by `values[name]`. */
export function t(key, values = {}) {
  const text = catalog[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in values ? String(values[name]) : match));
}

/** The session's CSRF token, which every state-changing request sends back. */
export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

/** Copies text; on plain-http LAN pages the Clipboard API is missing, so a selection is used. */
export async function copyText(text) {
  if (window.isSecureContext && navigator.clipboard) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Permission refused: fall back to the selection below.
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "offscreen";
  document.body.append(area);
  area.select();
  let isCopied = false;
  try {
    isCopied = document.execCommand("copy");
  } catch {
    isCopied = false;
  }
  area.remove();
  return isCopied;
}

/** A "Copy" button for the text `read()` returns; says "Copied" for a moment after. */
export function copyButton(read, label) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "copy secondary";
  button.textContent = t("copy.button");
  button.setAttribute("aria-label", `${t("copy.button")}: ${label}`);
  button.addEventListener("click", () => copyInto(button, read()));
  return button;
}

async function copyInto(button, text) {
  const isCopied = await copyText(text);
  button.textContent = isCopied ? t("copy.done") : t("copy.failed");
  announce(isCopied ? t("copy.done") : t("copy.failed"));
  setTimeout(() => (button.textContent = t("copy.button")), 1500);
}

/** Says something to screen readers through a polite live region. */
export function announce(message) {
  let region = document.getElementById("announcer");
  if (!region) {
    region = document.createElement("p");
    region.id = "announcer";
    region.className = "offscreen";
    region.setAttribute("aria-live", "polite");
    document.body.append(region);
  }
  region.textContent = message;
}

// Limitation: the page is rendered again in the new language, so a queue on the upload page
// that was not uploaded yet is dropped.
function initLanguageSwitch() {
  const select = document.getElementById("lang-select");
  select?.addEventListener("change", () => {
    const maxAge = 365 * 24 * 60 * 60;
    document.cookie = `sajin_lang=${encodeURIComponent(select.value)}; Path=/; Max-Age=${maxAge}; SameSite=Lax`;
    location.reload();
  });
}

function initServerCopyButtons() {
  for (const field of document.querySelectorAll("input[data-copy]")) {
    field.after(copyButton(() => field.value, field.dataset.copy));
    field.addEventListener("focus", () => field.select());
  }
}

function initNsfw() {
  for (const button of document.querySelectorAll("[data-reveal]")) {
    button.addEventListener("click", () => {
      const media = document.getElementById(button.dataset.reveal);
      media?.classList.remove("blurred");
      button.remove();
    });
  }
}

function initConfirmations() {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

initLanguageSwitch();
initServerCopyButtons();
initNsfw();
initConfirmations();
