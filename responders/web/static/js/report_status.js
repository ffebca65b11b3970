// The reporter's status view: what happens to the report, in their words, kept up to date;
// hands-only CPR while they wait; the nearest AED open now with its walking route.
//
// The token is the status link's fragment (/report/status#<token>): browsers never send a
// fragment to a server, so no log or referrer holds it. The page sends it to the API in a
// header. Polling every 5 s, backing off on errors; every error is said next to the status
// (role=alert), where the person is looking.
/* global L */
import { $, ApiError, fmtDistance, fmtMinutes, makeApi, say, show } from "./common.js";
import { aedIcon, createMap, incidentIcon } from "./map.js";

const api = makeApi(null);
const POLL_MS = 5000;
const MAX_WAIT_MS = 60000;
const PHASES = ["received", "seen", "help", "closed"];
const PATH = "/report/status";

const view = {
  token: null,
  timer: null,
  failures: 0,
  ended: false,
  kind: null,
  at: null, // the report's place: {lat, lon}
  aedAsked: false,
  generation: 0, // a newer link in this tab makes older answers stale
};

export function statusTokenInUrl() {
  if (location.pathname !== PATH) return null;
  const token = decodeURIComponent(location.hash.slice(1)).trim();
  return token || null;
}

// The status view for `token`: right after sending (`received`, the form's kind and place),
// or from the link alone (a reload, another tab).
export function startStatus(token, { received = null, kind = null, at = null } = {}) {
  view.generation += 1;
  Object.assign(view, { token, failures: 0, ended: false, kind, at, aedAsked: false });
  clearTimeout(view.timer);
  if (location.pathname !== PATH || location.hash.slice(1) !== token) {
    history.replaceState(null, "", `${PATH}#${token}`);
  }
  document.title = "Your report · EHBO responders";
  show($("#report-form"), false);
  show($(".call-112"), false);
  show($("main > h1"), false);
  show($("#report-done"), true);
  $("#done-message").textContent = received ? received.message
    : "Your report reached the dispatch centre. Call 112 as well if you have not.";
  if (received) $("#done-id").textContent = `Report number ${received.id} (${received.status})`;
  showGuidance(true);
  $("#report-done").focus();
  poll();
}

function showGuidance(visible) {
  show($("#cpr"), visible);
  show($("#aed"), visible);
}

function schedule(ms) {
  clearTimeout(view.timer);
  view.timer = setTimeout(poll, ms);
}

async function poll() {
  const generation = view.generation;
  let status;
  try {
    status = await api("/reports/status", { headers: { "X-Report-Token": view.token } });
  } catch (error) {
    if (generation === view.generation) failed(error);
    return;
  }
  if (generation !== view.generation) return;
  view.failures = 0;
  say($("#status-error"), "");
  render(status);
  if (!view.ended) schedule(POLL_MS);
}

function failed(error) {
  const box = $("#status-error");
  if (error instanceof ApiError && error.status === 404) {
    // Nothing will change by asking again. CPR guidance stays: someone may still need it.
    view.ended = true;
    $("#status-headline").textContent = "This report cannot be found.";
    $("#status-detail").textContent = "";
    say(box, `${error.message}`);
    show($("#aed"), false);
    return;
  }
  view.failures += 1;
  let wait = Math.min(MAX_WAIT_MS, POLL_MS * 2 ** view.failures);
  let why = error instanceof ApiError ? error.message : "no connection";
  if (error instanceof ApiError && error.status === 429) {
    wait = Math.max(wait, 30000);
    why = "asked too often";
  }
  say(box, `Could not update the status (${why}). Trying again in ${Math.round(wait / 1000)} s. `
    + "Your report is still with the dispatch centre; if in doubt, call 112.");
  schedule(wait);
}

