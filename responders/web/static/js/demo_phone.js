// The demo phone: pick a demo volunteer, see the pushes their devices got over both channels
// (the local FCM server, and the local Web Push service whose payloads the demo can read),
// and open their alert screen (in the phone frame, or a tab of its own).
// Tokens travel only through sessionStorage of this tab (shared with the same-origin frame)
// or of a tab this page opens; never in a URL.
import { $, badge, errorText, fmtTime, h, makeApi, say } from "./common.js";

const POLL_MS = 2000;
const PUSH_KINDS = {
  alert: "Alert push", stand_down: "Stand-down push", no_longer_needed: "No-longer-needed push", update: "Update push",
};
const plain = makeApi(null);
const volunteers = new Map(); // id -> {id, name, devices}
const byDevice = new Map(); // fcm token or Web Push endpoint -> volunteer
const CHANNELS = { fcm: "FCM", webpush: "Web Push" };
let received = []; // every push of both channels, as of the last poll (see asPush)
let current = null; // {volunteer, token}
let frameLoads = 0;
const shown = { pushed: "", pushes: "" }; // what the lists show, so a poll without news keeps focus

async function loadVolunteers() {
  const list = await plain("/demo/volunteers");
  const select = $("#volunteer");
  for (const v of list) {
    volunteers.set(v.id, v);
    for (const device of v.devices) byDevice.set(device, v);
    select.append(h("option", { value: v.id }, `${v.name} (#${v.id})`));
  }
}

// Both channels' pushes in one shape: {channel, id, volunteer, at, unix, kind, alertId,
// title, body, to}. A Web Push belongs to a volunteer by its endpoint (a registered device)
// or by the demo's label on the subscription.
function fromFcm(m) {
  const message = m.message || {};
  const data = message.data || {};
  const note = message.notification || {};
  return {
    channel: "fcm", id: m.message_id, volunteer: byDevice.get(m.target), at: m.received_at,
    unix: m.received_at_unix, kind: data.kind, alertId: data.alert_id, title: note.title,
    body: note.body, to: m.target,
  };
}

function fromWebPush(m) {
  const payload = m.payload && typeof m.payload === "object" ? m.payload : {};
  return {
    channel: "webpush", id: m.id, volunteer: byDevice.get(m.endpoint) || volunteers.get(m.responder_id),
    at: m.received_at, unix: m.received_at_unix, kind: payload.kind, alertId: payload.alert_id,
    title: payload.title, body: payload.body, to: `Web Push subscription ${m.subscription.slice(0, 8)}…`,
  };
}

async function webPushes() {
  try {
    return await plain("/demo/webpush/messages");
  } catch (error) {
    if (error.status === 404) return []; // a demo without the local push service
    throw error;
  }
}

async function pollAllPushes() {
  try {
    const [fcm, webpush] = await Promise.all([plain("/fcm/_admin/messages"), webPushes()]);
    received = [...fcm.messages.map(fromFcm), ...webpush.map(fromWebPush)];
    const counts = new Map();
    for (const m of received) {
      const v = m.volunteer;
      if (!v) continue;
      const seen = counts.get(v.id) || { volunteer: v, count: 0, last: "" };
      seen.count += 1;
      if (m.at > seen.last) seen.last = m.at;
      counts.set(v.id, seen);
    }
    const rows = [...counts.values()].sort((a, b) => (a.last < b.last ? 1 : -1)).slice(0, 40);
    const signature = JSON.stringify([current && current.volunteer.id, rows.map((r) => [r.volunteer.id, r.count])]);
    if (signature !== shown.pushed) {
      shown.pushed = signature;
      renderPushed(rows);
    }
    if (current) showPushes();
  } catch (error) {
    say($("#pick-message"), `The local push servers did not answer: ${error.message}`);
  }
  setTimeout(pollAllPushes, POLL_MS);
}

