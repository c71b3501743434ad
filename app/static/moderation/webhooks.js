// The settings tab's "Webhooks" section (administrators only): the publishers' endpoints, adding one
// (its signing secret is shown once), enabling, disabling, deleting, and each one's last deliveries.
import { $, api, failureText, isAdmin, make, setTime, t, toast } from "./common.js";

const EVENTS = ["comment.created", "comment.approved", "comment.rejected", "comment.spam",
  "comment.deleted", "comment.flagged", "user.banned"];
const DELIVERIES_SHOWN = 20;

const root = $("webhooks");
let built = false;
let list, status, form, secretBox;

function field(id, labelText, input, help) {
  const wrap = make("div", "dash-field");
  const label = make("label", null, labelText);
  label.htmlFor = id;
  input.id = id;
  wrap.append(label, input);
  if (help) {
    const note = make("p", "dash-help", help);
    note.id = id + "-help";
    input.setAttribute("aria-describedby", note.id);
    wrap.append(note);
  }
  const error = make("p", "dash-field-error");
  error.id = id + "-error";
  error.hidden = true;
  wrap.append(error);
  return wrap;
}

function fieldError(name, text) {
  const slot = $("wh-" + name + "-error");
  if (!slot) return;
  slot.textContent = text || "";
  slot.hidden = !text;
}

function build() {
  root.append(make("h2", null, t("webhooks.title")), make("p", "dash-help", t("webhooks.intro")));
  status = make("p", "dash-status");
  status.id = "webhooks-status";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  list = make("ul", "dash-webhook-list");
  list.id = "webhook-list";
  list.setAttribute("aria-label", t("webhooks.list"));

  secretBox = make("div", "dash-banner dash-webhook-secret");
  secretBox.id = "webhook-secret";
  secretBox.hidden = true;

  form = make("form", "dash-settings dash-webhook-form");
  form.id = "webhook-form";
  form.noValidate = true;
  const fieldset = make("fieldset");
  fieldset.append(make("legend", null, t("webhooks.add")));
  const url = make("input");
  url.type = "url";
  url.name = "url";
  url.maxLength = 2000;
  url.required = true;
  url.placeholder = "https://";
  url.spellcheck = false;
  const description = make("input");
  description.name = "description";
  description.maxLength = 500;
  fieldset.append(field("wh-url", t("webhooks.url"), url, t("webhooks.url_help")),
    field("wh-description", t("webhooks.description"), description));
  const events = make("fieldset", "dash-webhook-events");
  events.append(make("legend", null, t("webhooks.events")));
  for (const name of EVENTS) {
    const row = make("div", "dash-check");
    const box = make("input");
    box.type = "checkbox";
    box.name = "events";
    box.value = name;
    box.id = "wh-event-" + name.replace(".", "-");
    box.checked = name !== "comment.flagged";
    const label = make("label", null, t("webhooks.event." + name));
    label.htmlFor = box.id;
    const code = make("code", "dash-muted", name);
    row.append(box, label, document.createTextNode(" "), code);
    events.append(row);
  }
  const eventsError = make("p", "dash-field-error");
  eventsError.id = "wh-events-error";
  eventsError.hidden = true;
  events.append(eventsError);
  const actions = make("div", "dash-settings-actions");
  const submit = make("button", "btn btn-primary", t("webhooks.submit"));
  submit.type = "submit";
  submit.id = "webhook-add";
  actions.append(submit);
  fieldset.append(events, actions);
  form.append(fieldset);
  form.addEventListener("submit", add);

  root.append(status, list, secretBox, form);
  built = true;
}

function showSecret(hook) {
  secretBox.replaceChildren();
  const code = make("code", "dash-webhook-secret-value", hook.secret);
  code.id = "webhook-secret-value";
  const copy = make("button", "btn btn-small", t("webhooks.copy"));
  copy.type = "button";
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(hook.secret);
      toast(t("webhooks.copied"));
    } catch (_) {
      window.getSelection().selectAllChildren(code);
    }
  });
  const hide = make("button", "btn btn-quiet btn-small", t("webhooks.secret_done"));
  hide.type = "button";
  hide.addEventListener("click", () => { secretBox.hidden = true; secretBox.replaceChildren(); });
  secretBox.append(make("p", null, t("webhooks.secret_once", { url: hook.url })), code,
    document.createTextNode(" "), copy, document.createTextNode(" "), hide);
  secretBox.hidden = false;
}

async function add(event) {
  event.preventDefault();
  for (const name of ["url", "description", "events"]) fieldError(name, "");
  const elements = form.elements;
  const payload = {
    url: elements.url.value.trim(),
    events: Array.from(form.querySelectorAll('input[name="events"]:checked')).map((box) => box.value),
    description: elements.description.value.trim(),
  };
  const submit = $("webhook-add");
  submit.disabled = true;
  status.textContent = t("saving");
  try {
    const data = await api("POST", "/webhooks", payload);
    form.reset();
    showSecret(data.webhook);
    await refresh();
    status.textContent = t("webhooks.added");
  } catch (failure) {
    for (const [name, problem] of Object.entries((failure && failure.fields) || {})) {
      fieldError(name, String(problem));
    }
    status.textContent = failureText(failure);
  } finally {
    submit.disabled = false;
  }
}

