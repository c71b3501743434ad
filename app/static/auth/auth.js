// The log-in and registration forms: post JSON to /api/v1/auth/*, then go to the server-checked `next`.
import { has, lang, t } from "../i18n.js";

const form = document.getElementById("auth-form");
const submit = document.getElementById("submit");
const formError = document.getElementById("form-error");
const mode = form.getAttribute("data-mode");

// Where to go after logging in: the server's checked and normalised path (app/next_path.py),
// followed as is; re-parsing it here could only turn it into something the server never checked.
const nextPath = form.getAttribute("data-next") || "/";

// The page itself is Referrer-Policy: no-referrer, which would make fetch send "Origin: null";
// same-origin keeps the Origin header the CSRF check compares.
function send(method, path, token, body) {
  const headers = { "Accept": "application/json" };
  if (token) headers["X-CSRF-Token"] = token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(path, {
    method: method, headers: headers, credentials: "same-origin", referrerPolicy: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body)
  });
}

function csrfToken() {
  return send("GET", "/api/v1/auth/me").then(function (response) {
    return response.json();
  }).then(function (data) { return data.csrf_token; });
}

function showError(text) {
  formError.textContent = text;
  formError.hidden = !text;
}

function clearErrors() {
  showError("");
  Array.prototype.forEach.call(form.querySelectorAll(".auth-field-error"), function (node) {
    node.textContent = "";
    node.hidden = true;
  });
  Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (node) {
    node.removeAttribute("aria-invalid");
  });
}

function fieldError(name, text) {
  const input = document.getElementById("f-" + name);
  const slot = document.getElementById("f-" + name + "-error");
  if (!input || !slot) return false;
  input.setAttribute("aria-invalid", "true");
  slot.textContent = text;
  slot.hidden = false;
  return true;
}

function collect() {
  const data = {};
  Array.prototype.forEach.call(form.elements, function (input) {
    if (!input.name) return;
    if (input.type === "checkbox") data[input.name] = input.checked;
    else if (input.name === "password") data[input.name] = input.value;
    else if (input.value.trim() !== "") data[input.name] = input.value.trim();
  });
  return data;
}

function missing(data) {
  let empty = false;
  Array.prototype.forEach.call(form.querySelectorAll("[required]"), function (input) {
    if (!data[input.name]) {
      fieldError(input.name, t("required"));
      empty = true;
    }
  });
  return empty;
}

function explain(response, payload) {
  const error = (payload && payload.error) || {};
  if (response.status === 401) return showError(t(mode === "login" ? "bad_login" : "error"));
  if (response.status === 429) {
    const wait = parseInt(response.headers.get("Retry-After") || "60", 10);
    return showError(t("rate_limited", { seconds: wait }));
  }
  if (response.status === 409) return showError(t("taken"));
  if (response.status === 422 && error.fields) {
    let shown = false;
    Object.keys(error.fields).forEach(function (name) {
      shown = fieldError(name, has("invalid." + name)
        ? t("invalid." + name) : String(error.fields[name])) || shown;
    });
    return showError(shown ? t("check_fields") : t("error"));
  }
  showError(t("error"));
}

function post(path, body, retried) {
  return csrfToken().then(function (token) {
    return send("POST", path, token, body);
  }).then(function (response) {
    if (response.status === 403 && !retried) {
      return response.clone().json().then(function (payload) {
        // A session that changed in another tab has a new token: fetch it once more.
        if (payload && payload.error && payload.error.code === "csrf_failed") return post(path, body, true);
        return response;
      }, function () { return response; });
    }
    return response;
  });
}

form.addEventListener("submit", function (event) {
  event.preventDefault();
  clearErrors();
  const data = collect();
  if (missing(data)) return showError(t("check_fields"));
  // Messages to a new reader (the address confirmation first) are written in the page's language.
  if (mode === "register") data.language = lang;
  submit.disabled = true;
  submit.setAttribute("aria-busy", "true");
  post("/api/v1/auth/" + mode, data).then(function (response) {
    if (response.ok) {
      window.location.assign(nextPath);
      return;
    }
    return response.json().catch(function () { return null; }).then(function (payload) {
      explain(response, payload);
    });
  }).catch(function () {
    showError(t("network"));
  }).then(function () {
    submit.disabled = false;
    submit.removeAttribute("aria-busy");
  });
});

const logout = document.getElementById("logout");
if (logout) {
  logout.addEventListener("click", function () {
    logout.disabled = true;
    post("/api/v1/auth/logout").then(function () {
      window.location.reload();
    }).catch(function () {
      logout.disabled = false;
      showError(t("network"));
    });
  });
}
