// The dispatch operator's console: report, watch the volunteers come, confirm, stand down.
/* global L */
import {
  $, ALERT_STATUS, ApiError, INCIDENT_STATUS, KINDS, badge, errorText,
  fmtDistance, fmtTime, h, makeApi, parseCoordinate, say, serverNow, show, tokenStore,
} from "./common.js";
import { addressBox } from "./address.js";
import { askEnding, reasonLabel } from "./dialogs.js";
import { setUpEditor } from "./edit.js";
import { setUpHistory } from "./history.js";
import { aedIcon, createMap, incidentIcon } from "./map.js";
import { ALERT, INCIDENT } from "./states.js";
import { groupTimeline } from "./timeline.js";
import { createRinger, duplicateHints } from "./triage.js";
import { AT_AED_M, LEGEND, etaText as glanceEta, metresBetween, sortAlerts } from "./volunteers.js";

const store = tokenStore("console");
const api = makeApi(() => store.get());
const LIST_POLL_MS = 3000;
// "open" is triage and active together: the triage list is filtered from it.
const OPEN_INCIDENTS = "/incidents?status=open&limit=100";

const state = {
  selected: null, // incident id
  detail: null,
  stream: null, // {id, controller, failures, ended}: the event stream of the open incident
  seen: new Set(), // timeline event ids on screen
  lastEventId: 0,
  pending: [], // events waiting for the detail refresh that names their volunteers
  refreshTimer: null,
  fitted: null,
  drawnRoutes: new Map(), // alert id -> route from GET /route (null: asked, nothing to draw yet)
  events: new Map(), // timeline event id -> event, drawn grouped (timeline.js)
  openGroups: new Set(), // timeline groups the operator opened (kept open across redraws)
  liveRoutes: new Map(), // alert id -> {at: live_at, route}: the walk left from a live position
  passedAed: new Set(), // fetchers seen at their AED: their walk left goes straight on
};
// Made at once: the first click or key press (the sign-in's too) lets it make sound.
const ringer = createRinger();
// While someone is on the way the view is read again this often, for their live position
// (a move is no timeline event, so the stream does not say).
const LIVE_REFRESH_MS = 5000;
let liveRefreshedAt = 0;

let mapView = null;
let draftMarker = null;
// Whether the location in the form was set for the report being written (a map click or
// typed coordinates since the last report): a report never goes out at the last one's spot.
let locationSet = false;
let address = null; // the "Address or place" box (address.js)
let incidentLayer = null;
let othersLayer = null;
let editor = null; // corrections of the open incident (edit.js)
let historyView = null; // ended incidents (history.js)

// ---------- sign-in ----------

async function start() {
  $("#signin-form").addEventListener("submit", onSignIn);
  $("#signout").addEventListener("click", signOut);
  if (store.get()) {
    try {
      return openConsole(await api(OPEN_INCIDENTS));
    } catch (error) {
      // 401: revoked; 403: a valid token, but not an operator's (a volunteer's).
      if (!(error instanceof ApiError && [401, 403].includes(error.status))) return openConsole();
      store.clear();
    }
  }
  showSignIn("");
}

function showSignIn(message) {
  show($("#console"), false);
  show($("#signin"), true);
  say($("#signin-message"), message);
  $("#signin-token").focus();
}

async function onSignIn(event) {
  event.preventDefault();
  const token = $("#signin-token").value.trim();
  if (!token) return say($("#signin-message"), "Enter your operator token.");
  store.set(token, $("#signin-remember").checked);
  let open;
  try {
    open = await api(OPEN_INCIDENTS);
  } catch (error) {
    store.clear();
    const refused = error instanceof ApiError ? error.status : 0;
    const text = refused === 401 ? "That token was not accepted. Check it and try again."
      : refused === 403 ? "That is not an operator's token: the console is for operators."
      : `Cannot reach the service: ${error.message}`;
    return say($("#signin-message"), text);
  }
  $("#signin-token").value = "";
  openConsole(open);
  $("#inc-search").focus(); // straight into the report form: the address comes first
}

function signOut() {
  store.clear();
  stopStream();
  history.replaceState(null, "", location.pathname);
  location.reload();
}

function onUnauthorized(error) {
  if (error instanceof ApiError && error.status === 401) {
    store.clear();
    showSignIn("Your session ended: sign in again.");
    return true;
  }
  return false;
}

// ---------- the console ----------

let opened = false;

