/* Embeddable rating snippet for other platforms' case pages:
   <script src="https://<haocha>/static/channels/embed.js" data-link="https://<haocha>/r/<token>/"></script>
   It inserts an iframe showing the case's rating state with one-tap levels, and sizes it to its content. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.link) return;
  var src = script.dataset.link.replace("/r/", "/embed/");
  var frame = document.createElement("iframe");
  frame.src = src;
  frame.title = "办件评价";
  frame.style.cssText = "width:100%;max-width:560px;border:0;height:150px;display:block";
  frame.setAttribute("loading", "lazy");
  script.parentNode.insertBefore(frame, script.nextSibling);
  var origin = new URL(src, window.location.href).origin;
  window.addEventListener("message", function (e) {
    if (e.origin === origin && e.source === frame.contentWindow && e.data && e.data.haochaEmbedHeight) {
      frame.style.height = Math.min(600, e.data.haochaEmbedHeight + 4) + "px";
    }
  });
})();
