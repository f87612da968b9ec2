// Runs the tablet's service worker (argv[2]) with a fake network and cache, and prints, as JSON, what it
// answers in each situation (tests/test_tablet_service_worker.py).
const fs = require("fs"), vm = require("vm");
const src = fs.readFileSync(process.argv[2], "utf8");
const ORIGIN = "https://tablet.example";
const store = new Map([[ORIGIN + "/tablet/A01/", "offline copy"], [ORIGIN + "/static/kept.js", "kept js"]]);
let networkImpl;
const listeners = {};
const ctx = {
  self: { location: new URL(ORIGIN + "/tablet/sw.js"), addEventListener: (t, f) => (listeners[t] = f),
          skipWaiting() {}, clients: { claim: async () => {} } },
  caches: { open: async () => ({ match: async (k) => { const key = typeof k === "string" ? k : k.url;
    return store.has(key) ? new Response(store.get(key), { status: 200 }) : undefined; } }), keys: async () => [] },
  fetch: (r) => networkImpl(r), setTimeout, clearTimeout, URL, Response, Promise, Error,
};
vm.createContext(ctx);
vm.runInContext(src, ctx);
ctx.NETWORK_MS = 200; // the worker's wait for the network, scaled down; "slow" below is 300 ms
function dispatch(url, mode) {
  return new Promise((resolve) => {
    let responded = false;
    listeners.fetch({ request: { method: "GET", url, mode }, respondWith: (p) => { responded = true;
      const t0 = Date.now();
      p.then(async (r) => resolve({ status: r.status, body: await r.text(), ms: Date.now() - t0 }),
             (e) => resolve({ error: e.message, ms: Date.now() - t0 })); } });
    if (!responded) resolve({ network_only: true });
  });
}
const later = (ms, v, fail) => () => new Promise((ok, no) => setTimeout(() => (fail ? no(new Error(v)) : ok(new Response(v, { status: 200 }))), ms));
(async () => {
  const cases = [
    ["page, server up", "/tablet/A01/", "navigate", async () => new Response("live page", { status: 200 })],
    ["page, device stopped (403)", "/tablet/A01/", "navigate", async () => new Response("403", { status: 403 })],
    ["page, proxy 502", "/tablet/A01/", "navigate", async () => new Response("502", { status: 502 })],
    ["page, refused", "/tablet/A01/", "navigate", async () => { throw new Error("refused"); }],
    ["page, slow, kept", "/tablet/A01/", "navigate", later(300, "late page")],
    ["page of another window, 502, none kept", "/tablet/B02/", "navigate", async () => new Response("502", { status: 502 })],
    ["static, not kept, slow", "/static/new.js", "no-cors", later(300, "late js")],
    ["static, not kept, refused", "/static/new.js", "no-cors", async () => { throw new Error("refused"); }],
    ["static, kept, 503", "/static/kept.js", "no-cors", async () => new Response("503", { status: 503 })],
    ["state poll", "/tablet/A01/state", "cors", async () => new Response("{}", { status: 200 })],
  ];
  const out = {};
  for (const [name, path, mode, impl] of cases) {
    networkImpl = impl;
    out[name] = await dispatch(ORIGIN + path, mode);
  }
  console.log(JSON.stringify(out));
  process.exit(0);
})();
