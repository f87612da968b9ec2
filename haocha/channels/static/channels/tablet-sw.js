/* Service worker of the window tablet (scope /tablet/). A tablet that restarts while the network or the
   server is down still opens its rating page: from the offline copy that the page, once loaded online,
   asked this worker to keep (the server renders that copy without the staff on duty and the case being
   served, which it cannot know offline). Ratings pressed meanwhile wait in localStorage (tablet.js) and
   are delivered once the server answers, as after any network loss.
   The page and its static files: the network first; the kept copy when the network fails, answers 5xx
   (the proxy in front of a server that is down) or takes over 5 s; without a kept copy, whatever the
   network answers, whenever it does. Everything else (the duty state, the ratings): the network only. */
"use strict";

var CACHE = "haocha-tablet-1";
var NETWORK_MS = 5000;

function isTabletPage(url) { return /^\/tablet\/[^/]+\/$/.test(url.pathname); }
function isStatic(url) { return url.pathname.indexOf("/static/") === 0; }

function respond(request, key) {
  var network = fetch(request);
  var copy = caches.open(CACHE).then(function (cache) { return cache.match(key); },
                                     function () { return undefined; });
  var good = network.then(function (r) {
    if (r.status >= 500) throw new Error("HTTP " + r.status);
    return { answer: r };
  }).catch(function () { return {}; });
  var slow = new Promise(function (resolve) { setTimeout(function () { resolve({}); }, NETWORK_MS); });
  return Promise.race([good, slow]).then(function (first) {
    if (first.answer) return first.answer;
    return copy.then(function (hit) { return hit || network; });
  });
}

self.addEventListener("install", function () { self.skipWaiting(); });

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) {
      return n.indexOf("haocha-tablet-") === 0 && n !== CACHE;
    }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

/* {type: "keep", page: "/tablet/<window>/", assets: [static file URLs]} from a page loaded online. */
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "keep") return;
  var page = new URL(data.page, self.location.origin);
  if (page.origin !== self.location.origin || !isTabletPage(page)) return;
  var copy = new URL(page.href);
  copy.search = "?copy=offline";
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return fetch(copy.href, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (!r.ok || r.redirected) throw new Error("offline copy: HTTP " + r.status);
      return cache.put(page.origin + page.pathname, r);  /* the key a navigation asks for */
    }).then(function () {
      return Promise.all((data.assets || []).map(function (a) {
        var u = new URL(a, self.location.origin);
        return u.origin === self.location.origin && isStatic(u) ? cache.add(u.href) : null;
      }));
    }).then(function () {
      if (event.source) event.source.postMessage({ type: "kept", page: page.pathname });
    });
  }).catch(function () { /* not kept this time: the next page load tries again */ }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var page = request.mode === "navigate" && isTabletPage(url);
  if (!page && !isStatic(url)) return;
  event.respondWith(respond(request, page ? url.origin + url.pathname : request));
});
