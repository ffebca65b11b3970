// The volunteer's own page, #/me (issue 15, item 6): profile, qualifications with their
// expiry, the verification state (when the service keeps one), devices, the data export,
// logging out and erasing the account — everything the API offers about "me", on screen.
// app.js shows the view and calls openMe(); the header's "Sign out" is signOut() too.
import { $, ApiError, badge, errorText, h, localToday, makeApi, say, show, tokenStore } from "./common.js";
import { clearFields, markField, markProblems } from "./fields.js";
import { DEVICE_KEY } from "./pwa.js"; // the device this app registered: "this phone"

const store = tokenStore("app");
const api = makeApi(() => store.get());
// ResponderUpdate's rules: at most 10 qualifications, each kind once.
const MAX_QUALIFICATIONS = 10;
export const QUALIFICATIONS = {
  cpr_aed: "CPR / AED",
  first_aid: "First aid (EHBO)",
  bhv: "BHV",
  nurse: "Nurse",
  physician: "Physician",
  paramedic: "Paramedic",
};
const PLATFORMS = { android: "Android", ios: "iPhone / iPad", web: "Web browser" };
const APPS = { android: "Android app", ios: "iOS app", web: "web app" };
const VERIFICATION = {
  verified: "Verified: a coordinator checked your qualifications.",
  unverified: "Not verified yet: a coordinator will check your qualifications.",
  pending: "Not verified yet: a coordinator will check your qualifications.",
  rejected: "Not accepted: a coordinator could not verify your qualifications.",
};
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const PROFILE_INPUTS = { "body.name": "#me-name", "body.phone": "#me-phone", "body.email": "#me-email" };

let go = (hash) => { location.hash = hash; };
// What the app must end while the token still works (location sharing), before a log out or
// an erase.
let leaving = async () => {};
// The app's one answer to a refused token (app.js's handleAuth: forget it, back to sign-in);
// true when it handled the error.
let lostSignIn = () => false;
let rows = []; // the qualifications as edited: {kind, expires_on, saved (the stored date or null)}
let notice = null; // [element selector, text, kind] to say once the view has opened

// ---------- dates ----------

// "2026-01-03" → "3 Jan 2026": the same words whatever the phone's language settings.
function fmtDay(isoDate) {
  const [year, month, day] = isoDate.slice(0, 10).split("-").map(Number);
  return `${day} ${MONTHS[month - 1]} ${year}`;
}

function localDay(isoTime) {
  const d = new Date(isoTime);
  return `${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()}`;
}

// ---------- the view ----------

export function initMe(navigate, { beforeSignOut = async () => {}, onUnauthorized = () => false } = {}) {
  go = navigate;
  leaving = beforeSignOut;
  lostSignIn = onUnauthorized;
  $("#me-profile").addEventListener("submit", onProfile);
  $("#me-quals").addEventListener("submit", onQualifications);
  $("#me-qual-add").addEventListener("click", onAddQualification);
  $("#me-export").addEventListener("click", onExport);
  $("#me-logout").addEventListener("click", () => signOut());
  $("#me-erase").addEventListener("click", openErase);
  $("#erase-confirm").addEventListener("input", () => {
    $("#erase-go").disabled = !erasing();
  });
  $("#erase-form").addEventListener("submit", onErase);
  $("#erase-back").addEventListener("click", () => $("#erase-dialog").close());
}

export async function openMe() {
  for (const message of document.querySelectorAll("#view-me .message[role=status]")) say(message, "", "ok");
  clearFields($("#view-me"));
  if (notice) {
    const [selector, text, kind] = notice;
    notice = null;
    say($(selector), text, kind);
  }
  try {
    const me = await api("/responders/me");
    renderProfile(me);
    setQualifications(me.qualifications);
    renderVerification(me);
    renderDevices(me.devices);
  } catch (error) {
    if (!lostSignIn(error)) say($("#me-profile-message"), errorText(error), "error");
  }
}