function renderPushed(rows) {
  $("#pushed").replaceChildren(...(rows.length ? rows.map(({ volunteer, count, last }) => h("li", {},
      h("button", {
        type: "button",
        "aria-current": String(Boolean(current && current.volunteer.id === volunteer.id)),
        dataset: { volunteer: volunteer.id },
        onclick: () => pick(volunteer.id),
      }, h("strong", {}, volunteer.name), h("div", { class: "meta" }, `${count} push${count > 1 ? "es" : ""} · last ${fmtTime(last)}`))))
      : [h("li", { class: "empty" }, "No pushes yet: report an incident in the console.")]));
}

async function pick(id) {
  const volunteer = volunteers.get(Number(id));
  if (!volunteer) return;
  say($("#pick-message"), "");
  try {
    const { token } = await plain(`/demo/volunteers/${volunteer.id}/session`, { method: "POST" });
    current = { volunteer, token };
  } catch (error) {
    return say($("#pick-message"), errorText(error));
  }
  $("#volunteer").value = String(volunteer.id);
  for (const b of document.querySelectorAll("#pushed button")) {
    b.setAttribute("aria-current", String(Number(b.dataset.volunteer) === volunteer.id));
  }
  $("#who").textContent = `${volunteer.name} · devices: ${volunteer.devices.join(", ") || "none"}`;
  $("#open-tab").disabled = false;
  showOnPhone("#/alerts");
  showPushes();
}

// The current volunteer's pushes of both channels, newest first, out of the ones the last
// poll fetched for everybody.
function showPushes() {
  const { volunteer } = current;
  const all = received.filter((m) => m.volunteer?.id === volunteer.id);
  all.sort((a, b) => b.unix - a.unix);
  const signature = JSON.stringify([volunteer.id, all.map((m) => m.id)]);
  if (signature === shown.pushes) return;
  shown.pushes = signature;
  $("#pushes").replaceChildren(...(all.length ? all.map(pushItem)
    : [h("li", { class: "empty" }, "No pushes for this volunteer yet.")]));
}

function pushItem(m) {
  const { alertId } = m;
  return h("li", { dataset: { kind: m.kind || "", alert: alertId || "", channel: m.channel } },
    h("div", { class: "title" }, badge(CHANNELS[m.channel], `ch-${m.channel}`), " ", m.title || "(no title)"),
    h("div", {}, m.body || ""),
    h("div", { class: "hint" }, `${PUSH_KINDS[m.kind] || "Push"}${alertId ? ` for alert #${alertId}` : ""} · ${fmtTime(m.at)} · to ${m.to}`),
    alertId ? h("div", { class: "actions" },
      h("button", { type: "button", class: "small", onclick: () => showOnPhone(`#/alerts/${alertId}`) }, `Open alert #${alertId} on the phone`))
      : null);
}

function showOnPhone(route) {
  if (!current) return;
  // The frame is same-origin: it shares this tab's sessionStorage.
  sessionStorage.setItem("ehbo.app.token", current.token);
  frameLoads += 1;
  $("#screen").src = `/app?phone=${current.volunteer.id}-${frameLoads}${route}`;
  $("#open-tab").dataset.route = route;
}

function openTab(path, key, token) {
  const tab = window.open("", "_blank");
  if (!tab) return say($("#pick-message"), "The browser blocked the new tab.");
  tab.sessionStorage.setItem(key, token);
  tab.location.href = path;
}

async function openConsole() {
  try {
    const { token } = await plain("/demo/operator/session", { method: "POST" });
    openTab("/console", "ehbo.console.token", token);
  } catch (error) {
    say($("#pick-message"), error.message);
  }
}

async function start() {
  $("#volunteer").addEventListener("change", (event) => pick(event.target.value));
  $("#open-tab").addEventListener("click", () => {
    if (current) openTab(`/app${$("#open-tab").dataset.route || "#/alerts"}`, "ehbo.app.token", current.token);
  });
  $("#open-console").addEventListener("click", openConsole);
  try {
    await loadVolunteers();
  } catch (error) {
    say($("#pick-message"), error.message);
  }
  pollAllPushes();
}

start();
