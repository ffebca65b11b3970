// Vector tiles on a Leaflet map: protomaps-leaflet (vendored, loaded on first use) draws
// the OpenMapTiles layers that tilemaker writes with the rules below, on canvas, with the
// browser's own fonts. Readable first: water blue, parks green, buildings grey, streets
// white with their names along them, house numbers when zoomed in close.

const RENDERER = "/static/vendor/protomaps-leaflet-5.1.0/protomaps-leaflet.js";
let rendererPromise = null;

function renderer() {
  if (window.protomapsL) return Promise.resolve(window.protomapsL);
  if (!rendererPromise) {
    rendererPromise = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = RENDERER;
      script.onload = () => resolve(window.protomapsL);
      script.onerror = () => reject(new Error("the vector map renderer did not load"));
      document.head.appendChild(script);
    });
  }
  return rendererPromise;
}

const COLOURS = {
  land: "#f4f1ea",
  water: "#a8d2ef",
  waterLabel: "#2f6d99",
  park: "#c8e6b4",
  wood: "#b5d9a0",
  grass: "#d3ecc0",
  residential: "#eeeae2",
  commercial: "#f1e6e3",
  industrial: "#ebe4ef",
  building: "#d8d1c9",
  buildingEdge: "#bfb5aa",
  casing: "#b3a793",
  major: "#ffe7a6",
  minor: "#ffffff",
  path: "#a39684",
  rail: "#9a9a9a",
  label: "#2b2b2b",
  halo: "#ffffff",
  number: "#6b5d50",
  poi: "#6d4f2f",
};

const MAJOR = new Set(["motorway", "trunk", "primary", "secondary", "tertiary"]);
const MINOR = new Set(["minor", "service", "raceway", "busway", "bus_guideway"]);
const PATHS = new Set(["path", "track", "pier", "bridge"]);
const STOPS = new Set(["bus_stop", "tram_stop", "platform", "stop_position", "subway_entrance"]);

const kind = (f) => f.props.class;
const isMajor = (f) => MAJOR.has(kind(f));
const isMinor = (f) => MINOR.has(kind(f));
const isPath = (f) => PATHS.has(kind(f));

// A width in pixels at zoom 16, doubled per zoom level above it and halved below, within
// [min, max] (a footway stays a thin line however close one zooms).
const scaled =
  (px, min = 0.5, max = Infinity) =>
  (z) =>
    Math.min(max, Math.max(min, px * 2 ** (z - 16)));

// A street line of one kind (casing or fill) in the transportation layer.
function road(P, isKind, color, width) {
  return {
    dataLayer: "transportation",
    filter: (z, f) => isKind(f),
    symbolizer: new P.LineSymbolizer({ color, width, lineCap: "round" }),
  };
}

function paintRules(P) {
  const fill = (colour, extra = {}) => new P.PolygonSymbolizer({ fill: colour, ...extra });
  return [
    {
      dataLayer: "landcover",
      symbolizer: fill((z, f) => (kind(f) === "wood" ? COLOURS.wood : COLOURS.grass)),
    },
    {
      dataLayer: "landuse",
      symbolizer: fill((z, f) => {
        const c = kind(f);
        if (c === "residential") return COLOURS.residential;
        if (c === "commercial" || c === "retail") return COLOURS.commercial;
        if (c === "industrial" || c === "railway") return COLOURS.industrial;
        if (c === "cemetery" || c === "grass") return COLOURS.grass;
        return COLOURS.land;
      }),
    },
    { dataLayer: "park", symbolizer: fill(COLOURS.park) },
    { dataLayer: "water", symbolizer: fill(COLOURS.water) },
    {
      dataLayer: "waterway",
      symbolizer: new P.LineSymbolizer({ color: COLOURS.water, width: scaled(3, 1) }),
    },
    {
      dataLayer: "building",
      minzoom: 14,
      symbolizer: fill(COLOURS.building, { stroke: COLOURS.buildingEdge, width: 0.5 }),
    },
    {
      // Footways and tracks: many in a city (every sidewalk), so light and thin.
      dataLayer: "transportation",
      minzoom: 15,
      filter: (z, f) => isPath(f),
      symbolizer: new P.LineSymbolizer({
        color: COLOURS.path,
        width: scaled(1.5, 0.5, 3),
        dash: [2, 2],
        opacity: 0.7,
      }),
    },
    {
      dataLayer: "transportation",
      filter: (z, f) => kind(f) === "rail" || kind(f) === "transit",
      symbolizer: new P.LineSymbolizer({ color: COLOURS.rail, width: scaled(2, 0.8) }),
    },
    // Casings first, both kinds, then the fills over them: crossings stay clean.
    road(P, isMinor, COLOURS.casing, scaled(9, 1.5)),
    road(P, isMajor, COLOURS.casing, scaled(13, 2)),
    road(P, isMinor, COLOURS.minor, scaled(7, 1)),
    road(P, isMajor, COLOURS.major, scaled(10.5, 1.5)),
  ];
}

