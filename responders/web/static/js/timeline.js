// The incident timeline, readable at a glance: the routine (alerts queued, pushes sent,
// alerts seen, expired, stood down, replacements) becomes one line per kind and wave ("Wave 1: 30
// pushes sent in 1.2 s"), the events that matter (accepted, declined, arrived, failed,
// waves, reported, confirmed, closed...) stay one line each. `groupTimeline` is a pure
// function of the events and the alerts (for names and waves): the page draws its
// entries, tests run it in the page.

import { fmtClock, fmtDistance } from "./common.js";
import { reasonLabel } from "./dialogs.js";

const STAND_DOWN_REASONS = {
  closed: "incident closed",
  cancelled: "incident cancelled",
  no_longer_needed: "no longer needed",
};

function reasonText(reason) {
  return STAND_DOWN_REASONS[reason] || (reason || "").replace(/_/g, " ");
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

function seconds(ms) {
  return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
}

// Routine kinds: kind -> [whether they are grouped per wave, the group's text from its
// number of events, their span in ms and the events].
const ROUTINE = {
  alert_queued: [true, (n) => `${plural(n, "alert", "alerts")} queued`],
  "push_sent:alert": [true, (n, span) => `${plural(n, "push", "pushes")} sent in ${seconds(span)}`],
  alert_delivered: [true, (n) => `${n} delivered (seen on the phone)`],
  alert_expired: [true, (n) => `${plural(n, "alert", "alerts")} expired unanswered`],
  "push_sent:stand_down": [false, (n, span) => `${plural(n, "stand-down push", "stand-down pushes")} sent in ${seconds(span)}`],
  "push_sent:no_longer_needed": [false, (n, span) => `${plural(n, "\u201cno longer needed\u201d push", "\u201cno longer needed\u201d pushes")} sent in ${seconds(span)}`],
  "push_sent:update": [false, (n, span) => `${plural(n, "update push", "update pushes")} sent in ${seconds(span)}`],
  // A replacement for each decline or failed push: their number, not one line each.
  replacement: [false, (n, span, events) =>
    `${n} replacements: ${events.reduce((sum, e) => sum + ((e.detail || {}).alerted || 0), 0)} more alerted`],
};

function routine(kind) {
  if (ROUTINE[kind]) return ROUTINE[kind];
  const [head, sub] = kind.split(":");
  if (head === "alert_stood_down") return [false, (n) => `${n} stood down (${reasonText(sub)})`];
  return null;
}

// One event's own line: [text, tone] ("good", "bad" or "").
// ": <reason> (<note>)" of a closing or cancelling event, when it has them.
function ended(x) {
  if (!x.reason) return "";
  return `: ${reasonLabel(x.reason)}${x.note ? ` (${x.note})` : ""}`;
}

// What a correction changed, old → new.
function corrections(changes) {
  const quoted = (text) => (text ? `“${text}”` : "(none)");
  const parts = [];
  if (changes.address) parts.push(`address ${quoted(changes.address.old)} → ${quoted(changes.address.new)}`);
  if (changes.location) parts.push(`pin moved ${fmtDistance(changes.location.moved_m || 0)}`);
  if (changes.notes) parts.push(`notes ${quoted(changes.notes.old)} → ${quoted(changes.notes.new)}`);
  return parts.join("; ") || "nothing";
}

export function describe(event, who) {
  const [kind, sub] = event.kind.split(":");
  const x = event.detail || {};
  const name = who(event);
  switch (kind) {
    case "reported": return [`Reported (${x.source === "citizen" ? "citizen" : "dispatch"}), ${x.status}`, ""];
    case "confirmed": return ["Confirmed by the operator", "good"];
    case "wave_started": return [x.wave > 1
      ? `Wave widened: wave ${x.wave}, ${x.alerted} more alerted within ${fmtDistance(x.radius_m || 0)}`
      : `Wave ${x.wave}: ${x.alerted} alerted within ${fmtDistance(x.radius_m || 0)}`, ""];
    case "replacement": return [`Replacement: ${x.alerted} more alerted`, ""];
    case "alert_queued": return [`Alert queued for ${name} (${x.role === "via_aed" ? "via AED" : "direct"})`, ""];
    case "push_sent": return [`Push ${sub === "alert" ? "sent" : (sub || "").replace(/_/g, " ")} to ${name}`, ""];
    case "push_failed": return [`Push FAILED to ${name}: ${x.reason || "unknown"}`, "bad"];
    case "alert_delivered": return [`${name} saw the alert`, ""];
    case "alert_accepted": return [`${name} accepted`, "good"];
    case "alert_declined": return [`${name} declined`, ""];
    case "alert_arrived": return [`${name} arrived`, "good"];
    case "alert_expired": return [`${name}: alert expired`, ""];
    case "alert_failed": return [`${name}: alert failed`, "bad"];
    case "alert_stood_down": return [`${name} stood down (${reasonText(sub)})`, ""];
    case "enough_accepted": return ["Enough volunteers accepted", "good"];
    case "closed": return [`Incident closed${ended(x)}`, ""];
    case "cancelled": return [`Incident cancelled${ended(x)}`, ""];
    case "corrected": return [`Corrected: ${corrections(x.changes || {})}`, ""];
    case "seen": return ["A dispatcher opened the report", ""];
    case "demo_ended": return [x.reason === "restart" ? "Ended by the demo's restart"
      : `Ended by the demo after ${fmtClock(x.after_s || 0)}`, ""];
    default: return [event.kind.replace(/_/g, " "), ""];
  }
}

// The timeline's entries, newest first. An entry is {key, id, kind: "event", event, text,
// tone} or {key, id, kind: "group", group, events and their items ({event, text}, oldest
// first), text, tone}; a group
// stands where its first event happened (`id`), and one with a single event is that event.
// A stand-down of a volunteer who had accepted matters (someone on the way was turned
// back): it is never grouped.
export function groupTimeline(events, alerts = []) {
  const byId = new Map(alerts.map((a) => [a.id, a]));
  const who = (event) => {
    const alert = event.alert_id ? byId.get(event.alert_id) : null;
    return alert ? alert.responder_name || "volunteer" : event.alert_id ? `alert #${event.alert_id}` : "";
  };
  const ordered = [...events].sort((a, b) => a.id - b.id);
  const accepted = new Set();
  const groups = new Map();
  const entries = [];
  for (const event of ordered) {
    if (event.kind === "alert_accepted") accepted.add(event.alert_id);
    const rule = routine(event.kind);
    const turnedBack = event.kind.startsWith("alert_stood_down") && accepted.has(event.alert_id);
    if (!rule || turnedBack) {
      const [described, tone] = describe(event, who);
      const text = turnedBack ? `${who(event)} was on the way: ${described.slice(who(event).length + 1)}` : described;
      entries.push({ key: `e:${event.id}`, id: event.id, kind: "event", event, text, tone: turnedBack ? "bad" : tone });
      continue;
    }
    const [perWave, text] = rule;
    const alert = byId.get(event.alert_id);
    const wave = perWave && alert ? alert.wave : null;
    const group = `${event.kind}|${wave ?? ""}`;
    if (!groups.has(group)) {
      const entry = { key: `g:${group}`, id: event.id, kind: "group", group, wave, events: [], text: "", tone: "", label: text };
      groups.set(group, entry);
      entries.push(entry);
    }
    groups.get(group).events.push(event);
  }
  return entries.map((entry) => {
    if (entry.kind !== "group") return entry;
    if (entry.events.length === 1) {
      const [event] = entry.events;
      const [text, tone] = describe(event, who);
      return { key: `e:${event.id}`, id: event.id, kind: "event", event, text, tone };
    }
    const first = Date.parse(entry.events[0].created_at);
    const last = Date.parse(entry.events[entry.events.length - 1].created_at);
    const text = entry.label(entry.events.length, last - first, entry.events);
    // Each event of the group keeps its own line, shown when the group is opened.
    const items = entry.events.map((event) => ({ event, text: describe(event, who)[0] }));
    const { label, ...rest } = entry;
    return { ...rest, items, text: entry.wave ? `Wave ${entry.wave}: ${text}` : text };
  }).sort((a, b) => b.id - a.id);
}
