/* Window tablet (评价器): five big buttons, reasons after a 差评, thanks, back to the start.
   Every rating is kept in localStorage with its own key until the server has confirmed it, and resent
   (same key) after a network loss: the server stores it exactly once. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("tablet-config").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var STORE = "haocha.tablet.pending." + cfg.window;
  var LAST = "haocha.tablet.last." + cfg.window;
  var $ = function (id) { return document.getElementById(id); };
  var screens = ["screen-start", "screen-reasons", "screen-thanks"];
  var state = cfg.state;
  var chosen = null, selected = [], timers = {}, sending = false, retryDelay = 2000, sent = 0, notice = "";
  var currentKey = null, blocked = "";

  function newKey() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function load() { try { return JSON.parse(localStorage.getItem(STORE) || "[]"); } catch (e) { return []; } }
  function save(queue) { localStorage.setItem(STORE, JSON.stringify(queue)); renderSync(); }
  function show(id) { screens.forEach(function (s) { $(s).hidden = s !== id; }); }
  function clear(name) { if (timers[name]) { clearTimeout(timers[name]); timers[name] = null; } }

  function renderSync(offline) {
    var n = load().length, el = $("sync");
    el.dataset.pending = String(n);
    el.dataset.sent = String(sent);
    el.className = "t-sync" + (blocked ? " blocked" : (n && offline ? " offline" : ""));
    if (blocked) el.textContent = blocked;
    else if (n) el.textContent = (offline ? "网络连接中断，" : "正在发送，") + n + " 条评价待发送，恢复后将自动送达";
    else el.textContent = notice || (sent ? "评价已全部送达" : "评价器已就绪");
  }

  function renderState() {
    var box = $("t-staff"), s = state.staff;
    box.textContent = "";
    if (s) {
      var photo = document.createElement("div");
      photo.className = "t-photo";
      if (s.photo) {
        var img = document.createElement("img"); img.src = s.photo; img.alt = s.name; photo.appendChild(img);
      } else {
        var ns = "http://www.w3.org/2000/svg", svg = document.createElementNS(ns, "svg");
        svg.setAttribute("viewBox", "0 0 100 100"); svg.setAttribute("class", "initials");
        var c = document.createElementNS(ns, "circle");
        c.setAttribute("cx", "50"); c.setAttribute("cy", "50"); c.setAttribute("r", "50"); c.setAttribute("fill", "#1e4d8c");
        var t = document.createElementNS(ns, "text");
        t.setAttribute("x", "50"); t.setAttribute("y", "50"); t.setAttribute("dy", ".35em");
        t.setAttribute("text-anchor", "middle"); t.setAttribute("font-size", "48"); t.setAttribute("fill", "#fff");
        t.textContent = s.initial;
        svg.appendChild(c); svg.appendChild(t); photo.appendChild(svg);
      }
      box.appendChild(photo);
    }
    var person = document.createElement("div"); person.className = "t-person";
    var name = document.createElement("div"); name.id = "t-staff-name";
    name.className = "t-name" + (s ? "" : " t-empty");
    name.textContent = s ? s.name : (state.offline_copy ? "网络恢复后显示上岗人员" : "暂无工作人员上岗");
    person.appendChild(name);
    if (s) {
      var no = document.createElement("div"); no.className = "t-no";
      no.appendChild(document.createTextNode("工号 "));
      var span = document.createElement("span"); span.id = "t-staff-no"; span.textContent = s.staff_no;
      no.appendChild(span);
      if (s.title) no.appendChild(document.createTextNode(" · " + s.title));
      person.appendChild(no);
    }
    box.appendChild(person);
    var kase = document.createElement("div"); kase.className = "t-case"; kase.id = "t-case";
    if (state.case) {
      kase.appendChild(document.createTextNode("正在办理："));
      var b = document.createElement("b"); b.textContent = state.case.item; kase.appendChild(b);
      kase.appendChild(document.createElement("br"));
      kase.appendChild(document.createTextNode("申请人 " + state.case.applicant));
    } else {
      kase.textContent = "本次服务评价（一次一评）";
    }
    box.appendChild(kase);
  }

  function refreshState() {
    if (!$("screen-start").hidden) {
      fetch(cfg.stateUrl, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) {
          if (r.ok) return r.json();
          if (r.status === 403) {  /* the device was stopped: say so (pending ratings stay kept) */
            return r.json().then(function (e) { blocked = e.message; renderSync(); return null; });
          }
          throw new Error(String(r.status));
        })
        .then(function (data) { if (data) { blocked = ""; state = data; renderState(); renderSync(); } })
        .catch(function () { renderSync(true); });
    }
  }

  /* The minimum interval between two ratings on this device, shown as a countdown. */
  function waitLeft() {
    var last = parseInt(localStorage.getItem(LAST) || "0", 10);
    return Math.max(0, Math.ceil((last + (state.interval_seconds || 0) * 1000 - Date.now()) / 1000));
  }
  function renderWait() {
    clear("wait");
    var left = waitLeft(), w = $("t-wait");
    document.querySelectorAll(".level").forEach(function (b) { b.disabled = left > 0; });
    if (left > 0) {
      w.hidden = false;
      w.textContent = "请稍候 " + left + " 秒后再评价";
      timers.wait = setTimeout(renderWait, 1000);
    } else {
      w.hidden = true;
    }
  }

  function start() {
    chosen = null; selected = []; currentKey = null;
    $("t-comment").value = "";
    $("t-reason-error").hidden = true;
    clear("idle"); clear("back");
    show("screen-start");
    renderWait();
    refreshState();
  }

  function choose(level) {
    if (waitLeft() > 0) { renderWait(); return; }
    chosen = level;
    if (cfg.badLevels.indexOf(level) >= 0) {
      var box = $("t-reasons");
      box.textContent = "";
      (cfg.reasons[level] || []).forEach(function (pair) {
        var b = document.createElement("button");
        b.type = "button"; b.className = "reason"; b.dataset.code = pair[0];
        b.setAttribute("aria-pressed", "false"); b.textContent = pair[1];
        b.addEventListener("click", function () {
          var on = b.getAttribute("aria-pressed") !== "true";
          b.setAttribute("aria-pressed", on ? "true" : "false");
          selected = on ? selected.concat([pair[0]]) : selected.filter(function (c) { return c !== pair[0]; });
          idle();
        });
        box.appendChild(b);
      });
      show("screen-reasons");
      idle();
    } else {
      record([], "");
    }
  }

  function idle() {
    $("t-reason-error").hidden = true;
    clear("idle");
    timers.idle = setTimeout(start, cfg.idleSeconds * 1000);
  }

  function record(reasons, comment) {
    var item = {
      key: newKey(), level: chosen, reasons: reasons, comment: comment, pressed: Date.now(),
      case_no: state.case ? state.case.case_no : ""
    };
    var queue = load(); queue.push(item); save(queue);
    localStorage.setItem(LAST, String(item.pressed));
    currentKey = item.key;
    thanks();
    flush();
  }

  function thanks() {
    clear("idle");
    $("t-thanks-title").textContent = "感谢您的评价！";
    $("t-thanks-text").textContent = "您的意见是我们改进服务的动力";
    show("screen-thanks");
    var left = cfg.thanksSeconds;
    (function tick() {
      $("t-countdown").textContent = left + " 秒后返回";
      if (left-- <= 0) { start(); return; }
      timers.back = setTimeout(tick, 1000);
    })();
  }

  function refused(item, message) {
    if (item.key === currentKey && !$("screen-thanks").hidden) {
      $("t-thanks-title").textContent = "未能受理本次评价";
      $("t-thanks-text").textContent = message;
    }
    notice = "有一条评价未被受理：" + message;
  }

  function drop(key) { save(load().filter(function (i) { return i.key !== key; })); }

  function flush() {
    if (sending) return;
    var queue = load();
    if (!queue.length) { renderSync(false); return; }
    sending = true;
    var item = queue[0];
    var body = {
      key: item.key, level: item.level, reasons: item.reasons, comment: item.comment,
      age_ms: Math.max(0, Date.now() - item.pressed), case_no: item.case_no
    };
    fetch(cfg.submitUrl, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (data) { return { status: r.status, data: data }; },
                           function () { return { status: r.status, data: null }; });
    }).then(function (res) {
      sending = false;
      if (res.status === 200 || res.status === 201) {
        sent += 1; notice = ""; blocked = ""; retryDelay = 2000;
        drop(item.key);
        flush();
      } else if (res.data && res.status === 403 && res.data.code === "device_not_registered") {
        blocked = res.data.message;  /* kept: delivered once the device is activated again */
        renderSync(); later(30000);
      } else if (res.data && res.status >= 400 && res.status < 500) {
        drop(item.key); refused(item, res.data.message);
        flush();
      } else {
        renderSync(true); later();
      }
    }).catch(function () {
      sending = false; renderSync(true); later();
    });
  }

  function later(ms) {
    clear("retry");
    timers.retry = setTimeout(flush, ms || retryDelay);
    retryDelay = Math.min(retryDelay * 2, 10000);
  }

  document.querySelectorAll(".level").forEach(function (b) {
    b.addEventListener("click", function () { choose(b.dataset.level); });
  });
  $("t-cancel").addEventListener("click", start);
  $("t-comment").addEventListener("input", idle);
  $("t-submit").addEventListener("click", function () {
    var comment = $("t-comment").value.trim();
    if (!selected.length && !comment) { $("t-reason-error").hidden = false; return; }
    record(selected.slice(), comment);
  });
  window.addEventListener("online", flush);
  document.addEventListener("contextmenu", function (e) { e.preventDefault(); });
  setInterval(refreshState, 15000);
  setInterval(function () { if (!sending && load().length) flush(); }, 5000);
  renderState();
  start();
  flush();

  /* Keep an offline copy of this page and its files in the service worker (tablet-sw.js), so that the
     tablet opens even when it restarts during an outage. Browsers allow service workers on HTTPS and on
     localhost only; elsewhere the tablet works as before, without the copy. */
  if ("serviceWorker" in navigator && !state.offline_copy) {
    navigator.serviceWorker.addEventListener("message", function (e) {
      if (e.data && e.data.type === "kept") document.body.dataset.offlineCopy = "kept";
    });
    navigator.serviceWorker.register(cfg.serviceWorkerUrl, { scope: "/tablet/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      var files = document.querySelectorAll("link[rel=stylesheet][href], script[src]");
      reg.active.postMessage({
        type: "keep", page: location.pathname,
        assets: Array.prototype.map.call(files, function (el) { return el.href || el.src; })
      });
    }).catch(function () { /* no offline copy: the tablet still works online */ });
  }
})();
