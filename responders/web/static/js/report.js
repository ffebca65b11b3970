// The citizen's report: where, what, a number to call back. Anonymous; goes to triage.
// After sending, the page becomes the report's status view (status.js) at the status link
// only this reporter holds: /report/status#<token>.
/* global L */
import { $, ApiError, makeApi, parseCoordinate, say, show } from "./common.js";
import { clearFields, markProblems } from "./fields.js";
import { createMap, incidentIcon } from "./map.js";
import { startStatus, statusTokenInUrl } from "./report_status.js";

const api = makeApi(null);
let mapView = null;
let marker = null;
// The form's inputs by the API's field names: a 422's sentence goes under its input.
const INPUTS = {
  "body.callback_phone": "#phone",
  "body.notes": "#notes",
  "body.kind": "#kind-cardiac_arrest",
  "body.location": "#lat",
  "body.location.lat": "#lat",
  "body.location.lon": "#lon",
};

function place(latlng, how) {
  $("#lat").value = latlng.lat.toFixed(6);
  $("#lon").value = latlng.lng.toFixed(6);
  mark(latlng);
  $("#where-status").textContent = `Location set ${how}: ${latlng.lat.toFixed(5)}, ${latlng.lng.toFixed(5)}.`;
  nameThePlace(latlng);
}

// "Near Aleksanterinkatu 52": the nearest address (or street) to the picked point, so the
// reporter can check the spot. Only the latest point's answer is shown.
let naming = 0;
async function nameThePlace(latlng) {
  const ask = ++naming;
  const near = $("#where-near");
  near.textContent = "";
  try {
    const found = await api(`/geocode/reverse?lat=${latlng.lat.toFixed(6)}&lon=${latlng.lng.toFixed(6)}`);
    if (ask !== naming) return;
    const feature = found && found.features && found.features[0];
    near.textContent = feature ? `Near ${feature.properties.label}` : "";
  } catch (error) {
    if (ask !== naming) return;
    const why = error instanceof ApiError ? error.message : "no connection";
    near.textContent = `Could not name this place (${why}); the point on the map is what is sent.`;
  }
}

function mark(latlng) {
  if (!marker) {
    marker = L.marker(latlng, { icon: incidentIcon(), keyboard: false, title: "The person" }).addTo(mapView.map);
  }
  marker.setLatLng(latlng);
}

function fromFields() {
  const lat = parseCoordinate($("#lat").value, -90, 90);
  const lon = parseCoordinate($("#lon").value, -180, 180);
  if (lat !== null && lon !== null) {
    const at = L.latLng(lat, lon);
    mark(at);
    mapView.map.panTo(at);
    nameThePlace(at);
  }
}

function locate() {
  const status = $("#where-status");
  if (!navigator.geolocation) {
    status.textContent = "This browser cannot share your location: tap the map instead.";
    return;
  }
  status.textContent = "Finding your location…";
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      const at = L.latLng(pos.coords.latitude, pos.coords.longitude);
      place(at, "from your phone");
      mapView.map.setView(at, Math.max(mapView.map.getZoom(), 17));
    },
    (error) => { status.textContent = `Could not get your location (${error.message}): tap the map instead.`; },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 },
  );
}

async function send(event) {
  event.preventDefault();
  const message = $("#report-message");
  clearFields($("#report-form"));
  const lat = parseCoordinate($("#lat").value, -90, 90);
  const lon = parseCoordinate($("#lon").value, -180, 180);
  const kind = document.querySelector('input[name="kind"]:checked');
  if (lat === null || lon === null) {
    $("#locate").focus();
    return say(message, "Where is the person? Use your location, tap the map, or type the coordinates.");
  }
  if (!kind) {
    $("#kind-cardiac_arrest").focus();
    return say(message, "What happened? Choose one of the options.");
  }
  const body = { kind: kind.value, location: { lat, lon } };
  const phone = $("#phone").value.trim();
  const notes = $("#notes").value.trim();
  if (phone) body.callback_phone = phone;
  if (notes) body.notes = notes;
  const button = $("#send");
  button.disabled = true;
  say(message, "Sending…", "warn");
  try {
    const received = await api("/reports", { method: "POST", body });
    say(message, "");
    // The form is replaced by the status view, at the status link (a reload shows it too).
    startStatus(received.status_token, { received, kind: kind.value, at: { lat, lon } });
  } catch (error) {
    let text = error instanceof ApiError ? error.describe() : `Could not send: ${error.message}`;
    if (error instanceof ApiError && error.status === 429) {
      text = "Too many reports were sent from here just now. Call 112.";
    } else if (error instanceof ApiError && error.code === "outside_coverage") {
      text = "That place is not on a street or path we can send volunteers to (in the water, or outside the area this service covers). Check the spot on the map, and call 112.";
    } else if (markProblems(error, (field) => (INPUTS[field] ? $(INPUTS[field]) : null))) {
      text = "Please check the marked fields, then send again.";
    }
    say(message, text);
  } finally {
    button.disabled = false;
  }
}

function start() {
  // A status link (this tab's own after sending, a reload, or the link opened elsewhere).
  if (statusTokenInUrl()) {
    startStatus(statusTokenInUrl());
    return;
  }
  if (location.pathname !== "/report") history.replaceState(null, "", "/report");
  mapView = createMap($("#report-map"), {
    label: "Map: tap where the person is",
    onPick: (latlng) => place(latlng, "on the map"),
  });
  $("#locate").addEventListener("click", locate);
  $("#lat").addEventListener("change", fromFields);
  $("#lon").addEventListener("change", fromFields);
  $("#report-form").addEventListener("submit", send);
}

start();
