// Writing: the comment form (new comment, reply, edit) with its counter, preview and shortcuts,
// and what posting or saving does to the thread.
import { t } from "../i18n.js";
import { api, explain } from "./api.js";
import { build, closeSlot, decorate, fill, linksOut, moreOf, note, openSlot, part, repliesOf }
  from "./comment.js";
import { busy } from "./forms.js";
import { refreshCount } from "./paging.js";
import { $, config, fromTemplate, key, length, list, nextId, say, state, status } from "./page.js";

// kind: "post" (the composer at the top), "reply" or "edit" (in the slot under `li`).
export function makeForm(kind, li) {
  const form = fromTemplate("tpl-form");
  const id = nextId("cz-text-");
  const text = $(".cz-text", form);
  const label = $(".cz-label", form);
  const counter = $(".cz-counter", form);
  text.id = id;
  label.htmlFor = id;
  counter.id = id + "-count";
  text.setAttribute("aria-describedby", counter.id);
  if (kind === "reply") {
    label.textContent = t("reply_to", { name: li.dataset.username ? "@" + li.dataset.username : t("deleted_author") });
  }
  if (kind === "edit") label.textContent = t("edit_label");
  $("[type=submit]", form).textContent = t(kind === "edit" ? "save" : kind === "reply" ? "post_reply" : "post");
  $("[data-act=cancel]", form).hidden = kind === "post";
  form.dataset.kind = kind;
  // "Notify me of replies in this discussion" belongs to the composer at the top (account.js).
  if (kind !== "post") $(".cz-subscribe", form).remove();
  const update = () => {
    const n = length(text.value);
    counter.textContent = t("counter", { n, max: config.maxLength });
    counter.classList.toggle("cz-over", n > config.maxLength);
  };
  text.addEventListener("input", update);
  update();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (kind === "edit") saveEdit(form, li);
    else postComment(form, li);
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && kind !== "post") {
      event.preventDefault();
      closeSlot(li);
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  return form;
}

function checkBody(form) {
  const text = $(".cz-text", form).value;
  if (!text.trim()) return t("error_empty");
  if (length(text) > config.maxLength) return t("error_length", { max: config.maxLength });
  return null;
}

function postComment(form, parent) {
  const problem = checkBody(form);
  if (problem) {
    say($(".cz-error", form), problem);
    $(".cz-text", form).focus();
    return;
  }
  form.dataset.conflict = "error_duplicate";
  return busy(form, async () => {
    const payload = { body: $(".cz-text", form).value };
    if (parent) payload.parent_id = +parent.dataset.id;
    const data = await api("POST", "/articles/" + encodeURIComponent(key) + "/comments", payload);
    const c = data.comment;
    resetForm(form);
    if (c.status === "rejected") {
      say($(".cz-error", form), t("rejected"));
      return;
    }
    const li = build(c, parent ? parent.dataset.username : null);
    if (parent) {
      repliesOf(parent).appendChild(li);
      parent.dataset.replies = +parent.dataset.replies + 1;
      closeSlot(parent, true);
    } else if (state.sort === "newest") {
      list.insertBefore(li, list.firstElementChild);
    } else {
      list.appendChild(li);
    }
    $(".cz-empty").hidden = true;
    if (c.status === "pending") note(li, t("pending_note"));
    status(t(c.status === "pending" ? "pending_note" : "posted"));
    refreshCount();
  });
}

function resetForm(form) {
  const text = $(".cz-text", form);
  text.value = "";
  text.dispatchEvent(new Event("input"));
  showWrite(form);
}

export async function startEdit(li) {
  note(li, "");
  try {
    const c = await api("GET", "/comments/" + li.dataset.id + "?replies=0");
    const form = makeForm("edit", li);
    $(".cz-text", form).value = c.body || "";
    $(".cz-text", form).dispatchEvent(new Event("input"));
    openSlot(li, form);
    part(li, ".c-body").hidden = true;
  } catch (err) {
    note(li, explain(err));
  }
}

function saveEdit(form, li) {
  const problem = checkBody(form);
  if (problem) {
    say($(".cz-error", form), problem);
    return;
  }
  return busy(form, async () => {
    const c = await api("PATCH", "/comments/" + li.dataset.id, { body: $(".cz-text", form).value });
    const parent = li.parentElement.closest(".c");
    c.more_replies = moreOf(li).hidden ? 0 : c.more_replies;
    fill(li, c, parent ? parent.dataset.username : null);
    decorate(li);
    closeSlot(li, true);
    if (c.status === "pending") note(li, t("pending_note"));
    if (c.status === "rejected") note(li, t("rejected"));
    refreshCount();
  });
}

function pressed(form, preview) {
  $("[data-act=write]", form).setAttribute("aria-pressed", String(!preview));
  $("[data-act=preview]", form).setAttribute("aria-pressed", String(preview));
}

export function showWrite(form) {
  $(".cz-text", form).hidden = false;
  $(".cz-preview", form).hidden = true;
  pressed(form, false);
}

export async function showPreview(form) {
  const preview = $(".cz-preview", form);
  const problem = checkBody(form);
  if (problem) {
    say($(".cz-error", form), problem);
    return;
  }
  await busy(form, async () => {
    const data = await api("POST", "/preview", { body: $(".cz-text", form).value });
    preview.innerHTML = data.body_html;  // sanitized by the server
    linksOut(preview);
    $(".cz-text", form).hidden = true;
    preview.hidden = false;
    pressed(form, true);
  });
}
