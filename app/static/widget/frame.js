// Messages between the frame and the loader (app/static/embed.js) on the host page: our height and
// the comment count go out; a single sign-on token may come in.
import { config, key } from "./page.js";

export function tell(type, data) {
  if (!config.parentOrigin || window.parent === window) return;
  window.parent.postMessage({ causerie: 1, type, article: key, ...data }, config.parentOrigin);
}

export function watchHeight() {
  const root = document.documentElement;
  let last = 0;
  function send() {
    const height = Math.ceil(root.getBoundingClientRect().height);
    if (height !== last) {
      last = height;
      tell("resize", { height });
    }
  }
  if (window.ResizeObserver) new ResizeObserver(send).observe(root);
  window.addEventListener("load", send);
  send();
}

export function onSsoToken(handle) {
  window.addEventListener("message", (event) => {
    // Only the page that framed us, from the origin it was checked against, may hand us a token.
    if (!config.parentOrigin || event.source !== window.parent || event.origin !== config.parentOrigin) return;
    const msg = event.data;
    if (!msg || msg.causerie !== 1 || msg.type !== "sso" || typeof msg.token !== "string") return;
    handle(msg.token);
  });
}