// open: the open incidents the token check fetched, shown as they are rather than asked
// for again; null when that check got no answer.
function openConsole(open = null) {
  show($("#signin"), false);
  show($("#console"), true);
  $("#operator-status").textContent = "Signed in";
  if (!opened) setUpConsole();
  else if (state.selected !== null) {
    refreshDetail();
    followStream(state.selected); // the last session's stream ended with it
  }
  if (open) renderLists(open);
  else refreshLists();
}

function setUpConsole() {
  opened = true;
  renderLegend();
  // A click while correcting an incident's pin moves that pin; otherwise it drafts a new one.
  const onPick = (latlng) => (editor && editor.pick(latlng)) || pickOnMap(latlng);
  mapView = createMap($("#map"), { label: "Incident map: click to set the location of a new incident", onPick });
  incidentLayer = L.layerGroup().addTo(mapView.map);
  othersLayer = L.layerGroup().addTo(mapView.map);
  $("#new-incident").addEventListener("submit", onReport);
  address = addressBox({
    input: $("#inc-search"),
    list: $("#inc-suggestions"),
    message: $("#inc-search-message"),
    addressField: $("#inc-address"),
    api,
    near: mapCentre,
    onPick: pickAddress,
    onUnauthorized,
  });
  for (const id of ["#inc-lat", "#inc-lon"]) {
    $(id).addEventListener("change", draftFromFields);
    $(id).addEventListener("input", () => { locationSet = true; say($("#inc-where"), ""); });
  }
  $("#act-confirm").addEventListener("click", () => act("confirm"));
  $("#act-close").addEventListener("click", () => act("close"));
  $("#act-cancel").addEventListener("click", () => act("cancel"));
  editor = setUpEditor({ api, map: mapView.map, onSaved: onCorrected, onError: onUnauthorized });
  $("#act-edit").addEventListener("click", () => state.detail && editor.open(state.detail));
  historyView = setUpHistory({
    api, onSelect: (id) => select(id), current: () => state.selected, onError: onUnauthorized,
  });
  setInterval(refreshLists, LIST_POLL_MS);
  setInterval(tick, 1000);
  const fromHash = /incident=(\d+)/.exec(location.hash);
  if (fromHash) select(Number(fromHash[1]));
}

function setDraft(latlng, place = "") {
  $("#inc-lat").value = latlng.lat.toFixed(6);
  $("#inc-lon").value = latlng.lng.toFixed(6);
  placeDraft(latlng);
  locationSet = true;
  say($("#inc-where"), "");
  const where = place || `${latlng.lat.toFixed(5)}, ${latlng.lng.toFixed(5)}`;
  say($("#inc-message"), `Location set to ${where}. Choose what happened and report.`, "ok");
}

// A map click (or Enter at the crosshair): the location, and its address by reverse lookup.
function pickOnMap(latlng) {
  setDraft(latlng);
  address.fromPoint(latlng);
}

// A place taken in the address box: the location is the match's, the map centres on it, and
// the focus waits on the report button, so the next Enter reports.
function pickAddress({ lat, lon, label }) {
  const latlng = L.latLng(lat, lon);
  setDraft(latlng, label);
  mapView.map.setView(latlng, 17, { animate: false });
  $("#inc-submit").focus();
}

// Where the dispatcher is looking: the focus of the address search. Null before the map
// has a view.
function mapCentre() {
  try {
    return mapView.map.getCenter();
  } catch {
    return null;
  }
}

function draftFromFields() {
  const lat = parseCoordinate($("#inc-lat").value, -90, 90);
  const lon = parseCoordinate($("#inc-lon").value, -180, 180);
  if (lat !== null && lon !== null) placeDraft(L.latLng(lat, lon));
}

function placeDraft(latlng) {
  if (!draftMarker) {
    draftMarker = L.marker(latlng, { icon: incidentIcon(true), keyboard: false, title: "New incident location" });
    draftMarker.addTo(mapView.map);
  }
  draftMarker.setLatLng(latlng);
}

