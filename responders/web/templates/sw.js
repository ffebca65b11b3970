// The volunteer app's service worker (issue 15), served at /app/sw.js with scope /app.
// - Keeps the app shell in a cache named after this deploy (the server writes VERSION and
//   SHELL in when it serves this file), so /app opens offline; navigations go to the network
//   first, the shell's files come from the cache first.
// - Keeps the last alert the page fetched (one copy, tied to the token that fetched it,
//   dropped on sign-out) to show it offline.
// - Shows Web Push messages as notifications and opens the alert when one is tapped; its
//   Accept / Decline buttons answer with the volunteer's token, which the page hands over.
/* eslint-env serviceworker */

const VERSION = "__EHBO_VERSION__";
const SHELL = ["__EHBO_SHELL__"];
const SHELL_CACHE = `ehbo-shell-${VERSION}`;
// Not part of the shell's version: a deploy keeps the volunteer's last alert.
const LAST_CACHE = "ehbo-last-alert";
const LAST_URL = "/app/last-alert"; // answered here only, never by the server
// Anonymous answers the page needs to start (states.js awaits /states), kept for offline.
const NETWORK_FIRST = new Set(["/states", "/map/config"]);
const KINDS = new Set(["alert", "stand_down", "no_longer_needed", "update"]);
const GENERIC = "Emergency alert: open the app";

// ---------- install, activate ----------

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    // Straight from the server: the HTTP cache may still hold the previous deploy's files.
    await cache.addAll(SHELL.map((url) => new Request(url, { cache: "reload" })));
    await cache.add(new Request("/states", { cache: "reload" })).catch(() => {});
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("ehbo-shell-") && name !== SHELL_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// ---------- fetch ----------

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    if (url.pathname === "/app") event.respondWith(navigation(request));
  } else if (url.pathname === LAST_URL) {
    event.respondWith(lastAlertAnswer(request));
  } else if (/^\/alerts\/\d+$/.test(url.pathname)) {
    event.respondWith(alertAnswer(request));
  } else if (NETWORK_FIRST.has(url.pathname)) {
    event.respondWith(networkFirst(request, request));
  } else if (url.pathname.startsWith("/static/") || url.pathname === "/app/manifest.webmanifest") {
    event.respondWith(cacheFirst(request));
  }
});

async function networkFirst(request, key) {
  const cache = await caches.open(SHELL_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(key, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(key, { ignoreSearch: true });
    if (cached) return cached;
    throw error;
  }
}

// The page itself: always the newest when online; the shell's copy of /app when not (the
// alert to open is in the fragment or ?alert=, which the page reads).
function navigation(request) {
  return networkFirst(request, "/app");
}

async function cacheFirst(request) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.type === "basic") await cache.put(request, response.clone());
  return response;
}

// ---------- the last alert ----------

// Who asked: a digest of the Authorization header, so a copy is only ever given back to the
// token that fetched it (never to someone else signing in on this phone).
async function who(request) {
  const header = request.headers.get("Authorization") || "";
  if (!header) return "";
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(header));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function readLast(owner) {
  if (!owner) return null;
  const cache = await caches.open(LAST_CACHE);
  const kept = await cache.match(LAST_URL);
  if (!kept) return null;
  const saved = await kept.json();
  return saved.owner === owner ? saved : null;
}

async function alertAnswer(request) {
  const owner = await who(request);
  try {
    const response = await fetch(request);
    if (response.ok && owner) {
      const alert = await response.clone().json();
      const saved = JSON.stringify({ owner, alert, saved_at: new Date().toISOString() });
      const cache = await caches.open(LAST_CACHE);
      await cache.put(LAST_URL, new Response(saved, { headers: { "Content-Type": "application/json" } }));
    }
    return response;
  } catch (error) {
    const saved = await readLast(owner);
    if (saved && `/alerts/${saved.alert.id}` === new URL(request.url).pathname) {
      return json(saved.alert, 200, { "X-Ehbo-Offline": "last-alert" });
    }
    throw error;
  }
}

async function lastAlertAnswer(request) {
  const saved = await readLast(await who(request));
  if (!saved) return json({ code: "not_found", detail: "No alert kept on this phone." }, 404);
  return json({ alert: saved.alert, saved_at: saved.saved_at }, 200);
}

function json(body, status, headers = {}) {
  return new Response(JSON.stringify(body), {
    status, headers: { "Content-Type": "application/json", ...headers },
  });
}

// ---------- the volunteer's token ----------

// In memory while this worker runs; in IndexedDB only when the volunteer ticked "Remember on
// this phone" (as the page keeps it in localStorage then).
let memoryToken = "";

function kv(mode, use) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open("ehbo-app", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("kv");
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction("kv", mode);
      const request = use(tx.objectStore("kv"));
      tx.oncomplete = () => { db.close(); resolve(request.result); };
      tx.onerror = () => { db.close(); reject(tx.error); };
    };
  });
}

