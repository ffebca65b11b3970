// Location only while it matters (issue 15): three modes the volunteer controls.
//   off:        no geolocation call at all; turning sharing off deletes the server's point.
//   on duty:    watchPosition while the app is open, a point sent when moved ≥ 100 m from the
//               last one sent or ≥ 5 min after it (the first fix at once); kept across reloads.
//   responding: after Accept, a point every ~25 m until the volunteer arrives, declines, is
//               stood down, the incident ends or the safety cap passes; then the watch is
//               cleared and nothing more is sent (back to on duty if it was on before).
// The server keeps only the latest point (and lets it expire), so nothing here is history.
import { $, ApiError, errorText, h, show } from "./common.js";
import { onTheWay } from "./onway.js";

// Tests shorten the intervals with window.EHBO_LOCATION_TUNING (an init script) instead of
// waiting five minutes; the page never sets it.
const DEFAULTS = {
  dutyMetres: 100,
  dutySeconds: 300,
  respondingMetres: 25,
  // A responder standing still (a red light, a locked door) still shows as fresh.
  respondingSeconds: 60,
  // The server takes 30 updates a minute from one volunteer: one every 2 s, kept above that.
  minGapSeconds: 2.5,
  backoffSeconds: 10,
  // Responding stops by itself after this even if no end was ever seen.
  respondingCapSeconds: 2 * 3600,
  // While responding, how often the alert is read to notice a stand-down or an ended
  // incident when its screen is not open.
  checkSeconds: 15,
};

const KEY = "ehbo.app.location";

const MESSAGES = {
  duty: "Sharing your location: on duty",
  responding: "Sharing your location until you arrive",
  denied: "Location is blocked for this app. Allow location for this site in your browser's "
    + "settings (the icon next to the address), then turn sharing on again.",
  unavailable: "Your phone cannot find its position just now. Check that location (GPS) is on "
    + "in the phone's settings; the app keeps trying.",
  unsupported: "This browser cannot share a location: your places and hours are used instead.",
};

const EARTH_M = 6371008.8;

// Metres between two {lat, lon} (haversine: exact enough for 25 m steps).
export function distanceM(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const s = Math.sin(dLat / 2) ** 2
    + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_M * Math.asin(Math.min(1, Math.sqrt(s)));
}

// Whether `fix` should be sent, given the last point sent ({lat, lon, at} or null), the time
// now (ms) and the mode's rule ({metres, seconds}).
export function dueToSend(last, fix, now, rule) {
  if (!fix) return false;
  if (!last) return true;
  return distanceM(last, fix) >= rule.metres || now - last.at >= rule.seconds * 1000;
}

function loadState() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || "{}");
    return {
      duty: saved.duty === true,
      responding: saved.responding && Number.isInteger(saved.responding.alert) ? saved.responding : null,
      // The alert whose sharing the volunteer stopped by hand: never restarted by itself.
      stopped: Number.isInteger(saved.stopped) ? saved.stopped : null,
    };
  } catch {
    return { duty: false, responding: null, stopped: null };
  }
}