async function onReport(event) {
  event.preventDefault();
  const message = $("#inc-message");
  const lat = parseCoordinate($("#inc-lat").value, -90, 90);
  const lon = parseCoordinate($("#inc-lon").value, -180, 180);
  if (!locationSet) {
    say(message, "");
    $("#inc-search").focus();
    return say($("#inc-where"), "A location is needed for this report: type the address or place, click the map, or give its coordinates.");
  }
  if (lat === null) {
    $("#inc-coords").open = true;
    $("#inc-lat").focus();
    return say(message, "Latitude: enter a number between -90 and 90, or click the map.");
  }
  if (lon === null) {
    $("#inc-coords").open = true;
    $("#inc-lon").focus();
    return say(message, "Longitude: enter a number between -180 and 180, or click the map.");
  }
  const body = { kind: $("#inc-kind").value, location: { lat, lon } };
  const address = $("#inc-address").value.trim();
  const notes = $("#inc-notes").value.trim();
  if (address) body.address = address;
  if (notes) body.notes = notes;
  const button = $("#inc-submit");
  button.disabled = true;
  say(message, "Reporting…", "warn");
  try {
    const detail = await postIncident(body);
    say(message, `Incident #${detail.id} reported: ${detail.alerts.length} volunteers alerted.`, "ok");
    clearReportForm();
    $("#inc-search").focus(); // the next call's address
    await select(detail.id, detail);
    refreshLists();
  } catch (error) {
    if (!onUnauthorized(error)) say(message, errorText(error));
  } finally {
    button.disabled = false;
  }
}

// The whole form, so nothing of this report (least of all its location) is reused by the next.
function clearReportForm() {
  $("#new-incident").reset();
  address.reset();
  locationSet = false;
  say($("#inc-where"), "");
  if (draftMarker) {
    draftMarker.remove();
    draftMarker = null;
  }
}

// Off the walking network (water, ice, an island) the API wants the operator's word first.
async function postIncident(body) {
  try {
    return await api("/incidents", { method: "POST", body });
  } catch (error) {
    if (!(error instanceof ApiError && error.code === "confirm_off_network")) throw error;
    if (!window.confirm(`${error.message}\n\nDispatch volunteers to the nearest street anyway?`)) throw error;
    return api("/incidents", { method: "POST", body: { ...body, confirm_off_network: true } });
  }
}

// ---------- lists ----------

async function refreshLists() {
  try {
    renderLists(await api(OPEN_INCIDENTS));
  } catch (error) {
    onUnauthorized(error);
  }
}

function renderLists(open) {
  const triage = open.filter((incident) => incident.status === "triage");
  ringer.update(triage.map((incident) => incident.id));
  renderList($("#triage-list"), triage, "No citizen reports waiting.", true);
  renderList($("#open-list"), open, "No open incidents.");
  $("#triage-count").textContent = String(triage.length);
  renderOthers(open);
}

function renderList(list, incidents, emptyText, triage = false) {
  const items = incidents.map((incident) => h("li", { class: triage && ringer.isNew(incident.id) ? "new" : null },
    h("button", {
      type: "button",
      "aria-current": incident.id === state.selected ? "true" : "false",
      dataset: { incident: incident.id },
      onclick: () => select(incident.id),
    },
    h("strong", {}, `#${incident.id} ${KINDS[incident.kind]}`), " ",
    badge(INCIDENT_STATUS[incident.status], `i-${incident.status}`),
    incident.flood_suspected ? [" ", badge(`Suspected flood · area ${incident.flood_group}`, "i-flood")] : "",
    triage && ringer.isNew(incident.id) ? [" ", badge("New", "i-new")] : "",
    h("div", { class: "meta" },
      `${incident.source === "citizen" ? "Citizen report" : "Dispatch"} · ${fmtTime(incident.created_at)}`,
      incident.address ? ` · ${incident.address}` : "")),
    triage ? hintsLine(incident) : null));
  list.replaceChildren(...(items.length ? items : [h("li", { class: "empty" }, emptyText)]));
}

// The hints at a report's duplicates, each a button that opens the other incident.
function hintsLine(incident) {
  const hints = duplicateHints(incident);
  if (!hints) return null;
  const parts = hints.parts.flatMap((part, index) => [index ? ", " : "",
    h("button", { type: "button", class: "link", dataset: { incident: part.id }, onclick: () => select(part.id) }, part.label),
    ` (${part.note})`]);
  return h("p", { class: "dup-hints", dataset: { hintsFor: incident.id } }, `${hints.summary}: `, ...parts);
}

function renderOthers(open) {
  othersLayer.clearLayers();
  for (const incident of open) {
    if (incident.id === state.selected) continue;
    const [lon, lat] = incident.location.coordinates;
    L.circleMarker([lat, lon], { radius: 7, color: "#fff", weight: 2, fillColor: "#b3261e", fillOpacity: 0.8 })
      .bindTooltip(tip(`#${incident.id} ${KINDS[incident.kind]} (${INCIDENT_STATUS[incident.status]})`))
      .on("click", () => select(incident.id))
      .addTo(othersLayer);
  }
}

