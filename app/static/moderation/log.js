// The audit log tab: every decision, newest first, filtered by comment, user or moderator.
import { $, api, failureText, label, make, setTime, t, toast } from "./common.js";

const PAGE_SIZE = 50;
const FILTERS = ["comment", "user", "actor"];

const form = $("log-filter");
const rows = $("log-rows");
const empty = $("log-empty");
const more = $("log-more");
const status = $("log-status");
const log = { filter: {}, next: null, generation: 0 };

function query(after) {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  for (const [name, value] of Object.entries(log.filter)) if (value) params.set(name, value);
  if (after) params.set("after", after);
  return "/moderation/log?" + params.toString();
}

// One cell, labelled with its column heading (the phone layout shows the label).
function cell(row, heading, content) {
  const td = make("td");
  td.dataset.label = heading;
  if (content instanceof Node) td.append(content);
  else td.textContent = content === null || content === undefined ? "—" : String(content);
  row.append(td);
}

function filterLink(text, name, value) {
  const button = make("button", "linkish", text);
  button.type = "button";
  button.addEventListener("click", () => {
    for (const other of FILTERS) form.elements[other].value = other === name ? String(value) : "";
    log.filter = { [name]: String(value) };
    loadLog();
  });
  return button;
}

function statusChange(entry) {
  if (!entry.from && !entry.to) return null;
  const name = (value) => (value ? label("status", value) : "∅");
  return name(entry.from) + " → " + name(entry.to);
}

function entryRow(entry) {
  const row = make("tr");
  const time = make("time");
  setTime(time, entry.at);
  cell(row, t("log.when"), time);
  const actor = entry.actor;
  cell(row, t("log.who"), actor ? filterLink(actor.display_name || actor.username, "actor", actor.id)
    : make("span", "dash-muted", t("log.rule")));
  cell(row, t("log.action"), make("span", "badge badge-action", label("action", entry.action)));
  cell(row, t("log.comment"), entry.comment_id
    ? filterLink("#" + entry.comment_id, "comment", entry.comment_id) : null);
  let user = null;
  if (entry.user_id) {
    user = make("span");
    user.append(filterLink("#" + entry.user_id, "user", entry.user_id));
    if (entry.action === "ban") {
      const lift = make("button", "btn btn-small btn-quiet", t("button.unban"));
      lift.type = "button";
      lift.addEventListener("click", () => unban(entry.user_id, lift));
      user.append(" ", lift);
    }
  }
  cell(row, t("log.user"), user);
  cell(row, t("log.change"), statusChange(entry));
  cell(row, t("log.reason"), entry.previous_body ? previousBody(entry) : entry.reason || null);
  return row;
}

// An edit of someone else's comment (admins only): the text it replaced, folded away.
function previousBody(entry) {
  const details = make("details");
  details.append(make("summary", null, t("log.previous_body")), make("pre", "dash-previous", entry.previous_body));
  return details;
}

async function unban(userId, button) {
  button.disabled = true;
  try {
    await api("DELETE", "/moderation/users/" + userId + "/ban");
    toast(t("done.unban", { id: userId }));
    loadLog();
  } catch (failure) {
    toast(failureText(failure), true);
    button.disabled = false;
  }
}

export async function loadLog(next) {
  const generation = next ? log.generation : ++log.generation;
  if (!next) {
    rows.replaceChildren();
    empty.hidden = true;
    more.hidden = true;
  }
  status.textContent = t("loading");
  try {
    const data = await api("GET", query(next ? log.next : null));
    if (generation !== log.generation) return;
    rows.append(...(data.entries || []).map(entryRow));
    log.next = data.next || null;
    status.textContent = "";
    empty.hidden = rows.children.length > 0;
    more.hidden = !log.next;
  } catch (failure) {
    if (generation === log.generation) status.textContent = failureText(failure);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const filter = {};
  for (const name of FILTERS) {
    const value = form.elements[name].value.trim();
    if (value && !/^[1-9][0-9]{0,17}$/.test(value)) {
      status.textContent = t("error.bad_id");
      return;
    }
    filter[name] = value;
  }
  log.filter = filter;
  loadLog();
});
form.addEventListener("reset", () => {
  log.filter = {};
  setTimeout(() => loadLog(), 0); // after the browser has emptied the fields
});
more.addEventListener("click", () => loadLog(true));
