// The reader's own account in the frame: the "please confirm your e-mail address" notice (with
// "send it again"), the notification setting for replies, the composer's "notify me of replies in
// this discussion" box, and the "forgot your password?" form of a visitor.
import { t } from "../i18n.js";
import { api, explain, whoAmI } from "./api.js";
import { busy } from "./forms.js";
import { $, focusable, key, say, state } from "./page.js";

// Live regions stay in the page (hidden when empty by CSS) so that screen readers announce changes.
function announce(el, text) { el.textContent = text || ""; }

const subscriptionPath = () => "/articles/" + encodeURIComponent(key) + "/subscription";
let shownFor = null;  // the id of the user whose settings the controls hold

function unverified(user) {
  return Boolean(user && user.email && user.email_verified === false);
}

// What the account part of the frame shows for `user` (null: nobody); settings load once per user.
export function showAccount(user) {
  $(".cz-verify").hidden = !unverified(user);
  $(".cz-verified").hidden = !(user && user.email_verified === true);
  if (!user) {
    shownFor = null;
    return;
  }
  if (shownFor === user.id) return;
  shownFor = user.id;
  announce($(".cz-verify-msg"), "");
  loadSettings(user.id);
}

async function loadSettings(userId) {
  const select = $("#cz-notify-replies");
  const box = $(".cz-compose .cz-sub");
  select.disabled = true;
  if (box) box.disabled = true;
  announce($("#cz-notify-msg"), "");
  try {
    const [settings, subscription] = await Promise.all([
      api("GET", "/me/notifications"),
      box ? api("GET", subscriptionPath()) : null,
    ]);
    if (shownFor !== userId) return;  // someone else logged in meanwhile
    select.value = settings.replies || "off";
    select.dataset.saved = select.value;
    select.disabled = false;
    if (box) {
      box.checked = Boolean(subscription.subscribed);
      box.disabled = false;
    }
  } catch (err) {
    if (shownFor === userId) announce($("#cz-notify-msg"), explain(err));
  }
}

async function changeReplies(select) {
  const msg = $("#cz-notify-msg");
  const before = select.dataset.saved || "off";
  select.disabled = true;
  try {
    const settings = await api("PUT", "/me/notifications", { replies: select.value });
    select.value = settings.replies || select.value;
    select.dataset.saved = select.value;
    announce(msg, t("notify_saved"));
  } catch (err) {
    select.value = before;
    announce(msg, explain(err));
  } finally {
    select.disabled = false;
  }
}

async function changeSubscription(box) {
  const error = $(".cz-error", box.closest("form"));
  box.disabled = true;
  say(error, "");
  try {
    const data = await api("PUT", subscriptionPath(), { subscribed: box.checked });
    box.checked = Boolean(data.subscribed);
  } catch (err) {
    box.checked = !box.checked;
    say(error, explain(err));
  } finally {
    box.disabled = false;
  }
}

export async function resendLink(button) {
  const msg = $(".cz-verify-msg");
  button.disabled = true;
  announce(msg, "");
  try {
    await api("POST", "/auth/email/resend");
    announce(msg, t("verify_sent"));
  } catch (err) {
    announce(msg, explain(err));
  } finally {
    button.disabled = false;
  }
}

// Back from the tab where the link was opened: ask again whether the address is confirmed.
async function recheck() {
  if (!unverified(state.user) || document.visibilityState === "hidden") return;
  try {
    const user = await whoAmI();
    if (user && state.user && user.id === state.user.id) {
      state.user = user;
      showAccount(user);
    }
  } catch (err) { /* the next visit will tell */ }
}

function forgotForm(form) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("input[name=email]", form);
    const done = $(".cz-forgot-done", form);
    announce(done, "");
    const email = input.value.trim();
    if (!email || !email.includes("@")) {
      input.setAttribute("aria-invalid", "true");
      say($(".cz-error", form), t("error_email"));
      focusable(input);
      return;
    }
    input.removeAttribute("aria-invalid");
    busy(form, async () => {
      await api("POST", "/auth/password/forgot", { email });
      form.reset();
      announce(done, t("forgot_sent"));
    });
  });
}

export function wireAccount() {
  $("#cz-notify-replies").addEventListener("change", (event) => changeReplies(event.target));
  document.addEventListener("change", (event) => {
    if (event.target.matches(".cz-compose .cz-sub")) changeSubscription(event.target);
  });
  forgotForm($(".cz-forgot"));
  window.addEventListener("focus", recheck);
  document.addEventListener("visibilitychange", recheck);
}
