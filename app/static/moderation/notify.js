// The moderator's own notifications: whether, and how often, comments waiting for review are
// mailed to them (GET/PUT /api/v1/me/notifications, field "moderation"). Saved on change.
import { $, api, failureText, t } from "./common.js";

const select = $("notify-moderation");
const status = $("notify-status");
let saved = "off";

async function load() {
  try {
    const settings = await api("GET", "/me/notifications");
    saved = settings.moderation || "off";
    select.value = saved;
    select.disabled = false;
  } catch (failure) {
    status.textContent = failureText(failure);
  }
}

select.addEventListener("change", async () => {
  select.disabled = true;
  status.textContent = "";
  try {
    const settings = await api("PUT", "/me/notifications", { moderation: select.value });
    saved = settings.moderation || select.value;
    select.value = saved;
    status.textContent = t("notify.saved");
  } catch (failure) {
    select.value = saved;
    status.textContent = failureText(failure);
  } finally {
    select.disabled = false;
  }
});

load();
