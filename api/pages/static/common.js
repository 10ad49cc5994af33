// Shared by every page: calling the API with the signed-in cookie, retry-safe writes, and
// messages. Plain script, no build step.
"use strict";

const Dispatch = (() => {
  // crypto.randomUUID needs a secure context; a phone on the store's plain-HTTP network
  // still has getRandomValues.
  function newKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // A write keeps its Idempotency-Key until the server has answered, so pressing the button
  // again after a lost answer repeats the same write instead of making a second one.
  function keyFor(action) {
    const name = "pending:" + action;
    let key = sessionStorage.getItem(name);
    if (!key) {
      key = newKey();
      sessionStorage.setItem(name, key);
    }
    return key;
  }

  function settle(action) {
    sessionStorage.removeItem("pending:" + action);
  }

  function describe(status, body) {
    if (body && Array.isArray(body.detail)) {
      return body.detail
        .map((d) => `${(d.loc || []).filter((p) => p !== "body").join(".")}: ${d.msg}`)
        .join("; ");
    }
    if (body && (body.detail || body.message)) {
      const field = body.field ? `${body.field}: ` : "";
      return field + (body.detail || body.message);
    }
    return `HTTP ${status}`;
  }

  async function api(method, path, body, options = {}) {
    const headers = { Accept: "application/json" };
    const action = options.action || `${method} ${path}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (options.idempotent !== false && method !== "GET") headers["Idempotency-Key"] = keyFor(action);
    Object.assign(headers, options.headers || {});
    const response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch (_) {
      parsed = null;
    }
    if (response.status < 500) settle(action); // answered: a new press is a new write
    if (!response.ok) {
      const error = new Error(describe(response.status, parsed));
      error.status = response.status;
      throw error;
    }
    return parsed;
  }

  let toastTimer = null;
  function toast(message, isError = false) {
    const box = document.getElementById("toast");
    if (!box) return;
    box.textContent = message;
    box.className = isError ? "error" : "";
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (box.hidden = true), isError ? 8000 : 3000);
  }

  function signOut() {
    fetch("/session", { method: "DELETE", credentials: "same-origin" }).finally(() => {
      location.href = "/app/sign-in";
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const button = document.getElementById("sign-out");
    if (button) button.addEventListener("click", signOut);
  });

  return { api, toast, newKey };
})();
