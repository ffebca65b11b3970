// The volunteer app as a phone app (issue 15): the service worker, the install prompt, Web
// Push (the "Turn on alerts" card on the alert list, saying plainly whether this phone rings
// while the app is closed, and why not), new alerts shown at once on every view, and the
// last alert when offline. app.js only imports this module and tells it about the alerts its
// list fetched (the "ehbo:alerts" event), so that nothing polls faster than the list does.
import { $, ApiError, KINDS, errorText, fmtAgo, h, makeApi, show, tokenStore } from "./common.js";
import { ALERT, INCIDENT } from "./states.js";

const store = tokenStore("app");
const api = makeApi(() => store.get());
const POLL_MS = 4000; // the alert list's own pace
// The id of the device this app registered for its pushes (me.js marks it "this phone").
export const DEVICE_KEY = "ehbo.app.device";
const ONLY_OPEN = "Alerts reach you only while this app is open: ";

// Why this phone cannot ring while the app is closed, and what to do about it.
const WHY = {
  unsupported: ["this browser has no push support.",
    "Use Chrome, Edge or Firefox on Android or a computer, or Safari on an iPhone with the app on the Home Screen. Until then keep this app open while you are available."],
  ios: ["on iPhone the app must be added to the Home Screen first.",
    "Add to Home Screen to receive alerts: tap the Share button, then “Add to Home Screen”, and open the app from its icon."],
  service_off: ["the service has Web Push switched off.",
    "Keep this app open while you are available, or ask your coordinator how alerts reach volunteers here."],
  blocked: ["notifications are blocked.",
    "Allow them in the browser's settings: tap the icon next to the address, then Permissions (Site settings) → Notifications → Allow, and reload the app. On Android also check Settings → Apps → your browser → Notifications."],
  not_asked: ["notifications are not turned on yet.",
    "Tap “Turn on alerts” and allow notifications."],
  refused: ["the browser's push service refused",
    "Check that the phone is online and the browser may use background data, then try again."],
  not_registered: ["the service did not accept this phone",
    "Try again in a moment. If it keeps failing, tell your coordinator."],
  offline: ["this phone is offline.",
    "Alerts can reach it again once it is back online; this card checks again then."],
  unreachable: ["the service could not be reached",
    "Check the phone's connection, then try again."],
};

let worker = null; // Promise of the registration, or null without service workers
let session = null; // the token the worker was last told about
let seen = null; // ids of the alerts this page has already shown or listed
let liveTimer = null;
let installPrompt = null;
let reachRun = 0; // a newer check makes an older one's answer moot

function announce(text) {
  $("#announce").textContent = text;
}

function isIos() {
  return /iPhone|iPad|iPod/.test(navigator.userAgent)
    || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
}

function standalone() {
  return navigator.standalone === true || window.matchMedia("(display-mode: standalone)").matches;
}

// ---------- the service worker ----------

function registerWorker() {
  if (!("serviceWorker" in navigator)) return null;
  navigator.serviceWorker.addEventListener("message", onWorkerMessage);
  navigator.serviceWorker.startMessages();
  const registered = navigator.serviceWorker.register("/app/sw.js", { scope: "/app" });
  registered.catch(() => {}); // the card says so when push is wanted
  return registered.then(() => navigator.serviceWorker.ready);
}

async function tellWorker(message) {
  if (!worker) return;
  try {
    const registration = await worker;
    if (registration.active) registration.active.postMessage(message);
  } catch {
    // no worker: nothing to tell
  }
}

function onWorkerMessage(event) {
  const data = event.data || {};
  if (data.type === "ehbo-push") {
    poll();
  } else if (data.type === "ehbo-open" && typeof data.url === "string") {
    const url = new URL(data.url, location.origin);
    if (url.origin !== location.origin) return;
    if (url.pathname === location.pathname && url.hash) location.hash = url.hash;
    else location.assign(url.pathname + url.search + url.hash);
  } else if (data.type === "ehbo-device" && data.id) {
    localStorage.setItem(DEVICE_KEY, String(data.id));
  }
}

// ---------- signed in or out ----------