// Forget the sign-in on this phone (and the device it registered, which the service
// removes with it).
function forget() {
  store.clear();
  localStorage.removeItem(DEVICE_KEY);
}

// ---------- profile ----------

function renderProfile(me) {
  $("#me-name").value = me.name;
  $("#me-phone").value = me.phone;
  $("#me-email").value = me.email;
}

async function onProfile(event) {
  event.preventDefault();
  const form = $("#me-profile");
  const message = $("#me-profile-message");
  clearFields(form);
  say(message, "");
  const empty = Object.values(PROFILE_INPUTS).filter((selector) => !$(selector).value.trim());
  for (const selector of empty) markField($(selector), "Please fill this in.");
  if (empty.length) {
    $(empty[0]).focus();
    return say(message, "Not saved: please fill in the marked fields.", "error");
  }
  const body = {
    name: $("#me-name").value.trim(),
    phone: $("#me-phone").value.trim(),
    email: $("#me-email").value.trim(),
  };
  try {
    renderProfile(await api("/responders/me", { method: "PATCH", body }));
    say(message, "Saved.", "ok");
  } catch (error) {
    if (lostSignIn(error)) return;
    // A 409 here is the e-mail address: another volunteer has it.
    if (error instanceof ApiError && error.status === 409) {
      markField($("#me-email"), error.message);
      $("#me-email").focus();
      return say(message, "Not saved: please check the marked field.", "error");
    }
    const placed = markProblems(error, (field) => (PROFILE_INPUTS[field] ? $(PROFILE_INPUTS[field]) : null));
    say(message, placed ? "Not saved: please check the marked fields." : errorText(error), "error");
  }
}

// ---------- qualifications ----------

function setQualifications(qualifications) {
  rows = qualifications.map((q) => ({ kind: q.kind, expires_on: q.expires_on, saved: q.expires_on }));
  renderQualifications();
  renderExpired(qualifications);
}

// Every qualification expired: this volunteer is never alerted, whatever else is set.
function renderExpired(qualifications) {
  const valid = qualifications.filter((q) => q.expires_on >= localToday());
  const box = $("#me-expired");
  if (qualifications.length && !valid.length) {
    say(box, "You are not alerted at all: every qualification of yours has expired. Renew one below (enter its new expiry date) to be alerted again.", "error");
  } else {
    say(box, "");
  }
}

function statusLine(row, id) {
  if (!row.saved) return null;
  if (row.saved < localToday()) {
    return h("p", { id, class: "message warn" },
      `Expired on ${fmtDay(row.saved)}: you are not alerted for this until you renew it — enter the new expiry date.`);
  }
  return h("p", { id, class: "hint" }, `Valid until ${fmtDay(row.saved)}.`);
}

function renderQualifications() {
  const items = rows.map((row, index) => {
    const id = (name) => `me-q-${index}-${name}`;
    const name = QUALIFICATIONS[row.kind] || row.kind;
    const taken = new Set(rows.filter((_, i) => i !== index).map((r) => r.kind));
    const kind = row.saved
      ? [h("p", { id: id("kind"), class: "qual-name" }, name)]
      : [h("label", { for: id("kind") }, "Certificate"),
        h("select", { id: id("kind"), onchange: (event) => onKindChange(row, index, event.target.value) },
          ...Object.entries(QUALIFICATIONS).filter(([code]) => !taken.has(code) || code === row.kind)
            .map(([code, label]) => h("option", { value: code, selected: code === row.kind }, label)))];
    const status = statusLine(row, id("status"));
    const remove = rows.length > 1
      ? h("button", { type: "button", class: "small secondary", "aria-label": `Remove ${name}`, onclick: () => onRemoveQualification(index) }, "Remove")
      : null;
    return h("li", { dataset: { kind: row.kind, expired: row.saved && row.saved < localToday() ? "yes" : "no" } },
      ...kind,
      status,
      h("div", { class: "row" },
        h("div", {},
          h("label", { for: id("date") }, row.saved ? `${name} expires on` : "Expires on"),
          h("input", {
            id: id("date"), type: "date", value: row.expires_on || "", required: true,
            "aria-describedby": status ? id("status") : null,
            oninput: (event) => { row.expires_on = event.target.value; },
          })),
        remove && h("div", { class: "shrink" }, remove)));
  });
  $("#me-qual-list").replaceChildren(...items);
  const free = Object.keys(QUALIFICATIONS).filter((code) => !rows.some((r) => r.kind === code));
  show($("#me-qual-add"), rows.length < MAX_QUALIFICATIONS && free.length > 0);
}