// Text only changes when it changed: a live region re-reads whatever is set again.
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function render(status) {
  setText($("#status-headline"), status.headline);
  setText($("#status-detail"), status.detail);
  setText($("#done-id"), `Report number ${status.id} (${status.status})`);
  const now = status.phase === "cancelled" ? "closed" : status.phase;
  const reached = PHASES.indexOf(now);
  for (const step of $("#status-steps").children) {
    const index = PHASES.indexOf(step.dataset.phase);
    step.classList.toggle("done", index < reached || (index === reached && status.ended));
    if (index === reached) step.setAttribute("aria-current", "step");
    else step.removeAttribute("aria-current");
  }
  $("#report-done").dataset.phase = status.phase;
  view.kind = status.kind;
  view.at = { lat: status.location.coordinates[1], lon: status.location.coordinates[0] };
  $("#cpr-when").textContent = status.kind === "cardiac_arrest"
    ? "If the person does not respond and is not breathing normally, start now:"
    : "If the person stops responding and is not breathing normally, start CPR:";
  view.ended = status.ended;
  show($("#status-hint"), !status.ended);
  if (status.ended) {
    clearTimeout(view.timer);
    showGuidance(false);
  } else if (!view.aedAsked) {
    view.aedAsked = true;
    loadAed();
  }
}

// ---------- the nearest AED ----------

let aedMap = null;
let aedLayer = null;

async function loadAed() {
  const generation = view.generation;
  const error = $("#aed-error");
  try {
    const found = await api("/reports/status/aed", { headers: { "X-Report-Token": view.token } });
    if (generation !== view.generation) return;
    say(error, "");
    drawAed(found);
  } catch (problem) {
    if (generation !== view.generation) return;
    $("#aed-text").textContent = "";
    const why = problem instanceof ApiError ? problem.message : "no connection";
    say(error, `Could not find the nearest AED (${why}). Trying again in 30 s.`);
    setTimeout(() => { if (generation === view.generation && !view.ended) loadAed(); }, 30000);
  }
}

function drawAed(found) {
  $("#aed-text").textContent = found.message;
  const aed = found.aed;
  show($("#aed-facts"), Boolean(aed));
  show($("#aed-map"), Boolean(aed));
  if (!aed) return;
  const walk = found.walk_seconds === null ? "" : `${fmtMinutes(found.walk_seconds)} on foot`;
  const far = found.distance_m === null ? "" : ` (${fmtDistance(found.distance_m)})`;
  $("#aed-walk").textContent = `${walk}${far}, each way`;
  $("#aed-address").textContent = aed.address || "see the map";
  $("#aed-description").textContent = aed.description || (aed.access === "public"
    ? "a public cabinet, open day and night" : "inside a building that is open now");
  if (!aedMap) {
    aedMap = createMap($("#aed-map"), { label: "Map: the walking route from the person to the nearest AED" });
    aedLayer = L.layerGroup().addTo(aedMap.map);
  }
  aedLayer.clearLayers();
  const there = L.latLng(aed.location.coordinates[1], aed.location.coordinates[0]);
  const points = [there];
  L.marker(there, { icon: aedIcon(), keyboard: false, title: "AED" }).addTo(aedLayer);
  if (view.at) {
    const here = L.latLng(view.at.lat, view.at.lon);
    points.push(here);
    L.marker(here, { icon: incidentIcon(), keyboard: false, title: "The person" }).addTo(aedLayer);
  }
  if (found.route) {
    L.geoJSON(found.route, {
      interactive: false,
      style: { color: "#1e7b34", weight: 5, opacity: 0.9, className: "route" },
    }).addTo(aedLayer);
    for (const [lon, lat] of found.route.geometry.coordinates) points.push(L.latLng(lat, lon));
  }
  aedMap.ready.then(() => {
    aedMap.map.invalidateSize();
    aedMap.map.fitBounds(L.latLngBounds(points).pad(0.15), { maxZoom: 18 });
  }).catch((problem) => say($("#aed-error"), `The map could not be drawn (${problem.message}).`));
}

// Another status link pasted into this tab's address bar.
window.addEventListener("hashchange", () => {
  const token = statusTokenInUrl();
  if (token && token !== view.token) startStatus(token);
});

// Back to a tab left in the background: ask at once rather than at the next tick.
document.addEventListener("visibilitychange", () => {
  if (!document.hidden && view.token && !view.ended) poll();
});
