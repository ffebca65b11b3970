// The console's confirmation dialog for ending an incident: why it is closed or cancelled
// (the reasons of responders/endings.py), and a note. A native modal <dialog>: the rest of
// the page is inert while it is open (focus stays inside), Escape and Back answer "no", and
// nothing is sent without Confirm.
import { $, h, say } from "./common.js";

// action -> what the dialog asks, and the reasons the API takes for it (label per code).
export const ENDINGS = {
  close: {
    title: "Close incident",
    hint: "Volunteers still on their way are stood down and told why.",
    reasons: {
      ems_took_over: "The ambulance crew took over",
      patient_fine: "The patient is fine",
      resolved_by_volunteers: "Resolved by the volunteers",
      other: "Other (write what happened)",
    },
  },
  cancel: {
    title: "Cancel incident",
    hint: "Everyone alerted is stood down and told why.",
    reasons: {
      duplicate: "Duplicate of another report",
      hoax_or_mistake: "Hoax or mistake",
      ems_on_scene: "The ambulance is on scene",
      other: "Other (write what happened)",
    },
  },
};

// A stored reason's label for the timeline, the incident's facts and the history.
export function reasonLabel(reason) {
  if (!reason) return "";
  if (reason === "other") return "Other";
  for (const ending of Object.values(ENDINGS)) {
    if (reason in ending.reasons) return ending.reasons[reason];
  }
  return reason.replace(/_/g, " ");
}

let dialog = null;

function build() {
  const form = h("form", { id: "end-form", novalidate: true },
    h("h2", { id: "end-title" }),
    h("p", { id: "end-hint", class: "hint" }),
    h("fieldset", { id: "end-reasons" }, h("legend", {}, "Reason")),
    h("label", { for: "end-note" }, "Note"),
    h("textarea", { id: "end-note", maxlength: 500, "aria-describedby": "end-note-hint" }),
    h("p", { id: "end-note-hint", class: "hint" }, "Stays in the console: volunteers are told only the reason."),
    h("p", { id: "end-error", class: "message error", role: "alert" }),
    h("div", { class: "actions" },
      h("button", { id: "end-confirm", type: "submit", class: "danger" }, "Confirm"),
      h("button", { id: "end-back", type: "button", class: "secondary" }, "Back")));
  dialog = h("dialog", { id: "end-dialog", class: "dialog", "aria-labelledby": "end-title", "aria-describedby": "end-hint" }, form);
  document.body.append(dialog);
}

// Opens the dialog for `action` ("close" or "cancel") of incident `label`; resolves to
// {reason, note} on Confirm, or null on Back or Escape.
export function askEnding(action, label) {
  if (!dialog) build();
  const ending = ENDINGS[action];
  const form = $("#end-form");
  $("#end-title").textContent = `${ending.title} ${label}?`;
  $("#end-hint").textContent = ending.hint;
  const radios = Object.entries(ending.reasons).map(([code, text]) => h("label", { class: "check" },
    h("input", { type: "radio", name: "reason", value: code, required: true }), ` ${text}`));
  $("#end-reasons").replaceChildren(h("legend", {}, "Reason"), ...radios);
  $("#end-note").value = "";
  $("#end-note").removeAttribute("aria-invalid");
  say($("#end-error"), "");
  return new Promise((resolve) => {
    const finish = (answer) => {
      form.removeEventListener("submit", onSubmit);
      $("#end-back").removeEventListener("click", onBack);
      dialog.removeEventListener("close", onClose);
      if (dialog.open) dialog.close();
      // Gone once answered: its fields never stand beside the page's under the same names.
      dialog.remove();
      dialog = null;
      resolve(answer);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      const picked = form.querySelector("input[name=reason]:checked");
      const note = $("#end-note").value.trim();
      if (!picked) {
        say($("#end-error"), "Choose a reason.");
        return form.querySelector("input[name=reason]").focus();
      }
      if (picked.value === "other" && !note) {
        say($("#end-error"), "Write what happened: the reason \"Other\" needs a note.");
        $("#end-note").setAttribute("aria-invalid", "true");
        return $("#end-note").focus();
      }
      finish({ reason: picked.value, note: note || null });
    };
    const onBack = () => finish(null);
    // Escape closes a modal dialog (its "cancel", then "close"): the same as Back.
    const onClose = () => finish(null);
    form.addEventListener("submit", onSubmit);
    $("#end-back").addEventListener("click", onBack);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    radios[0].querySelector("input").focus();
  });
}
