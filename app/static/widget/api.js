// Talking to /api/v1 on our own origin: JSON in and out, the session's CSRF token on writes, and
// the reader-facing explanation of an error answer.
import { has, t } from "../i18n.js";
import { config, state } from "./page.js";

export async function api(method, path, payload, retried) {
  const headers = { Accept: "application/json" };
  // no-store: /counts is cacheable for host pages, but the frame wants the count it just changed.
  const init = { method, credentials: "same-origin", headers, cache: "no-store" };
  if (payload !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(payload);
  }
  if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
  let response;
  try {
    response = await fetch(config.api + path, init);
  } catch (e) {
    throw { status: 0, error: {} };
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = (data && data.error) || {};
    // A session that changed under us (another tab logged out): take the new token and try once more.
    if (error.code === "csrf_failed" && !retried) {
      await whoAmI();
      return api(method, path, payload, true);
    }
    throw { status: response.status, error, retry: response.headers.get("Retry-After") };
  }
  return data;
}

// Who is reading (null when nobody is logged in), and the CSRF token of this session.
export async function whoAmI() {
  const me = await api("GET", "/auth/me", undefined, true);
  state.csrf = me.csrf_token;
  return me.user;
}

export function explain(err, conflict) {
  const e = err.error || {};
  if (err.status === 0) return t("error_network");
  if (e.code === "article_closed") return t("error_closed");
  if (e.code === "banned") return t("error_banned");
  if (err.status === 429) return t("error_rate", { seconds: err.retry || 60 });
  if (err.status === 401) return t("error_login");
  if (err.status === 409) return conflict ? t(conflict) : e.message || t("error_generic");
  if (err.status === 413) return t("error_too_long");
  if (err.status === 404) return t("error_gone");
  if (err.status === 422 && e.fields) {
    return t("error_invalid") + " " + Object.keys(e.fields).map((f) =>
      (has("field_" + f) ? t("field_" + f) : f) + " : " + e.fields[f]).join(" ; ");
  }
  if (err.status === 403) return t("error_forbidden");
  return t("error_generic");
}
