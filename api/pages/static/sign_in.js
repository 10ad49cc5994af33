// The sign-in form: the key goes to POST /session, which keeps the session in a cookie.
// A file of its own, as every script is: the pages' content policy runs no inline script.
"use strict";

document.getElementById("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("sign-in-error");
  error.hidden = true;
  const key = document.getElementById("key").value.trim();
  try {
    await Dispatch.api("POST", "/session", { key }, { idempotent: false });
    location.href = "/app";
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
  }
});
