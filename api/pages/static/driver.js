// The driver's page: every button records one event through the API, with the phone's time
// and GPS, then redraws its stop and the cash bar from what the server now says.
"use strict";

(() => {
  const root = document.getElementById("driver");
  if (!root) return;
  const date = root.dataset.date;
  const vehicle = root.dataset.vehicle;
  const canAct = root.dataset.canAct === "true";
  const words = JSON.parse(document.getElementById("driver-words").textContent);
  const enc = encodeURIComponent;
  const FIX_KEY = "driver:last-fix";
  const SCROLL_KEY = "driver:scroll";
  // A fix older than this says where the truck was, not where the stop is.
  const FIX_MAX_AGE_MS = 15 * 60 * 1000;

  // --- where and when -------------------------------------------------------------------

  function lastFix() {
    const saved = JSON.parse(sessionStorage.getItem(FIX_KEY) || "null");
    return saved && Date.now() - saved.time < FIX_MAX_AGE_MS ? saved : null;
  }

  function locate() {
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (fix) => {
        if (settled) return;
        settled = true;
        if (fix) resolve({ lat: fix.lat, lon: fix.lon });
        else reject(new Error(words.no_gps));
      };
      const fallback = () => finish(lastFix());
      // A permission prompt left unanswered pauses the browser's own timeout; this one runs.
      setTimeout(fallback, 12000);
      if (!navigator.geolocation) return fallback();
      navigator.geolocation.getCurrentPosition(
        (position) => {
          const fix = {
            lat: Number(position.coords.latitude.toFixed(6)),
            lon: Number(position.coords.longitude.toFixed(6)),
          };
          sessionStorage.setItem(FIX_KEY, JSON.stringify({ ...fix, time: Date.now() }));
          finish(fix);
        },
        fallback,
        { enableHighAccuracy: true, timeout: 10000, maximumAge: 30000 },
      );
    });
  }

  // A write whose answer was lost is sent again exactly as before (same time, same place,
  // same Idempotency-Key), so the server stores it once; the form's values are read afresh,
  // and if they changed the server refuses the reused key instead of storing a second record.
  async function send(action, call) {
    const memo = "place:" + action;
    let place = JSON.parse(sessionStorage.getItem(memo) || "null");
    if (!place) {
      place = { at: new Date().toISOString(), ...(call.gps ? await locate() : {}) };
      sessionStorage.setItem(memo, JSON.stringify(place));
    }
    try {
      const answer = await Dispatch.api("POST", call.path, { ...call.body, ...place }, { action });
      sessionStorage.removeItem(memo);
      return answer;
    } catch (error) {
      if (error.status && error.status < 500) sessionStorage.removeItem(memo);
      throw error;
    }
  }

  // --- what each button sends -----------------------------------------------------------

  const field = (box, name) => box.querySelector(`[name="${name}"]`).value.trim();
  const form = (stop, name) => stop.querySelector(`[data-form="${name}"]`);
  const stopPath = (stop, what) => `/handover/${date}/stops/${enc(stop.dataset.order)}/${what}`;

  function counts(stop) {
    return Array.from(form(stop, "deliver").querySelectorAll('input[name="count"]'), (input) => {
      const quantity = Number(input.value);
      const valid = input.value.trim() !== "" && Number.isInteger(quantity);
      if (!valid || quantity < 0 || quantity > Number(input.max)) {
        throw new Error(`${input.dataset.name}: ${words.count_invalid}`);
      }
      return { sku: input.dataset.sku, quantity };
    });
  }

  function failure(stop) {
    const box = form(stop, "fail");
    const body = { reason: field(box, "reason"), outcome: field(box, "outcome"), note: field(box, "note") };
    if (body.outcome === "left_in_storage") {
      body.storage_place = field(box, "storage_place");
      if (!body.storage_place) throw new Error(words.place_needed);
    }
    if (body.outcome === "rescheduled") {
      body.reschedule_date = field(box, "reschedule_date");
      if (!body.reschedule_date) throw new Error(words.date_needed);
    }
    return body;
  }

  function signoff(stop) {
    const box = form(stop, "signoff");
    const signer = field(box, "signer_name");
    if (!signer) throw new Error(words.signer_needed);
    const pad = Signature.attach(box.querySelector("canvas.signature"));
    if (pad.isEmpty()) throw new Error(words.signature_empty);
    return {
      signer_name: signer,
      signature_png: pad.toBase64(),
      counts: JSON.parse(stop.dataset.counts),
      amount_cny: Number(stop.dataset.collectedCny),
    };
  }

  function collection(stop) {
    const box = form(stop, "collect");
    const amount = field(box, "amount_cny");
    if (!/^\d+(\.\d{1,2})?$/.test(amount) || Number(amount) <= 0) {
      throw new Error(words.amount_invalid);
    }
    return { order: stop.dataset.order, amount_cny: Number(amount), method: field(box, "method") };
  }

  const calls = {
    depart: () => ({ path: `/handover/${date}/routes/${enc(vehicle)}/depart`, body: {}, gps: true }),
    arrive: (stop) => ({ path: stopPath(stop, "arrive"), body: {}, gps: true }),
    deliver: (stop) => ({ path: stopPath(stop, "deliver"), body: { counts: counts(stop) }, gps: true }),
    fail: (stop) => ({ path: stopPath(stop, "fail"), body: failure(stop), gps: true }),
    signoff: (stop) => ({ path: stopPath(stop, "signoff"), body: signoff(stop), gps: true }),
    // A payment record has a time but no position in the API.
    collect: (stop) => ({ path: `/cash/${date}/collections`, body: collection(stop), gps: false }),
  };

  // --- showing what the server now says ---------------------------------------------------

  const yuan = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const money = (amount) => "¥" + yuan.format(amount);

  function showCash(cash) {
    const box = document.getElementById("cash-on-board");
    if (!box) return;
    box.dataset.onBoardCny = cash.cash_on_board_cny;
    box.dataset.capCny = cash.cap_cny;
    box.querySelector(".amount").textContent = `${money(cash.cash_on_board_cny)} / ${money(cash.cap_cny)}`;
    const share = cash.cap_cny > 0 ? cash.cash_on_board_cny / cash.cap_cny : 1;
    const meter = document.querySelector("#cash-bar .meter");
    meter.className = "meter" + (share >= 1 ? " full" : share >= 0.8 ? " high" : "");
    meter.firstElementChild.style.width = `${Math.min(Math.round(share * 100), 100)}%`;
    document.querySelector("#cash-bar .room-amount").textContent = money(cash.room_cny);
    document.querySelector("#cash-bar .cap-reached").hidden = share < 1;
  }

  async function refreshCash() {
    showCash(await Dispatch.api("GET", `/cash/${date}/on-board/${enc(vehicle)}`));
  }

  // Only the part that changed is redrawn, so the scroll position, other stops' half-filled
  // forms and a signature being drawn elsewhere all stay as they are.
  async function refresh(stop) {
    const selector = stop ? `.stop[data-order="${CSS.escape(stop.dataset.order)}"]` : "#route-head";
    try {
      const response = await fetch(location.href, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.querySelector(selector);
      const old = document.querySelector(selector);
      if (!fresh || !old) throw new Error("changed page");
      old.replaceWith(document.importNode(fresh, true));
      Signature.attachAll(document);
    } catch (_) {
      sessionStorage.setItem(SCROLL_KEY, String(window.scrollY));
      location.reload();
      return;
    }
    await refreshCash();
  }

  // --- wiring -----------------------------------------------------------------------------

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-action]");
    if (!button || button.disabled || !root.contains(button)) return;
    const name = button.dataset.action;
    const stop = button.closest(".stop");
    const action = `${name}:${stop ? stop.dataset.order : vehicle}:${date}`;
    button.disabled = true;
    try {
      await send(action, calls[name](stop));
      Dispatch.toast(words.saved);
      await refresh(stop);
    } catch (error) {
      Dispatch.toast(error.message, true);
    } finally {
      button.disabled = false;
    }
  });

  // The storage place and the new date are asked for only with the outcome that needs them.
  document.addEventListener("change", (event) => {
    if (event.target.name !== "outcome") return;
    const box = event.target.closest('[data-form="fail"]');
    for (const label of box.querySelectorAll("[data-when]")) {
      label.hidden = label.dataset.when !== event.target.value;
    }
  });

  function stickBelowHeader() {
    const header = document.querySelector("header.bar");
    if (header) document.documentElement.style.setProperty("--bar-h", `${header.offsetHeight}px`);
  }

  document.addEventListener("DOMContentLoaded", () => {
    stickBelowHeader();
    window.addEventListener("resize", stickBelowHeader);
    const scroll = sessionStorage.getItem(SCROLL_KEY);
    if (scroll !== null) {
      sessionStorage.removeItem(SCROLL_KEY);
      window.scrollTo(0, Number(scroll));
    }
    // Asking early shows the permission prompt before the first stop, not at the door.
    if (canAct) locate().catch(() => {});
  });
})();
