// The console's "Address or place" box: an ARIA combobox (the WAI-ARIA list-autocomplete
// pattern) over GET /geocode, and the reverse lookup (GET /geocode/reverse) that gives a
// map click its address. The console decides what a chosen place does to the report form
// (location, map); this module owns the box, its suggestions and the address text field.
import { errorText, h, say } from "./common.js";

// Long enough to skip the requests of a typist's intermediate keys, short enough to feel
// instant (the search answers in a few milliseconds).
const DEBOUNCE_MS = 150;
const LIMIT = 6;
const KIND = { address: "Address", street: "Street", place: "Place" };

// What a suggestion shows beside its label: what it is and anything the match needs to say
// ("No 51 here: nearest is 53"), then how far it is from the map's centre.
function hintOf(properties) {
  const parts = [KIND[properties.kind] || properties.kind];
  if (properties.note) parts.push(properties.note);
  if (typeof properties.distance_m === "number") {
    const m = properties.distance_m;
    parts.push(m < 1000 ? `${Math.round(m)} m away` : `${(m / 1000).toFixed(1)} km away`);
  }
  return parts.filter(Boolean).join(" · ");
}

function lonLatOf(feature) {
  const [lon, lat] = feature.geometry.coordinates;
  return { lat, lon };
}

/**
 * addressBox({input, list, message, addressField, api, near, onPick, onUnauthorized}):
 *   input: the text input (gets role=combobox and its states); list: the role=listbox <ul>;
 *   message: where sentences about the search go (no match, nothing near);
 *   addressField: the incident's editable address text, filled with the chosen label;
 *   api: makeApi()'s function; near(): the map's centre ({lat, lng}) or null;
 *   onPick({lat, lon, label, feature}): a place was chosen;
 *   onUnauthorized(error): true when it handled the error (the session ended);
 *   noAddress: the sentence for a point with nothing near it (the console's by default).
 * Returns {fromPoint(latlng), reset()}.
 */
