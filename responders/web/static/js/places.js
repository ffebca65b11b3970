// The availability view's "Where and when you can help": home and work, each found with the
// address search (GET /geocode, the console's combobox) or a pin dropped on a small map (its
// address by GET /geocode/reverse); coordinates are never typed. Each place has weekly hours
// (days + From/Until, several per place) checked here, with a sentence next to the input,
// before they are sent; the API's 422s land by their input too. Places the form does not
// edit (a second home, "other" places) are kept as they are. app.js owns the view.
/* global L */
import { addressBox } from "./address.js";
import { errorText, h, lonLat, say } from "./common.js";
import { clearFields, markField, markProblems } from "./fields.js";
import { createMap, divIcon } from "./map.js";

const KINDS = ["home", "work"];
const TITLE = { home: "Home", work: "Work" };
const DAYS = [
  ["mon", "Mon", "Monday"], ["tue", "Tue", "Tuesday"], ["wed", "Wed", "Wednesday"],
  ["thu", "Thu", "Thursday"], ["fri", "Fri", "Friday"], ["sat", "Sat", "Saturday"],
  ["sun", "Sun", "Sunday"],
];
const MAX_WINDOWS = 50; // the API's limit per place
const NOT_SAVED = "Places not saved: please check the marked fields.";

// The API's windows run from start to end in the region's time zone, past midnight when end
// is before start, and take "24:00" for the midnight that ends a day. A time input cannot
// show 24:00: Until 00:00 stands for it (the same minutes, and 00:00–00:00 is all day).
const toInput = (clock) => (clock === "24:00" ? "00:00" : clock);
const toApi = (clock) => (clock === "00:00" ? "24:00" : clock);

// What a window's times mean, in words, or "" when there is nothing to add. (No clock in
// the sentence: the time inputs show the phone's own 12- or 24-hour format.)
function timesNote(start, end) {
  if (!start || !end) return "";
  if (start === "00:00" && end === "00:00") return "All day: Until 00:00 is the midnight that ends the day.";
  if (end === "00:00") return "Until midnight, the end of the day.";
  if (end < start) return "Overnight: these hours end the next day.";
  return "";
}

/**
 * placesForm({form, box, message, api, onSaved, onUnauthorized}):
 *   form: the places <form> (its submit saves); box: where the places' fieldsets go;
 *   message: the view's message line; api: makeApi()'s function;
 *   onSaved(me): the responder as the API returned it after a save;
 *   onUnauthorized(error): true when it handled the error (the session ended).
 * Returns {show(me)}: call it with the responder (GET /responders/me) while the view is
 * visible (the maps need their size).
 */
export function placesForm({ form, box, message, api, onSaved, onUnauthorized }) {
  const editors = KINDS.map((kind) => placeEditor(kind, { api, onUnauthorized }));
  let others = []; // places the form does not edit, sent back as they are
  let sent = []; // the editor of each place of the last request (null: one of `others`)
  let shown = null; // whose places were last put on screen, and which, as JSON
  box.replaceChildren(...editors.map((editor) => editor.element));

  function show(me) {
    // The same person's same places as on screen (a pause, a resume, coming back to the
    // view): what they have typed and not saved yet stays.
    const places = me.places;
    const key = JSON.stringify([me.id, places]);
    if (key === shown) {
      for (const editor of editors) editor.refresh();
      return;
    }
    shown = key;
    const edited = (place, index) => KINDS.includes(place.kind)
      && places.findIndex((p) => p.kind === place.kind) === index;
    for (const editor of editors) {
      editor.show(places.find((p, i) => p.kind === editor.kind && edited(p, i)) || null);
    }
    others = places.filter((p, i) => !edited(p, i));
  }

  // The input of the form that a 422's field names, e.g. body.places.1.windows.0.start.
  function inputFor(field) {
    const match = /^body\.places\.(\d+)(?:\.(.*))?$/.exec(field);
    const editor = match && sent[Number(match[1])];
    return editor ? editor.inputFor(match[2] || "") : null;
  }

  async function onSubmit(event) {
    event.preventDefault();
    clearFields(form);
    say(message, "");
    const read = editors.map((editor) => editor.read());
    if (read.some((r) => r.problems)) {
      const first = form.querySelector("input[aria-invalid]");
      if (first) first.focus();
      return say(message, NOT_SAVED, "error");
    }
    const places = [];
    sent = [];
    read.forEach((r, i) => {
      if (!r.place) return;
      places.push(r.place);
      sent.push(editors[i]);
    });
    for (const p of others) {
      const [lat, lon] = lonLat(p.location);
      places.push({ kind: p.kind, label: p.label || undefined, location: { lat, lon }, windows: p.windows });
      sent.push(null);
    }
    try {
      onSaved(await api("/responders/me/availability", { method: "PUT", body: { places } }));
      say(message, "Places saved.", "ok");
    } catch (error) {
      if (onUnauthorized(error)) return;
      const placed = markProblems(error, inputFor);
      say(message, placed ? NOT_SAVED : errorText(error), "error");
    }
  }

  form.addEventListener("submit", onSubmit);
  return { show };
}