function labelRules(P) {
  const text = (font, colour, extra = {}) =>
    new P.CenteredTextSymbolizer({
      labelProps: ["name"],
      font,
      fill: colour,
      stroke: COLOURS.halo,
      width: 2.5,
      ...extra,
    });
  const along = (font) =>
    new P.LineLabelSymbolizer({
      labelProps: ["name"],
      font,
      fill: COLOURS.label,
      stroke: COLOURS.halo,
      width: 3,
    });
  return [
    { dataLayer: "place", symbolizer: text("600 14px sans-serif", COLOURS.label) },
    {
      dataLayer: "water_name",
      symbolizer: text("italic 13px sans-serif", COLOURS.waterLabel),
    },
    {
      dataLayer: "transportation_name",
      minzoom: 13,
      filter: (z, f) => isMajor(f),
      symbolizer: along("600 13px sans-serif"),
    },
    {
      dataLayer: "transportation_name",
      minzoom: 15,
      filter: (z, f) => !isMajor(f),
      symbolizer: along("500 12px sans-serif"),
    },
    {
      dataLayer: "poi",
      minzoom: 17,
      // Places people name (shops, schools, stations), not every stop and platform.
      filter: (z, f) => Boolean(f.props.name) && !STOPS.has(f.props.subclass),
      symbolizer: text("500 11px sans-serif", COLOURS.poi),
    },
    {
      dataLayer: "housenumber",
      minzoom: 17,
      symbolizer: new P.CenteredTextSymbolizer({
        labelProps: ["housenumber"],
        font: "500 10px sans-serif",
        fill: COLOURS.number,
        stroke: COLOURS.halo,
        width: 2,
      }),
    },
  ];
}

// drawVectorTiles(map, {url, maxDataZoom}): the tiles as the map's background layer.
export async function drawVectorTiles(map, { url, maxDataZoom }) {
  const P = await renderer();
  const layer = P.leafletLayer({
    url,
    maxDataZoom: maxDataZoom || 14,
    maxZoom: 20,
    paintRules: paintRules(P),
    labelRules: labelRules(P),
    backgroundColor: COLOURS.land,
    // The map's attribution control already names OpenStreetMap.
    attribution: "",
  });
  layer.addTo(map);
  map.getContainer().dataset.background = "vector";
  return layer;
}

// An external style (MapLibre style or TileJSON) → its vector tile URL and top zoom. Only
// the tiles are taken; we draw them with the rules above (OpenMapTiles schema expected).
export async function vectorTilesFromStyle(styleUrl) {
  const style = await getJson(styleUrl);
  const tilejson = style.tiles ? style : await firstVectorSource(style, styleUrl);
  const base = tilejson.__base || styleUrl;
  if (!tilejson.tiles || !tilejson.tiles.length) throw new Error("style: no vector tiles");
  return {
    url: absolute(tilejson.tiles[0], base),
    maxDataZoom: tilejson.maxzoom || 14,
  };
}

async function firstVectorSource(style, styleUrl) {
  const source = Object.values(style.sources || {}).find((s) => s.type === "vector");
  if (!source) throw new Error("style: no vector source");
  if (source.tiles) return { ...source, __base: styleUrl };
  const tilejsonUrl = absolute(source.url, styleUrl);
  return { ...(await getJson(tilejsonUrl)), __base: tilejsonUrl };
}

// A URL relative to a document's, keeping the {z}/{x}/{y} braces (URL would escape them).
function absolute(url, base) {
  const resolved = new URL(url, new URL(base, location.href)).href;
  return resolved.replace(/%7B/gi, "{").replace(/%7D/gi, "}");
}

async function getJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}
