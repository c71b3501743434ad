// The spam filter's score on a queue item ("spam 0.97"), styled by where it stands against the
// filter's thresholds: below the hold threshold, held, or at the spam threshold.
import { api, lang, t } from "./common.js";

const twoDecimals = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const threshold = new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 3 });
// The thresholds of the last state read (GET /moderation/spam-filter); the defaults until then.
const thresholds = { hold: 0.5, spam: 0.9 };

export const formatScore = (value) => twoDecimals.format(value);
export const formatThreshold = (value) => threshold.format(value);

export function scoreLevel(score) {
  if (score >= thresholds.spam) return "spam";
  if (score >= thresholds.hold) return "held";
  return "low";
}

// Fill an item's score badge, or hide it when the comment has no score (null: never scored).
export function showScore(badge, score) {
  const known = typeof score === "number" && Number.isFinite(score);
  badge.hidden = !known;
  badge.classList.remove("score-low", "score-held", "score-spam");
  if (!known) {
    delete badge.dataset.score;
    badge.textContent = "";
    badge.removeAttribute("title");
    return;
  }
  badge.dataset.score = String(score);
  badge.classList.add("score-" + scoreLevel(score));
  badge.textContent = t("spam_score", { score: formatScore(score) });
  badge.title = t("spam_score.title", { score: formatScore(score), hold: formatThreshold(thresholds.hold),
    spam: formatThreshold(thresholds.spam) });
}

// Take the thresholds of a state answer, and restyle the badges on screen by them.
export function rememberThresholds(state) {
  if (!state) return;
  if (typeof state.hold_threshold === "number") thresholds.hold = state.hold_threshold;
  if (typeof state.spam_threshold === "number") thresholds.spam = state.spam_threshold;
  for (const badge of document.querySelectorAll(".item-spam-score[data-score]")) {
    showScore(badge, Number(badge.dataset.score));
  }
}

export async function loadThresholds() {
  try {
    rememberThresholds(await api("GET", "/moderation/spam-filter"));
  } catch (_) {
    // the defaults stand until the spam filter tab is opened
  }
}
