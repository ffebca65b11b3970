// The volunteer's screen: what a push opens. Alert list, one alert (role, route, answers),
// the stand-down, registration and availability. Routes are in the URL fragment:
// #/alerts, #/alerts/<id>, #/availability, #/register, #/signin (a push may open ?alert=<id>).
/* global L */
import {
  $, ALERT_STATUS, ApiError, INCIDENT_STATUS, KINDS, badge, errorText, fmtAgo, fmtDistance,
  fmtMinutes, h, localToday, lonLat, makeApi, say, show, tokenStore,
} from "./common.js";
import { clearFields, markField, markProblems } from "./fields.js";
import { createLocationSharing } from "./location.js";
import { aedIcon, createMap, divIcon, incidentIcon } from "./map.js";
import { ownPosition, renderOnWay } from "./onway.js";
import { initMe, openMe, signOut } from "./me.js";
import { placesForm } from "./places.js";
import { ALERT, INCIDENT } from "./states.js";
import "./pwa.js"; // the installable app: service worker, push, live alerts (issue 15)

const store = tokenStore("app");
const api = makeApi(() => store.get());
const POLL_MS = 2000;
const VIEWS = ["signin", "register", "list", "alert", "availability", "me"];
const STAND_DOWN = {
  closed: "Stand down: the incident is closed. Thank you for your help.",
  cancelled: "Stand down: the incident was cancelled. You are not needed.",
  no_longer_needed: "Stand down: enough volunteers are on their way. You are no longer needed. Thank you!",
};

// The stand-down says why the incident ended when the operator said so (the service's own
// sentence for the reason; "other" says nothing more than the plain text).
function standDownText(a) {
  const plain = STAND_DOWN[a.stand_down_reason] || "Stand down.";
  const why = a.incident.end_reason !== "other" && a.incident.end_reason_text;
  if (!why || !["closed", "cancelled"].includes(a.stand_down_reason)) return plain;
  return `Stood down: ${why} — ${plain.replace(/^Stand down: /, "")}`;
}

let pollTimer = null;
let places = null; // the "Where and when you can help" form (places.js)
let alertView = null; // {id, map, ready, layer, signature, mapKey, delivered, me}
let sharing = null; // location.js: the modes and the bar (issue 15)

function announce(text) {
  $("#announce").textContent = text;
}

function handleAuth(error) {
  if (error instanceof ApiError && error.status === 401) {
    store.clear();
    go("#/signin");
    return true;
  }
  return false;
}

