// The queue tabs: loading a queue, the current item, selection, decisions (one or in bulk), the
// live counts and the filter by article.
import { openBan } from "./ban.js";
import { $, ApiFailure, api, failureText, t, toast } from "./common.js";
import { fillItem, newItemNode } from "./item.js";

export const QUEUES = document.body.dataset.queues.split(" ");
const COUNTED = ["pending", "flagged", "spam"];
const DECISIONS = ["approve", "reject", "spam"];
const PAGE_SIZE = 25;

const list = $("queue-list");
const empty = $("queue-empty");
const more = $("queue-more");
const status = $("queue-status");
const filter = $("article-filter");
const articleKey = new RegExp("^(?:" + filter.getAttribute("pattern") + ")$");
const selectAll = $("select-all");
const selectedCount = $("selected-count");
const bulkReason = $("bulk-reason");
const bulkButtons = Array.from(document.querySelectorAll("[data-bulk]"));

// What is on screen; `tab` is set by dashboard.js, which also listens to `onViewChange`.
export const view = { tab: "pending", article: "", onViewChange: () => {} };
const queue = {
  items: [],          // [{comment, node}] in screen order
  current: -1,
  selected: new Set(),
  next: null,
  generation: 0,      // answers of a superseded request are dropped
  busy: new Set(),
};

export const isQueue = (tab) => QUEUES.includes(tab);

// -- counts ---------------------------------------------------------------------------------

function showCounts(counts) {
  if (!counts) return;
  for (const name of COUNTED) {
    const node = document.querySelector('[data-count="' + name + '"]');
    if (!node || typeof counts[name] !== "number") continue;
    node.textContent = counts[name] > 999 ? "999+" : String(counts[name]);
    node.classList.toggle("is-zero", counts[name] === 0);
    node.setAttribute("aria-label", t("count", { n: counts[name] }));
  }
  const waiting = counts.pending || 0;
  document.title = (waiting ? "(" + waiting + ") " : "") + t("page_title");
}

function queueQuery(name, limit, after) {
  const params = new URLSearchParams({ queue: name, limit: String(limit) });
  if (view.article) params.set("article", view.article);
  if (after) params.set("after", after);
  return "/moderation/queue?" + params.toString();
}

export async function refreshCounts() {
  const name = isQueue(view.tab) ? view.tab : "pending";
  try {
    const data = await api("GET", queueQuery(name, 1));
    showCounts(data.counts);
    // New work arrived in the tab on screen while it was empty: show it.
    if (view.tab === name && !queue.items.length && (data.comments || []).length) loadQueue();
  } catch (_) {
    // the next tick tries again
  }
}

// -- the list -------------------------------------------------------------------------------

export async function loadQueue(next) {
  const generation = next ? queue.generation : ++queue.generation;
  if (!next) {
    queue.items = [];
    queue.current = -1;
    queue.selected.clear();
    list.replaceChildren();
    empty.hidden = true;
    more.hidden = true;
  }
  status.textContent = t("loading");
  list.setAttribute("aria-busy", "true");
  try {
    const data = await api("GET", queueQuery(view.tab, PAGE_SIZE, next ? queue.next : null));
    if (generation !== queue.generation) return;
    showCounts(data.counts);
    for (const comment of data.comments || []) {
      if (!queue.items.some((entry) => entry.comment.id === comment.id)) addItem(comment);
    }
    queue.next = data.next || null;
    status.textContent = view.article ? t("filtered", { key: view.article }) : "";
    if (!next && queue.items.length) setCurrent(0, false);
  } catch (failure) {
    if (generation !== queue.generation) return;
    status.textContent = failure instanceof ApiFailure && failure.status === 404 && view.article
      ? t("error.no_article", { key: view.article }) : failureText(failure);
  } finally {
    if (generation === queue.generation) {
      list.removeAttribute("aria-busy");
      afterListChange();
    }
  }
}

function afterListChange() {
  empty.hidden = queue.items.length > 0;
  more.hidden = !queue.next;
  const loaded = queue.items.length;
  const chosen = queue.selected.size;
  selectedCount.textContent = chosen ? t("selected", { n: chosen }) : "";
  selectAll.checked = loaded > 0 && chosen === loaded;
  selectAll.indeterminate = chosen > 0 && chosen < loaded;
  selectAll.disabled = loaded === 0;
  for (const button of bulkButtons) button.disabled = chosen === 0;
}

function addItem(comment) {
  const entry = { comment, node: newItemNode(comment) };
  const { node } = entry;
  fillItem(node, comment, false);
  node.addEventListener("click", (event) => {
    const index = queue.items.indexOf(entry);
    if (index < 0) return;
    // A click on the item makes it current; a click on one of its controls does so quietly.
    setCurrent(index, !event.target.closest("input, button, a, summary, pre"), true);
  });
  node.querySelector(".item-check").addEventListener("change", (event) => {
    toggleSelected(entry, event.target.checked);
  });
  for (const button of node.querySelectorAll("[data-action]")) {
    button.addEventListener("click", () => {
      if (button.dataset.action !== "ban") return decide(entry, button.dataset.action);
      const reason = node.querySelector(".item-reason").value.trim();
      openBan(entry.comment.author, reason, (purged) => (purged ? loadQueue() : refreshCounts()));
    });
  }
  node.querySelector(".article-key").addEventListener("click", () => {
    filter.value = entry.comment.article;
    applyFilter(false);
  });
  queue.items.push(entry);
  list.append(node);
}

