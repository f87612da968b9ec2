/* Citizen pages: show only the reasons of the levels chosen (all are shown without JavaScript). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  function update(form) {
    var chosen = {};
    form.querySelectorAll("input[type=radio]:checked").forEach(function (r) { chosen[r.value] = true; });
    form.querySelectorAll(".reason-group").forEach(function (g) {
      var on = !!chosen[g.dataset.level];
      g.hidden = !on;
      if (!on) g.querySelectorAll("input").forEach(function (i) { i.checked = false; });
    });
    var any = Object.keys(chosen).length > 0;
    var box = form.querySelector("fieldset.reasons");
    if (box) box.hidden = !any;
  }
  document.querySelectorAll("form.rate-form").forEach(function (form) {
    form.addEventListener("change", function (e) { if (e.target.type === "radio") update(form); });
    update(form);
    form.addEventListener("submit", function () {
      var b = form.querySelector("button[type=submit]");
      if (b) { setTimeout(function () { b.disabled = true; b.textContent = "正在提交…"; }, 0); }
    });
  });
  // 我的办件: a phone number brings up the phone keypad; an ID number (which may end in X) the full keyboard.
  document.querySelectorAll("input[data-inputmode-phone]").forEach(function (field) {
    var form = field.form;
    form.addEventListener("change", function (e) {
      if (e.target.name !== "kind") return;
      field.setAttribute("inputmode", field.dataset["inputmode" + (e.target.value === "phone" ? "Phone" : "Id")]);
      field.setAttribute("autocomplete", e.target.value === "phone" ? "tel" : "off");
    });
  });
})();