// ---------- routing ----------

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function route() {
  clearTimeout(pollTimer);
  const hash = location.hash || "";
  const signedIn = Boolean(store.get());
  show($("#nav"), signedIn);
  let match;
  if (hash === "#/register") return view("register");
  if (!signedIn) return view("signin");
  if ((match = /^#\/alerts\/(\d+)$/.exec(hash))) return openAlert(Number(match[1]));
  if (hash === "#/availability") return openAvailability();
  if (hash === "#/me") {
    view("me");
    return openMe();
  }
  if (hash === "#/signin") return view("signin");
  return openList();
}

function view(name) {
  for (const v of VIEWS) show($(`#view-${v}`), v === name);
  if (name !== "alert" && alertView) {
    alertView.map.remove();
    alertView = null;
  }
  if (name === "signin") $("#signin-token").focus();
}

// ---------- sign-in and registration ----------

async function onSignIn(event) {
  event.preventDefault();
  const token = $("#signin-token").value.trim();
  if (!token) return say($("#signin-message"), "Enter your volunteer token.");
  store.set(token, $("#signin-remember").checked);
  try {
    await api("/responders/me");
  } catch (error) {
    store.clear();
    return say($("#signin-message"), error instanceof ApiError && error.status === 401
      ? "That token was not accepted." : errorText(error));
  }
  $("#signin-token").value = "";
  say($("#signin-message"), "");
  go("#/alerts");
}

// The registration form's inputs by the API's field names.
const REGISTER_INPUTS = {
  "body.name": "#reg-name",
  "body.phone": "#reg-phone",
  "body.email": "#reg-email",
  "body.qualifications": "#reg-qualification",
  "body.qualifications.0.kind": "#reg-qualification",
  "body.qualifications.0.expires_on": "#reg-expires",
};

async function onRegister(event) {
  event.preventDefault();
  const message = $("#register-message");
  clearFields($("#register-form"));
  say(message, "");
  const fields = { name: "#reg-name", phone: "#reg-phone", email: "#reg-email", expires: "#reg-expires" };
  const empty = Object.values(fields).filter((selector) => !$(selector).value.trim());
  for (const selector of empty) markField($(selector), "Please fill this in.");
  if (empty.length) {
    $(empty[0]).focus();
    return say(message, "Please fill in the marked fields.");
  }
  const body = {
    name: $("#reg-name").value.trim(),
    phone: $("#reg-phone").value.trim(),
    email: $("#reg-email").value.trim(),
    qualifications: [{ kind: $("#reg-qualification").value, expires_on: $("#reg-expires").value }],
  };
  try {
    const registered = await api("/responders", { method: "POST", body });
    $("#reg-token").value = registered.token;
    show($("#register-form"), false);
    show($("#register-done"), true);
    $("#reg-token").focus();
    $("#reg-token").select();
  } catch (error) {
    const placed = markProblems(error, (field) => {
      const selector = REGISTER_INPUTS[field];
      return selector ? $(selector) : null;
    });
    say(message, placed ? "Please check the marked fields." : errorText(error));
  }
}

function onRegisterContinue() {
  store.set($("#reg-token").value, true);
  $("#reg-token").value = "";
  show($("#register-form"), true);
  show($("#register-done"), false);
  go("#/availability");
}

// ---------- the alert list ----------

async function openList() {
  view("list");
  try {
    const alerts = await api("/alerts");
    document.dispatchEvent(new CustomEvent("ehbo:alerts", { detail: alerts })); // pwa.js
    const items = alerts.map((a) => h("li", {},
      h("button", { type: "button", onclick: () => { location.hash = `#/alerts/${a.id}`; } },
        h("span", {}, h("strong", {}, KINDS[a.incident.kind]), h("br"),
          h("span", { class: "hint" }, `${a.incident.address || "Location on the map"} · ${fmtAgo(a.created_at)}`)),
        badge(ALERT_STATUS[a.status], `s-${a.status}`))));
    $("#alert-list").replaceChildren(...(items.length ? items
      : [h("li", { class: "empty" }, "No alerts. When someone near you needs help, your phone will ring.")]));
  } catch (error) {
    if (handleAuth(error)) return;
    $("#alert-list").replaceChildren(h("li", { class: "message error" }, errorText(error)));
  }
  pollTimer = setTimeout(() => { if (location.hash === "#/alerts" || !location.hash) openList(); }, POLL_MS * 2);
}

// ---------- one alert ----------

async function openAlert(id) {
  view("alert");
  if (!alertView || alertView.id !== id) {
    if (alertView) alertView.map.remove();
    const { map, ready } = createMap($("#alert-map"), { label: "Your route to the incident" });
    alertView = { id, map, ready, layer: L.layerGroup().addTo(map), signature: "", mapKey: "", delivered: false, me: null };
    const here = sharing.position();
    if (here) alertView.me = ownPosition(map, null, here);
    say($("#alert-message"), "");
    $("#alert-buttons").replaceChildren();
  }
  if (!alertView.delivered) {
    alertView.delivered = true;
    // The screen is open: tell dispatch the alert reached the volunteer. Late or repeated
    // receipts change nothing, so errors here are not worth showing.
    api(`/alerts/${id}/delivered`, { method: "POST" }).catch(() => {});
  }
  await refreshAlert(id);
}

async function refreshAlert(id) {
  clearTimeout(pollTimer);
  if (!alertView || alertView.id !== id) return;
  try {
    renderAlert(await api(`/alerts/${id}`));
  } catch (error) {
    if (handleAuth(error)) return;
    say($("#alert-message"), errorText(error));
  }
  if (alertView && alertView.id === id) pollTimer = setTimeout(() => refreshAlert(id), POLL_MS);
}

function roleBox(a) {
  const box = $("#role-box");
  box.className = `role-box ${a.role}`;
  if (a.role === "via_aed" && a.aed) {
    const where = a.aed.address || "the marked spot";
    // The service sends a cabinet code only to a fetcher who has accepted, while the
    // incident is open; until then, say when it will come.
    const undecided = ALERT.answerable.has(a.status) && INCIDENT.open.has(a.incident.status);
    const code = a.aed.cabinet_code
      ? [", code ", h("span", { class: "code" }, a.aed.cabinet_code)]
      : undecided ? [" (a locked cabinet's code shows once you accept)"] : [];
    box.replaceChildren(
      h("div", {}, `Fetch the AED at ${where} first`, ...code),
      h("div", { class: "sub" }, [a.aed.description, "then go to the victim"].filter(Boolean).join(" · ")));
  } else {
    box.replaceChildren(h("div", {}, "Go straight to the victim"),
      h("div", { class: "sub" }, "Start CPR if they are not breathing normally."));
  }
}

function renderAlert(a) {
  $("#alert-title").textContent = KINDS[a.incident.kind];
  const status = $("#alert-status");
  status.textContent = ALERT_STATUS[a.status];
  status.className = `badge s-${a.status}`;
  $("#alert-age").textContent = `alerted ${fmtAgo(a.created_at)}`;
  const standDown = $("#stand-down");
  const stoodDown = a.status === "stood_down";
  show(standDown, stoodDown);
  standDown.textContent = stoodDown ? standDownText(a) : "";
  roleBox(a);
  $("#alert-where").textContent = a.incident.location
    ? `Where: ${a.incident.address || "see the map"}`
    : "The address is shown when you accept.";
  $("#alert-notes").textContent = a.incident.notes || "";
  const props = a.route && a.route.properties;
  $("#fact-time").textContent = fmtMinutes(props ? props.duration_s : a.walk_seconds);
  $("#fact-distance").textContent = props ? fmtDistance(props.distance_m) : "…";
  drawAlertMap(a);
  sharing.follow(a);
  renderOnWay(a, sharing.position());
  const signature = `${a.status}|${a.stand_down_reason}|${a.incident.status}`;
  // An operator's correction (a new address or pin) is said once, when it shows.
  const where = `${a.incident.address}|${a.incident.location && a.incident.location.coordinates}`;
  const corrected = alertView.where !== undefined && where !== alertView.where && !stoodDown;
  alertView.where = where;
  if (signature !== alertView.signature) {
    const first = alertView.signature === "";
    alertView.signature = signature;
    renderButtons(a);
    if (!first) announce(stoodDown ? standDown.textContent : `Alert ${ALERT_STATUS[a.status].toLowerCase()}.`);
  } else if (corrected) {
    announce("The dispatcher corrected the incident's address or location.");
  }
}

function drawAlertMap(a) {
  // The pin's coordinates too: an operator's correction moves it (and the route with it).
  const pin = a.incident.location ? a.incident.location.coordinates.join(",") : "";
  const key = `${Boolean(a.route)}|${pin}`;
  if (alertView.mapKey === key) return;
  alertView.mapKey = key;
  const layer = alertView.layer;
  layer.clearLayers();
  const points = [];
  if (a.route) {
    L.geoJSON(a.route, { interactive: false, style: { color: a.role === "via_aed" ? "#1e7b34" : "#0b5cad", weight: 5, opacity: 0.85, className: "route" } }).addTo(layer);
    const [slon, slat] = a.route.geometry.coordinates[0];
    L.marker([slat, slon], { icon: divIcon("vol-icon", "You", 30), keyboard: false, title: "You" }).addTo(layer);
    points.push([slat, slon]);
  }
  if (a.aed && a.aed.location) {
    const at = lonLat(a.aed.location);
    L.marker(at, { icon: aedIcon(), keyboard: false, title: "AED" }).addTo(layer);
    points.push(at);
  }
  if (a.incident.location) {
    const at = lonLat(a.incident.location);
    L.marker(at, { icon: incidentIcon(), keyboard: false, title: "Victim", zIndexOffset: 1000 }).addTo(layer);
    points.push(at);
  }
  alertView.ready.then(() => {
    if (points.length > 1) alertView.map.fitBounds(points, {
      paddingTopLeft: [56, 30], paddingBottomRight: [30, 45], maxZoom: 18, animate: false,
    });
    else if (points.length === 1) alertView.map.setView(points[0], 17, { animate: false });
  });
}

function renderButtons(a) {
  const box = $("#alert-buttons");
  const incidentOpen = a.incident.status === "active";
  const buttons = [];
  // A failed push does not stop a volunteer who is looking at the alert from answering it.
  if (ALERT.answerable.has(a.status) && incidentOpen) {
    buttons.push(h("button", { type: "button", class: "big ok", onclick: () => answer(a.id, "accept") }, "Accept: I'm going"));
    buttons.push(h("button", { type: "button", class: "big secondary", onclick: () => answer(a.id, "decline") }, "Decline: I can't go"));
  } else if (a.status === "accepted" && incidentOpen) {
    buttons.push(h("button", { type: "button", class: "big", onclick: () => answer(a.id, "arrived") }, "I have arrived"));
    buttons.push(h("button", { type: "button", class: "big secondary", onclick: () => answer(a.id, "decline") }, "I can't go after all"));
  } else if (a.status === "arrived") {
    buttons.push(h("p", { class: "message ok" }, "You are on scene. Thank you! Follow the dispatcher's instructions on the phone."));
  } else if (a.status === "declined") {
    buttons.push(h("p", { class: "message warn" }, "You declined this alert. Thank you for answering."));
  } else if (a.status === "failed") {
    buttons.push(h("p", { class: "message warn" }, "This alert could not be delivered in time."));
  } else if (!incidentOpen && a.status !== "stood_down") {
    buttons.push(h("p", { class: "message warn" }, `This incident is ${INCIDENT_STATUS[a.incident.status].toLowerCase()}.`));
  }
  const hadFocus = box.contains(document.activeElement);
  box.replaceChildren(...buttons);
  if (hadFocus && box.querySelector("button")) box.querySelector("button").focus();
}

async function answer(id, action) {
  const message = $("#alert-message");
  for (const b of document.querySelectorAll("#alert-buttons button")) b.disabled = true;
  try {
    const result = await api(`/alerts/${id}/${action}`, { method: "POST" });
    if (action === "accept") sharing.respond(id);
    else sharing.end(id);
    say(message, "");
    announce(`Alert ${ALERT_STATUS[result.status].toLowerCase()}.`);
  } catch (error) {
    if (handleAuth(error)) return;
    say(message, errorText(error));
  }
  await refreshAlert(id);
  for (const b of document.querySelectorAll("#alert-buttons button")) b.disabled = false;
}

// ---------- availability ----------

async function openAvailability() {
  view("availability");
  try {
    renderMe(await api("/responders/me"));
  } catch (error) {
    if (!handleAuth(error)) say($("#availability-message"), errorText(error), "error");
  }
}

function renderMe(me) {
  const paused = me.status === "paused";
  // Dispatch skips expired qualifications: never say "you can be alerted" on one.
  const valid = me.qualifications.filter((q) => q.expires_on >= localToday());
  const latest = me.qualifications.map((q) => q.expires_on).sort().pop();
  let text = valid.length
    ? `${me.name}: active, you can be alerted.`
    : `${me.name}: your qualification expired on ${latest}: you will not be alerted until it is renewed.`;
  $("#me-status").dataset.qualified = valid.length ? "yes" : "expired";
  if (paused) {
    text = me.paused_until
      ? `${me.name}: paused until ${new Date(me.paused_until).toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })}.`
      : `${me.name}: paused until you resume.`;
  }
  $("#me-status").textContent = text;
  $("#me-status").dataset.status = me.status;
  show($("#pause-form"), !paused);
  show($("#resume-button"), paused);
  places.show(me);
}

async function updateAvailability(body, done) {
  const message = $("#availability-message");
  try {
    renderMe(await api("/responders/me/availability", { method: "PUT", body }));
    say(message, done, "ok");
  } catch (error) {
    if (!handleAuth(error)) say(message, errorText(error), "error");
  }
}

async function onPause(event) {
  event.preventDefault();
  const hours = Number($("#pause-hours").value);
  if (!Number.isFinite(hours) || hours < 1 || hours > 720) {
    return say($("#availability-message"), "Pause for 1 to 720 hours.", "error");
  }
  const until = new Date(Date.now() + hours * 3600 * 1000).toISOString();
  await updateAvailability({ paused_until: until }, `Paused for ${hours} h. You will not be alerted.`);
}

// ---------- start ----------

function start() {
  const params = new URLSearchParams(location.search);
  if (params.get("alert") && /^\d+$/.test(params.get("alert"))) {
    history.replaceState(null, "", `${location.pathname}#/alerts/${params.get("alert")}`);
  }
  $("#signin-form").addEventListener("submit", onSignIn);
  $("#register-form").addEventListener("submit", onRegister);
  $("#reg-continue").addEventListener("click", onRegisterContinue);
  $("#reg-copy").addEventListener("click", () => navigator.clipboard && navigator.clipboard.writeText($("#reg-token").value));
  $("#pause-form").addEventListener("submit", onPause);
  $("#resume-button").addEventListener("click", () => updateAvailability({ status: "active" }, "Welcome back: you can be alerted again."));
  places = placesForm({
    form: $("#places-form"), box: $("#places"), message: $("#availability-message"), api,
    onSaved: renderMe, onUnauthorized: handleAuth,
  });
  $("#nav-alerts").addEventListener("click", () => go("#/alerts"));
  $("#nav-availability").addEventListener("click", () => go("#/availability"));
  $("#nav-me").addEventListener("click", () => go("#/me"));
  $("#nav-signout").addEventListener("click", () => signOut());
  // Nothing shared and no point left behind once signed out (or erased): the sharing stops
  // while the token still works.
  initMe(go, { beforeSignOut: async () => { await sharing.stop(); sharing.forget(); }, onUnauthorized: handleAuth });
  const expires = new Date();
  expires.setFullYear(expires.getFullYear() + 2);
  $("#reg-expires").value = expires.toISOString().slice(0, 10);
  sharing = createLocationSharing({ api, signedIn: Boolean(store.get()), onAuthLost: () => handleAuth(new ApiError(401, null)) });
  sharing.onPosition((fix) => {
    if (alertView) alertView.me = ownPosition(alertView.map, alertView.me, fix);
  });
  window.addEventListener("hashchange", route);
  route();
}

start();