// One place (home or work): its address box, its map with the pin, and its hours.
function placeEditor(kind, { api, onUnauthorized }) {
  const id = (name) => `place-${kind}-${name}`;
  let at = null; // {lat, lon}: where the place is, from a pick or a tap; null: not set
  let mapView = null; // {map, ready}, made the first time the view shows
  let mapReady = false;
  let pin = null;
  let taps = 0;
  let lookup = 0; // the tap whose reverse lookup is awaited; 0 when none is
  let rows = []; // the hours, in order on screen
  let sentRows = []; // the rows whose windows the last request sent, in its order

  const search = h("input", {
    id: id("label"), type: "text", autocomplete: "off", spellcheck: "false", maxlength: 200,
    "aria-describedby": id("search-message"),
  });
  const list = h("ul", { id: id("suggestions"), class: "suggestions", "aria-label": `Addresses for ${kind}`, hidden: true });
  const searchMessage = h("p", { id: id("search-message"), class: "message", role: "status" });
  // The label of the place as picked (a suggestion's, or the tapped point's address): what
  // the box shows must be it for the place to be saved, so nothing typed is lost unplaced.
  const picked = h("input", { id: id("picked"), type: "hidden" });
  const mapEl = h("div", { id: id("map"), class: "map place-map" });
  const chosen = h("p", { id: id("chosen"), class: "chosen" });
  const remove = h("button", { type: "button", class: "secondary small", onclick: removePlace }, `Remove ${kind}`);
  const windows = h("div", { id: id("windows"), class: "windows" });
  const add = h("button", { type: "button", class: "secondary small", onclick: addWindow }, "Add hours");

  const address = addressBox({
    input: search,
    list,
    message: searchMessage,
    addressField: picked,
    api,
    near: () => (mapReady ? mapView.map.getCenter() : null),
    onPick: onPicked,
    onUnauthorized,
    noAddress: "No address near this point: the pin is kept without an address.",
  });

  const element = h("fieldset", { dataset: { kind }, class: "place" },
    h("legend", {}, TITLE[kind]),
    h("div", { class: "address-box" },
      h("label", { for: id("label") }, "Address"),
      search, list, searchMessage),
    picked,
    h("p", { class: "hint" }, "Type the address and choose it, or tap the map to drop a pin."),
    h("div", { class: "map-wrap" }, mapEl, h("div", { class: "map-crosshair", "aria-hidden": "true" })),
    h("div", { class: "chosen-row" }, chosen, remove),
    h("p", { class: "hint" }, "When you can help from here:"),
    windows,
    h("div", { class: "add-row" }, add));

  // The map, made the first time the view shows (Leaflet needs its size).
  function refresh() {
    if (mapView) {
      mapView.map.invalidateSize(); // it may have been hidden with the view
      return;
    }
    mapView = createMap(mapEl, {
      label: `Map for ${kind}: tap to put the ${kind} pin there`,
      onPick: tapped,
    });
    mapView.ready.then(() => {
      mapReady = true;
      centre();
    });
  }

  function centre() {
    if (mapReady && at) mapView.map.setView([at.lat, at.lon], 16, { animate: false });
  }

  function drawPin() {
    if (!at) {
      if (pin) pin.remove();
      pin = null;
    } else if (pin) {
      pin.setLatLng([at.lat, at.lon]);
    } else {
      pin = L.marker([at.lat, at.lon], {
        icon: divIcon(`place-icon ${kind}`, kind === "home" ? "H" : "W", 28),
        keyboard: false,
        title: TITLE[kind],
      }).addTo(mapView.map);
    }
  }

  function renderChosen() {
    remove.hidden = !at;
    chosen.dataset.set = at ? "yes" : "no";
    if (!at) chosen.textContent = "Not set: find the address or tap the map.";
    else if (lookup) chosen.textContent = "Pin dropped: finding its address…";
    else if (picked.value) chosen.textContent = `${TITLE[kind]}: ${picked.value}`;
    else chosen.textContent = `${TITLE[kind]}: a pin on the map (no address near it).`;
  }

  // A suggestion chosen in the box (which wrote its label into `picked`).
  function onPicked({ lat, lon }) {
    at = { lat, lon };
    lookup = 0;
    drawPin();
    centre();
    renderChosen();
  }

  // A tap on the map (or Enter at its crosshair): the pin moves there, and the box and the
  // label get that point's address when the reverse lookup answers.
  async function tapped(latlng) {
    at = { lat: latlng.lat, lon: latlng.lng };
    picked.value = ""; // the last place's name must not name this point
    taps += 1;
    const mine = taps;
    lookup = mine;
    drawPin();
    renderChosen();
    await address.fromPoint(latlng);
    if (lookup === mine) lookup = 0;
    renderChosen();
  }

  function removePlace() {
    at = null;
    lookup = 0;
    picked.value = "";
    search.value = "";
    address.reset();
    drawPin();
    renderChosen();
    renderRows([null]);
    search.focus();
  }

  function show(place) {
    refresh();
    address.reset();
    const [lat, lon] = place ? lonLat(place.location) : [];
    at = place ? { lat, lon } : null;
    lookup = 0;
    search.value = (place && place.label) || "";
    picked.value = search.value;
    drawPin();
    centre();
    renderChosen();
    renderRows(place && place.windows.length ? place.windows : [null]);
  }

  // ---------- hours ----------

  function renderRows(values) {
    rows = values.map((value, n) => windowRow(n, value, () => {
      renderRows(rows.filter((_, i) => i !== n).map((r) => r.value()));
      const next = rows[Math.min(n, rows.length - 1)];
      (next ? next.focusTarget : add).focus();
    }));
    windows.replaceChildren(...rows.map((r) => r.element));
    add.hidden = rows.length >= MAX_WINDOWS;
  }

  function addWindow() {
    renderRows([...rows.map((r) => r.value()), null]);
    rows[rows.length - 1].focusTarget.focus();
  }

  function windowRow(n, value, onRemove) {
    const rid = (name) => id(`w${n}-${name}`);
    const chosenDays = new Set(value ? value.days : []);
    const dayButtons = DAYS.map(([day, short, long]) => h("button", {
      type: "button",
      class: "day",
      "aria-pressed": chosenDays.has(day) ? "true" : "false",
      "aria-label": long,
      dataset: { day },
      onclick: (event) => {
        const b = event.currentTarget;
        b.setAttribute("aria-pressed", b.getAttribute("aria-pressed") === "true" ? "false" : "true");
      },
    }, short));
    const days = h("div", { id: rid("days"), class: "days", role: "group", "aria-label": "Days" }, ...dayButtons);
    const start = h("input", { id: rid("start"), type: "time", value: value ? toInput(value.start) : "" });
    const end = h("input", {
      id: rid("end"), type: "time", value: value ? toInput(value.end) : "", "aria-describedby": rid("note"),
    });
    const note = h("p", { id: rid("note"), class: "hint times-note" });
    const describe = () => { note.textContent = timesNote(start.value, end.value); };
    start.addEventListener("input", describe);
    end.addEventListener("input", describe);
    describe();
    const element = h("div", { class: "window", role: "group", "aria-labelledby": rid("title") },
      h("div", { class: "window-head" },
        h("span", { id: rid("title"), class: "window-title" }, `Hours ${n + 1}`),
        h("button", { type: "button", class: "secondary small", "aria-label": `Remove hours ${n + 1}`, onclick: onRemove }, "Remove")),
      days,
      h("div", { class: "times" },
        h("div", {}, h("label", { for: rid("start") }, "From"), start),
        h("div", {}, h("label", { for: rid("end") }, "Until"), end)),
      note);
    const read = () => ({
      days: dayButtons.filter((b) => b.getAttribute("aria-pressed") === "true").map((b) => b.dataset.day),
      start: start.value,
      end: end.value,
    });
    return {
      element,
      days,
      start,
      end,
      focusTarget: dayButtons[0],
      // As the API spells it, to re-render after adding or removing a row.
      value: () => {
        const r = read();
        return { days: r.days, start: r.start && toApi(r.start), end: r.end && toApi(r.end) };
      },
      read,
    };
  }

  // ---------- reading the form ----------

  // {place, problems}: the place as the API takes it (null when nothing is set or typed),
  // after marking every input that keeps it from being saved as the person meant it.
  function read() {
    let problems = 0;
    const problem = (input, text) => { markField(input, text); problems += 1; };
    const windowsOut = [];
    sentRows = [];
    for (const row of rows) {
      const w = row.read();
      if (!w.days.length && !w.start && !w.end) continue; // an untouched row says nothing
      if (!w.days.length) problem(row.days, "Choose the days these hours are for.");
      if (!w.start) problem(row.start, "Enter the time from which you can help.");
      if (!w.end) problem(row.end, "Enter the time until which you can help.");
      if (w.start && w.start === w.end && w.start !== "00:00") {
        problem(row.end, "Until is the same time as From: choose when these hours end.");
      }
      windowsOut.push({ days: w.days, start: w.start, end: toApi(w.end) });
      sentRows.push(row);
    }
    const typed = search.value.trim();
    if (typed && typed !== picked.value) {
      problem(search, "Choose this address from the suggestions, or tap the map: an address alone is not placed on the map.");
    } else if (!at && windowsOut.length) {
      problem(search, "Choose where: find the address or tap the map.");
    }
    if (!at || problems) return { place: null, problems };
    const place = { kind, location: { lat: at.lat, lon: at.lon }, windows: windowsOut };
    if (picked.value) place.label = picked.value;
    return { place, problems };
  }

  // The input a 422's field (after body.places.<i>.) is about.
  function inputFor(rest) {
    const match = /^windows\.(\d+)(?:\.(\w+))?/.exec(rest);
    if (!match) return rest.startsWith("windows") ? windows : search;
    const row = sentRows[Number(match[1])];
    if (!row) return windows;
    return match[2] === "days" ? row.days : match[2] === "end" ? row.end : row.start;
  }

  return { kind, element, show, refresh, read, inputFor };
}