// Runs on start and on every route change: sign-in, registration and sign-out all end in one.
function syncSession() {
  const token = store.get();
  if (token === session) return;
  const first = session === null;
  session = token;
  if (token) {
    tellWorker({ type: "token", token, remember: store.remembered() });
    seen = null;
    poll();
    checkReach();
    if (!navigator.onLine) showLastAlert();
  } else {
    if (!first) {
      tellWorker({ type: "signout" });
      unsubscribe();
    }
    clearTimeout(liveTimer);
    seen = null;
    show($("#new-alert"), false);
    show($("#offline-alert"), false);
  }
}

// ---------- reachability: Web Push ----------

function base64UrlBytes(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function sameKey(subscription, key) {
  const current = subscription.options && subscription.options.applicationServerKey;
  if (!current) return true;
  const a = new Uint8Array(current);
  const b = base64UrlBytes(key);
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function reachCard(state, detail = "") {
  const card = $("#reach");
  card.dataset.state = state;
  show(card, true);
  const button = $("#reach-button");
  if (state === "ready") {
    $("#reach-text").textContent = "This phone will ring for alerts, even when the app is closed.";
    $("#reach-how").textContent = "";
    show(button, false);
    return;
  }
  const [why, how] = WHY[state];
  $("#reach-text").textContent = ONLY_OPEN + (detail ? `${why} (${detail}).` : why);
  $("#reach-how").textContent = how;
  button.textContent = state === "not_asked" ? "Turn on alerts" : "Try again";
  show(button, ["not_asked", "refused", "not_registered", "unreachable"].includes(state));
}

// Where this phone stands; subscribes and registers it when notifications are allowed.
// Asking for the permission is left to the button (a gesture), never done on load.
async function reach() {
  if (isIos() && !standalone()) return ["ios"];
  if (!worker || !("PushManager" in window) || !("Notification" in window)) return ["unsupported"];
  if (!navigator.onLine) return ["offline"];
  let key;
  try {
    key = (await api("/push/key")).public_key;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return ["service_off"];
    return [error instanceof ApiError ? "not_registered" : "unreachable", errorText(error)];
  }
  if (Notification.permission === "denied") return ["blocked"];
  if (Notification.permission !== "granted") return ["not_asked"];
  let subscription;
  try {
    const registration = await worker;
    subscription = await registration.pushManager.getSubscription();
    if (subscription && !sameKey(subscription, key)) {
      await subscription.unsubscribe();
      subscription = null;
    }
    subscription = subscription || await registration.pushManager.subscribe({
      userVisibleOnly: true, applicationServerKey: base64UrlBytes(key),
    });
  } catch (error) {
    return ["refused", error.message || String(error)];
  }
  try {
    // Registering the same subscription again gives the same device: done on every start,
    // so a device the service dropped (the push service said 410) comes back.
    const device = await api("/responders/me/devices", {
      method: "POST", body: { kind: "webpush", subscription: subscription.toJSON() },
    });
    localStorage.setItem(DEVICE_KEY, String(device.id));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return ["not_registered", "sign in again"];
    return [error instanceof ApiError ? "not_registered" : "unreachable", errorText(error)];
  }
  return ["ready"];
}

// Signed out: this phone stops ringing for that volunteer (the push service then answers
// the service 410 for the old subscription, which removes the device).
async function unsubscribe() {
  localStorage.removeItem(DEVICE_KEY);
  if (!worker || !("PushManager" in window)) return;
  try {
    const subscription = await (await worker).pushManager.getSubscription();
    if (subscription) await subscription.unsubscribe();
  } catch {
    // nothing subscribed, or no worker
  }
}

async function checkReach() {
  const run = ++reachRun;
  const [state, detail] = await reach();
  if (run === reachRun && store.get()) reachCard(state, detail);
}

async function onTurnOn() {
  const button = $("#reach-button");
  button.disabled = true;
  try {
    // Asked straight from the tap, before anything else is awaited.
    if ("Notification" in window && Notification.permission === "default") await Notification.requestPermission();
    await checkReach();
  } finally {
    button.disabled = false;
  }
  if ($("#reach").dataset.state === "ready") announce("Alerts turned on: this phone will ring, even when the app is closed.");
}

// ---------- new alerts, live on every view ----------

function listVisible() {
  return !$("#view-list").hidden;
}

function isNew(a) {
  return ALERT.answerable.has(a.status) && INCIDENT.open.has(a.incident.status);
}

// Alerts the page learned of: the first answer only says what there is; later ones show a
// banner for each alert not seen before (the list shows them itself).
function noteAlerts(alerts, listed) {
  const fresh = seen ? alerts.filter((a) => !seen.has(a.id) && isNew(a)) : [];
  seen = new Set([...(seen || []), ...alerts.map((a) => a.id)]);
  const banner = $("#new-alert");
  const shown = Number(banner.dataset.alert);
  if (shown && !alerts.some((a) => a.id === shown && isNew(a))) show(banner, false);
  if (!fresh.length || listed) return;
  const newest = fresh.reduce((a, b) => (a.id > b.id ? a : b));
  if (location.hash === `#/alerts/${newest.id}`) return;
  const kind = KINDS[newest.incident.kind] || "Emergency";
  banner.dataset.alert = String(newest.id);
  $("#new-alert-text").textContent = `New alert: ${kind}`;
  $("#new-alert-open").setAttribute("href", `#/alerts/${newest.id}`);
  show(banner, true);
  announce(`New alert: ${kind}. Open it from the top of the screen.`);
}

async function poll() {
  clearTimeout(liveTimer);
  if (!store.get()) return;
  if (!listVisible()) {
    try {
      noteAlerts(await api("/alerts"), false);
    } catch {
      // Offline or signed out: the views say so; the next round tries again.
    }
  }
  liveTimer = setTimeout(poll, POLL_MS);
}

function onRoute() {
  syncSession();
  const banner = $("#new-alert");
  if (location.hash === `#/alerts/${banner.dataset.alert}`) show(banner, false);
  const offline = $("#offline-alert");
  if (!offline.hidden) show($("#offline-open"), location.hash !== `#/alerts/${offline.dataset.alert}`);
}

// ---------- offline: the last alert ----------

async function showLastAlert() {
  const card = $("#offline-alert");
  let kept;
  try {
    kept = await api("/app/last-alert"); // answered by the service worker from its copy
  } catch {
    kept = null;
  }
  if (!kept || navigator.onLine) return show(card, false);
  const a = kept.alert;
  card.dataset.alert = String(a.id);
  $("#offline-summary").replaceChildren(
    h("strong", {}, KINDS[a.incident.kind] || "Emergency"), h("br"),
    `${a.incident.address || "Location on the map"} · alerted ${fmtAgo(a.created_at)}`);
  $("#offline-open").setAttribute("href", `#/alerts/${a.id}`);
  show($("#offline-open"), location.hash !== `#/alerts/${a.id}`);
  show(card, true);
}

// ---------- install ----------

function setUpInstall() {
  const button = $("#install-button");
  window.addEventListener("beforeinstallprompt", (event) => {
    event.preventDefault(); // offered from our own button instead of the browser's bar
    installPrompt = event;
    show(button, true);
  });
  window.addEventListener("appinstalled", () => {
    installPrompt = null;
    show(button, false);
    announce("The app is installed: open it from your home screen.");
  });
  button.addEventListener("click", async () => {
    if (!installPrompt) return show(button, false);
    const offered = installPrompt;
    installPrompt = null;
    show(button, false);
    await offered.prompt();
  });
}

// ---------- start ----------

function start() {
  worker = registerWorker();
  setUpInstall();
  $("#reach-button").addEventListener("click", onTurnOn);
  $("#new-alert-close").addEventListener("click", () => show($("#new-alert"), false));
  $("#new-alert-open").addEventListener("click", () => show($("#new-alert"), false));
  document.addEventListener("ehbo:alerts", (event) => noteAlerts(event.detail, true));
  window.addEventListener("hashchange", onRoute);
  // Every sign-in and sign-out (app.js, me.js, a 401 anywhere), even one that leaves the
  // address as it is.
  window.addEventListener("ehbo:token", (event) => { if (event.detail === "app") syncSession(); });
  window.addEventListener("offline", () => { if (store.get()) showLastAlert(); });
  window.addEventListener("online", () => {
    show($("#offline-alert"), false);
    if (store.get()) checkReach();
  });
  syncSession();
}

start();
