// The "Spam filter" tab: the filter's state and how its scores did lately, for every moderator;
// administrators switch it on or off, move its thresholds and ask for a retrain (done in the
// background: the answer is 202, the new version shows here once the worker trained it).
import { $, api, failureText, lang, setTime, t, toast } from "./common.js";
import { formatThreshold, rememberThresholds } from "./spam_score.js";

const NONE = "—";
const THRESHOLDS = ["hold_threshold", "spam_threshold"];
const percent = new Intl.NumberFormat(lang, { style: "percent", minimumFractionDigits: 1,
  maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat(lang);

const status = $("spam-status");
const form = $("spam-form");            // administrators only
const retrain = $("spam-retrain");      // administrators only
let shown = null;                       // the state on screen, to send only what the form changed

function show(id, text) {
  $(id).textContent = text;
}

const ratio = (value) => (typeof value === "number" ? percent.format(value) : NONE);
const count = (value) => whole.format(typeof value === "number" ? value : 0);

function enabledText(state) {
  if (state.enabled) return t("spam.on");
  return state.disabled_by_config ? t("spam.off_by_config") : t("spam.off");
}

function showTrainedAt(iso) {
  const node = $("spam-trained-at");
  if (iso) {
    setTime(node, iso);
    return;
  }
  node.removeAttribute("datetime");
  node.removeAttribute("title");
  delete node.dataset.relative;
  node.textContent = NONE;
}

function showState(state) {
  shown = state;
  rememberThresholds(state);
  show("spam-enabled", enabledText(state));
  $("spam-config-off").hidden = !state.disabled_by_config;
  $("spam-enabled").className = state.enabled ? "is-on" : "is-off";
  show("spam-version", state.version === null || state.version === undefined ? t("spam.no_version")
    : t("spam.version_number", { version: state.version }));
  showTrainedAt(state.trained_at);
  const decisions = state.decisions || {};
  show("spam-decisions-approve", count(decisions.approve));
  show("spam-decisions-spam", count(decisions.spam));
  show("spam-hold-threshold", formatThreshold(state.hold_threshold));
  show("spam-spam-threshold", formatThreshold(state.spam_threshold));
  show("spam-queue-active", state.spam_queue_active ? t("spam.queue_active") : t("spam.queue_inactive"));
  $("spam-queue-active").className = state.spam_queue_active ? "is-on" : "is-off";
  const recent = state.recent || {};
  show("spam-scored", count(recent.scored));
  show("spam-precision-at-hold", ratio(recent.precision_at_hold));
  show("spam-recall-at-hold", ratio(recent.recall_at_hold));
  show("spam-precision-at-spam", ratio(recent.precision_at_spam));
  if (form) fillForm(state);
  const note = $("spam-retrain-status");
  if (note) note.textContent = state.retrain_requested ? t("spam.retrain_pending") : "";
}

export async function loadSpamFilter() {
  status.textContent = t("loading");
  try {
    showState(await api("GET", "/moderation/spam-filter"));
    status.textContent = "";
  } catch (failure) {
    status.textContent = failureText(failure);
  }
}

// -- administrators: the settings form ------------------------------------------------------

function fillForm(state) {
  const fields = form.elements;
  fields.enabled.checked = Boolean(state.enabled);
  for (const name of THRESHOLDS) fields[name].value = String(state[name]);
}

function fieldError(name, text) {
  const slot = $("spam-set-" + name + "-error");
  const input = $("spam-set-" + name);
  if (!slot || !input) return;
  slot.textContent = text || "";
  slot.hidden = !text;
  if (text) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

// What the form changes, as the PUT body; null (with the fields marked) when a threshold is wrong.
function collect() {
  const fields = form.elements;
  const values = {};
  let valid = true;
  for (const name of THRESHOLDS) {
    const text = fields[name].value.trim();
    const value = Number(text);
    const ok = text !== "" && Number.isFinite(value) && value > 0 && value <= 1;
    fieldError(name, ok ? "" : t("spam.bad_threshold"));
    values[name] = value;
    valid = valid && ok;
  }
  if (valid && values.hold_threshold > values.spam_threshold) {
    fieldError("hold_threshold", t("spam.hold_above_spam"));
    valid = false;
  }
  if (!valid) return null;
  const payload = {};
  if (fields.enabled.checked !== Boolean(shown && shown.enabled)) payload.enabled = fields.enabled.checked;
  for (const name of THRESHOLDS) {
    if (!shown || values[name] !== shown[name]) payload[name] = values[name];
  }
  return payload;
}

async function save(event) {
  event.preventDefault();
  const payload = collect();
  if (!payload) {
    status.textContent = t("error.invalid");
    return;
  }
  if (!Object.keys(payload).length) {
    status.textContent = t("spam.unchanged");
    return;
  }
  const button = $("spam-save");
  button.disabled = true;
  status.textContent = t("saving");
  try {
    showState(await api("PUT", "/moderation/spam-filter", payload));
    status.textContent = t("spam.saved");
    toast(t("spam.saved"));
  } catch (failure) {
    for (const [name, problem] of Object.entries((failure && failure.fields) || {})) {
      fieldError(name, String(problem));
    }
    status.textContent = failureText(failure);
  } finally {
    button.disabled = false;
  }
}

async function askRetrain() {
  retrain.disabled = true;
  const note = $("spam-retrain-status");
  note.textContent = t("saving");
  try {
    await api("POST", "/moderation/spam-filter/retrain");
    note.textContent = t("spam.retrain_started");
    toast(t("spam.retrain_started"));
  } catch (failure) {
    note.textContent = failureText(failure);
  } finally {
    retrain.disabled = false;
  }
}

if (form) form.addEventListener("submit", save);
if (retrain) retrain.addEventListener("click", askRetrain);
