// A form while its request runs: buttons disabled, and the error explained under it.
import { t } from "../i18n.js";
import { explain } from "./api.js";
import { $, $$, say, state } from "./page.js";

export async function busy(form, work) {
  const buttons = $$("button", form);
  buttons.forEach((b) => { b.disabled = true; });
  say($(".cz-error", form), "");
  try {
    await work();
  } catch (err) {
    const message = err && err.status !== undefined
      ? err.message || explain(err, form.dataset.conflict) : t("error_generic");
    say($(".cz-error", form), message);
    if (err && err.status === 401 && state.user) state.onSignedOut();
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}
