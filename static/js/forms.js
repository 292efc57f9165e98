// The page's forms and notices: DRF's field errors next to their fields (tied for screen readers),
// and short-lived notices styled by kind.

import { ApiError } from "./arena-client.js";

const NOTICE_SECONDS = 6;
let noticeTimer = null;

// "info", "warning" or "error"; gone after a few seconds, or at the next notice.
export function notice(text, kind = "info") {
  const element = document.querySelector("#notice");
  clearTimeout(noticeTimer);
  element.textContent = text || "";
  element.dataset.kind = kind;
  element.hidden = !text;
  if (text) noticeTimer = setTimeout(() => { element.hidden = true; }, NOTICE_SECONDS * 1000);
}

export function clearErrors(form) {
  form.querySelectorAll(".field-error, .form-error").forEach((slot) => { slot.textContent = ""; });
  form.querySelectorAll("input").forEach((input) => input.removeAttribute("aria-invalid"));
}

export function clearForm(form) {
  form.reset();
  clearErrors(form);
}

function showErrors(form, error) {
  if (error.status === 0) {
    form.querySelector(".form-error").textContent = error.message;
    return;
  }
  for (const [field, messages] of Object.entries(error.body)) {
    const input = form.querySelector(`input[name="${field}"]`);
    const slot = form.querySelector(`.field-error[data-for="${field}"]`) || form.querySelector(".form-error");
    slot.textContent = Array.isArray(messages) ? messages.join(" ") : String(messages);
    if (input) input.setAttribute("aria-invalid", "true");
  }
}

// Submit runs `action(username, password)`, then `done()`; API errors land next to their fields.
export function bindForm(form, action, done) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const data = new FormData(form);
    try {
      await action(data.get("username"), data.get("password"));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showErrors(form, error);
      return;
    }
    clearForm(form);
    notice("");
    await done();
  });
}
