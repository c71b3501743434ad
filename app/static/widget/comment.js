// One comment: filling the server's template (tpl-comment, the same markup as the first page),
// the controls that depend on who is reading, its times, and the slot under it where a reply,
// edit, flag or delete form opens.
import { t, tn } from "../i18n.js";
import { $$, config, focusable, fromTemplate, isMod, list, say, state } from "./page.js";

function box(li) { return li.firstElementChild; }
export function part(li, sel) { return box(li).querySelector(sel); }
function slot(li) { return part(li, ".c-slot"); }
export function repliesOf(li) { return li.querySelector(":scope > .c-replies"); }
export function moreOf(li) { return li.querySelector(":scope > .c-more"); }

export function build(c, parentName) {
  const li = fromTemplate("tpl-comment");
  fill(li, c, parentName);
  const replies = repliesOf(li);
  for (const r of c.replies || []) replies.appendChild(build(r, c.author ? c.author.username : null));
  decorate(li);
  return li;
}

export function fill(li, c, parentName) {
  const author = c.author;
  li.id = "c-" + c.id;
  li.dataset.id = c.id;
  li.dataset.depth = c.depth;
  li.dataset.author = author ? author.id : "";
  li.dataset.username = author ? author.username : "";
  li.dataset.created = c.created_at;
  li.dataset.status = c.status;
  li.dataset.vote = c.my_vote || 0;
  li.dataset.replies = c.reply_count || 0;
  li.classList.toggle("c-deleted", Boolean(c.deleted));
  li.classList.toggle("c-pending", c.status === "pending");
  li.classList.toggle("c-flat", c.depth >= config.indentLevels);
  part(li, ".c-author").textContent = author ? author.display_name : t("deleted_author");
  part(li, ".c-user").textContent = author ? "@" + author.username : "";
  part(li, ".c-staff").hidden = !(author && author.staff);
  const to = part(li, ".c-to");
  to.hidden = c.depth <= config.indentLevels;
  to.textContent = t("replying_to", { name: parentName ? "@" + parentName : t("deleted_author") });
  part(li, "time").setAttribute("datetime", c.created_at);
  part(li, ".c-edited").hidden = !c.edited_at;
  part(li, ".c-pin").hidden = !c.pinned;
  // Only the author (pending) and moderators (every status) ever get a comment that is not approved.
  const held = { pending: "pending", rejected: "status_rejected", spam: "status_spam" }[c.status];
  part(li, ".c-pend").hidden = !held;
  if (held) part(li, ".c-pend").textContent = t(held);
  const body = part(li, ".c-body");
  if (c.deleted) {
    body.textContent = "";
    const gone = document.createElement("p");
    gone.className = "c-gone";
    gone.textContent = t("deleted_body");
    body.appendChild(gone);
  } else {
    body.innerHTML = c.body_html;  // sanitized by the server
  }
  part(li, ".c-actions").hidden = Boolean(c.deleted);
  showVotes(li, { score: c.score, my_vote: c.my_vote || 0 });
  const more = moreOf(li);
  more.hidden = !c.more_replies;
  more.textContent = tn("more_replies", c.more_replies || 0);
  refreshTime(part(li, "time"));
}

export function showVotes(li, votes) {
  li.dataset.vote = votes.my_vote;
  part(li, ".c-score").textContent = votes.score;
  part(li, ".c-up").setAttribute("aria-pressed", String(votes.my_vote === 1));
  part(li, ".c-down").setAttribute("aria-pressed", String(votes.my_vote === -1));
}

// Links in comment bodies and previews open outside the frame.
export function linksOut(el) {
  for (const a of el.querySelectorAll("a")) a.target = "_blank";
}

// The controls that depend on who is reading: own comments are edited, others' are voted on and flagged.
export function decorate(li) {
  const data = li.dataset;
  const deleted = li.classList.contains("c-deleted");
  const own = Boolean(state.user) && data.author === String(state.user.id);
  const recent = Date.parse(data.created) + config.editWindow * 60000 > Date.now();
  const editable = own && !deleted && (recent || isMod());
  part(li, ".c-up").hidden = own;
  part(li, ".c-down").hidden = own;
  part(li, "[data-act=flag]").hidden = own || data.flagged === "1";
  part(li, "[data-act=edit]").hidden = !editable;
  part(li, "[data-act=delete]").hidden = !editable;
  part(li, "[data-act=reply]").hidden = deleted || state.closed || +data.depth >= config.maxDepth;
  linksOut(part(li, ".c-body"));
}

// -- times ------------------------------------------------------------------------------------

const UNITS = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400],
  ["hour", 3600], ["minute", 60], ["second", 1]];
const relative = window.Intl && Intl.RelativeTimeFormat
  ? new Intl.RelativeTimeFormat(config.lang, { numeric: "auto" }) : null;

function refreshTime(el) {
  const when = new Date(el.getAttribute("datetime"));
  if (isNaN(when)) return;
  el.title = when.toLocaleString(config.lang, { dateStyle: "long", timeStyle: "short" });
  if (!relative) {
    el.textContent = el.title;
    return;
  }
  const seconds = (when - Date.now()) / 1000;
  if (Math.abs(seconds) < 45) {
    el.textContent = relative.format(0, "second");
    return;
  }
  for (let i = 0; i < UNITS.length; i++) {
    if (Math.abs(seconds) >= UNITS[i][1] || i === UNITS.length - 1) {
      el.textContent = relative.format(Math.round(seconds / UNITS[i][1]), UNITS[i][0]);
      return;
    }
  }
}

// Every minute: the times move on and the edit window closes.
export function tick() {
  $$("time[datetime]", list).forEach(refreshTime);
  $$(".c", list).forEach(decorate);
}

// -- the slot under a comment and its message line -------------------------------------------

export function openSlot(li, content) {
  closeSlot(li);
  slot(li).appendChild(content);
  focusable(content.querySelector("textarea") || content.querySelector("input") ||
    content.querySelector("[data-act=cancel]"));
}

export function closeSlot(li, done) {
  const place = slot(li);
  const had = Boolean(place.firstChild);
  place.textContent = "";
  part(li, ".c-body").hidden = false;
  if (had && !done) focusable(part(li, "[data-act=reply]"));
}

export function note(li, text) { say(part(li, ".c-msg"), text); }
