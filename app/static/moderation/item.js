// One queue item on screen: everything a moderator needs to decide without clicking away.
// User-controlled text goes in with textContent; only body_html is HTML (scrubbed by body.js).
import { safeFragment } from "./body.js";
import { $, exactFormat, label, make, ownId, setTime, t } from "./common.js";
import { showScore } from "./spam_score.js";

const template = $("item-template");

export function newItemNode(comment) {
  const node = template.content.firstElementChild.cloneNode(true);
  node.id = "item-" + comment.id;
  node.dataset.id = String(comment.id);
  return node;
}

function fillAuthor(node, c) {
  const author = c.author;
  node.querySelector(".author-name").textContent = author ? author.display_name || author.username
    : t("deleted_account");
  node.querySelector(".author-username").textContent = author ? "@" + author.username : "";
  node.querySelector(".item-staff").hidden = !(author && author.staff);
  const stats = c.author_stats;
  node.querySelector(".author-stats").textContent = stats
    ? t("author_stats", { approved: stats.approved || 0, rejected: stats.rejected || 0,
      spam: stats.spam || 0 }) : "";
  const banned = node.querySelector(".item-banned");
  const bannedUntil = c.author_banned_until;
  banned.hidden = !bannedUntil;
  if (bannedUntil) {
    const until = new Date(bannedUntil);
    banned.textContent = bannedUntil === "forever" || isNaN(until.getTime())
      ? t("banned") : t("banned_until", { date: exactFormat.format(until) });
  }
}

function fillArticle(node, c) {
  node.querySelector(".article-title").textContent = c.article_title || "";
  const key = node.querySelector(".article-key");
  key.textContent = c.article || "";
  key.setAttribute("aria-label", t("filter_by", { key: c.article || "" }));
  const link = node.querySelector(".article-link");
  const url = typeof c.article_url === "string" ? c.article_url : "";
  link.hidden = !/^https?:\/\//i.test(url); // only web addresses become links
  if (link.hidden) link.removeAttribute("href");
  else link.href = url;
  node.querySelector(".item-parent").hidden = !c.parent_excerpt;
  node.querySelector(".parent-text").textContent = c.parent_excerpt || "";
}

function fillWhy(node, c) {
  const flags = (c.flags || []).filter((flag) => flag && flag.count);
  node.querySelector(".item-flags").hidden = flags.length === 0;
  node.querySelector(".flag-list").replaceChildren(...flags.map((flag) =>
    make("li", "flag flag-" + String(flag.reason).replace(/[^a-z_]/g, ""),
      t("flag_count", { reason: label("flag", flag.reason), n: flag.count }))));
  const reasons = (c.reasons || []).filter(Boolean);
  node.querySelector(".item-reasons").hidden = reasons.length === 0;
  node.querySelector(".reason-list").replaceChildren(...reasons.map((text) => make("li", "", text)));
}

export function fillItem(node, c, selected) {
  fillAuthor(node, c);
  const status = node.querySelector(".item-status");
  status.textContent = label("status", c.status);
  status.className = "badge item-status badge-" + String(c.status).replace(/[^a-z]/g, "");
  showScore(node.querySelector(".item-spam-score"), c.spam_score);
  node.querySelector(".item-pinned").hidden = !c.pinned;
  node.querySelector(".item-edited").hidden = !c.edited_at;
  setTime(node.querySelector(".item-time"), c.created_at);
  fillArticle(node, c);

  const body = node.querySelector(".item-body");
  if (c.body_html) body.replaceChildren(safeFragment(c.body_html));
  else body.replaceChildren(make("p", "dash-muted", t("no_body")));
  node.querySelector(".item-source").hidden = typeof c.body !== "string";
  node.querySelector(".source-text").textContent = c.body || "";
  fillWhy(node, c);

  const pin = node.querySelector('[data-action="pin"], [data-action="unpin"]');
  pin.dataset.action = c.pinned ? "unpin" : "pin";
  pin.textContent = t(c.pinned ? "button.unpin" : "button.pin");
  node.querySelector('[data-action="ban"]').hidden = !c.author || c.author.id === ownId;

  const name = c.author ? c.author.display_name || c.author.username : t("deleted_account");
  const check = node.querySelector(".item-check");
  check.checked = selected;
  check.setAttribute("aria-label", t("select_item", { name: c.author ? c.author.username : "#" + c.id }));
  node.classList.toggle("is-selected", selected);
  node.setAttribute("aria-label", t("item_label", { name, key: c.article || "" }));
}
