// The translated strings of a page, shared by the widget, the log-in pages and the dashboard.
// The server embeds the strings a page's script needs (app/translations/*.json, keyed without
// their "<area>.js." prefix) in <script type="application/json" id="page-strings">.
const element = document.getElementById("page-strings");
const strings = JSON.parse((element && element.textContent) || "{}");

export const lang = document.documentElement.lang || "en";

export function has(key) {
  return Object.prototype.hasOwnProperty.call(strings, key);
}

// The string for `key` (the key itself when missing) with each {name} replaced by values[name],
// in one pass: a value that itself contains "{name}" is never replaced again.
export function t(key, values) {
  const text = has(key) ? strings[key] : key;
  return text.replace(/\{(\w+)\}/g, (all, name) =>
    values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all);
}

// `key_one` or `key_other` with {n} filled (French counts 0 and 1 as singular, as app/web/i18n.py).
export function tn(key, n) {
  const one = lang === "fr" ? n < 2 : n === 1;
  return t(key + (one ? "_one" : "_other"), { n });
}
