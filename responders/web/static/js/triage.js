import { INCIDENT_STATUS } from "./common.js";

// The triage queue calls for attention: a new citizen report rings (a short tone made by
// WebAudio, no sound file) and puts "(1) New report" in the tab's title until the operator
// opens it; each report shows the hints at its duplicates (GET /incidents' duplicate_hints).

// Browsers let a page make sound only after the person interacted with it: the audio is
// set up on the first click or key press, and a report before that only changes the title.
export function createRinger({ doc = document, title = "Dispatch console" } = {}) {
  const baseTitle = doc.title;
  let audio = null;
  let known = null; // triage report ids seen in the lists so far (null: no list yet)
  const unseen = new Set(); // new since, and not opened yet

  const unlock = () => {
    if (!audio) {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return;
      try {
        audio = new Context();
      } catch {
        return;
      }
    }
    if (audio.state === "suspended") audio.resume().catch(() => {});
  };
  doc.addEventListener("pointerdown", unlock, { capture: true });
  doc.addEventListener("keydown", unlock, { capture: true });

  function tone(frequency, start, length) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.25, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + length);
    osc.connect(gain).connect(audio.destination);
    osc.start(start);
    osc.stop(start + length + 0.05);
  }

  function ring() {
    if (!audio) return;
    const now = audio.currentTime;
    tone(880, now, 0.18);
    tone(660, now + 0.22, 0.25);
  }

  function showTitle() {
    const n = unseen.size;
    doc.title = n ? `(${n}) New report${n > 1 ? "s" : ""} · ${title}` : baseTitle;
  }

  return {
    // The reports in triage now, from each refresh of the lists. Those of the first list
    // were waiting before the console opened: only later ones are new.
    update(ids) {
      const now = new Set(ids);
      if (known === null) {
        known = now;
        return;
      }
      const fresh = ids.filter((id) => !known.has(id));
      for (const id of ids) known.add(id);
      for (const id of [...unseen]) if (!now.has(id)) unseen.delete(id);
      for (const id of fresh) unseen.add(id);
      if (fresh.length) ring();
      showTitle();
    },
    // The operator opened the report.
    seen(id) {
      if (unseen.delete(id)) showTitle();
    },
    isNew(id) {
      return unseen.has(id);
    },
  };
}

function ago(fromIso, toIso) {
  const minutes = Math.round((Date.parse(fromIso) - Date.parse(toIso)) / 60000);
  if (minutes === 0) return "same minute";
  return minutes > 0 ? `${minutes} min after` : `${-minutes} min before`;
}

// "Possible duplicate: 2 reports and 1 open incident nearby", and one part per hint
// ({id, label: "#15", note: "150 m, 3 min before", or "active, 40 m, same minute" for one no
// longer in triage}), or null without hints.
export function duplicateHints(incident) {
  const hints = incident.duplicate_hints || [];
  if (!hints.length) return null;
  const reports = hints.filter((x) => x.source === "citizen").length;
  const others = hints.length - reports;
  const counts = [
    reports ? `${reports} report${reports > 1 ? "s" : ""}` : "",
    others ? `${others} open incident${others > 1 ? "s" : ""}` : "",
  ].filter(Boolean).join(" and ");
  return {
    summary: `Possible duplicate: ${counts} nearby`,
    parts: hints.map((x) => ({
      id: x.id,
      label: `#${x.id}`,
      // One already dealt with says how ("active": help is on the way; "cancelled"...).
      note: [x.status === "triage" ? "" : `${INCIDENT_STATUS[x.status].toLowerCase()}, `,
        `${Math.round(x.distance_m)}\u00a0m, ${ago(x.created_at, incident.created_at)}`].join(""),
    })),
  };
}
