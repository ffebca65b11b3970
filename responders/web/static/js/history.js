// The console's history: ended incidents stay findable (today or this week, in the region's
// time zone, by status), each with why it ended. Picking one shows it read-only.
import { $, INCIDENT_STATUS, KINDS, badge, errorText, fmtTime, h, say } from "./common.js";
import { reasonLabel } from "./dialogs.js";

const POLL_MS = 15_000;

// api: the console's API function; onSelect(id): show that incident; current(): the id of
// the incident on screen; onError(error): true when the console dealt with it (a lost
// session).
export function setUpHistory({ api, onSelect, current, onError }) {
  const when = $("#history-when");
  const status = $("#history-status");
  const list = $("#history-list");

  async function refresh() {
    const query = new URLSearchParams({ status: status.value, since: when.value, limit: "100" });
    try {
      render(await api(`/incidents?${query}`));
      say($("#history-message"), "");
    } catch (error) {
      if (!onError(error)) say($("#history-message"), errorText(error));
    }
  }

  function render(incidents) {
    const items = incidents.map((incident) => {
      const why = reasonLabel(incident.end_reason);
      return h("li", {},
        h("button", {
          type: "button",
          "aria-current": incident.id === current() ? "true" : "false",
          dataset: { incident: incident.id },
          onclick: () => onSelect(incident.id),
        },
        h("strong", {}, `#${incident.id} ${KINDS[incident.kind]}`), " ",
        badge(INCIDENT_STATUS[incident.status], `i-${incident.status}`),
        h("div", { class: "meta" },
          incident.ended_at ? `Ended ${fmtTime(incident.ended_at)}` : `Reported ${fmtTime(incident.created_at)}`,
          why ? ` · ${why}` : "",
          incident.address ? ` · ${incident.address}` : "")));
    });
    list.replaceChildren(...(items.length ? items : [h("li", { class: "empty" }, "No ended incidents in this period.")]));
  }

  when.addEventListener("change", refresh);
  status.addEventListener("change", refresh);
  setInterval(refresh, POLL_MS);
  refresh();
  return { refresh };
}
