// A comment's body_html, scrubbed once more before it is shown: defence in depth behind the
// server's bleach allowlist, so a sanitizer bug there cannot run script in a moderator's session.
const ALLOWED_TAGS = new Set(["P", "BR", "EM", "STRONG", "DEL", "S", "CODE", "PRE", "BLOCKQUOTE",
  "UL", "OL", "LI", "A"]);
// Dropped with their content; any other unknown element is unwrapped (its text stays).
const DROPPED_TAGS = new Set(["SCRIPT", "STYLE", "TEMPLATE", "IFRAME", "OBJECT", "EMBED", "NOSCRIPT",
  "SVG", "MATH", "FRAME", "FRAMESET", "LINK", "META", "BASE", "FORM", "TEXTAREA", "SELECT"]);
const XHTML = "http://www.w3.org/1999/xhtml";

function keepAttribute(tag, name, value) {
  if (tag === "A") return name === "title" || (name === "href" && /^(https?:|mailto:)/i.test(value.trim()));
  return tag === "OL" && name === "start" && /^[0-9]{1,9}$/.test(value);
}

function scrub(parent) {
  for (const node of Array.from(parent.childNodes)) {
    if (node.nodeType === Node.TEXT_NODE) continue;
    if (node.nodeType !== Node.ELEMENT_NODE) {
      node.remove();
      continue;
    }
    const tag = node.nodeName.toUpperCase();
    if (node.namespaceURI !== XHTML || DROPPED_TAGS.has(tag)) {
      node.remove();
      continue;
    }
    scrub(node);
    if (!ALLOWED_TAGS.has(tag)) {
      node.replaceWith(...Array.from(node.childNodes));
      continue;
    }
    for (const attr of Array.from(node.attributes)) {
      if (!keepAttribute(tag, attr.name, attr.value)) node.removeAttribute(attr.name);
    }
    if (tag === "A") {
      node.setAttribute("rel", "nofollow ugc noopener noreferrer");
      node.setAttribute("target", "_blank"); // a link in a comment never takes the dashboard away
    }
  }
}

export function safeFragment(html) {
  const holder = document.createElement("template"); // parsed inert: no script runs, nothing loads
  holder.innerHTML = html || "";
  scrub(holder.content);
  return holder.content;
}