async function token() {
  if (memoryToken) return memoryToken;
  return (await kv("readonly", (store) => store.get("token")).catch(() => "")) || "";
}

async function signedIn(data) {
  memoryToken = String(data.token || "");
  if (data.remember && memoryToken) await kv("readwrite", (store) => store.put(memoryToken, "token"));
  else await kv("readwrite", (store) => store.delete("token"));
}

async function signedOut() {
  memoryToken = "";
  await kv("readwrite", (store) => store.delete("token")).catch(() => {});
  await caches.delete(LAST_CACHE);
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "token") event.waitUntil(signedIn(data));
  else if (data.type === "signout") event.waitUntil(signedOut());
});

// ---------- push ----------

// The notification for a payload (contract: v, kind, alert_id, title, body, url, tag); a
// missing or garbled payload still rings, with a generic text.
function notice(data) {
  let payload = null;
  try {
    payload = data ? data.json() : null;
  } catch {
    payload = null;
  }
  if (!payload || typeof payload !== "object" || typeof payload.title !== "string") {
    return {
      title: GENERIC,
      options: {
        body: "Someone near you may need help.", tag: "ehbo-alert", renotify: true,
        requireInteraction: true, icon: "/static/icons/icon-192.png",
        data: { url: "/app#/alerts", alert_id: null, kind: "alert" },
      },
    };
  }
  const kind = KINDS.has(payload.kind) ? payload.kind : "update";
  const alertId = /^\d+$/.test(String(payload.alert_id)) ? String(payload.alert_id) : null;
  const options = {
    body: typeof payload.body === "string" ? payload.body : "",
    tag: typeof payload.tag === "string" && payload.tag ? payload.tag : `alert-${alertId || "new"}`,
    renotify: true,
    requireInteraction: kind === "alert",
    icon: "/static/icons/icon-192.png",
    data: { url: appUrl(payload.url, alertId), alert_id: alertId, kind },
  };
  if (kind === "alert") {
    options.vibrate = [400, 200, 400, 200, 400];
    if (alertId) options.actions = [{ action: "accept", title: "Accept" }, { action: "decline", title: "Decline" }];
  }
  return { title: payload.title.slice(0, 120) || GENERIC, options };
}

// Only a place in this app: a payload never sends the volunteer elsewhere.
function appUrl(given, alertId) {
  const fallback = alertId ? `/app#/alerts/${alertId}` : "/app#/alerts";
  try {
    const url = new URL(String(given), self.location.origin);
    if (url.origin === self.location.origin && url.pathname === "/app") return url.pathname + url.search + url.hash;
  } catch {
    // not a URL
  }
  return fallback;
}

async function appWindows() {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  return windows.filter((client) => new URL(client.url).pathname === "/app");
}

self.addEventListener("push", (event) => {
  event.waitUntil((async () => {
    const { title, options } = notice(event.data);
    await self.registration.showNotification(title, options);
    // An open app shows the alert at once, without waiting for its next poll.
    for (const client of await appWindows()) {
      client.postMessage({ type: "ehbo-push", kind: options.data.kind, alert_id: options.data.alert_id });
    }
  })());
});

// ---------- a tapped notification ----------

async function answer(alertId, action) {
  const bearer = await token();
  if (!bearer) return; // the alert screen opens: the volunteer answers there
  await fetch(`/alerts/${alertId}/${action}`, {
    method: "POST", headers: { Authorization: `Bearer ${bearer}`, Accept: "application/json" },
  }).catch(() => {});
}

async function openApp(url) {
  const [app] = await appWindows();
  if (!app) return self.clients.openWindow(url);
  app.postMessage({ type: "ehbo-open", url });
  // Focusing needs the tap's user activation: without one (a test) the window just navigates.
  await app.focus().catch(() => {});
  return app;
}

// Called by the notificationclick listener, and by tests (which cannot tap a notification).
self.ehboOpenFromNotification = async (notification, action = "") => {
  const data = notification.data || {};
  notification.close();
  if ((action === "accept" || action === "decline") && data.alert_id) await answer(data.alert_id, action);
  await openApp(data.url || "/app#/alerts");
  return data.url || "/app#/alerts";
};

self.addEventListener("notificationclick", (event) => {
  event.waitUntil(self.ehboOpenFromNotification(event.notification, event.action));
});

// ---------- a renewed subscription ----------

self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil((async () => {
    const old = event.oldSubscription;
    const key = old && old.options && old.options.applicationServerKey;
    const subscription = event.newSubscription
      || (key ? await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }) : null);
    const bearer = await token();
    if (!subscription || !bearer) return; // the page registers it on its next start
    const response = await fetch("/responders/me/devices", {
      method: "POST",
      headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ kind: "webpush", subscription: subscription.toJSON() }),
    });
    if (!response.ok) return;
    const device = await response.json();
    for (const client of await appWindows()) client.postMessage({ type: "ehbo-device", id: device.id });
  })());
});