// Leaflet sets a string tooltip as HTML; names and addresses come from users, so every
// tooltip is an element holding text.
function tip(text) {
  return h("span", {}, text);
}

// ---------- one incident ----------

async function select(id, detail = null) {
  ringer.seen(id);
  if (state.selected !== id) {
    stopStream();
    Object.assign(state, {
      selected: id, detail: null, seen: new Set(), lastEventId: 0, pending: [], fitted: null, drawnRoutes: new Map(),
      events: new Map(), openGroups: new Set(), liveRoutes: new Map(), passedAed: new Set(),
    });
    $("#timeline").replaceChildren();
    history.replaceState(null, "", `#incident=${id}`);
    for (const button of document.querySelectorAll(".inc-list button[data-incident]:not(.link)")) {
      button.setAttribute("aria-current", String(Number(button.dataset.incident) === id));
    }
    if (editor) editor.close();
  }
  try {
    state.detail = detail || (await api(`/incidents/${id}`));
  } catch (error) {
    if (onUnauthorized(error)) return;
    if (state.selected === id && !state.detail) {
      state.selected = null;
      history.replaceState(null, "", location.pathname);
    }
    say($("#inc-message"), `Incident #${id}: ${errorText(error)}`);
    return;
  }
  render();
  // An ended incident is history: read-only, nothing more will happen to it.
  if (INCIDENT.open.has(state.detail.status)) followStream(id);
  else {
    stopStream();
    setLink("history");
  }
}

// A burst of stream events becomes one detail refresh.
function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(refreshDetail, 150);
}

async function refreshDetail() {
  const id = state.selected;
  if (id === null) return;
  try {
    const detail = await api(`/incidents/${id}`);
    if (id !== state.selected) return;
    state.detail = detail;
    render();
  } catch (error) {
    onUnauthorized(error);
  }
}

function render() {
  const d = state.detail;
  if (!d) return;
  show($("#no-incident"), false);
  show($("#incident"), true);
  $("#incident-title").textContent = `#${d.id} ${KINDS[d.kind]}`;
  const status = $("#incident-status");
  status.textContent = INCIDENT_STATUS[d.status];
  status.className = `badge i-${d.status}`;
  renderFacts(d);
  const open = INCIDENT.open.has(d.status);
  show($("#act-confirm"), d.status === "triage");
  show($("#act-close"), open);
  show($("#act-cancel"), open);
  show($("#act-edit"), open);
  if (!open && editor) editor.close();
  renderAlerts(d);
  renderAeds(d);
  renderMap(d);
  renderTimeline(d.timeline);
  const pending = state.pending.splice(0);
  for (const event of pending) addEvent(event);
  // Dispatch stores no routes (only a volunteer's own read draws theirs): ask GET /route for
  // the ones still missing, or the map would wait for phones that may never open the alert.
  const missing = d.alerts.filter((a) => a.origin && !a.route && !state.drawnRoutes.has(a.id));
  if (missing.length) askRoutes(d, missing);
  askLiveRoutes(d);
}

// The walk left of those on the way whose app shares a live position newer than their
// acceptance: one GET /route from there per new position, only for them.
async function askLiveRoutes(d) {
  const moved = d.alerts.filter((a) => a.status === "accepted" && a.live && a.live_at
    && (state.liveRoutes.get(a.id) || {}).at !== a.live_at);
  if (!moved.length) return;
  for (const a of moved) state.liveRoutes.set(a.id, { at: a.live_at, route: (state.liveRoutes.get(a.id) || {}).route || null });
  await Promise.all(moved.map(async (a) => {
    try {
      const route = await api(liveRoutePath(d, a));
      const known = state.liveRoutes.get(a.id);
      if (known && known.at === a.live_at) known.route = route;
    } catch (error) {
      onUnauthorized(error); // a position off the graph keeps the ETA from the acceptance
    }
  }));
  if (state.detail && state.detail.id === d.id) renderAlerts(state.detail);
}

