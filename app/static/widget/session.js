// Who is reading: logging in, registering and logging out inside the frame, single sign-on from
// the host page, and what changes on the page when the reader changes.
import { t } from "../i18n.js";
import { showAccount } from "./account.js";
import { api, explain, whoAmI } from "./api.js";
import { decorate } from "./comment.js";
import { makeForm } from "./composer.js";
import { busy } from "./forms.js";
import { loadThread } from "./paging.js";
import { $, $$, config, focusable, list, state, status } from "./page.js";

export function setUser(user, reload) {
  state.user = user;
  const me = $(".cz-me");
  me.hidden = !user;
  if (user) $(".cz-me-name").textContent = user.display_name;
  $(".cz-auth").hidden = Boolean(user) || state.closed;
  const compose = $(".cz-compose");
  compose.hidden = !user || state.closed;
  if (user && !compose.firstChild) compose.appendChild(makeForm("post", null));
  showAccount(user);
  $$(".c", list).forEach(decorate);
  if (reload) loadThread(false);
}

// -- single sign-on ---------------------------------------------------------------------------

function subjectOf(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return String(JSON.parse(atob(payload)).sub);
  } catch (e) {
    return null;
  }
}

function remembered(value) {
  // Which host-site user our session was opened for; storage may be blocked in third-party frames.
  try {
    if (value === undefined) return localStorage.getItem("causerie-sso");
    if (value === null) localStorage.removeItem("causerie-sso");
    else localStorage.setItem("causerie-sso", value);
  } catch (e) { return null; }
}

export async function singleSignOn(token) {
  const sub = subjectOf(token);
  if (state.user && sub && remembered() === sub) return;
  try {
    const data = await api("POST", "/auth/sso", { token });
    remembered(sub);
    state.csrf = data.csrf_token;
    setUser(data.user, true);
  } catch (err) {
    status(t("error_sso"));
  }
}

// -- the log-in and registration forms ---------------------------------------------------------

function formData(form) {
  const data = {};
  $$("input", form).forEach((input) => {
    if (input.type === "checkbox") data[input.name] = input.checked;
    else if (input.value.trim() || input.type === "password") {
      data[input.name] = input.type === "password" ? input.value : input.value.trim();
    }
  });
  return data;
}

function markFields(form, fields) {
  $$("input", form).forEach((input) => {
    if (fields && fields[input.name]) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  });
}

export function authForm(form, path) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    markFields(form, null);
    busy(form, async () => {
      let data;
      const payload = formData(form);
      // Messages to a new reader are written in the widget's language (PATCH /me changes it).
      if (path === "/auth/register") payload.language = config.lang;
      try {
        data = await api("POST", path, payload);
      } catch (err) {
        markFields(form, err.error && err.error.fields);
        if (err.status === 401) err.message = t("error_credentials");
        if (err.status === 409) err.message = t("error_taken");
        throw err;
      }
      form.reset();
      state.csrf = data.csrf_token;
      remembered(null);
      setUser(data.user, true);
      focusable($(".cz-compose .cz-text"));
    });
  });
}

export async function logout() {
  try {
    await api("POST", "/auth/logout");
    remembered(null);
    await whoAmI();
  } catch (err) {
    status(explain(err));
    return;
  }
  setUser(null, true);
  focusable($(".cz-login input"));
}

// mode: "login", "register" or "forgot" (the "forgot your password?" form, reached from log in).
export function switchAuth(mode) {
  $(".cz-login").hidden = mode !== "login";
  $(".cz-register").hidden = mode !== "register";
  $(".cz-forgot").hidden = mode !== "forgot";
  $(".cz-auth-switch [data-act=show-login]").setAttribute("aria-pressed", String(mode !== "register"));
  $(".cz-auth-switch [data-act=show-register]").setAttribute("aria-pressed", String(mode === "register"));
  if (mode === "forgot") {
    $(".cz-forgot .cz-forgot-done").textContent = "";
    const typed = $(".cz-login input[name=login]").value.trim();
    if (typed.includes("@")) $(".cz-forgot input[name=email]").value = typed;
  }
  focusable($("input", $(".cz-" + mode)));
}
