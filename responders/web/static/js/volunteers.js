// The volunteers of an incident at a glance: in the order that matters (on the way, then
// waiting for an answer, then out), and when each one gets there. Pure functions of the
// operator view (GET /incidents/{id}) and a clock, so tests can run them in the page.

import { ALERT_STATUS, fmtMinutes } from "./common.js";
import { ALERT } from "./states.js";

// The table's three groups, from the server's sets (GET /states): said yes (on the way or
// there), not answered yet (busy but not committed), and the rest (declined, expired,
// failed, stood down).
const COMMITTED = ALERT.committed;
const PENDING = new Set([...ALERT.busy].filter((s) => !COMMITTED.has(s)));
const rest = (s) => !COMMITTED.has(s) && !PENDING.has(s);

// The colour legend, in the table's order: one entry per group, its statuses in the
// lifecycle's order, with the badges' and markers' colours (CSS --s-<status>).
export const LEGEND = [
  ["On the way", (s) => COMMITTED.has(s)],
  ["Waiting for an answer", (s) => PENDING.has(s)],
  ["Out", rest],
].map(([label, member]) => ({
  label,
  statuses: Object.keys(ALERT_STATUS).filter(member).map((s) => ({ status: s, text: ALERT_STATUS[s] })),
}));

// Within this much of the AED a fetcher is taken to have it: their remaining walk from a
// live position then goes straight to the incident.
export const AT_AED_M = 50;

export function rank(alert) {
  if (COMMITTED.has(alert.status)) return 0;
  if (PENDING.has(alert.status)) return 1;
  return 2;
}

// When an accepted volunteer is due (ms since the epoch, server clock): from their live
// position when it is newer than the acceptance and its route is known (`liveRoute`, a
// GET /route answer drawn from there), else from the acceptance along the walk planned
// from where they were alerted. Null for anyone not on the way.
export function arrivalAt(alert, liveRoute = null) {
  if (alert.status !== "accepted") return null;
  if (alert.live_at && liveRoute && liveRoute.properties) {
    return Date.parse(alert.live_at) + liveRoute.properties.duration_s * 1000;
  }
  const accepted = Date.parse(alert.accepted_at || alert.updated_at);
  return accepted + alert.walk_seconds * 1000;
}

// Accepted first (on scene, then by arrival), then pending by walking time, then the rest;
// ties keep the server's order (walking time, then id).
export function sortAlerts(alerts, routes = new Map()) {
  const key = (a) => {
    if (a.status === "arrived") return -Infinity;
    const at = arrivalAt(a, routes.get(a.id));
    return at === null ? a.walk_seconds : at;
  };
  return alerts
    .map((a, index) => ({ a, index }))
    .sort((x, y) => rank(x.a) - rank(y.a) || key(x.a) - key(y.a) || x.index - y.index)
    .map((x) => x.a);
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

// "arrives ~12:04 (3 min)", "due now", "late by 2 min"; "6 min walk" while the answer is
// awaited (not a countdown: nobody walks before they accept); "on scene"; "—" for the rest.
export function etaText(alert, nowMs, liveRoute = null) {
  if (alert.status === "arrived") return "on scene";
  if (PENDING.has(alert.status)) return `${fmtMinutes(alert.walk_seconds)} walk`;
  const at = arrivalAt(alert, liveRoute);
  if (at === null) return "—";
  const left = (at - nowMs) / 1000;
  if (left >= 30) return `arrives ~${clock(at)} (${Math.max(1, Math.round(left / 60))} min)`;
  if (left > -60) return "due now";
  return `late by ${Math.floor(-left / 60)} min`;
}

// Metres between two GeoJSON points (haversine; a few hundred metres need no better).
export function metresBetween(p, q) {
  const [lon1, lat1] = p.coordinates;
  const [lon2, lat2] = q.coordinates;
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.sqrt(s));
}
