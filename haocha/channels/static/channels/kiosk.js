/* Self-service terminal (自助服务终端) as a kiosk; the contract is in docs/terminal.md.
   - On-screen keypad: types into the field last touched among those with data-keypad ("caseno", "idno",
     "digits"); the fields have inputmode="none", so the system keyboard stays away. Plain forms: the server
     validates what is sent exactly as when it is typed.
   - QR scanner: a USB/HID scanner types the code and Enter. Keystrokes go to the hidden scan field whatever
     has the focus (the comment box excepted), and Enter sends it to /terminal/scan/, which checks the signature.
   - Inactivity: after data-idle-seconds without a touch (counting down on screen for the last
     data-countdown-seconds) the page posts to data-reset-url, which clears the session, and opens the start.
   - ID-card reader: window.haochaIdCard(name, idNumber), the "haocha:idcard" event, or a local reader agent
     polled at data-idcard-agent; the number goes through the same form as a typed one (an SMS code follows). */
(function () {
  "use strict";
  var body = document.body;
  if (!body || !body.classList.contains("terminal")) return;
  var data = body.dataset;
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };

  function csrfToken() {
    var input = document.querySelector("#kiosk-reset input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* ---- Inactivity timeout ---- */
  var idle = Math.max(1, parseInt(data.idleSeconds, 10) || 60);
  var countdown = Math.min(idle, Math.max(0, parseInt(data.countdownSeconds, 10) || 10));
  var inline = data.countdownInline === "1"; // the thanks page shows its own countdown
  var overlay = document.getElementById("kiosk-timeout");
  var overlayLeft = document.getElementById("kiosk-left");
  var scan = document.getElementById("scan-input");
  var last = Date.now();
  var leaving = false;

  // While the citizen is touching the page (a long comment, say), the server keeps their session too:
  // at most every 30 s a touch posts to data-alive-url.
  var pinged = Date.now();
  function keepAlive() {
    if (!data.aliveUrl || !window.fetch || Date.now() - pinged < 30000) return;
    pinged = Date.now();
    fetch(data.aliveUrl, {
      method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() }
    }).catch(function () {});
  }

  function activity() {
    last = Date.now();
    if (overlay && !overlay.hidden) overlay.hidden = true;
    keepAlive();
  }
  ["pointerdown", "touchstart", "keydown", "input", "wheel"].forEach(function (type) {
    document.addEventListener(type, activity, true);
  });

  // Anything of a citizen's on this page? An untouched start page is not reloaded every minute.
  function dirty() {
    if (!body.classList.contains("k-start") || !body.classList.contains("k-clean")) return true;
    return Array.prototype.some.call(document.querySelectorAll("input[data-keypad]"), function (i) {
      return i.value !== "";
    });
  }

  function leave() {
    if (leaving) return;
    leaving = true;
    var gone = false;
    var go = function () {
      if (gone) return;
      gone = true;
      window.location.replace(data.startUrl || "/terminal/");
    };
    setTimeout(go, 3000); // no answer from the server: the start page still drops the case session
    if (!window.fetch) { document.getElementById("kiosk-reset").submit(); return; }
    fetch(data.resetUrl, {
      method: "POST", credentials: "same-origin", redirect: "manual", headers: { "X-CSRFToken": csrfToken() }
    }).then(go, go);
  }

  function tick() {
    if (leaving) return;
    var left = idle - (Date.now() - last) / 1000;
    if (!inline && !dirty()) {
      if (left <= 0) { last = Date.now(); if (scan) scan.value = ""; }
      return;
    }
    var seconds = Math.max(0, Math.ceil(left));
    each(document.querySelectorAll("[data-kiosk-left]"), function (el) { el.textContent = seconds; });
    if (left <= 0) { leave(); return; }
    if (!inline && overlay) {
      var show = left <= countdown;
      if (show && overlayLeft) overlayLeft.textContent = seconds;
      overlay.hidden = !show;
    }
  }
  setInterval(tick, 250);

  /* ---- On-screen keypad ---- */
  var keypad = document.getElementById("keypad");
  var fields = Array.prototype.slice.call(document.querySelectorAll("input[data-keypad]"));
  var allowed = { caseno: /^[0-9A-Z-]$/, idno: /^[0-9X]$/, digits: /^[0-9]$/ };
  var target = null;

  function labelOf(input) {
    if (input.dataset.label) return input.dataset.label;
    var label = input.id && document.querySelector("label[for='" + input.id + "']");
    return label ? label.textContent.trim() : "";
  }

  function choose(input) {
    if (!keypad || !input) return;
    if (target) target.classList.remove("kp-active");
    target = input;
    input.classList.add("kp-active");
    keypad.setAttribute("data-mode", input.dataset.keypad);
    var shown = document.getElementById("kp-for");
    if (shown) shown.textContent = labelOf(input);
  }

  function changed(el) { el.dispatchEvent(new Event("input", { bubbles: true })); }

  function range(el) {
    var start = el.selectionStart, end = el.selectionEnd;
    if (document.activeElement !== el || start === null || start === undefined) start = end = el.value.length;
    return [start, end];
  }

  function put(key) {
    var el = target;
    if (!el || !(allowed[el.dataset.keypad] || allowed.caseno).test(key)) return;
    var r = range(el);
    var max = el.maxLength > 0 ? el.maxLength : 1000;
    if (el.value.length - (r[1] - r[0]) + key.length > max) return;
    el.setRangeText(key, r[0], r[1], "end");
    changed(el);
  }

  function back() {
    var el = target;
    if (!el) return;
    var r = range(el);
    if (r[0] === r[1]) { if (r[0] === 0) return; r[0] -= 1; }
    el.setRangeText("", r[0], r[1], "end");
    changed(el);
  }

  // 确定: on to the next empty field of the form, or send the form.
  function enter() {
    var el = target;
    if (!el || !el.form) return;
    var form = el.form;
    var mine = fields.filter(function (f) { return f.form === form; });
    for (var i = mine.indexOf(el) + 1; i < mine.length; i++) {
      if (!mine[i].value) { choose(mine[i]); return; }
    }
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  if (keypad) {
    fields.forEach(function (input) { input.addEventListener("focus", function () { choose(input); }); });
    if (fields.length) choose(fields[0]);
    // A tap on a key must not take the focus (nor the caret) away from the field.
    keypad.addEventListener("mousedown", function (e) { e.preventDefault(); });
    keypad.addEventListener("click", function (e) {
      var key = e.target.closest(".key");
      if (!key) return;
      if (key.dataset.key) put(key.dataset.key);
      else if (key.dataset.action === "back") back();
      else if (key.dataset.action === "clear" && target) { target.value = ""; changed(target); }
      else if (key.dataset.action === "enter") enter();
    });
  }

  /* ---- QR scanner (keyboard wedge) ---- */
  var scanForm = document.getElementById("scan-form");
  var lastKey = 0;
  if (scan && scanForm) {
    scanForm.addEventListener("submit", function (e) {
      if (!scan.value.trim()) { e.preventDefault(); scan.value = ""; }
    });
    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing || e.key === "Process") return;
      var t = e.target;
      if (t && (t.tagName === "TEXTAREA" || t.isContentEditable)) return; // the comment takes the system keyboard
      var now = Date.now();
      if (now - lastKey > 1500) scan.value = ""; // a scanner types a whole code within a fraction of a second
      lastKey = now;
      if (t === scan) return; // typed into the scan field itself: Enter sends its form
      if (e.key === "Enter") {
        if (scan.value.trim()) { e.preventDefault(); scanForm.submit(); }
        return;
      }
      if (e.key.length === 1) { e.preventDefault(); scan.value += e.key; }
    }, true);
    // Focus nobody holds goes back to the scan field.
    document.addEventListener("focusout", function () {
      setTimeout(function () {
        var a = document.activeElement;
        if (!leaving && (!a || a === body || a === document.documentElement)) scan.focus({ preventScroll: true });
      }, 0);
    });
  }

  /* ---- ID-card reader ---- */
  var idForm = document.querySelector("form[data-idcard-form]");

  function maskName(name) {
    name = String(name || "").trim();
    return name ? name.charAt(0) + new Array(name.length).join("*") : "";
  }

  // The hook a reader driver calls: true when the number was taken (only on the start page, once).
  window.haochaIdCard = function (name, idNumber) {
    var field = idForm && idForm.querySelector("input[name=id_number]");
    var value = String(idNumber === null || idNumber === undefined ? "" : idNumber).replace(/\s+/g, "").toUpperCase();
    if (!field || !value || leaving) return false;
    var form = idForm;
    idForm = null;
    field.value = value; // not cut to the field's length: the server refuses a malformed number
    changed(field);
    activity();
    var note = document.getElementById("idcard-read");
    if (note) {
      note.textContent = "已读取身份证" + (name ? "（" + maskName(name) + "）" : "") + "，正在获取验证码…";
      note.hidden = false;
    }
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
    return true;
  };
  document.addEventListener("haocha:idcard", function (e) {
    var card = e.detail || {};
    window.haochaIdCard(card.name, card.idNumber || card.id_number);
  });

  var agent = data.idcardAgent;
  if (agent && idForm && window.fetch) {
    var busy = false;
    var poll = setInterval(function () {
      if (!idForm || leaving) { clearInterval(poll); return; }
      if (busy) return;
      busy = true;
      fetch(agent, { cache: "no-store", credentials: "omit" })
        .then(function (r) { return r.status === 200 ? r.json() : null; })
        .then(function (card) { if (card && card.id_number) window.haochaIdCard(card.name, card.id_number); })
        .catch(function () { /* no agent answering: the keypad still works */ })
        .then(function () { busy = false; });
    }, 1000);
  }
  body.dataset.kioskReady = "1"; // set up: keystrokes from a scanner are caught from now on (tests wait for it)
})();