// createLocationSharing({api, onAuthLost}) → the one sharing controller of the page.
// Elements (by id, in app.html): #location-bar (+ -text, -stop), the availability view's
// #sharing-off / #sharing-duty radios and #sharing-message.
export function createLocationSharing({ api, signedIn, onAuthLost = () => {} }) {
  const tuning = { ...DEFAULTS, ...(window.EHBO_LOCATION_TUNING || {}) };
  const rules = {
    duty: { metres: tuning.dutyMetres, seconds: tuning.dutySeconds },
    responding: { metres: tuning.respondingMetres, seconds: tuning.respondingSeconds },
  };
  const state = loadState();
  const listeners = new Set();
  let mode = "off";
  let watchId = null;
  let latest = null; // the newest fix {lat, lon, accuracy}
  let lastSent = null; // {lat, lon, at}
  let notBefore = 0; // ms: the next send waits until then (rate limit)
  let sending = null; // the promise of the PUT in flight
  let timer = null;
  let checkTimer = null;
  let followed = { alert: null, at: 0 }; // the alert follow() last saw, and when (ms)
  let problem = ""; // a geolocation or network problem, said in the bar

  function save() {
    localStorage.setItem(KEY, JSON.stringify(state));
  }

  function wanted() {
    if (state.responding) return "responding";
    return state.duty ? "duty" : "off";
  }

  // Bring the watch in line with the wanted mode; every change starts from a fresh fix
  // (the first one is sent at once).
  function apply() {
    const next = wanted();
    if (next !== mode) {
      clearWatch();
      mode = next;
      lastSent = null;
      problem = "";
      if (mode !== "off") startWatch();
    }
    clearTimeout(checkTimer);
    if (mode === "responding") checkTimer = setTimeout(checkAlert, tuning.checkSeconds * 1000);
    render();
  }

  function clearWatch() {
    if (watchId !== null) navigator.geolocation.clearWatch(watchId);
    watchId = null;
    latest = null;
    clearTimeout(timer);
    timer = null;
    clearTimeout(checkTimer);
  }

  function startWatch() {
    if (!navigator.geolocation) {
      problem = MESSAGES.unsupported;
      state.duty = false;
      state.responding = null;
      save();
      mode = "off";
      return;
    }
    watchId = navigator.geolocation.watchPosition(onFix, onFixError, {
      enableHighAccuracy: mode === "responding",
      maximumAge: mode === "responding" ? 0 : 30000,
      timeout: 30000,
    });
  }

  function onFix(position) {
    if (mode === "off") return;
    const c = position.coords;
    latest = { lat: c.latitude, lon: c.longitude, accuracy: c.accuracy || 50 };
    if (problem) {
      problem = "";
      render();
    }
    for (const listener of listeners) listener({ ...latest });
    consider();
  }

  function onFixError(error) {
    if (error.code === 1) {
      // Denied: the watch will never give a fix; say so and stop pretending to share.
      state.duty = false;
      state.responding = null;
      save();
      apply();
      problem = MESSAGES.denied;
    } else {
      problem = MESSAGES.unavailable;
    }
    render();
  }

  // Send the newest fix if the mode's rule says so and the rate limit allows; otherwise
  // wait for the time rule (a phone standing still gets no new fixes to wake us).
  function consider() {
    clearTimeout(timer);
    timer = null;
    if (mode === "off" || sending || !latest) return;
    const now = Date.now();
    const rule = rules[mode];
    if (!dueToSend(lastSent, latest, now, rule)) {
      timer = setTimeout(consider, lastSent.at + rule.seconds * 1000 - now);
      return;
    }
    if (now < notBefore) {
      timer = setTimeout(consider, notBefore - now);
      return;
    }
    sending = send({ ...latest });
  }

  async function send(fix) {
    const sentIn = mode;
    notBefore = Date.now() + tuning.minGapSeconds * 1000;
    try {
      await api("/responders/me/location", {
        method: "PUT",
        body: { lat: fix.lat, lon: fix.lon, accuracy_m: Math.min(10000, Math.max(1, fix.accuracy)) },
      });
      if (mode === sentIn) lastSent = { lat: fix.lat, lon: fix.lon, at: Date.now() };
      if (problem && problem !== MESSAGES.denied && problem !== MESSAGES.unavailable) problem = "";
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        forget();
        onAuthLost();
        return;
      }
      // Too frequent (429) or failed: wait, then send the newest fix.
      notBefore = Date.now() + tuning.backoffSeconds * 1000;
      if (!(error instanceof ApiError && error.status === 429)) {
        problem = `Your location could not be sent: ${errorText(error)}. The app tries again.`;
      }
    } finally {
      sending = null;
    }
    render();
    consider();
  }

  // The server's point goes only after the last PUT has answered: an update still in
  // flight would otherwise put it back.
  async function deletePoint() {
    if (sending) await sending.catch(() => {});
    try {
      await api("/responders/me/location", { method: "DELETE" });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return;
      problem = `Your last position could not be deleted: ${errorText(error)}. `
        + "It expires on the server within 15 minutes.";
      render();
    }
  }

  async function checkAlert() {
    const responding = state.responding;
    if (!responding) return;
    // While the alert screen is open it reads the alert every 2 s and hands it to follow():
    // no second request for the same answer.
    const fresh = followed.alert === responding.alert
      && Date.now() - followed.at < tuning.checkSeconds * 1000;
    try {
      if (!fresh) follow(await api(`/alerts/${responding.alert}`));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) end(responding.alert);
    }
    if (mode === "responding") {
      clearTimeout(checkTimer);
      checkTimer = setTimeout(checkAlert, tuning.checkSeconds * 1000);
    }
  }

  function overCap() {
    return state.responding
      && Date.now() - state.responding.since > tuning.respondingCapSeconds * 1000;
  }

  // Start responding for an accepted alert (the Accept call succeeded).
  function respond(alertId) {
    if (state.responding && state.responding.alert === alertId) return;
    state.responding = { alert: alertId, since: Date.now() };
    state.stopped = null;
    save();
    apply();
  }

  // The response is over: back to on duty if it was on, else off (and the point deleted).
  function end(alertId) {
    if (!state.responding || (alertId !== undefined && state.responding.alert !== alertId)) return;
    state.responding = null;
    save();
    apply();
    if (mode === "off") deletePoint();
  }

  // What an alert's state means for sharing: on the way (accepted, incident active; the
  // route screen's own rule) → responding (also after a reload, or an Accept from the
  // notification); anything else ends it.
  function follow(alert) {
    followed = { alert: alert.id, at: Date.now() };
    const going = onTheWay(alert);
    const mine = state.responding && state.responding.alert === alert.id;
    if (going && !mine && state.stopped !== alert.id && !state.responding) respond(alert.id);
    else if (mine && (!going || overCap())) end(alert.id);
  }

  // The one-tap Stop: no sharing at all, the point deleted.
  async function stop() {
    if (state.responding) state.stopped = state.responding.alert;
    state.duty = false;
    state.responding = null;
    save();
    apply();
    await deletePoint();
  }

  function setDuty(on) {
    state.duty = on;
    save();
    const before = mode;
    apply();
    if (!on && before === "duty" && mode === "off") deletePoint();
  }

  // Signed out or token refused: stop locally, nothing kept for the next person.
  function forget() {
    state.duty = false;
    state.responding = null;
    state.stopped = null;
    localStorage.removeItem(KEY);
    apply();
  }

  function render() {
    const bar = $("#location-bar");
    if (!bar) return;
    const on = mode !== "off";
    show(bar, on || Boolean(problem));
    bar.dataset.mode = mode;
    $("#location-bar-text").textContent = on ? MESSAGES[mode] : "Location sharing is off";
    const note = $("#location-bar-problem");
    note.textContent = problem;
    show(note, Boolean(problem));
    $("#location-stop").textContent = on ? "Stop" : "Close";
    const off = $("#sharing-off");
    if (off) {
      off.checked = !state.duty;
      $("#sharing-duty").checked = state.duty;
      const text = mode === "responding"
        ? "Responding to an alert: your position is shared until you arrive, then sharing stops by itself."
        : mode === "duty" ? "On duty: your position is shared while this app is open." : "";
      $("#sharing-message").replaceChildren(...(problem ? [h("span", { class: "error" }, problem)] : [text]));
    }
  }

  function onStopClick() {
    if (mode === "off") {
      problem = "";
      render();
      return;
    }
    stop();
  }

  $("#location-stop").addEventListener("click", onStopClick);
  // The bar stays in view under the sticky header, whose height changes as it wraps.
  const header = document.querySelector(".phone-top");
  if (header && window.ResizeObserver) {
    new ResizeObserver(() => { $("#location-bar").style.top = `${header.offsetHeight}px`; }).observe(header);
  }
  for (const input of [$("#sharing-off"), $("#sharing-duty")]) {
    if (input) input.addEventListener("change", () => setDuty($("#sharing-duty").checked));
  }
  if (overCap()) {
    state.responding = null;
    save();
  }
  // Signed out: a mode left on by the last person who used this phone ends here, with no
  // location call at all.
  if (signedIn) apply();
  else forget();

  return {
    get mode() { return mode; },
    respond,
    end,
    follow,
    stop,
    setDuty,
    forget,
    render,
    // onPosition(fn): fn({lat, lon, accuracy}) on every fix while a mode is on.
    onPosition(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    position: () => (latest ? { ...latest } : null),
  };
}