// A new row's kind changed: the other new rows no longer offer it (each kind once).
function onKindChange(row, index, kind) {
  row.kind = kind;
  renderQualifications();
  $(`#me-q-${index}-kind`).focus();
}

function onAddQualification() {
  const free = Object.keys(QUALIFICATIONS).find((code) => !rows.some((r) => r.kind === code));
  if (!free || rows.length >= MAX_QUALIFICATIONS) return;
  clearFields($("#me-quals"));
  rows.push({ kind: free, expires_on: "", saved: null });
  renderQualifications();
  $(`#me-q-${rows.length - 1}-kind`).focus();
}

function onRemoveQualification(index) {
  clearFields($("#me-quals"));
  rows.splice(index, 1);
  renderQualifications();
  say($("#me-quals-message"), "Removed from the list: save to keep the change.", "warn");
}

// The input of the list that a 422's field names, e.g. body.qualifications.1.expires_on.
function qualificationInput(field) {
  const match = /^body\.qualifications(?:\.(\d+)(?:\.(\w+))?)?$/.exec(field);
  if (!match) return null;
  if (match[1] === undefined) return $("#me-qual-list");
  const index = Number(match[1]);
  const named = match[2] === "kind" ? $(`#me-q-${index}-kind`) : null;
  return named && named.tagName === "SELECT" ? named : $(`#me-q-${index}-date`);
}

async function onQualifications(event) {
  event.preventDefault();
  const message = $("#me-quals-message");
  clearFields($("#me-quals"));
  say(message, "");
  const missing = rows.map((row, index) => (row.expires_on ? null : $(`#me-q-${index}-date`))).filter(Boolean);
  for (const input of missing) markField(input, "Enter the date until which this is valid.");
  if (missing.length) {
    missing[0].focus();
    return say(message, "Not saved: please check the marked fields.", "error");
  }
  const body = { qualifications: rows.map((row) => ({ kind: row.kind, expires_on: row.expires_on })) };
  try {
    const me = await api("/responders/me", { method: "PATCH", body });
    setQualifications(me.qualifications);
    say(message, "Saved.", "ok");
  } catch (error) {
    if (lostSignIn(error)) return;
    const placed = markProblems(error, qualificationInput);
    say(message, placed ? "Not saved: please check the marked fields." : errorText(error), "error");
  }
}

// ---------- verification ----------

// Shown only when the service keeps a verification state for volunteers (coordinators
// verify them); without the field, nothing is said.
function renderVerification(me) {
  const value = me.verification;
  const box = $("#me-verification");
  if (value === undefined || value === null) return show(box, false);
  const state = typeof value === "object" ? value.state || value.status : value;
  const note = typeof value === "object" ? value.note : null;
  const text = VERIFICATION[state] || `Verification: ${String(state).replace(/_/g, " ")}.`;
  $("#me-verification-text").replaceChildren(text, ...(note ? [h("br"), h("span", { class: "hint" }, `Note: ${note}`)] : []));
  box.dataset.state = String(state);
  show(box, true);
}

// ---------- devices ----------

function channel(device) {
  if (device.kind === "webpush") return "Web Push";
  return `FCM (${APPS[device.platform] || device.platform})`;
}

