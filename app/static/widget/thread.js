/* Causerie: the framed discussion. It enhances the thread the server rendered and talks to
   /api/v1 on its own origin. Comment bodies (body_html) come sanitized from the server and are
   inserted as HTML; every other text (names, titles, messages) goes through textContent. */
(function () {
  "use strict";
  var doc = document;
  var root = doc.documentElement;
  var config = JSON.parse(doc.getElementById("cz-config").textContent);
  var S = config.strings;
  var key = config.article.key;
  var state = {
    user: null, csrf: null, sort: "oldest", next: config.next,
    total: config.article.comment_count, closed: config.article.status === "closed"
  };
  var list = doc.getElementById("cz-list");
  var formCount = 0;
  var booted;

  function $(sel, el) { return (el || doc).querySelector(sel); }
  function $$(sel, el) { return Array.prototype.slice.call((el || doc).querySelectorAll(sel)); }
  function box(li) { return li.firstElementChild; }
  function part(li, sel) { return box(li).querySelector(sel); }
  function slot(li) { return part(li, ".c-slot"); }
  function repliesOf(li) { return li.querySelector(":scope > .c-replies"); }
  function moreOf(li) { return li.querySelector(":scope > .c-more"); }
  function length(text) { return Array.from(text).length; }
  function isMod() { return !!state.user && (state.user.role === "moderator" || state.user.role === "admin"); }

  function t(name, values) {
    var text = S[name] || name;
    return text.replace(/\{(\w+)\}/g, function (all, k) { return values && k in values ? values[k] : all; });
  }
  function tn(name, n) {
    var one = config.lang === "fr" ? n < 2 : n === 1;
    return t(name + (one ? "_one" : "_other"), { n: n });
  }

  // -- talking to the API -------------------------------------------------------

  async function api(method, path, payload, retried) {
    var headers = { Accept: "application/json" };
    // no-store: /counts is cacheable for host pages, but the frame wants the count it just changed.
    var init = { method: method, credentials: "same-origin", headers: headers, cache: "no-store" };
    if (payload !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(payload);
    }
    if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
    var response;
    try {
      response = await fetch(config.api + path, init);
    } catch (e) {
      throw { status: 0, error: {} };
    }
    var data = response.status === 204 ? null : await response.json().catch(function () { return null; });
    if (!response.ok) {
      var error = (data && data.error) || {};
      // A session that changed under us (another tab logged out): take the new token and try once more.
      if (error.code === "csrf_failed" && !retried) {
        await whoAmI();
        return api(method, path, payload, true);
      }
      throw { status: response.status, error: error, retry: response.headers.get("Retry-After") };
    }
    return data;
  }

  function explain(err, conflict) {
    var e = err.error || {};
    if (err.status === 0) return t("error_network");
    if (e.code === "article_closed") return t("error_closed");
    if (e.code === "banned") return t("error_banned");
    if (err.status === 429) return t("error_rate", { seconds: err.retry || 60 });
    if (err.status === 401) return t("error_login");
    if (err.status === 409) return conflict ? t(conflict) : e.message || t("error_generic");
    if (err.status === 413) return t("error_too_long");
    if (err.status === 404) return t("error_gone");
    if (err.status === 422 && e.fields) {
      return t("error_invalid") + " " + Object.keys(e.fields).map(function (f) {
        return (S["field_" + f] || f) + " : " + e.fields[f];
      }).join(" ; ");
    }
    if (err.status === 403) return t("error_forbidden");
    return t("error_generic");
  }

  function say(el, text) {
    el.textContent = text || "";
    el.hidden = !text;
  }

  function status(text) { say($(".cz-status"), text); }

  function focusable(el) { if (el) el.focus(); }

  // -- messages to and from the host page -------------------------------------

  function tell(type, data) {
    if (!config.parentOrigin || window.parent === window) return;
    var message = { causerie: 1, type: type, article: key };
    for (var name in data) message[name] = data[name];
    window.parent.postMessage(message, config.parentOrigin);
  }

  function watchHeight() {
    var last = 0;
    function send() {
      var height = Math.ceil(root.getBoundingClientRect().height);
      if (height !== last) { last = height; tell("resize", { height: height }); }
    }
    if (window.ResizeObserver) new ResizeObserver(send).observe(root);
    window.addEventListener("load", send);
    send();
  }

  window.addEventListener("message", function (event) {
    // Only the page that framed us, from the origin it was checked against, may hand us a token.
    if (!config.parentOrigin || event.source !== window.parent || event.origin !== config.parentOrigin) return;
    var msg = event.data;
    if (!msg || msg.causerie !== 1 || msg.type !== "sso" || typeof msg.token !== "string") return;
    booted.then(function () { singleSignOn(msg.token); });
  });

  function subjectOf(token) {
    try {
      var payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return String(JSON.parse(atob(payload)).sub);
    } catch (e) {
      return null;
    }
  }

  function remembered(value) {
    // Which host-site user our session was opened for; storage may be blocked in third-party frames.
    try {
      if (value === undefined) return localStorage.getItem("causerie-sso");
      if (value === null) localStorage.removeItem("causerie-sso");
      else localStorage.setItem("causerie-sso", value);
    } catch (e) { return null; }
  }

  async function singleSignOn(token) {
    var sub = subjectOf(token);
    if (state.user && sub && remembered() === sub) return;
    try {
      var data = await api("POST", "/auth/sso", { token: token });
      remembered(sub);
      state.csrf = data.csrf_token;
      setUser(data.user, true);
    } catch (err) {
      status(t("error_sso"));
    }
  }

  // -- who is reading -------------------------------------------------------------

  async function whoAmI() {
    var me = await api("GET", "/auth/me", undefined, true);
    state.csrf = me.csrf_token;
    return me.user;
  }

  function setUser(user, reload) {
    state.user = user;
    var me = $(".cz-me");
    me.hidden = !user;
    if (user) $(".cz-me-name").textContent = user.display_name;
    $(".cz-auth").hidden = !!user || state.closed;
    var compose = $(".cz-compose");
    compose.hidden = !user || state.closed;
    if (user && !compose.firstChild) compose.appendChild(makeForm("post", null));
    $$(".c", list).forEach(decorate);
    if (reload) loadThread(false);
  }

  // -- building comments -------------------------------------------------------------

  function fromTemplate(id) {
    return doc.getElementById(id).content.firstElementChild.cloneNode(true);
  }

  function build(c, parentName) {
    var li = fromTemplate("tpl-comment");
    fill(li, c, parentName);
    var replies = repliesOf(li);
    (c.replies || []).forEach(function (r) {
      replies.appendChild(build(r, c.author ? c.author.username : null));
    });
    decorate(li);
    return li;
  }

  function fill(li, c, parentName) {
    var author = c.author;
    li.id = "c-" + c.id;
    li.dataset.id = c.id;
    li.dataset.depth = c.depth;
    li.dataset.author = author ? author.id : "";
    li.dataset.username = author ? author.username : "";
    li.dataset.created = c.created_at;
    li.dataset.status = c.status;
    li.dataset.vote = c.my_vote || 0;
    li.dataset.replies = c.reply_count || 0;
    li.classList.toggle("c-deleted", !!c.deleted);
    li.classList.toggle("c-pending", c.status === "pending");
    li.classList.toggle("c-flat", c.depth >= config.indentLevels);
    part(li, ".c-author").textContent = author ? author.display_name : t("deleted_author");
    part(li, ".c-user").textContent = author ? "@" + author.username : "";
    part(li, ".c-staff").hidden = !(author && author.staff);
    var to = part(li, ".c-to");
    to.hidden = c.depth <= config.indentLevels;
    to.textContent = t("replying_to", { name: parentName ? "@" + parentName : t("deleted_author") });
    part(li, "time").setAttribute("datetime", c.created_at);
    part(li, ".c-edited").hidden = !c.edited_at;
    part(li, ".c-pin").hidden = !c.pinned;
    // Only the author (pending) and moderators (every status) ever get a comment that is not approved.
    var held = { pending: "pending", rejected: "status_rejected", spam: "status_spam" }[c.status];
    part(li, ".c-pend").hidden = !held;
    if (held) part(li, ".c-pend").textContent = t(held);
    var body = part(li, ".c-body");
    if (c.deleted) {
      body.textContent = "";
      var gone = doc.createElement("p");
      gone.className = "c-gone";
      gone.textContent = t("deleted_body");
      body.appendChild(gone);
    } else {
      body.innerHTML = c.body_html;  // sanitized by the server
    }
    part(li, ".c-actions").hidden = !!c.deleted;
    showVotes(li, { score: c.score, my_vote: c.my_vote || 0 });
    var more = moreOf(li);
    more.hidden = !c.more_replies;
    more.textContent = tn("more_replies", c.more_replies || 0);
    refreshTime(part(li, "time"));
  }

  function showVotes(li, votes) {
    li.dataset.vote = votes.my_vote;
    part(li, ".c-score").textContent = votes.score;
    part(li, ".c-up").setAttribute("aria-pressed", String(votes.my_vote === 1));
    part(li, ".c-down").setAttribute("aria-pressed", String(votes.my_vote === -1));
  }

  // The controls that depend on who is reading: own comments are edited, others' are voted on and flagged.
  function decorate(li) {
    var data = li.dataset;
    var deleted = li.classList.contains("c-deleted");
    var own = !!state.user && data.author === String(state.user.id);
    var recent = Date.parse(data.created) + config.editWindow * 60000 > Date.now();
    var editable = own && !deleted && (recent || isMod());
    part(li, ".c-up").hidden = own;
    part(li, ".c-down").hidden = own;
    part(li, "[data-act=flag]").hidden = own || data.flagged === "1";
    part(li, "[data-act=edit]").hidden = !editable;
    part(li, "[data-act=delete]").hidden = !editable;
    part(li, "[data-act=reply]").hidden = deleted || state.closed || +data.depth >= config.maxDepth;
    for (var a = part(li, ".c-body").querySelectorAll("a"), i = 0; i < a.length; i++) a[i].target = "_blank";
  }

  // -- times ----------------------------------------------------------------------------

  var UNITS = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400],
               ["hour", 3600], ["minute", 60], ["second", 1]];
  var relative = window.Intl && Intl.RelativeTimeFormat
    ? new Intl.RelativeTimeFormat(config.lang, { numeric: "auto" }) : null;

  function refreshTime(el) {
    var when = new Date(el.getAttribute("datetime"));
    if (isNaN(when)) return;
    el.title = when.toLocaleString(config.lang, { dateStyle: "long", timeStyle: "short" });
    if (!relative) { el.textContent = el.title; return; }
    var seconds = (when - Date.now()) / 1000;
    if (Math.abs(seconds) < 45) { el.textContent = relative.format(0, "second"); return; }
    for (var i = 0; i < UNITS.length; i++) {
      if (Math.abs(seconds) >= UNITS[i][1] || i === UNITS.length - 1) {
        el.textContent = relative.format(Math.round(seconds / UNITS[i][1]), UNITS[i][0]);
        return;
      }
    }
  }

  function tick() {
    $$("time[datetime]", list).forEach(refreshTime);
    $$(".c", list).forEach(decorate);
  }

  // -- the thread ---------------------------------------------------------------------------

  function threadPath(after) {
    return "/articles/" + encodeURIComponent(key) + "/comments?sort=" + state.sort +
      (after ? "&after=" + encodeURIComponent(after) : "");
  }

  async function loadThread(append) {
    var button = $(".cz-loadmore");
    button.disabled = true;
    try {
      var page = await api("GET", threadPath(append ? state.next : null));
      if (!append) list.textContent = "";
      page.comments.forEach(function (c) {
        if (!doc.getElementById("c-" + c.id)) list.appendChild(build(c, null));
      });
      state.next = page.next;
      setTotal(page.total);
      status("");
    } catch (err) {
      status(explain(err));
    }
    button.disabled = false;
    button.hidden = !state.next;
    $(".cz-empty").hidden = !!list.firstElementChild;
  }

  function setTotal(total) {
    state.total = total;
    $("#cz-count").textContent = tn("count", total);
    tell("count", { count: total });
  }

  async function refreshCount() {
    try {
      var data = await api("GET", "/counts?keys=" + encodeURIComponent(key));
      setTotal(data.counts[key] || 0);
    } catch (e) { /* the count catches up on the next load */ }
  }

  async function moreReplies(li, button) {
    var cursor = button.dataset.after;
    button.disabled = true;
    try {
      var data = await api("GET", "/comments/" + li.dataset.id + "/replies?limit=50" +
        (cursor ? "&after=" + encodeURIComponent(cursor) : ""));
      var replies = repliesOf(li);
      data.comments.forEach(function (c) {
        if (!doc.getElementById("c-" + c.id)) replies.appendChild(build(c, li.dataset.username || null));
      });
      var left = +li.dataset.replies - replies.children.length;
      button.dataset.after = data.next || "";
      button.hidden = !data.next || left <= 0;
      button.textContent = tn("more_replies", Math.max(left, 0));
    } catch (err) {
      note(li, explain(err));
    }
    button.disabled = false;
  }

  // -- forms ------------------------------------------------------------------------------

  function makeForm(kind, li) {
    var form = fromTemplate("tpl-form");
    var id = "cz-text-" + (++formCount);
    var text = $(".cz-text", form);
    var label = $(".cz-label", form);
    var counter = $(".cz-counter", form);
    text.id = id;
    label.htmlFor = id;
    counter.id = id + "-count";
    text.setAttribute("aria-describedby", counter.id);
    if (kind === "reply") label.textContent = t("reply_to", { name: li.dataset.username ? "@" + li.dataset.username : t("deleted_author") });
    if (kind === "edit") label.textContent = t("edit_label");
    $("[type=submit]", form).textContent = t(kind === "edit" ? "save" : kind === "reply" ? "post_reply" : "post");
    $("[data-act=cancel]", form).hidden = kind === "post";
    form.dataset.kind = kind;
    var update = function () {
      var n = length(text.value);
      counter.textContent = t("counter", { n: n, max: config.maxLength });
      counter.classList.toggle("cz-over", n > config.maxLength);
    };
    text.addEventListener("input", update);
    update();
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (kind === "edit") saveEdit(form, li);
      else postComment(form, li);
    });
    form.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && kind !== "post") { event.preventDefault(); closeSlot(li); }
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); form.requestSubmit(); }
    });
    return form;
  }

  function checkBody(form) {
    var text = $(".cz-text", form).value;
    if (!text.trim()) return t("error_empty");
    if (length(text) > config.maxLength) return t("error_length", { max: config.maxLength });
    return null;
  }

  async function busy(form, work) {
    var buttons = $$("button", form);
    buttons.forEach(function (b) { b.disabled = true; });
    say($(".cz-error", form), "");
    try {
      await work();
    } catch (err) {
      var message = err && err.status !== undefined
        ? err.message || explain(err, form.dataset.conflict) : t("error_generic");
      say($(".cz-error", form), message);
      if (err && err.status === 401 && state.user) setUser(null, false);
    } finally {
      buttons.forEach(function (b) { b.disabled = false; });
    }
  }

  function postComment(form, parent) {
    var problem = checkBody(form);
    if (problem) { say($(".cz-error", form), problem); $(".cz-text", form).focus(); return; }
    form.dataset.conflict = "error_duplicate";
    return busy(form, async function () {
      var payload = { body: $(".cz-text", form).value };
      if (parent) payload.parent_id = +parent.dataset.id;
      var data = await api("POST", "/articles/" + encodeURIComponent(key) + "/comments", payload);
      var c = data.comment;
      resetForm(form);
      if (c.status === "rejected") { say($(".cz-error", form), t("rejected")); return; }
      var li = build(c, parent ? parent.dataset.username : null);
      if (parent) {
        repliesOf(parent).appendChild(li);
        parent.dataset.replies = +parent.dataset.replies + 1;
        closeSlot(parent, true);
      } else if (state.sort === "newest") {
        list.insertBefore(li, list.firstElementChild);
      } else {
        list.appendChild(li);
      }
      $(".cz-empty").hidden = true;
      if (c.status === "pending") note(li, t("pending_note"));
      status(t(c.status === "pending" ? "pending_note" : "posted"));
      refreshCount();
    });
  }

  function resetForm(form) {
    var text = $(".cz-text", form);
    text.value = "";
    text.dispatchEvent(new Event("input"));
    showWrite(form);
  }

  async function startEdit(li) {
    note(li, "");
    try {
      var c = await api("GET", "/comments/" + li.dataset.id + "?replies=0");
      var form = makeForm("edit", li);
      $(".cz-text", form).value = c.body || "";
      $(".cz-text", form).dispatchEvent(new Event("input"));
      openSlot(li, form);
      part(li, ".c-body").hidden = true;
    } catch (err) {
      note(li, explain(err));
    }
  }

  function saveEdit(form, li) {
    var problem = checkBody(form);
    if (problem) { say($(".cz-error", form), problem); return; }
    return busy(form, async function () {
      var c = await api("PATCH", "/comments/" + li.dataset.id, { body: $(".cz-text", form).value });
      var parent = li.parentElement.closest(".c");
      c.more_replies = moreOf(li).hidden ? 0 : c.more_replies;
      fill(li, c, parent ? parent.dataset.username : null);
      decorate(li);
      closeSlot(li, true);
      if (c.status === "pending") note(li, t("pending_note"));
      if (c.status === "rejected") note(li, t("rejected"));
      refreshCount();
    });
  }

  function showWrite(form) {
    $(".cz-text", form).hidden = false;
    $(".cz-preview", form).hidden = true;
    $("[data-act=write]", form).setAttribute("aria-pressed", "true");
    $("[data-act=preview]", form).setAttribute("aria-pressed", "false");
  }

  async function showPreview(form) {
    var preview = $(".cz-preview", form);
    var problem = checkBody(form);
    if (problem) { say($(".cz-error", form), problem); return; }
    await busy(form, async function () {
      var data = await api("POST", "/preview", { body: $(".cz-text", form).value });
      preview.innerHTML = data.body_html;  // sanitized by the server
      for (var a = preview.querySelectorAll("a"), i = 0; i < a.length; i++) a[i].target = "_blank";
      $(".cz-text", form).hidden = true;
      preview.hidden = false;
      $("[data-act=write]", form).setAttribute("aria-pressed", "false");
      $("[data-act=preview]", form).setAttribute("aria-pressed", "true");
    });
  }

  function openSlot(li, content) {
    closeSlot(li);
    slot(li).appendChild(content);
    focusable($("textarea", content) || $("input", content) || $("[data-act=cancel]", content));
  }

  function closeSlot(li, done) {
    var place = slot(li);
    var had = !!place.firstChild;
    place.textContent = "";
    part(li, ".c-body").hidden = false;
    if (had && !done) focusable(part(li, "[data-act=reply]"));
  }

  function note(li, text) { say(part(li, ".c-msg"), text); }

  function needLogin(li, what) {
    note(li, t(what));
    var auth = $(".cz-auth");
    if (!auth.hidden) focusable($("input:not([type=hidden])", auth.querySelector("form:not([hidden])")));
  }

  // -- actions on a comment ------------------------------------------------------------------

  async function vote(li, value) {
    if (!state.user) return needLogin(li, "login_to_vote");
    var next = +li.dataset.vote === value ? 0 : value;
    try {
      showVotes(li, await api("PUT", "/comments/" + li.dataset.id + "/vote", { value: next }));
      note(li, "");
    } catch (err) {
      note(li, explain(err));
    }
  }

  function openFlag(li) {
    if (!state.user) return needLogin(li, "login_to_flag");
    var form = fromTemplate("tpl-flag");
    var noteId = "cz-note-" + (++formCount);
    $$("input[type=radio]", form).forEach(function (r) { r.name = "reason-" + li.dataset.id; });
    $(".cz-label", form).htmlFor = noteId;
    $(".cz-note", form).id = noteId;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var chosen = $("input[type=radio]:checked", form);
      if (!chosen) { say($(".cz-error", form), t("error_reason")); return; }
      form.dataset.conflict = "flag_already";
      busy(form, async function () {
        var text = $(".cz-note", form).value.trim();
        await api("POST", "/comments/" + li.dataset.id + "/flags",
          text ? { reason: chosen.value, note: text } : { reason: chosen.value });
        li.dataset.flagged = "1";
        closeSlot(li, true);
        decorate(li);
        note(li, t("flag_thanks"));
        focusable(part(li, "[data-act=reply]"));
      });
    });
    form.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); closeSlot(li); }
    });
    openSlot(li, form);
  }

  async function remove(li) {
    try {
      await api("DELETE", "/comments/" + li.dataset.id);
    } catch (err) {
      closeSlot(li, true);
      note(li, explain(err));
      return;
    }
    var parent = li.parentElement.closest(".c");
    if (repliesOf(li).firstElementChild) {
      fill(li, { id: li.dataset.id, depth: +li.dataset.depth, author: null, deleted: true, status: "deleted",
                 created_at: li.dataset.created, score: 0, my_vote: 0, reply_count: +li.dataset.replies,
                 more_replies: 0 }, parent ? parent.dataset.username : null);
      closeSlot(li, true);
      decorate(li);
    } else {
      if (parent) parent.dataset.replies = Math.max(0, +parent.dataset.replies - 1);
      li.remove();
      $(".cz-empty").hidden = !!list.firstElementChild;
    }
    status(t("deleted_note"));
    refreshCount();
  }

  // -- logging in inside the frame ------------------------------------------------------------

  function formData(form) {
    var data = {};
    $$("input", form).forEach(function (input) {
      if (input.type === "checkbox") data[input.name] = input.checked;
      else if (input.value.trim() || input.type === "password") data[input.name] = input.type === "password" ? input.value : input.value.trim();
    });
    return data;
  }

  function markFields(form, fields) {
    $$("input", form).forEach(function (input) {
      if (fields && fields[input.name]) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    });
  }

  function authForm(form, path) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      markFields(form, null);
      busy(form, async function () {
        var data;
        try {
          data = await api("POST", path, formData(form));
        } catch (err) {
          markFields(form, err.error && err.error.fields);
          if (err.status === 401) err.message = t("error_credentials");
          if (err.status === 409) err.message = t("error_taken");
          throw err;
        }
        form.reset();
        state.csrf = data.csrf_token;
        remembered(null);
        setUser(data.user, true);
        focusable($(".cz-compose .cz-text"));
      });
    });
  }

  async function logout() {
    try {
      await api("POST", "/auth/logout");
      remembered(null);
      await whoAmI();
    } catch (err) {
      status(explain(err));
      return;
    }
    setUser(null, true);
    focusable($(".cz-login input"));
  }

  function switchAuth(showRegister) {
    $(".cz-login").hidden = showRegister;
    $(".cz-register").hidden = !showRegister;
    $("[data-act=show-login]").setAttribute("aria-pressed", String(!showRegister));
    $("[data-act=show-register]").setAttribute("aria-pressed", String(showRegister));
    focusable($("input", showRegister ? $(".cz-register") : $(".cz-login")));
  }

  // -- wiring -----------------------------------------------------------------------------------

  function onClick(event) {
    var button = event.target.closest("[data-act]");
    if (!button || button.disabled) return;
    var act = button.dataset.act;
    var li = button.closest(".c");
    var form = button.closest("form");
    switch (act) {
      case "up": return vote(li, 1);
      case "down": return vote(li, -1);
      case "reply":
        if (!state.user) return needLogin(li, "login_to_reply");
        return openSlot(li, makeForm("reply", li));
      case "edit": return startEdit(li);
      case "delete": return openSlot(li, fromTemplate("tpl-confirm"));
      case "confirm-delete": return remove(li);
      case "flag": return openFlag(li);
      case "cancel": return li ? closeSlot(li) : null;
      case "more": return moreReplies(li, button);
      case "load-more": return loadThread(true);
      case "write": return showWrite(form);
      case "preview": return showPreview(form);
      case "logout": return logout();
      case "show-login": return switchAuth(false);
      case "show-register": return switchAuth(true);
    }
  }

  function boot() {
    root.classList.remove("no-js");
    doc.addEventListener("click", onClick);
    $("#cz-sort").addEventListener("change", function (event) {
      state.sort = event.target.value;
      loadThread(false);
    });
    authForm($(".cz-login"), "/auth/login");
    authForm($(".cz-register"), "/auth/register");
    tick();
    setInterval(tick, 60000);
    watchHeight();
    booted = whoAmI().then(function (user) { setUser(user, false); }, function (err) {
      setUser(null, false);
      status(explain(err));
    });
    booted.then(function () { tell("ready", {}); });
    tell("count", { count: state.total });
  }

  boot();
}());
