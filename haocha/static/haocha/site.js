// Site-wide: when an htmx request fails, say what happened where its answer would have gone. A 4xx answer
// is the server's own message (core/views.error_page) and is swapped in by htmx; this handles what the
// server could not answer itself (5xx, no connection, a time-out).
(function () {
  function show(evt, text) {
    var target = evt.detail.target || evt.detail.elt;
    if (!target) return;
    var box = document.createElement("div");
    box.className = "error";
    box.setAttribute("role", "alert");
    box.textContent = text;
    target.innerHTML = "";
    target.appendChild(box);
  }
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr.status < 500) return; // swapped in by htmx: the server's message
    var code = xhr.getResponseHeader("Retry-After") ? "数据库暂时无法访问" : "服务器内部错误，已记录";
    show(evt, "加载失败（" + xhr.status + "）：" + code + "，请稍后再试。");
  });
  document.addEventListener("htmx:sendError", function (evt) {
    show(evt, "无法连接服务器，请检查网络后再试。");
  });
  document.addEventListener("htmx:timeout", function (evt) {
    show(evt, "服务器响应超时，请稍后再试。");
  });
})();
