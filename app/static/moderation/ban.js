// The ban dialog: days (empty: permanent), a reason, and whether to reject the pending comments.
import { $, api, closeDialog, failureText, openDialog, t, toast } from "./common.js";

const dialog = $("ban-dialog");
let target = null; // {author, onBanned}

export function openBan(author, reason, onBanned) {
  target = { author, onBanned };
  $("ban-who").textContent = t("ban.who", { name: author.display_name || author.username,
    username: author.username });
  $("ban-days").value = "";
  $("ban-reason").value = reason || "";
  $("ban-purge").checked = false;
  $("ban-error").hidden = true;
  $("ban-reason-error").hidden = true;
  openDialog(dialog);
  $("ban-days").focus();
}

$("ban-cancel").addEventListener("click", () => closeDialog(dialog));

$("ban-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!target) return closeDialog(dialog);
  const reason = $("ban-reason").value.trim();
  const daysText = $("ban-days").value.trim();
  const days = daysText === "" ? null : Number(daysText);
  const reasonError = $("ban-reason-error");
  const error = $("ban-error");
  reasonError.textContent = reason ? "" : t("ban.reason_required");
  reasonError.hidden = Boolean(reason);
  error.hidden = true;
  if (days !== null && !(Number.isInteger(days) && days > 0)) {
    error.textContent = t("ban.bad_days");
    error.hidden = false;
    return;
  }
  if (!reason) return;
  const payload = { reason, purge: $("ban-purge").checked };
  if (days !== null) payload.days = days;
  const submit = $("ban-submit");
  submit.disabled = true;
  try {
    await api("POST", "/moderation/users/" + target.author.id + "/ban", payload);
    closeDialog(dialog);
    toast(t("done.ban", { name: target.author.username }));
    target.onBanned(payload.purge);
  } catch (failure) {
    error.textContent = failureText(failure);
    error.hidden = false;
  } finally {
    submit.disabled = false;
  }
});