function liveRoutePath(d, a) {
  const at = (point) => `${point.coordinates[1]},${point.coordinates[0]}`;
  const aed = a.role === "via_aed" ? d.aeds.find((x) => x.id === a.aed_id) : null;
  // A fetcher seen at their AED has it: from then on their way goes straight on.
  if (aed && metresBetween(a.live, aed.location) <= AT_AED_M) state.passedAed.add(a.id);
  const via = aed && !state.passedAed.has(a.id) ? `&via=${at(aed.location)}` : "";
  return `/route?from=${at(a.live)}&to=${at(d.location)}${via}`;
}

function liveRoute(a) {
  const known = state.liveRoutes.get(a.id);
  return known && known.at === a.live_at ? known.route : null;
}

async function askRoutes(d, alerts) {
  // Marked first, so a render while the answers are on their way asks for none of them twice.
  for (const a of alerts) state.drawnRoutes.set(a.id, null);
  let signedOut = false;
  await Promise.all(alerts.map(async (a) => {
    try {
      state.drawnRoutes.set(a.id, await api(routePath(d, a)));
    } catch (error) {
      // A route the graph cannot draw just stays off the map; a lost session does not.
      signedOut = signedOut || onUnauthorized(error);
    }
  }));
  if (!signedOut && state.detail && state.detail.id === d.id) renderMap(state.detail);
}

function routePath(d, a) {
  const at = (point) => `${point.coordinates[1]},${point.coordinates[0]}`;
  const aed = a.role === "via_aed" ? d.aeds.find((x) => x.id === a.aed_id) : null;
  const via = aed ? `&via=${at(aed.location)}` : "";
  return `/route?from=${at(a.origin)}&to=${at(d.location)}${via}`;
}

