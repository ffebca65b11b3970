// On the way (issue 15): once the volunteer has accepted, the alert screen lists the route's
// turn-by-turn steps, shows their own moving position on the map, and offers "Open in Maps"
// for the walk. The link is only a link: the page itself fetches nothing from outside.
/* global L */
import { fmtDistance, h, lonLat, show } from "./common.js";
import { divIcon } from "./map.js";

const fixed = (n) => Number(n).toFixed(6);

// The maps app of this phone, from its user agent alone: "apple" (iPhone, iPad; an iPad
// asking for the desktop site says "Macintosh" but has a touch screen), "android", or
// "web" (the OpenStreetMap site, walking).
export function mapsPlatform(userAgent, touchPoints = 0) {
  const ua = String(userAgent || "");
  if (/iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && touchPoints > 1)) return "apple";
  if (/Android/i.test(ua)) return "android";
  return "web";
}

// The href that opens walking directions to `to` ({lat, lon}) in the phone's maps app.
// `from` (the volunteer's own position, when known) only matters to the OSM link: the apps
// start from where the phone is.
export function mapsHref(userAgent, to, { from = null, touchPoints = 0 } = {}) {
  const dest = `${fixed(to.lat)},${fixed(to.lon)}`;
  switch (mapsPlatform(userAgent, touchPoints)) {
    case "android":
      // geo: opens the user's chosen maps app; q= puts the pin there to start directions.
      return `geo:${dest}?q=${dest}`;
    case "apple":
      return `https://maps.apple.com/?daddr=${dest}&dirflg=w`;
    default: {
      const start = from ? `${fixed(from.lat)},${fixed(from.lon)}` : "";
      return `https://www.openstreetmap.org/directions?engine=fossgis_osrm_foot&route=${encodeURIComponent(`${start};${dest}`)}`;
    }
  }
}

// The links of an accepted alert: to the victim, or for a fetcher first to the AED and
// then on to the victim (maps apps take one destination per link).
export function mapsLinks(userAgent, alert, options = {}) {
  const victim = alert.incident.location && lonLat(alert.incident.location);
  if (!victim) return [];
  const links = [];
  const aed = alert.role === "via_aed" && alert.aed && alert.aed.location && lonLat(alert.aed.location);
  if (aed) {
    links.push({ label: "Open in Maps: to the AED", href: mapsHref(userAgent, { lat: aed[0], lon: aed[1] }, options) });
    links.push({ label: "Open in Maps: on to the victim", href: mapsHref(userAgent, { lat: victim[0], lon: victim[1] }, options) });
  } else {
    links.push({ label: "Open in Maps", href: mapsHref(userAgent, { lat: victim[0], lon: victim[1] }, options) });
  }
  return links;
}

// "Turn left onto Kaivokatu · 120 m"; the routing's "Arrive" steps named for what is
// there (a fetcher's route has the AED as its waypoint).
export function stepText(step, role) {
  if (step.instruction === "Arrive at waypoint") return role === "via_aed" ? "Arrive at the AED" : "Arrive at the waypoint";
  if (step.instruction === "Arrive") return "Arrive at the victim";
  return step.distance_m > 0 ? `${step.instruction} · ${fmtDistance(step.distance_m)}` : step.instruction;
}

// Whether the on-the-way panel applies: accepted, incident still going.
export function onTheWay(alert) {
  return alert.status === "accepted" && alert.incident.status === "active";
}

// Fill the panel (#onway: #onway-links, #onway-steps) for this alert; hidden when it does
// not apply. `from` is the volunteer's latest position, if any.
export function renderOnWay(alert, from = null) {
  const panel = document.getElementById("onway");
  const going = onTheWay(alert);
  show(panel, going);
  if (!going) return;
  const links = mapsLinks(navigator.userAgent, alert, { from, touchPoints: navigator.maxTouchPoints || 0 });
  document.getElementById("onway-links").replaceChildren(...links.map((link) => h("a", {
    class: "button secondary", href: link.href, target: "_blank", rel: "noopener noreferrer",
  }, link.label)));
  const steps = (alert.route && alert.route.properties && alert.route.properties.steps) || [];
  const list = document.getElementById("onway-steps");
  const key = JSON.stringify(steps);
  if (list.dataset.key === key) return; // unchanged: keep the list (and a reader's place)
  list.dataset.key = key;
  list.replaceChildren(...steps.map((step) => h("li", {}, stepText(step, alert.role))));
  show(document.getElementById("onway-steps-title"), steps.length > 0);
}

// The volunteer's own position on the alert map: one marker, moved with each fix.
export function ownPosition(map, marker, fix) {
  const at = [fix.lat, fix.lon];
  if (marker) {
    marker.setLatLng(at);
    return marker;
  }
  return L.marker(at, {
    icon: divIcon("me-icon", "", 20), keyboard: false, title: "Your position", zIndexOffset: 900, interactive: false,
  }).addTo(map);
}
