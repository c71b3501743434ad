// Pages of the thread (sort, "load more"), "more replies" under a comment, and the comment count
// shown in the frame and told to the host page.
import { tn } from "../i18n.js";
import { api, explain } from "./api.js";
import { build, note, repliesOf } from "./comment.js";
import { tell } from "./frame.js";
import { $, key, list, state, status } from "./page.js";

function threadPath(after) {
  return "/articles/" + encodeURIComponent(key) + "/comments?sort=" + state.sort +
    (after ? "&after=" + encodeURIComponent(after) : "");
}

// The first page again (after a new sort or a new reader), or the next one appended.
export async function loadThread(append) {
  const button = $(".cz-loadmore");
  button.disabled = true;
  try {
    const page = await api("GET", threadPath(append ? state.next : null));
    if (!append) list.textContent = "";
    for (const c of page.comments) {
      if (!document.getElementById("c-" + c.id)) list.appendChild(build(c, null));
    }
    state.next = page.next;
    setTotal(page.total);
    status("");
  } catch (err) {
    status(explain(err));
  }
  button.disabled = false;
  button.hidden = !state.next;
  showEmpty();
}

export function showEmpty() {
  $(".cz-empty").hidden = Boolean(list.firstElementChild);
}

function setTotal(total) {
  state.total = total;
  $("#cz-count").textContent = tn("count", total);
  tell("count", { count: total });
}

export async function refreshCount() {
  try {
    const data = await api("GET", "/counts?keys=" + encodeURIComponent(key));
    setTotal(data.counts[key] || 0);
  } catch (e) { /* the count catches up on the next load */ }
}

export async function moreReplies(li, button) {
  const cursor = button.dataset.after;
  button.disabled = true;
  try {
    const data = await api("GET", "/comments/" + li.dataset.id + "/replies?limit=50" +
      (cursor ? "&after=" + encodeURIComponent(cursor) : ""));
    const replies = repliesOf(li);
    for (const c of data.comments) {
      if (!document.getElementById("c-" + c.id)) replies.appendChild(build(c, li.dataset.username || null));
    }
    const left = +li.dataset.replies - replies.children.length;
    button.dataset.after = data.next || "";
    button.hidden = !data.next || left <= 0;
    button.textContent = tn("more_replies", Math.max(left, 0));
  } catch (err) {
    note(li, explain(err));
  }
  button.disabled = false;
}
