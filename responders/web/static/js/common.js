// Shared helpers of the web screens: the JSON API with a bearer token, token storage,
// safe DOM building (text only, never innerHTML with data), labels and formatting.

export const KINDS = {
  cardiac_arrest: "Cardiac arrest",
  unconscious: "Unconscious",
  breathing: "Breathing problem",
  bleeding: "Severe bleeding",
  other: "Other emergency",
};

export const ALERT_STATUS = {
  queued: "Queued",
  sent: "Push sent",
  delivered: "Seen on phone",
  accepted: "Accepted",
  declined: "Declined",
  expired: "Expired",
  arrived: "Arrived",
  failed: "Push failed",
  stood_down: "Stood down",
};

export const INCIDENT_STATUS = {
  triage: "Triage",
  active: "Active",
  closed: "Closed",
  cancelled: "Cancelled",
};

export class ApiError extends Error {
  constructor(status, body) {
    const detail = (body && (body.detail || body.message)) || `HTTP ${status}`;
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
    this.code = body && body.code;
    this.field = body && body.field;
    this.body = body;
  }
  describe() {
    const field = this.field && !this.message.includes(this.field) ? ` (${this.field})` : "";
    return `${this.message}${field}`;
  }
}

// The request never got an answer: no network, or the service is down.
export class ConnectionError extends Error {
  constructor(cause) {
    super("No connection to the service: check that this device is online, then try again.", { cause });
    this.name = "ConnectionError";
  }
}

// What to tell the user about a failed call: the API's own words when it answered, the
// browser's (network, parse) otherwise.
export function errorText(error) {
  return error instanceof ApiError ? error.describe() : error.message;
}

// Server clock minus browser clock, from the Date header of API answers (1 s resolution;
// only trusted when the difference is larger than that).
let clockOffsetMs = 0;
export function serverNow() {
  return Date.now() + clockOffsetMs;
}
function noteServerDate(response) {
  const date = response.headers.get("Date");
  if (!date) return;
  const diff = Date.parse(date) + 500 - Date.now();
  clockOffsetMs = Math.abs(diff) > 1500 ? diff : 0;
}

// A token kept per screen: sessionStorage first (the demo phone hands one over that way),
// then localStorage ("remember on this device"). Every change is announced on window as an
// "ehbo:token" event (detail: the screen's name), so a module that keeps something per
// sign-in (pwa.js: the service worker's token, the push subscription) follows every way in
// and out, whichever module signed in or out.
export function tokenStore(name) {
  const key = `ehbo.${name}.token`;
  const changed = () => window.dispatchEvent(new CustomEvent("ehbo:token", { detail: name }));
  return {
    get() {
      return sessionStorage.getItem(key) || localStorage.getItem(key) || "";
    },
    // Whether the token is kept on this device ("remember"), not only for this tab.
    remembered() {
      const token = localStorage.getItem(key);
      return Boolean(token) && token === this.get();
    },
    set(token, remember) {
      sessionStorage.setItem(key, token);
      if (remember) localStorage.setItem(key, token);
      else localStorage.removeItem(key);
      changed();
    },
    clear() {
      sessionStorage.removeItem(key);
      localStorage.removeItem(key);
      changed();
    },
  };
}

export function makeApi(getToken) {
  return async function api(path, { method = "GET", body, signal, headers = {} } = {}) {
    const init = { method, signal, headers: { Accept: "application/json", ...headers } };
    const token = getToken && getToken();
    if (token) init.headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      // The browser's own words ("Failed to fetch", "NetworkError when attempting…") say
      // nothing to a person; a cancelled request stays what it is.
      if (error.name === "AbortError") throw error;
      throw new ConnectionError(error);
    }
    noteServerDate(response);
    if (response.status === 204) return null;
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = { detail: text };
      }
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  };
}

// h("button", {class: "x", onclick: fn}, "text", child, ...): text is always text.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.className = value;
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function show(el, visible) {
  el.hidden = !visible;
}

export function say(el, text, kind = "error") {
  el.textContent = text || "";
  el.className = `message ${kind}`;
}

export function fmtClock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export function fmtMinutes(seconds) {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  return `${Math.round(seconds / 60)} min`;
}

export function fmtDistance(metres) {
  if (metres < 1000) return `${Math.round(metres)} m`;
  return `${(metres / 1000).toFixed(1)} km`;
}

export function fmtTime(iso) {
  const d = new Date(iso);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
}

// Today as YYYY-MM-DD in the phone's own calendar (qualification dates are compared with it).
export function localToday() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

export function fmtAgo(iso) {
  const s = Math.max(0, (serverNow() - Date.parse(iso)) / 1000);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

// Seconds of walking still to go for an alert: its walking time counted down from when it
// was created. Negative when overdue.
export function remainingWalk(alert) {
  return alert.walk_seconds - (serverNow() - Date.parse(alert.created_at)) / 1000;
}

export function badge(text, cls) {
  return h("span", { class: `badge ${cls}` }, text);
}

export function lonLat(point) {
  return point && point.coordinates ? [point.coordinates[1], point.coordinates[0]] : null;
}

export function parseCoordinate(value, min, max) {
  const n = Number(String(value).trim().replace(",", "."));
  return Number.isFinite(n) && n >= min && n <= max && String(value).trim() !== "" ? n : null;
}
