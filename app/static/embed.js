/* Causerie loader: frames the discussion into #causerie-thread and fills every [data-causerie-count].
   No dependencies; safe to load async, twice, or before the elements exist. */
(function () {
  "use strict";
  const w = window, d = document;
  if (w.__causerie) return; // loaded twice: the first copy does the work
  let script = d.currentScript;
  if (!script) {
    const all = d.querySelectorAll("script[src*='embed.js']");
    script = all[all.length - 1];
  }
  if (!script) return;
  // The service lives wherever this script came from (a path prefix included).
  const base = script.src.replace(/\/embed\.js([?#].*)?$/, "");
  const origin = new URL(base, location.href).origin;
  w.__causerie = { base: base };
  // Tallest frame we accept (px): anything taller, or not a finite number, is ignored.
  const MAX_FRAME_HEIGHT = 100000;

  function fill(key, count) {
    const els = d.querySelectorAll("[data-causerie-count]");
    for (let i = 0; i < els.length; i++) {
      if (els[i].getAttribute("data-causerie-count") === key) els[i].textContent = String(count);
    }
  }

  function counts() {
    const els = d.querySelectorAll("[data-causerie-count]"), keys = [];
    for (let i = 0; i < els.length; i++) {
      const key = els[i].getAttribute("data-causerie-count");
      if (key && keys.indexOf(key) < 0) keys.push(key);
    }
    // One request per 100 keys (the API's limit): a single one on any ordinary page.
    for (let start = 0; start < keys.length; start += 100) {
      fetch(base + "/api/v1/counts?keys=" + keys.slice(start, start + 100).map(encodeURIComponent).join(","),
            { credentials: "omit" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data && data.counts) for (const k in data.counts) fill(k, data.counts[k]);
        })
        .catch(function () {});
    }
  }

  function thread() {
    const host = d.getElementById("causerie-thread");
    if (!host || host.getAttribute("data-causerie-ready")) return;
    host.setAttribute("data-causerie-ready", "1");
    const data = host.dataset;
    const params = new URLSearchParams({
      article: data.article || "",
      title: data.title || d.title,
      url: data.url || location.href.split("#")[0],
      lang: data.lang || d.documentElement.lang || "",
      theme: data.theme || "",
      origin: location.origin
    });
    const frame = d.createElement("iframe");
    frame.src = base + "/embed/thread?" + params;
    frame.title = "Discussion";
    frame.setAttribute("scrolling", "no");
    const style = frame.style;
    style.display = "block";
    style.width = "100%";
    style.border = "0";
    style.height = "420px";
    style.overflow = "hidden";
    w.addEventListener("message", function (event) {
      // Only our own frame, from the service's origin, may resize it or report counts.
      if (event.origin !== origin || event.source !== frame.contentWindow) return;
      const m = event.data;
      if (!m || m.causerie !== 1) return;
      if (m.type === "resize" && typeof m.height === "number" && isFinite(m.height) &&
          m.height > 0 && m.height <= MAX_FRAME_HEIGHT) {
        style.height = Math.ceil(m.height) + "px";
      } else if (m.type === "count" && typeof m.count === "number" && typeof m.article === "string") {
        fill(m.article, m.count);
      } else if (m.type === "ready" && data.sso) {
        // The token travels by message, never in the frame's URL (logs, Referer).
        frame.contentWindow.postMessage({ causerie: 1, type: "sso", token: data.sso }, origin);
      }
    });
    host.appendChild(frame);
  }

  function start() {
    thread();
    counts();
  }

  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", start);
  else start();
}());