function renderFacts(d) {
  const facts = [
    ["Where", `${d.location.coordinates[1].toFixed(5)}, ${d.location.coordinates[0].toFixed(5)}`],
    ["Address", d.address || "—"],
    ["Source", d.source === "citizen" ? "Citizen report" : "Dispatch"],
    ["Reported", fmtTime(d.created_at)],
  ];
  if (d.callback_phone) facts.push(["Call back", d.callback_phone]);
  if (d.notes) facts.push(["Notes", d.notes]);
  if (d.status === "active") facts.push(["Wave", `${d.wave} (within ${fmtDistance(d.radius_m)})`]);
  if (d.ended_at) facts.push(["Ended", fmtTime(d.ended_at)]);
  if (d.end_reason) facts.push(["Why", reasonLabel(d.end_reason)]);
  if (d.end_note) facts.push(["Ending note", d.end_note]);
  $("#incident-facts").replaceChildren(...facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  const failed = d.alerts.filter((a) => a.status === "failed" || a.push_error);
  const box = $("#push-failures");
  show(box, failed.length > 0);
  box.textContent = failed.length
    ? `${failed.length} push${failed.length > 1 ? "es" : ""} failed: ${failed.map((a) => `${a.responder_name || "volunteer"} (${a.push_error || "failed"})`).join(", ")}`
    : "";
}

function aedLabel(d, aedId) {
  const aed = d.aeds.find((a) => a.id === aedId);
  return aed && aed.address ? `AED #${aedId}, ${aed.address}` : `AED #${aedId}`;
}

function renderAlerts(d) {
  const rows = sortAlerts(d.alerts, new Map(d.alerts.map((a) => [a.id, liveRoute(a)]))).map((a) => {
    const role = a.role === "via_aed"
      ? [badge("Via AED", "role-via_aed"), ` fetches ${aedLabel(d, a.aed_id)}`]
      : [badge("Direct", "role-direct")];
    return h("tr", { class: a.status === "failed" ? "failed" : "", dataset: { alert: a.id, status: a.status } },
      h("td", {}, h("strong", {}, a.responder_name || "(erased)"),
        // The API gives a phone only for those on the way or on scene, while it is open.
        a.phone ? h("div", {}, h("a", {
          class: "phone", href: `tel:${a.phone}`, "aria-label": `Call ${a.responder_name || "the volunteer"}: ${a.phone}`,
        }, a.phone)) : null,
        h("div", { class: "hint" }, ...role),
        h("div", { class: "hint" }, `wave ${a.wave} · ${fmtDistance(a.straight_m)} away`)),
      h("td", {}, badge(ALERT_STATUS[a.status], `s-${a.status}`),
        a.push_error ? h("div", { class: "push-error" }, a.push_error) : null),
      h("td", { class: "eta", dataset: { alert: a.id } }, etaText(a)));
  });
  $("#alerts-table tbody").replaceChildren(...rows);
  show($("#alerts-table"), rows.length > 0);
  const empty = $("#alerts-empty");
  show(empty, rows.length === 0);
  empty.textContent = d.status === "triage"
    ? "Citizen report in triage: nobody is alerted until you confirm it."
    : "No volunteers alerted.";
  const accepted = d.alerts.filter((a) => ALERT.committed.has(a.status)).length;
  const arrived = d.alerts.filter((a) => a.status === "arrived").length;
  $("#accepted-count").textContent = d.alerts.length
    ? `${accepted} accepted · ${arrived} arrived · ${d.alerts.length} alerted`
    : "";
}

function etaText(a) {
  return glanceEta(a, serverNow(), liveRoute(a));
}

function renderLegend() {
  $("#status-legend").replaceChildren(...LEGEND.map((group) => h("li", {},
    h("span", { class: "legend-group" }, `${group.label}:`),
    ...group.statuses.map((s) => h("span", { class: "legend-item", dataset: { status: s.status } },
      h("span", { class: `swatch s-${s.status}`, "aria-hidden": "true" }), s.text)))));
}

function tick() {
  const d = state.detail;
  if (!d) return;
  for (const a of d.alerts) {
    const cell = document.querySelector(`td.eta[data-alert="${a.id}"]`);
    if (cell) cell.textContent = etaText(a);
  }
  const onTheWay = INCIDENT.open.has(d.status) && d.alerts.some((a) => a.status === "accepted");
  if (onTheWay && Date.now() - liveRefreshedAt >= LIVE_REFRESH_MS) {
    liveRefreshedAt = Date.now();
    refreshDetail();
  }
}

function renderAeds(d) {
  const items = d.aeds.map((aed) => {
    const fetchers = d.alerts.filter((a) => a.aed_id === aed.id && a.role === "via_aed");
    const who = fetchers.length
      ? `fetched by ${fetchers.map((a) => `${a.responder_name || "volunteer"} (${ALERT_STATUS[a.status].toLowerCase()})`).join(", ")}`
      : "nobody sent to fetch it";
    return h("li", { dataset: { aed: aed.id } },
      h("strong", {}, `AED #${aed.id}`),
      h("span", {}, `${aed.address || ""}${aed.description ? ` (${aed.description})` : ""} — ${who}`));
  });
  $("#aed-list").replaceChildren(...(items.length ? items : [h("li", { class: "empty" }, "No AED in play.")]));
}

function renderMap(d) {
  incidentLayer.clearLayers();
  const [lon, lat] = d.location.coordinates;
  const points = [[lat, lon]];
  for (const a of d.alerts) {
    const route = a.route || state.drawnRoutes.get(a.id);
    if (!route) continue;
    const faded = ALERT.settled.has(a.status);
    L.geoJSON(route, {
      interactive: false,
      style: {
        color: a.role === "via_aed" ? "#1e7b34" : "#0b5cad",
        weight: faded ? 2 : 4,
        opacity: faded ? 0.25 : 0.8,
        dashArray: a.role === "via_aed" ? "8 5" : null,
        className: `route route-${a.role}`,
      },
    }).addTo(incidentLayer);
  }
  for (const aed of d.aeds) {
    const [alon, alat] = aed.location.coordinates;
    points.push([alat, alon]);
    L.marker([alat, alon], { icon: aedIcon(), keyboard: false, title: `AED #${aed.id}` })
      .bindTooltip(tip(`AED #${aed.id} ${aed.address || ""}`)).addTo(incidentLayer);
  }
  for (const a of d.alerts) {
    if (!a.origin) continue;
    const [vlon, vlat] = a.origin.coordinates;
    points.push([vlat, vlon]);
    L.circleMarker([vlat, vlon], {
      radius: 8, color: "#fff", weight: 2, fillOpacity: 1, fillColor: statusColour(a.status),
      className: `volunteer s-${a.status}`,
    }).bindTooltip(tip(`${a.responder_name || "volunteer"} · ${a.role === "via_aed" ? "via AED" : "direct"} · ${ALERT_STATUS[a.status]}`))
      .addTo(incidentLayer);
  }
  L.marker([lat, lon], { icon: incidentIcon(), keyboard: false, title: `Incident #${d.id}`, zIndexOffset: 1000 })
    .addTo(incidentLayer);
  if (state.fitted !== d.id && mapView) {
    state.fitted = d.id;
    mapView.ready.then(() => {
      if (points.length > 1) mapView.map.fitBounds(points, { padding: [40, 40], maxZoom: 18, animate: false });
      else mapView.map.setView([lat, lon], 17, { animate: false });
    });
  }
}

// The badges' colours, so a marker and its row's badge always agree.
// Status -> colour, read once from the CSS variables (a read after a render forces a restyle).
const colours = new Map();
function statusColour(status) {
  if (!colours.has(status)) {
    const css = getComputedStyle(document.documentElement);
    colours.set(status, css.getPropertyValue(`--s-${status}`).trim());
  }
  return colours.get(status);
}

// ---------- timeline ----------

function renderTimeline(events) {
  for (const event of events) addEvent(event, false);
  drawTimeline();
}

function addEvent(event, draw = true) {
  if (state.seen.has(event.id)) return;
  state.seen.add(event.id);
  state.events.set(event.id, event);
  state.lastEventId = Math.max(state.lastEventId, event.id);
  if (draw) drawTimeline();
}

// Newest first, the routine grouped (timeline.js). Items are kept by key and updated in
// place, so an opened group stays open and the live region announces only what changed.
function drawTimeline() {
  const d = state.detail;
  const entries = groupTimeline([...state.events.values()], d ? d.alerts : []);
  const list = $("#timeline");
  const old = new Map([...list.children].map((li) => [li.dataset.key, li]));
  const items = entries.map((entry) => {
    const li = old.get(entry.key);
    const fresh = entry.kind === "group" ? groupItem(entry, li) : eventItem(entry, li);
    old.delete(entry.key);
    return fresh;
  });
  for (const li of old.values()) li.remove();
  items.forEach((li, index) => {
    if (list.children[index] !== li) list.insertBefore(li, list.children[index] || null);
  });
}

function eventItem(entry, li) {
  const text = `${entry.event.created_at}|${entry.text}|${entry.tone}`;
  if (li && li.dataset.drawn === text) return li;
  const { event } = entry;
  const item = h("li", { class: entry.tone, dataset: { key: entry.key, event: event.id, kind: event.kind, drawn: text } },
    h("time", { datetime: event.created_at }, fmtTime(event.created_at)), h("span", {}, entry.text));
  if (li) li.replaceWith(item);
  return item;
}

function groupItem(entry, li) {
  // Names may come after an event (a later wave's alerts): its line is redrawn then too.
  const drawn = [entry.text, ...entry.items.map((item) => item.text)].join("|");
  if (li && li.dataset.drawn === drawn) return li;
  const first = entry.events[0];
  const details = h("details", { open: state.openGroups.has(entry.key) },
    h("summary", {}, h("time", { datetime: first.created_at }, fmtTime(first.created_at)), " ", h("span", {}, entry.text)),
    h("ol", { class: "timeline grouped" }, ...entry.items.map((item) => h("li", { dataset: { event: item.event.id, kind: item.event.kind } },
      h("time", { datetime: item.event.created_at }, fmtTime(item.event.created_at)), h("span", {}, item.text)))));
  details.addEventListener("toggle", () => {
    if (details.open) state.openGroups.add(entry.key);
    else state.openGroups.delete(entry.key);
  });
  const item = h("li", { class: "group", dataset: { key: entry.key, group: entry.group, count: entry.events.length, drawn } }, details);
  if (li) li.replaceWith(item);
  return item;
}

// ---------- live updates: server-sent events read with fetch (bearer header) ----------

// The badge says what the stream of the open incident really is doing.
const LINK = {
  connecting: ["○ connecting…", "off"],
  live: ["● live", "on"],
  reconnecting: ["○ reconnecting…", "off"],
  offline: ["○ offline: not receiving updates", "off"],
  missing: ["incident not found", "off"],
  history: ["ended: read-only", "off"],
};
// After this many failed attempts in a row the service is called unreachable (the stream
// keeps trying).
const OFFLINE_AFTER_FAILURES = 3;
// The server sends a keepalive every 15 s: silence for longer means a dead connection.
const SILENCE_MS = 40_000;

function setLink(name) {
  const el = $("#stream-status");
  const [text, cls] = LINK[name];
  el.textContent = text;
  el.className = `live ${cls}`;
  el.dataset.link = name;
}

function stopStream() {
  if (state.stream) state.stream.controller.abort();
  state.stream = null;
}

// One stream, for the incident on screen: a new selection closes the old one. A stream
// that ended (signed out, incident gone) is started again when asked.
function followStream(id) {
  if (state.stream && state.stream.id === id && !state.stream.ended) return;
  stopStream();
  const stream = { id, controller: new AbortController(), failures: 0, ended: false };
  state.stream = stream;
  setLink("connecting");
  readStream(stream).catch(() => {}).finally(() => { stream.ended = true; });
}

function failed(stream) {
  stream.failures += 1;
  const offline = !navigator.onLine || stream.failures >= OFFLINE_AFTER_FAILURES;
  setLink(offline ? "offline" : "reconnecting");
}

// Resolves after ms, or at once when the browser comes back online or the stream stops.
function pause(ms, signal) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      window.removeEventListener("online", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    window.addEventListener("online", done);
    signal.addEventListener("abort", done);
  });
}

