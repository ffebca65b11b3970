// Correcting an open incident from the console: the address, the notes, and the pin ("Move
// pin on map", then a click). Saved with PATCH /incidents/{id}; volunteers who may be on the
// way get an update push from the service. The form exists only while it is open, so its
// fields never stand beside the report form's under the same names.
/* global L */
import { $, ApiError, errorText, h, say } from "./common.js";
import { incidentIcon } from "./map.js";

function build() {
  return h("form", { id: "edit-form", class: "edit-form", "aria-labelledby": "edit-title", novalidate: true },
    h("h3", { id: "edit-title" }, "Correct the incident"),
    h("label", { for: "edit-address" }, "Corrected address"),
    h("input", { id: "edit-address", name: "address", maxlength: 300, autocomplete: "off" }),
    h("label", { for: "edit-notes" }, "Corrected notes"),
    h("textarea", { id: "edit-notes", name: "notes", maxlength: 2000 }),
    h("p", { id: "edit-where", class: "hint", "aria-live": "polite" }, "The pin stays where it is."),
    h("div", { class: "actions" },
      h("button", { id: "edit-move", type: "button", class: "secondary" }, "Move pin on map"),
      h("button", { id: "edit-save", type: "submit" }, "Save"),
      h("button", { id: "edit-back", type: "button", class: "secondary" }, "Back")),
    h("p", { id: "edit-message", class: "message error", role: "alert" }));
}

// api: the console's API function; map: the Leaflet map; onSaved(detail, moved): the
// corrected incident; onError(error): true when the console dealt with it (a lost session).
export function setUpEditor({ api, map, onSaved, onError }) {
  let form = null;
  let incident = null; // the incident being corrected
  let moved = null; // the new pin (L.LatLng), once picked
  let picking = false;
  let marker = null;

  function open(detail) {
    close();
    incident = detail;
    form = build();
    $("#edit-slot").append(form);
    $("#edit-address").value = detail.address || "";
    $("#edit-notes").value = detail.notes || "";
    form.addEventListener("submit", save);
    $("#edit-move").addEventListener("click", startPicking);
    $("#edit-back").addEventListener("click", close);
    $("#edit-address").focus();
  }

  function close() {
    if (form) form.remove();
    form = null;
    incident = null;
    moved = null;
    picking = false;
    document.body.classList.remove("picking");
    if (marker) {
      marker.remove();
      marker = null;
    }
  }

  function startPicking() {
    picking = true;
    document.body.classList.add("picking");
    $("#edit-where").textContent = "Click the map where the incident is.";
  }

  // A map click while picking moves the pin (true); any other is not the editor's (false).
  function pick(latlng) {
    if (!picking || !form) return false;
    picking = false;
    document.body.classList.remove("picking");
    moved = latlng;
    if (!marker) {
      marker = L.marker(latlng, { icon: incidentIcon(true), keyboard: false, title: "Corrected location" }).addTo(map);
    }
    marker.setLatLng(latlng);
    $("#edit-where").textContent = `New pin: ${latlng.lat.toFixed(5)}, ${latlng.lng.toFixed(5)} (saved with Save).`;
    say($("#edit-message"), "");
    $("#edit-save").focus();
    return true;
  }

  function changes() {
    const body = {};
    const address = $("#edit-address").value.trim();
    const notes = $("#edit-notes").value.trim();
    if (address !== (incident.address || "")) body.address = address;
    if (notes !== (incident.notes || "")) body.notes = notes;
    if (moved) body.location = { lat: moved.lat, lon: moved.lng };
    return body;
  }

  async function save(event) {
    event.preventDefault();
    const message = $("#edit-message");
    const body = changes();
    if (!Object.keys(body).length) return say(message, "Nothing changed: edit the address or notes, or move the pin.");
    const path = `/incidents/${incident.id}`;
    say(message, "Saving…", "warn");
    try {
      let detail;
      try {
        detail = await api(path, { method: "PATCH", body });
      } catch (error) {
        // Off the walking network the operator confirms first, as for a new incident.
        if (!(error instanceof ApiError && error.code === "confirm_off_network")) throw error;
        if (!window.confirm(`${error.message}\n\nMove the incident there anyway?`)) throw error;
        detail = await api(path, { method: "PATCH", body: { ...body, confirm_off_network: true } });
      }
      close();
      onSaved(detail, Boolean(body.location));
    } catch (error) {
      if (!onError(error) && form) say(message, errorText(error));
    }
  }

  return { open, close, pick };
}