function renderDevices(devices) {
  const list = $("#me-devices");
  if (!devices.length) {
    list.replaceChildren(h("li", { class: "message warn" },
      "No phone is registered: alerts reach you only while this app is open. ",
      h("a", { href: "#/alerts" }, "Turn on alerts")));
    return;
  }
  const mine = localStorage.getItem(DEVICE_KEY);
  list.replaceChildren(...devices.map((device) => {
    const here = mine !== null && String(device.id) === mine;
    const facts = [
      PLATFORMS[device.platform] || device.platform,
      device.endpoint_host ? `via ${device.endpoint_host}` : null,
      `since ${localDay(device.created_at)}`,
    ].filter(Boolean).join(" · ");
    return h("li", { class: "device", dataset: { device: device.id } },
      h("div", { class: "device-text" },
        h("strong", {}, channel(device)), here ? [" ", badge("this phone", "this-phone")] : null,
        h("br"), h("span", { class: "hint" }, facts)),
      h("button", {
        type: "button", class: "small secondary",
        "aria-label": `Remove ${channel(device)}${here ? " (this phone)" : ""}`,
        onclick: (event) => removeDevice(device, here, event.currentTarget),
      }, "Remove"));
  }));
}

async function removeDevice(device, here, button) {
  const message = $("#me-devices-message");
  button.disabled = true;
  try {
    await api(`/responders/me/devices/${device.id}`, { method: "DELETE" });
  } catch (error) {
    if (lostSignIn(error)) return;
    // 404: already gone (removed elsewhere, or by a failed push): the list is refreshed.
    if (!(error instanceof ApiError && error.status === 404)) {
      button.disabled = false;
      return say(message, errorText(error), "error");
    }
  }
  if (here) localStorage.removeItem(DEVICE_KEY);
  say(message, here ? "Removed: this phone gets no more alerts while the app is closed." : "Removed: that device gets no more alerts.", "ok");
  try {
    renderDevices((await api("/responders/me")).devices);
  } catch (error) {
    if (!lostSignIn(error)) say(message, errorText(error), "error");
  }
}

// ---------- my data ----------

async function onExport() {
  const button = $("#me-export");
  const message = $("#me-data-message");
  button.disabled = true;
  try {
    const data = await api("/responders/me/export");
    const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: `ehbo-my-data-${localToday()}.json`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    // The browser has read the blob once the download started; a minute is ample.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    say(message, "Downloaded: see your downloads.", "ok");
  } catch (error) {
    if (!lostSignIn(error)) say(message, errorText(error), "error");
  } finally {
    button.disabled = false;
  }
}

// ---------- log out and erase ----------

// Log out (the Me view's button and the header's "Sign out"): the service ends this sign-in
// (the token stops working, the devices it registered go), then the phone forgets it. When
// the service cannot be told, the volunteer stays signed in and is told why: forgetting the
// token here alone would leave it working there.
export async function signOut() {
  try {
    await leaving();
    await api("/responders/me/logout", { method: "POST" });
  } catch (error) {
    const gone = error instanceof ApiError && error.status === 401;
    if (!gone) {
      const text = `Not logged out: ${errorText(error)}. You are still signed in; try again when you are online.`;
      if (location.hash === "#/me") return say($("#me-logout-message"), text, "error");
      notice = ["#me-logout-message", text, "error"];
      return go("#/me");
    }
  }
  forget();
  go("#/signin");
  say($("#signin-message"), "You are logged out.", "ok");
}

function erasing() {
  return $("#erase-confirm").value.trim() === "ERASE";
}

function openErase() {
  $("#erase-confirm").value = "";
  $("#erase-go").disabled = true;
  say($("#erase-message"), "");
  $("#erase-dialog").showModal();
  $("#erase-confirm").focus();
}

async function onErase(event) {
  event.preventDefault();
  if (!erasing()) return;
  const button = $("#erase-go");
  button.disabled = true;
  try {
    await leaving();
    await api("/responders/me", { method: "DELETE" });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) $("#erase-dialog").close();
    if (lostSignIn(error)) return;
    button.disabled = false;
    return say($("#erase-message"), `Not erased: ${errorText(error)}`, "error");
  }
  $("#erase-dialog").close();
  forget();
  go("#/signin");
  say($("#signin-message"), "Your account was erased.", "ok");
}