async function readStream(stream) {
  const { id, controller } = stream;
  const signal = controller.signal;
  let retryMs = 2000;
  while (!signal.aborted) {
    // Aborts this attempt when the server goes silent; the stream itself goes on.
    const attempt = new AbortController();
    const stop = () => attempt.abort();
    signal.addEventListener("abort", stop);
    let watchdog = setTimeout(stop, SILENCE_MS);
    try {
      const headers = { Authorization: `Bearer ${store.get()}`, Accept: "text/event-stream" };
      // Resume after the newest event on screen (the detail's timeline, or the stream's).
      if (state.selected === id && state.lastEventId) headers["Last-Event-ID"] = String(state.lastEventId);
      const response = await fetch(`/incidents/${id}/events`, { headers, signal: attempt.signal, cache: "no-store" });
      if (response.status === 401) {
        setLink("offline");
        onUnauthorized(new ApiError(401, {}));
        return;
      }
      if (response.status === 404) {
        setLink("missing");
        return;
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      stream.failures = 0;
      setLink("live");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        clearTimeout(watchdog);
        watchdog = setTimeout(stop, SILENCE_MS);
        buffer += value.replace(/\r\n?/g, "\n");
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const parsed = parseBlock(block);
          if (parsed.retry) retryMs = parsed.retry;
          if (parsed.data) onStreamEvent(id, JSON.parse(parsed.data));
        }
      }
    } catch {
      // A network error or a silent server: try again below.
    } finally {
      clearTimeout(watchdog);
      signal.removeEventListener("abort", stop);
    }
    if (signal.aborted) return;
    failed(stream);
    await pause(retryMs, signal);
  }
}

