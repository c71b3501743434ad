// What a reader does to someone's comment: vote, flag, delete (after confirming), and the
// "log in to ..." note for a visitor.
import { t } from "../i18n.js";
import { api, explain } from "./api.js";
import { closeSlot, decorate, fill, note, openSlot, part, repliesOf, showVotes } from "./comment.js";
import { busy } from "./forms.js";
import { refreshCount, showEmpty } from "./paging.js";
import { $, $$, focusable, fromTemplate, nextId, say, state, status } from "./page.js";

export function needLogin(li, what) {
  note(li, t(what));
  const auth = $(".cz-auth");
  if (!auth.hidden) focusable($("input:not([type=hidden])", auth.querySelector("form:not([hidden])")));
}

export async function vote(li, value) {
  if (!state.user) return needLogin(li, "login_to_vote");
  const next = +li.dataset.vote === value ? 0 : value;
  try {
    showVotes(li, await api("PUT", "/comments/" + li.dataset.id + "/vote", { value: next }));
    note(li, "");
  } catch (err) {
    note(li, explain(err));
  }
}

export function openFlag(li) {
  if (!state.user) return needLogin(li, "login_to_flag");
  const form = fromTemplate("tpl-flag");
  const noteId = nextId("cz-note-");
  $$("input[type=radio]", form).forEach((r) => { r.name = "reason-" + li.dataset.id; });
  $(".cz-label", form).htmlFor = noteId;
  $(".cz-note", form).id = noteId;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = $("input[type=radio]:checked", form);
    if (!chosen) {
      say($(".cz-error", form), t("error_reason"));
      return;
    }
    form.dataset.conflict = "flag_already";
    busy(form, async () => {
      const text = $(".cz-note", form).value.trim();
      await api("POST", "/comments/" + li.dataset.id + "/flags",
        text ? { reason: chosen.value, note: text } : { reason: chosen.value });
      li.dataset.flagged = "1";
      closeSlot(li, true);
      decorate(li);
      note(li, t("flag_thanks"));
      focusable(part(li, "[data-act=reply]"));
    });
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeSlot(li);
    }
  });
  openSlot(li, form);
}

export function confirmDelete(li) {
  openSlot(li, fromTemplate("tpl-confirm"));
}

// A comment with replies stays as "deleted" to hold them; one without goes.
export async function remove(li) {
  try {
    await api("DELETE", "/comments/" + li.dataset.id);
  } catch (err) {
    closeSlot(li, true);
    note(li, explain(err));
    return;
  }
  const parent = li.parentElement.closest(".c");
  if (repliesOf(li).firstElementChild) {
    fill(li, { id: li.dataset.id, depth: +li.dataset.depth, author: null, deleted: true, status: "deleted",
      created_at: li.dataset.created, score: 0, my_vote: 0, reply_count: +li.dataset.replies,
      more_replies: 0 }, parent ? parent.dataset.username : null);
    closeSlot(li, true);
    decorate(li);
  } else {
    if (parent) parent.dataset.replies = Math.max(0, +parent.dataset.replies - 1);
    li.remove();
    showEmpty();
  }
  status(t("deleted_note"));
  refreshCount();
}
