/* Chat widget for intranet pages: one <script src=".../widget.js" defer data-…> line adds a floating button
   that opens the chat in a panel (an iframe to the embed mode of the chat). No dependencies.
   data-lang="ru|en", data-title, data-position="right|left", data-color, data-text-color, data-token, data-open="true". */
(function () {
  "use strict";
  var TEXTS = /*TEXTS*/{};
  var script = document.currentScript;
  if (!script || window.ragWidget) return;
  var opts = script.dataset;
  var base = script.src.replace(/\/widget\.js([?#].*)?$/, "");
  var lang = TEXTS[opts.lang] ? opts.lang : "ru";
  var t = TEXTS[lang];

  function color(value, fallback) {
    return value && window.CSS && CSS.supports("color", value) ? value : fallback;
  }

  function el(tag, attrs, parent) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }

  var CHAT_ICON = "M4 5h16v11H9l-5 4z", CLOSE_ICON = "M6 6l12 12M18 6L6 18";

  function icon(parent, path) {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    var p = document.createElementNS("http://www.w3.org/2000/svg", "path");
    p.setAttribute("d", path);
    svg.appendChild(p);
    parent.appendChild(svg);
    return p;
  }

  // Before the iframe loads: is this page's origin allowed, and is the token right? Otherwise the panel would
  // show the browser's own English "refused to connect" or a page meant for people with a link.
  function check(done) {
    var headers = opts.token ? { "X-Access-Token": opts.token } : {};
    fetch(base + "/api/widget", { headers: headers, credentials: "omit" }).then(function (r) {
      done(r.ok ? null : r.status === 401 ? t.widget_no_token : t.widget_not_allowed);
    }, function () { done(t.widget_not_allowed); });
  }

  function start() {
    var host = el("div", { id: "rag-widget" }, document.body);
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    var css = el("link", { rel: "stylesheet", href: base + "/rag-static/widget.css" }, root);
    var box = el("div", { class: "box " + (opts.position === "left" ? "left" : "right") }, root);
    box.style.visibility = "hidden";  // until its stylesheet is in: no flash of an unstyled button
    css.addEventListener("load", function () { box.style.visibility = ""; });
    box.style.setProperty("--rag-color", color(opts.color, "#2563eb"));
    box.style.setProperty("--rag-text", color(opts.textColor, "#ffffff"));

    var title = opts.title || t.title;
    var panel = el("div", { class: "panel", role: "dialog", "aria-label": title, hidden: "" }, box);
    var head = el("div", { class: "head" }, panel);
    el("span", { class: "title" }, head).textContent = title;
    var close = el("button", { class: "close", type: "button", "aria-label": t.widget_close, title: t.widget_close }, head);
    icon(close, CLOSE_ICON);
    var button = el("button", { class: "open", type: "button", "aria-label": t.widget_open, title: t.widget_open, "aria-expanded": "false" }, box);
    var launcherIcon = icon(button, CHAT_ICON);

    var frame = null, notice = null;
    function load() {
      check(function (problem) {
        if (problem) {
          notice = el("p", { class: "notice", role: "alert", tabindex: "-1" }, panel);
          notice.textContent = problem;
          if (!panel.hidden) notice.focus();
          return;
        }
        var src = base + "/embed/" + lang + "/" + (opts.token ? "?token=" + encodeURIComponent(opts.token) : "");
        frame = el("iframe", { src: src, title: title, allow: "clipboard-write" }, panel);
        if (!panel.hidden) frame.focus();
      });
    }
    function toggle(open) {
      if (open && !frame && !notice) load();
      panel.hidden = !open;
      box.classList.toggle("is-open", open);
      button.setAttribute("aria-expanded", String(open));
      var label = open ? t.widget_close : t.widget_open;
      button.setAttribute("aria-label", label);
      button.title = label;
      launcherIcon.setAttribute("d", open ? CLOSE_ICON : CHAT_ICON);
      var inside = frame || notice;
      (open ? inside || close : button).focus();
    }
    button.addEventListener("click", function () { toggle(panel.hidden); });
    close.addEventListener("click", function () { toggle(false); });
    document.addEventListener("keydown", function (e) { if (e.key === "Escape" && !panel.hidden) toggle(false); });
    // Escape pressed inside the chat (the iframe has the keyboard): the chat page tells us.
    window.addEventListener("message", function (e) {
      if (frame && e.source === frame.contentWindow && e.data && e.data.type === "rag-widget-close" && !panel.hidden) toggle(false);
    });
    window.ragWidget = { open: function () { toggle(true); }, close: function () { toggle(false); } };
    if (opts.open === "true") toggle(true);
  }

  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
