// Correcting an open incident from the console: the address, the notes, and the pin ("Move
// pin on map", then a click). Saved with PATCH /incidents/{id}; volunteers who may be on the
// way get an update push from the service.
/* global L */
import { $, ApiError, errorText, say, show } from "./common.js";
import { incidentIcon } from "./map.js";

// api: the console's API function; map: the Leaflet map; onSaved(detail): the corrected
// incident; onError(error): true when the console dealt with it (a lost session).
export function setUpEditor({ api, map, onSaved, onError }) {
  const form = $("#edit-form");
  const message = $("#edit-message");
  let incident = null; // the incident being corrected
  let moved = null; // the new pin (L.LatLng), once picked
  let picking = false;
  let marker = null;

  function open(detail) {
    incident = detail;
    moved = null;
    picking = false;
    $("#edit-address").value = detail.address || "";
    $("#edit-notes").value = detail.notes || "";
    $("#edit-where").textContent = "The pin stays where it is.";
    say(message, "");
    show(form, true);
    $("#edit-address").focus();
  }

  function close() {
    show(form, false);
    incident = null;
    picking = false;
    document.body.classList.remove("picking");
    if (marker) {
      marker.remove();
      marker = null;
    }
  }

  // A map click while picking moves the pin; any other goes to the new-incident form.
  function pick(latlng) {
    if (!picking) return false;
    picking = false;
    document.body.classList.remove("picking");
    moved = latlng;
    if (!marker) marker = L.marker(latlng, { icon: incidentIcon(true), keyboard: false, title: "Corrected location" }).addTo(map);
    marker.setLatLng(latlng);
    $("#edit-where").textContent = `New pin: ${latlng.lat.toFixed(5)}, ${latlng.lng.toFixed(5)} (saved with Save).`;
    say(message, "");
    $("#edit-save").focus();
    return true;
  }

  function body() {
    const changes = {};
    const address = $("#edit-address").value.trim();
    const notes = $("#edit-notes").value.trim();
    if (address !== (incident.address || "")) changes.address = address;
    if (notes !== (incident.notes || "")) changes.notes = notes;
    if (moved) changes.location = { lat: moved.lat, lon: moved.lng };
    return changes;
  }

  async function save(event) {
    event.preventDefault();
    const changes = body();
    if (!Object.keys(changes).length) return say(message, "Nothing changed: edit the address or notes, or move the pin.");
    const path = `/incidents/${incident.id}`;
    say(message, "Saving…", "warn");
    try {
      let detail;
      try {
        detail = await api(path, { method: "PATCH", body: changes });
      } catch (error) {
        // Off the walking network the operator confirms first, as for a new incident.
        if (!(error instanceof ApiError && error.code === "confirm_off_network")) throw error;
        if (!window.confirm(`${error.message}\n\nMove the incident there anyway?`)) throw error;
        detail = await api(path, { method: "PATCH", body: { ...changes, confirm_off_network: true } });
      }
      close();
      onSaved(detail, Boolean(changes.location));
    } catch (error) {
      if (!onError(error)) say(message, errorText(error));
    }
  }

  form.addEventListener("submit", save);
  $("#edit-move").addEventListener("click", () => {
    picking = true;
    document.body.classList.add("picking");
    $("#edit-where").textContent = "Click the map where the incident is.";
  });
  $("#edit-back").addEventListener("click", close);
  return { open, close, pick, isOpen: () => incident !== null };
}
