// The settings tab: the automatic moderation rules; administrators edit them, moderators read them.
import { $, api, failureText, isAdmin, t, toast } from "./common.js";

const NUMBERS = ["trusted_after", "max_links", "flag_threshold", "edit_window_minutes"];
const WORDS = ["banned_words", "suspect_words"];

const form = $("settings-form");
const status = $("settings-status");

function show(settings) {
  const fields = form.elements;
  if (settings.premoderation) fields.premoderation.value = settings.premoderation;
  for (const name of NUMBERS) {
    const value = settings[name];
    if (fields[name]) fields[name].value = value === undefined || value === null ? "" : String(value);
  }
  for (const name of WORDS) {
    if (fields[name]) fields[name].value = (settings[name] || []).join("\n");
  }
}

function fieldError(name, text) {
  const slot = $("set-" + name + "-error");
  const input = $("set-" + name);
  if (!slot || !input) return;
  slot.textContent = text || "";
  slot.hidden = !text;
  if (text) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

export async function loadSettings() {
  status.textContent = t("loading");
  try {
    show(await api("GET", "/moderation/settings"));
    status.textContent = "";
  } catch (failure) {
    status.textContent = failureText(failure);
  }
}

// The form's values as the PUT body, or null (with the fields marked) when a number is wrong.
function collect() {
  const fields = form.elements;
  const payload = { premoderation: fields.premoderation.value };
  let valid = true;
  fieldError("premoderation", "");
  for (const name of NUMBERS) {
    const text = fields[name].value.trim();
    const value = Number(text);
    const ok = text !== "" && Number.isInteger(value) && value >= 0;
    fieldError(name, ok ? "" : t("settings.bad_number"));
    if (ok) payload[name] = value;
    valid = valid && ok;
  }
  for (const name of WORDS) {
    fieldError(name, "");
    payload[name] = fields[name].value.split(/[\n,]+/).map((word) => word.trim()).filter(Boolean);
  }
  return valid ? payload : null;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!isAdmin) return;
  const payload = collect();
  if (!payload) {
    status.textContent = t("error.invalid");
    return;
  }
  const save = $("settings-save");
  save.disabled = true;
  status.textContent = t("saving");
  try {
    show(await api("PUT", "/moderation/settings", payload));
    status.textContent = t("settings.saved");
    toast(t("settings.saved"));
  } catch (failure) {
    for (const [name, problem] of Object.entries((failure && failure.fields) || {})) {
      fieldError(name, String(problem));
    }
    status.textContent = failureText(failure);
  } finally {
    save.disabled = false;
  }
});
