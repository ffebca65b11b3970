// Messages next to the input they are about. A 422 names each problem's `field`
// ("body.phone", "body.places.0.location.lat"); the page says which input that is, and the
// API's sentence is shown under it (as text, never as HTML).
import { ApiError, h } from "./common.js";

function messageFor(input) {
  const id = `${input.id}-error`;
  let note = document.getElementById(id);
  if (!note) {
    note = h("p", { id, class: "field-error" });
    input.after(note);
  }
  return note;
}

// Mark `input` (an input, or a group such as a row of day boxes) with a sentence.
export function markField(input, text) {
  const note = messageFor(input);
  note.textContent = text;
  input.setAttribute("aria-invalid", "true");
  const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  if (!described.includes(note.id)) input.setAttribute("aria-describedby", [...described, note.id].join(" "));
}

export function clearFields(root) {
  for (const note of root.querySelectorAll(".field-error")) note.remove();
  for (const input of root.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    const left = (input.getAttribute("aria-describedby") || "").split(" ").filter((id) => !id.endsWith("-error"));
    if (left.length) input.setAttribute("aria-describedby", left.join(" "));
    else input.removeAttribute("aria-describedby");
  }
}

// Put each of a 422's problems next to its input: `inputFor(field)` returns the element or
// null. Returns how many were placed; the caller says something general about the rest.
export function markProblems(error, inputFor) {
  if (!(error instanceof ApiError) || error.status !== 422) return 0;
  const problems = (error.body && Array.isArray(error.body.errors) && error.body.errors.length)
    ? error.body.errors
    : [{ field: error.field || "", message: error.message }];
  let placed = 0;
  let first = null;
  for (const problem of problems) {
    const input = inputFor(String(problem.field || ""));
    if (!input) continue;
    const note = document.getElementById(`${input.id}-error`);
    // Several problems on one input: the first is the one to fix first.
    if (!note || !note.textContent) markField(input, problem.message);
    first = first || input;
    placed += 1;
  }
  if (first && typeof first.focus === "function") first.focus();
  return placed;
}