function deliveriesTable(deliveries) {
  if (!deliveries.length) return make("p", "dash-empty", t("webhooks.no_deliveries"));
  const wrap = make("div", "dash-table-wrap");
  const table = make("table", "dash-log dash-webhook-deliveries");
  const head = make("tr");
  for (const key of ["when", "event", "status", "duration", "attempt", "error"]) {
    const th = make("th", null, t("webhooks.col." + key));
    th.scope = "col";
    head.append(th);
  }
  const thead = make("thead");
  thead.append(head);
  const tbody = make("tbody");
  for (const delivery of deliveries) {
    const row = make("tr", delivery.error ? "is-failed" : "is-ok");
    const when = make("td");
    const time = make("time");
    setTime(time, delivery.at);
    when.append(time);
    row.append(when, make("td", null, delivery.event),
      make("td", "dash-webhook-code", delivery.status === null ? "—" : delivery.status),
      make("td", null, t("webhooks.ms", { ms: delivery.duration_ms })),
      make("td", null, delivery.attempt), make("td", null, delivery.error || ""));
    tbody.append(row);
  }
  table.append(thead, tbody);
  wrap.append(table);
  return wrap;
}

async function toggleDeliveries(hook, slot, button) {
  if (!slot.hidden) {
    slot.hidden = true;
    button.setAttribute("aria-expanded", "false");
    return;
  }
  slot.hidden = false;
  button.setAttribute("aria-expanded", "true");
  slot.replaceChildren(make("p", "dash-status", t("loading")));
  try {
    const data = await api("GET", `/webhooks/${hook.id}/deliveries?limit=${DELIVERIES_SHOWN}`);
    slot.replaceChildren(deliveriesTable(data.deliveries));
  } catch (failure) {
    slot.replaceChildren(make("p", "dash-field-error", failureText(failure)));
  }
}

async function change(hook, method, payload) {
  status.textContent = t("saving");
  try {
    await api(method, "/webhooks/" + hook.id, payload);
    await refresh();
    status.textContent = method === "DELETE" ? t("webhooks.deleted") : t("webhooks.saved");
  } catch (failure) {
    status.textContent = failureText(failure);
  }
}

function entry(hook) {
  const item = make("li", "dash-webhook");
  item.dataset.webhookId = hook.id;
  const head = make("div", "item-meta");
  const badge = make("span", "badge " + (hook.disabled ? "badge-rejected" : "badge-approved"),
    hook.disabled ? t("webhooks.disabled") : t("webhooks.enabled"));
  badge.classList.add("dash-webhook-state");
  head.append(make("strong", "dash-webhook-url", hook.url), document.createTextNode(" "), badge);
  if (hook.disabled && hook.disabled_reason) {
    head.append(document.createTextNode(" "), make("span", "dash-muted", t("webhooks.because", {
      reason: hook.disabled_reason })));
  }
  item.append(head);
  if (hook.description) item.append(make("p", "dash-help", hook.description));
  item.append(make("p", "dash-muted dash-webhook-events", hook.events.join(", ")));

  const buttons = make("div", "item-buttons");
  const toggle = make("button", "btn btn-small", hook.disabled ? t("webhooks.enable") : t("webhooks.disable"));
  toggle.type = "button";
  toggle.dataset.webhookAction = "toggle";
  toggle.addEventListener("click", () => change(hook, "PATCH", { disabled: !hook.disabled }));
  const show = make("button", "btn btn-quiet btn-small", t("webhooks.deliveries"));
  show.type = "button";
  show.dataset.webhookAction = "deliveries";
  show.setAttribute("aria-expanded", "false");
  const remove = make("button", "btn btn-reject btn-small", t("webhooks.delete"));
  remove.type = "button";
  remove.dataset.webhookAction = "delete";
  remove.addEventListener("click", () => {
    if (window.confirm(t("webhooks.confirm_delete", { url: hook.url }))) change(hook, "DELETE");
  });
  buttons.append(toggle, show, remove);
  const slot = make("div", "dash-webhook-slot");
  slot.hidden = true;
  show.addEventListener("click", () => toggleDeliveries(hook, slot, show));
  item.append(buttons, slot);
  return item;
}

async function refresh() {
  const data = await api("GET", "/webhooks");
  list.replaceChildren(...data.webhooks.map(entry));
  if (!data.webhooks.length) list.append(make("li", "dash-empty", t("webhooks.none")));
}

let loading = null;  // the load in flight: opening the tab while the page loads it asks only once

export function loadWebhooks() {
  if (!root || !isAdmin) return Promise.resolve();
  if (!built) build();
  if (!loading) {
    loading = (async () => {
      status.textContent = t("loading");
      try {
        await refresh();
        status.textContent = "";
      } catch (failure) {
        status.textContent = failureText(failure);
      } finally {
        loading = null;
      }
    })();
  }
  return loading;
}