function parseBlock(block) {
  const out = { data: "", retry: 0 };
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") data.push(value);
    else if (field === "retry" && /^\d+$/.test(value)) out.retry = Number(value);
  }
  out.data = data.join("\n");
  return out;
}

function onStreamEvent(id, event) {
  if (id !== state.selected || state.seen.has(event.id)) return;
  state.pending.push(event);
  state.lastEventId = Math.max(state.lastEventId, event.id);
  scheduleRefresh();
}

// ---------- actions ----------

async function act(action) {
  const d = state.detail;
  if (!d) return;
  const message = $("#act-message");
  // Closing and cancelling stand volunteers down: only once confirmed, with a reason.
  let body;
  if (action !== "confirm") {
    const ending = await askEnding(action, `#${d.id}`);
    $(`#act-${action}`).focus();
    if (!ending) return;
    body = ending.note ? ending : { reason: ending.reason };
  }
  const labels = { confirm: "Confirming", close: "Closing", cancel: "Cancelling" };
  say(message, `${labels[action]}…`, "warn");
  for (const b of document.querySelectorAll("#incident .actions button")) b.disabled = true;
  try {
    state.detail = await api(`/incidents/${d.id}/${action}`, { method: "POST", body });
    if (action === "confirm") state.fitted = null;
    say(message, "");
    render();
    refreshLists();
    if (action !== "confirm" && historyView) historyView.refresh();
  } catch (error) {
    if (!onUnauthorized(error)) say(message, errorText(error));
  } finally {
    for (const b of document.querySelectorAll("#incident .actions button")) b.disabled = false;
  }
}

// A correction saved: show it, and draw the routes again when the pin moved.
function onCorrected(detail, moved) {
  if (!state.detail || state.detail.id !== detail.id) return;
  state.detail = detail;
  if (moved) {
    state.drawnRoutes = new Map();
    state.fitted = null;
  }
  say($("#act-message"), "Saved: volunteers on their way are told of the change.", "ok");
  render();
  refreshLists();
}

start();
