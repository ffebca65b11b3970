// The incident and alert states and the sets the screens decide by, as the server defines
// them (GET /states, responders/states.py): no screen keeps a list of its own. Labels and
// colours for display stay in common.js, keyed by these names.
const response = await fetch("/states", { headers: { Accept: "application/json" } });
if (!response.ok) throw new Error(`GET /states answered HTTP ${response.status}`);
const served = await response.json();

export const INCIDENT = {
  open: new Set(served.incident.open), // triage or active: may still want volunteers
  ended: new Set(served.incident.ended),
};

export const ALERT = {
  busy: new Set(served.alert.busy),
  committed: new Set(served.alert.committed), // said yes: on the way or there
  answerable: new Set(served.alert.answerable), // may still say yes or no
  settled: new Set(served.alert.settled), // over for this volunteer
};