export function currentEntry() {
  return queue.items[queue.current] || null;
}

// Make item `index` the current one; `focus` moves the keyboard focus to it and scrolls.
export function setCurrent(index, focus, quiet) {
  if (!queue.items.length) {
    queue.current = -1;
    return;
  }
  index = Math.max(0, Math.min(index, queue.items.length - 1));
  const previous = queue.items[queue.current];
  if (previous) {
    previous.node.classList.remove("is-current");
    previous.node.removeAttribute("aria-current");
  }
  queue.current = index;
  const { node } = queue.items[index];
  node.classList.add("is-current");
  node.setAttribute("aria-current", "true");
  const focusInList = queue.items.some((entry) => entry.node.contains(document.activeElement));
  if (focus || (!quiet && focusInList)) node.focus({ preventScroll: true });
  if (focus) node.scrollIntoView({ block: "nearest" });
}

export function moveCurrent(step) {
  setCurrent(queue.current + step, true);
}

export function toggleSelected(entry, on) {
  if (on === undefined) on = !queue.selected.has(entry.comment.id);
  if (on) queue.selected.add(entry.comment.id);
  else queue.selected.delete(entry.comment.id);
  entry.node.querySelector(".item-check").checked = on;
  entry.node.classList.toggle("is-selected", on);
  afterListChange();
}

function removeItem(entry) {
  const index = queue.items.indexOf(entry);
  if (index < 0) return;
  const hadFocus = entry.node.contains(document.activeElement);
  queue.items.splice(index, 1);
  queue.selected.delete(entry.comment.id);
  entry.node.remove();
  if (queue.current > index || queue.current >= queue.items.length) queue.current -= 1;
  if (queue.current < 0 && queue.items.length) queue.current = 0;
  if (queue.items[queue.current]) setCurrent(queue.current, hadFocus, true);
  if (!queue.items.length && queue.next) loadQueue(true);
  afterListChange();
}

// -- decisions ------------------------------------------------------------------------------

// Does the comment leave the tab on screen after this decision?
function leavesQueue(action, comment) {
  if (!DECISIONS.includes(action)) return false;
  if (view.tab === "flagged") return true; // approving resolves the flags; the others move it out
  return comment.status !== view.tab;
}

export async function decide(entry, action) {
  const id = entry.comment.id;
  if (queue.busy.has(id)) return;
  const reason = entry.node.querySelector(".item-reason").value.trim();
  queue.busy.add(id);
  entry.node.classList.add("is-busy");
  entry.node.setAttribute("aria-busy", "true");
  try {
    const updated = await api("POST", "/moderation/comments/" + id, reason ? { action, reason } : { action });
    toast(t("done." + action));
    entry.comment = Object.assign({}, entry.comment, updated || {}); // keeps the queue-only fields
    if (leavesQueue(action, entry.comment)) removeItem(entry);
    else fillItem(entry.node, entry.comment, queue.selected.has(id));
    refreshCounts();
  } catch (failure) {
    toast(failureText(failure), true);
  } finally {
    queue.busy.delete(id);
    entry.node.classList.remove("is-busy");
    entry.node.removeAttribute("aria-busy");
  }
}

async function bulk(action) {
  const ids = queue.items.map((entry) => entry.comment.id).filter((id) => queue.selected.has(id));
  if (!ids.length) return;
  const reason = bulkReason.value.trim();
  for (const button of bulkButtons) button.disabled = true;
  try {
    const data = await api("POST", "/moderation/bulk", reason ? { ids, action, reason } : { ids, action });
    toast(t("done.bulk", { n: data && typeof data.updated === "number" ? data.updated : ids.length }));
    bulkReason.value = "";
    await loadQueue();
  } catch (failure) {
    toast(failureText(failure), true);
    afterListChange();
  }
}

for (const button of bulkButtons) button.addEventListener("click", () => bulk(button.dataset.bulk));
selectAll.addEventListener("change", () => {
  for (const entry of queue.items) toggleSelected(entry, selectAll.checked);
});
more.addEventListener("click", () => loadQueue(true));

// -- filter by article ----------------------------------------------------------------------

// With `focusList`, the keyboard moves on to the first comment once the filtered queue is shown.
function applyFilter(focusList) {
  const value = filter.value.trim();
  if (value && !articleKey.test(value)) {
    status.textContent = t("error.bad_key");
    filter.setAttribute("aria-invalid", "true");
    return;
  }
  filter.removeAttribute("aria-invalid");
  view.article = value;
  view.onViewChange();
  loadQueue().then(() => {
    if (focusList && queue.items.length) setCurrent(0, true);
  });
}

$("filter-form").addEventListener("submit", (event) => {
  event.preventDefault();
  applyFilter(true);
});
$("filter-clear").addEventListener("click", () => {
  filter.value = "";
  applyFilter(false);
});