export function addressBox({
  input, list, message, addressField, api, near, onPick, onUnauthorized,
  noAddress = "No address near this point: type it in the address field if you know it.",
}) {
  let timer = null;
  let controller = null; // the search in flight
  let searchSeq = 0; // the newest search asked for: older answers are dropped
  let shown = { query: null, features: [] }; // the suggestions on screen and what they answer
  let active = -1;
  let choosing = false; // an Enter waits for its search
  // Bumped by anything that says where the incident is (a pick, a click, typing an address):
  // a reverse answer for an older click must not overwrite it.
  let placeSeq = 0;
  let filled = ""; // the address text this box last wrote (the dispatcher's own is kept)

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  list.setAttribute("role", "listbox");

  const query = () => input.value.trim();

  function open(visible) {
    list.hidden = !visible;
    input.setAttribute("aria-expanded", visible ? "true" : "false");
    if (!visible) setActive(-1);
  }

  function setActive(index) {
    active = index;
    const options = list.querySelectorAll("[role=option]");
    options.forEach((option, i) => option.setAttribute("aria-selected", i === index ? "true" : "false"));
    if (index >= 0 && options[index]) {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function cancelSearch() {
    clearTimeout(timer);
    timer = null;
    if (controller) controller.abort();
    controller = null;
    searchSeq += 1;
  }

  // The features for q, or null when a newer search (or a reset) made this answer stale.
  async function search(q) {
    cancelSearch();
    const mine = searchSeq;
    controller = new AbortController();
    const params = new URLSearchParams({ q, limit: String(LIMIT) });
    const centre = near();
    if (centre) params.set("near", `${centre.lat.toFixed(5)},${centre.lng.toFixed(5)}`);
    try {
      const answer = await api(`/geocode?${params}`, { signal: controller.signal });
      return mine === searchSeq ? answer.features : null;
    } catch (error) {
      if (mine !== searchSeq || error.name === "AbortError") return null;
      if (!onUnauthorized(error)) say(message, errorText(error));
      return null;
    }
  }

  function render(q, features) {
    shown = { query: q, features };
    list.replaceChildren(...features.map((feature, i) => h("li", {
      id: `${list.id}-${i}`,
      role: "option",
      "aria-selected": "false",
      class: "suggestion",
      dataset: { kind: feature.properties.kind },
      // Keep the focus in the box: a click picks without a blur closing the list first.
      onmousedown: (event) => event.preventDefault(),
      onclick: () => pick(feature),
    }, h("span", { class: "label" }, feature.properties.label),
    h("span", { class: "hint" }, hintOf(feature.properties)))));
    open(features.length > 0);
    if (features.length) say(message, "");
    else say(message, `No address or place matches “${q}” — check the spelling or click the map.`);
  }

  function pick(feature) {
    const { lat, lon } = lonLatOf(feature);
    const label = feature.properties.label;
    cancelSearch();
    placeSeq += 1;
    open(false);
    input.value = label;
    fill(label);
    say(message, "");
    onPick({ lat, lon, label, feature });
  }

  // Enter: the highlighted suggestion, else the first; before any suggestion arrived, the
  // first answer of a search made now.
  async function choose() {
    const q = query();
    if (!q) return say(message, "Type an address or place, or click the map.");
    if (shown.query === q && shown.features.length) {
      return pick(shown.features[Math.max(active, 0)]);
    }
    if (choosing) return undefined;
    choosing = true;
    try {
      const features = await search(q);
      if (features === null || query() !== q) return undefined; // typed on meanwhile
      render(q, features);
      if (features.length) pick(features[0]);
    } finally {
      choosing = false;
    }
    return undefined;
  }

  function move(step) {
    const q = query();
    if (!q) return;
    if (shown.query !== q) {
      // Nothing for this text on screen yet: ask now rather than after the pause.
      search(q).then((features) => { if (features !== null && query() === q) render(q, features); });
      return;
    }
    const count = shown.features.length;
    if (!count) return;
    if (list.hidden) {
      open(true);
      return setActive(step > 0 ? 0 : count - 1);
    }
    setActive((active + step + count + (active < 0 && step < 0 ? 1 : 0)) % count);
  }

  input.addEventListener("input", () => {
    placeSeq += 1; // what the dispatcher types wins over a slow reverse answer
    const q = query();
    clearTimeout(timer);
    say(message, "");
    if (!q) {
      cancelSearch();
      shown = { query: null, features: [] };
      open(false);
      return;
    }
    timer = setTimeout(async () => {
      const features = await search(q);
      if (features !== null && query() === q) render(q, features);
    }, DEBOUNCE_MS);
  });

  input.addEventListener("keydown", (event) => {
    if (event.isComposing) return;
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        move(1);
        break;
      case "ArrowUp":
        event.preventDefault();
        move(-1);
        break;
      case "Enter":
        event.preventDefault(); // not the form's submit: Enter here chooses a place
        choose();
        break;
      case "Escape":
        if (!list.hidden) {
          event.preventDefault();
          event.stopPropagation();
          open(false);
        }
        break;
      default:
    }
  });

  function fill(label) {
    addressField.value = label;
    filled = label;
  }

  // What a map click may replace: an empty address, or the one this box wrote; never words
  // the dispatcher typed (the caller's own description, a door code).
  function replaceable() {
    return !addressField.value.trim() || addressField.value === filled;
  }

  input.addEventListener("blur", () => open(false));
  addressField.addEventListener("input", () => { placeSeq += 1; });

  // A point set on the map: its address, by the reverse lookup, into the box and the address
  // field, unless something newer (another click, a pick, typing) said where it is meanwhile.
  async function fromPoint(latlng) {
    cancelSearch();
    open(false);
    placeSeq += 1;
    const mine = placeSeq;
    say(message, "");
    // The last place's name must not stand beside the new point while the answer comes.
    input.value = "";
    if (replaceable()) fill("");
    const params = new URLSearchParams({ lat: latlng.lat.toFixed(6), lon: latlng.lng.toFixed(6) });
    let features;
    try {
      features = (await api(`/geocode/reverse?${params}`)).features;
    } catch (error) {
      if (mine === placeSeq && !onUnauthorized(error)) say(message, errorText(error));
      return;
    }
    if (mine !== placeSeq) return;
    const found = features[0];
    if (!found) {
      say(message, noAddress, "warn");
      return;
    }
    input.value = found.properties.label;
    // A dispatcher already in the address field is about to type it: theirs, even before a key.
    if (replaceable() && document.activeElement !== addressField) fill(found.properties.label);
  }

  // A new report: no suggestion, no pending answer, no sentence of the last one.
  function reset() {
    cancelSearch();
    placeSeq += 1;
    shown = { query: null, features: [] };
    filled = "";
    list.replaceChildren();
    open(false);
    say(message, "");
  }

  open(false);
  return { fromPoint, reset };
}
