// The frame's page: the settings the server embeds, what the script knows about the reader, and
// small DOM helpers. Every other text than a sanitized comment body goes through textContent.
export const config = JSON.parse(document.getElementById("cz-config").textContent);
export const key = config.article.key;
export const list = document.getElementById("cz-list");

export const state = {
  user: null, csrf: null, sort: "oldest", next: config.next,
  total: config.article.comment_count, closed: config.article.status === "closed",
  onSignedOut: () => {},  // set by the entry module: a request answered 401 while logged in
};

export function isMod() {
  return Boolean(state.user) && (state.user.role === "moderator" || state.user.role === "admin");
}

export function $(sel, el) { return (el || document).querySelector(sel); }
export function $$(sel, el) { return Array.from((el || document).querySelectorAll(sel)); }

// Characters as the server counts them (code points, not UTF-16 units).
export function length(text) { return Array.from(text).length; }

export function fromTemplate(id) {
  return document.getElementById(id).content.firstElementChild.cloneNode(true);
}

export function say(el, text) {
  el.textContent = text || "";
  el.hidden = !text;
}

export function status(text) { say($(".cz-status"), text); }

export function focusable(el) { if (el) el.focus(); }

let formCount = 0;
// A fresh id for a form's field, so that each label points at its own input.
export function nextId(prefix) { return prefix + (++formCount); }
