// The moderator dashboard: tabs, the address bar, keyboard shortcuts and timers. The parts live
// in queue.js (queues and decisions), item.js, ban.js, log.js, settings.js, webhooks.js,
// spam_filter.js (the spam filter tab), spam_score.js (the score on each item) and common.js.
import { $, api, closeDialog, csrfToken, openDialog, refreshTimes } from "./common.js";
import { loadLog } from "./log.js";
import { currentEntry, decide, isQueue, loadQueue, moveCurrent, refreshCounts, toggleSelected,
  view } from "./queue.js";
import { loadSettings } from "./settings.js";
import { loadSpamFilter } from "./spam_filter.js";
import { loadThresholds } from "./spam_score.js";
import { loadWebhooks } from "./webhooks.js";

const REFRESH_MS = 30000;
const tabs = Array.from(document.querySelectorAll(".dash-tab"));
const help = $("help-dialog");
const ban = $("ban-dialog");

// -- tabs and the address bar ---------------------------------------------------------------

function updateAddress() {
  const params = new URLSearchParams(window.location.search);
  params.set("queue", view.tab);
  if (view.article) params.set("article", view.article);
  else params.delete("article");
  history.replaceState(null, "", window.location.pathname + "?" + params.toString());
  for (const link of document.querySelectorAll("[data-lang-link]")) {
    const target = new URLSearchParams(params);
    target.set("lang", link.dataset.langLink);
    link.href = window.location.pathname + "?" + target.toString();
  }
}

function showTab(tab) {
  view.tab = tab;
  for (const link of tabs) {
    const selected = link.dataset.tab === tab;
    link.setAttribute("aria-selected", selected ? "true" : "false");
    link.tabIndex = selected ? 0 : -1;
  }
  $("panel-queue").hidden = !isQueue(tab);
  $("panel-log").hidden = tab !== "log";
  $("panel-settings").hidden = tab !== "settings";
  $("panel-spam-filter").hidden = tab !== "spam-filter";
  if (isQueue(tab)) $("panel-queue").setAttribute("aria-labelledby", "tab-" + tab);
  document.body.dataset.tab = tab;
  updateAddress();
  if (isQueue(tab)) loadQueue();
  else if (tab === "log") loadLog();
  else if (tab === "spam-filter") loadSpamFilter();
  else {
    loadSettings();
    loadWebhooks();
  }
}

for (const link of tabs) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    showTab(link.dataset.tab);
  });
  link.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
    const index = tabs.indexOf(link) + (event.key === "ArrowRight" ? 1 : -1);
    const target = tabs[(index + tabs.length) % tabs.length];
    target.focus();
    showTab(target.dataset.tab);
    event.preventDefault();
  });
}

// -- keyboard -------------------------------------------------------------------------------

function isTyping(target) {
  return Boolean(target && target.closest &&
    target.closest('textarea, select, [contenteditable=""], [contenteditable="true"], ' +
      'input:not([type="checkbox"]):not([type="radio"]):not([type="button"]):not([type="submit"])'));
}

const SHORTCUTS = {
  j: () => moveCurrent(1),
  k: () => moveCurrent(-1),
  a: (entry) => entry && decide(entry, "approve"),
  r: (entry) => entry && decide(entry, "reject"),
  s: (entry) => entry && decide(entry, "spam"),
  x: (entry) => entry && toggleSelected(entry),
};

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (isTyping(event.target)) return;
  if (event.key === "?" && !ban.open) {
    if (help.open) closeDialog(help);
    else openDialog(help);
    event.preventDefault();
    return;
  }
  const shortcut = Object.prototype.hasOwnProperty.call(SHORTCUTS, event.key) && SHORTCUTS[event.key];
  if (!shortcut || help.open || ban.open || !isQueue(view.tab)) return;
  shortcut(currentEntry());
  event.preventDefault();
});

// -- logout, timers, start ------------------------------------------------------------------

$("logout").addEventListener("click", async (event) => {
  event.currentTarget.disabled = true;
  try {
    await api("POST", "/auth/logout");
  } catch (_) {
    // whatever the answer, the login page is where this ends
  }
  window.location.assign("/login?next=/moderation");
});

setInterval(() => {
  if (document.visibilityState === "visible") refreshCounts();
}, REFRESH_MS);
setInterval(refreshTimes, 60000);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") refreshCounts();
});

view.article = document.body.dataset.article || "";
view.onViewChange = updateAddress;
csrfToken().catch(() => {});
showTab(document.body.dataset.tab || "pending");
if (view.tab !== "spam-filter") loadThresholds(); // styles the items' scores by the filter's thresholds
if (!isQueue(view.tab)) refreshCounts();
