// What every part of the dashboard shares: the translated strings, times, the API client, toasts.
import { has, t } from "../i18n.js";

export { t };

const body = document.body;
export const lang = body.dataset.lang || "en";
export const isAdmin = body.dataset.role === "admin";
export const ownId = Number(body.dataset.userId);
export const $ = (id) => document.getElementById(id);

// -- text -----------------------------------------------------------------------------------

// The label of a value the server sends (a status, an action, a flag reason), or the value itself.
export function label(prefix, value) {
  const key = prefix + "." + value;
  return has(key) ? t(key) : String(value);
}

export function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// -- times ----------------------------------------------------------------------------------

const relativeFormat = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
export const exactFormat = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
const UNITS = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400],
  ["hour", 3600], ["minute", 60]];

function relative(date) {
  const seconds = (date.getTime() - Date.now()) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relativeFormat.format(Math.round(seconds / size), unit);
  }
  return t("just_now");
}

// A <time> showing "3 hours ago", with the exact time on hover.
export function setTime(node, iso) {
  const date = new Date(iso);
  if (!iso || isNaN(date.getTime())) {
    node.textContent = "";
    return;
  }
  node.dateTime = iso;
  node.dataset.relative = iso;
  node.title = exactFormat.format(date);
  node.textContent = relative(date);
}

export function refreshTimes() {
  for (const node of document.querySelectorAll("time[data-relative]")) {
    node.textContent = relative(new Date(node.dataset.relative));
  }
}

// -- the API --------------------------------------------------------------------------------

export class ApiFailure extends Error {
  constructor(status, error) {
    super((error && error.message) || "HTTP " + status);
    this.status = status;
    this.code = (error && error.code) || "";
    this.fields = (error && error.fields) || null;
    this.retryAfter = 0;
  }
}

let csrf = null;

function request(method, path, payload, token) {
  const headers = { "Accept": "application/json" };
  if (token) headers["X-CSRF-Token"] = token;
  if (payload !== undefined) headers["Content-Type"] = "application/json";
  return fetch("/api/v1" + path, {
    method, headers, credentials: "same-origin", referrerPolicy: "same-origin", cache: "no-store",
    body: payload === undefined ? undefined : JSON.stringify(payload),
  });
}

export function sendToLogin() {
  window.location.assign("/login?next=/moderation");
  return new Promise(() => {}); // the page is going away
}

// The session's CSRF token, from GET /auth/me (fetched again after a csrf_failed answer).
export async function csrfToken(fresh) {
  if (csrf && !fresh) return csrf;
  const response = await request("GET", "/auth/me");
  const data = await response.json();
  if (!data.user) return sendToLogin();
  csrf = data.csrf_token;
  return csrf;
}

// JSON in, JSON out; every write carries X-CSRF-Token. Throws ApiFailure on an error answer.
export async function api(method, path, payload, retried) {
  const token = method === "GET" ? null : await csrfToken(retried);
  const response = await request(method, path, payload, token);
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch (_) {
    data = null;
  }
  if (response.ok) return data;
  const failure = new ApiFailure(response.status, data && data.error);
  if (response.status === 401) return sendToLogin();
  if (failure.code === "csrf_failed" && !retried) return api(method, path, payload, true);
  if (response.status === 429) failure.retryAfter = Number(response.headers.get("Retry-After")) || 60;
  throw failure;
}

export function failureText(failure) {
  if (!(failure instanceof ApiFailure)) return t("error.network");
  if (failure.status === 429) return t("error.rate_limited", { seconds: failure.retryAfter });
  if (failure.status === 403) return t("error.forbidden");
  if (failure.status === 404) return t("error.not_found");
  if (failure.status === 409) return t("error.conflict");
  if (failure.status === 422) return t("error.invalid");
  return t("error.server");
}

// -- toasts and dialogs ---------------------------------------------------------------------

let toastTimer = 0;
export function toast(text, isError) {
  const node = $("toast");
  node.textContent = text;
  node.classList.toggle("is-error", Boolean(isError));
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, isError ? 8000 : 4000);
}

export function openDialog(dialog) {
  if (typeof dialog.showModal === "function") {
    if (!dialog.open) dialog.showModal();
  } else {
    dialog.setAttribute("open", "");
  }
}

export function closeDialog(dialog) {
  if (typeof dialog.close === "function") dialog.close();
  else dialog.removeAttribute("open");
}
