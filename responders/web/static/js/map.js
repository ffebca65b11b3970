// Maps on Leaflet (vendored in /static/vendor). The background, as /map/config says: an
// external tile server or style if configured; else the service's own vector tiles
// (/map/tiles/{z}/{x}/{y}.pbf, OpenMapTiles schema) drawn by protomaps-leaflet (vendored)
// with the rules in tiles.js; else the walking graph's streets from /map/streets.geojson,
// with a note saying the detailed map is unavailable. No request leaves the machine.
/* global L */
import { drawVectorTiles, vectorTilesFromStyle } from "./tiles.js";

let configPromise = null;
let streetsPromise = null;

function mapConfig() {
  if (!configPromise) {
    configPromise = fetch("/map/config").then((r) => {
      if (!r.ok) throw new Error(`map config: HTTP ${r.status}`);
      return r.json();
    });
  }
  return configPromise;
}

function streets(url) {
  if (!streetsPromise) {
    streetsPromise = fetch(url).then((r) => {
      if (!r.ok) throw new Error(`streets: HTTP ${r.status}`);
      return r.json();
    });
  }
  return streetsPromise;
}

const MAJOR = new Set([
  "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
  "secondary", "secondary_link", "tertiary", "tertiary_link",
]);
const MINOR = new Set([
  "residential", "unclassified", "service", "living_street", "pedestrian", "road", "track",
]);

function streetClass(feature) {
  const highway = feature.properties && feature.properties.highway;
  if (MAJOR.has(highway)) return "major";
  if (MINOR.has(highway)) return "minor";
  if (highway === "steps") return "steps";
  return "path";
}

const CASING = {
  major: { color: "#b9ae96", weight: 7 },
  minor: { color: "#c9c3b6", weight: 5 },
};
const FILL = {
  major: { color: "#fbe3a1", weight: 5 },
  minor: { color: "#ffffff", weight: 3 },
  path: { color: "#9b9182", weight: 1.2 },
  steps: { color: "#9b9182", weight: 1.6, dashArray: "2 3" },
};

async function drawStreets(map, url) {
  const data = await streets(url);
  const renderer = L.canvas({ pane: "streets", padding: 0.3 });
  const common = { renderer, interactive: false, lineCap: "round", lineJoin: "round" };
  L.geoJSON(data, {
    ...common,
    filter: (f) => CASING[streetClass(f)] !== undefined,
    style: (f) => ({ ...common, ...CASING[streetClass(f)] }),
  }).addTo(map);
  L.geoJSON(data, {
    ...common,
    style: (f) => ({ ...common, ...FILL[streetClass(f)] }),
  }).addTo(map);
}

const VECTOR = /\.(pbf|mvt)(\?|$)/;

async function drawBackground(map, config) {
  try {
    if (config.tile_url && VECTOR.test(config.tile_url)) {
      await drawVectorTiles(map, { url: config.tile_url, maxDataZoom: 14 });
    } else if (config.tile_url) {
      L.tileLayer(config.tile_url, { maxZoom: 19 }).addTo(map);
    } else if (config.style_url) {
      await drawVectorTiles(map, await vectorTilesFromStyle(config.style_url));
    } else if (config.vector_tiles_url) {
      await drawVectorTiles(map, { url: config.vector_tiles_url, maxDataZoom: config.max_zoom });
    }
  } catch (error) {
    // A renderer or style that does not load must not leave the map empty.
    console.error(error);
    await fallBack(map, "/map/streets.geojson", "Detailed map unavailable: streets only");
    return;
  }
  if (config.streets_url) await fallBack(map, config.streets_url, config.note);
}

async function fallBack(map, url, note) {
  await drawStreets(map, url);
  if (note) noteControl(note).addTo(map);
}

// A small line on the map saying what it lacks (as text: never markup).
function noteControl(text) {
  const Note = L.Control.extend({
    options: { position: "bottomleft" },
    onAdd() {
      const note = L.DomUtil.create("div", "map-note");
      note.setAttribute("role", "note");
      note.textContent = text;
      return note;
    },
  });
  return new Note();
}

// createMap(element, {label, onPick}) → {map, ready}. onPick(latlng) is called on a click,
// and on Enter while the map has the keyboard focus (the centre crosshair), so a keyboard
// user can place a point too.
export function createMap(element, { label = "Map", onPick = null } = {}) {
  const map = L.map(element, {
    // Overlays (routes, volunteers) are SVG: few, and each one a DOM node with a class.
    // The many streets get a canvas renderer of their own.
    preferCanvas: false,
    zoomSnap: 0.25,
    keyboard: true,
    attributionControl: true,
    zoomControl: true,
  });
  map.attributionControl.setPrefix("Leaflet");
  map.createPane("streets").style.zIndex = 250;
  const container = map.getContainer();
  container.setAttribute("role", "application");
  container.setAttribute("aria-label", label);
  if (onPick) {
    map.on("click", (event) => onPick(event.latlng));
    container.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && event.target === container) {
        event.preventDefault();
        onPick(map.getCenter());
      }
    });
  }
  const ready = mapConfig().then(async (config) => {
    if (config.bounds) {
      const [w, s, e, n] = config.bounds;
      map.fitBounds([[s, w], [n, e]]);
      map.setMaxBounds(L.latLngBounds([[s, w], [n, e]]).pad(0.5));
    } else {
      map.setView([0, 0], 2);
    }
    map.attributionControl.addAttribution(config.attribution);
    await drawBackground(map, config);
    container.dataset.ready = "true";
    return config;
  });
  return { map, ready };
}

export function divIcon(className, text, size = 26) {
  return L.divIcon({
    className: "",
    html: `<div class="${className}" style="width:${size}px;height:${size}px">${text}</div>`,
    iconSize: [size, size],
    iconAnchor: [size / 2, size / 2],
  });
}

export function incidentIcon(draft = false) {
  return divIcon(draft ? "pin-icon draft" : "pin-icon", "!", 30);
}

export function aedIcon() {
  return divIcon("aed-icon", "AED", 30);
}
