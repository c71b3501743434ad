/* Causerie: the framed discussion. It enhances the thread the server rendered and talks to
   /api/v1 on its own origin. Comment bodies (body_html) come sanitized from the server and are
   inserted as HTML; every other text (names, titles, messages) goes through textContent.
   The entry module: it wires the page's buttons and forms to the parts, which live in
   page.js (settings, state, DOM helpers), api.js, frame.js (messages to the loader),
   comment.js (rendering a comment), paging.js, composer.js, actions.js (votes, flags, delete),
   session.js (who is reading), account.js (e-mail confirmation, notification settings, the
   forgotten password) and forms.js, with the strings of ../i18n.js. */
import { resendLink, wireAccount } from "./account.js";
import { explain, whoAmI } from "./api.js";
import { confirmDelete, needLogin, openFlag, remove, vote } from "./actions.js";
import { closeSlot, openSlot, tick } from "./comment.js";
import { makeForm, showPreview, showWrite, startEdit } from "./composer.js";
import { onSsoToken, tell, watchHeight } from "./frame.js";
import { loadThread, moreReplies } from "./paging.js";
import { $, state, status } from "./page.js";
import { authForm, logout, setUser, singleSignOn, switchAuth } from "./session.js";

function onClick(event) {
  const button = event.target.closest("[data-act]");
  if (!button || button.disabled) return;
  const li = button.closest(".c");
  const form = button.closest("form");
  switch (button.dataset.act) {
    case "up": return vote(li, 1);
    case "down": return vote(li, -1);
    case "reply":
      if (!state.user) return needLogin(li, "login_to_reply");
      return openSlot(li, makeForm("reply", li));
    case "edit": return startEdit(li);
    case "delete": return confirmDelete(li);
    case "confirm-delete": return remove(li);
    case "flag": return openFlag(li);
    case "cancel": return li ? closeSlot(li) : null;
    case "more": return moreReplies(li, button);
    case "load-more": return loadThread(true);
    case "write": return showWrite(form);
    case "preview": return showPreview(form);
    case "logout": return logout();
    case "show-login": return switchAuth("login");
    case "show-register": return switchAuth("register");
    case "show-forgot": return switchAuth("forgot");
    case "resend": return resendLink(button);
  }
}

document.documentElement.classList.remove("no-js");
state.onSignedOut = () => setUser(null, false);
document.addEventListener("click", onClick);
$("#cz-sort").addEventListener("change", (event) => {
  state.sort = event.target.value;
  loadThread(false);
});
authForm($(".cz-login"), "/auth/login");
authForm($(".cz-register"), "/auth/register");
wireAccount();
tick();
setInterval(tick, 60000);
watchHeight();
const booted = whoAmI().then((user) => { setUser(user, false); }, (err) => {
  setUser(null, false);
  status(explain(err));
});
onSsoToken((token) => booted.then(() => singleSignOn(token)));
booted.then(() => { tell("ready", {}); });
tell("count", { count: state.total });
