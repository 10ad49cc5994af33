// A signature pad on a <canvas>: pointer events (finger, stylus, mouse), a clear button,
// and a PNG as base64 without the "data:" prefix, which is what the API stores.
"use strict";

const Signature = (() => {
  const pads = new WeakMap();
  // An accidental touch leaves a dot, not a signature: ask for some real ink first.
  const MIN_INK_PX = 30;

  function attach(canvas) {
    if (pads.has(canvas)) return pads.get(canvas);
    const context = canvas.getContext("2d");
    let ink = 0;
    let last = null;

    // The drawing buffer follows the shown size times the screen's density, so strokes land
    // under the finger and are not blurred on a high-density phone.
    function fit() {
      const box = canvas.getBoundingClientRect();
      if (!box.width || !box.height) return;
      const ratio = window.devicePixelRatio || 1;
      canvas.width = Math.round(box.width * ratio);
      canvas.height = Math.round(box.height * ratio);
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      context.lineWidth = 2.5;
      context.lineCap = "round";
      context.lineJoin = "round";
      context.strokeStyle = "#111";
      clear();
    }

    // A white background, so the stored PNG reads the same in any viewer.
    function clear() {
      context.save();
      context.setTransform(1, 0, 0, 1, 0, 0);
      context.fillStyle = "#fff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.restore();
      ink = 0;
    }

    function point(event) {
      const box = canvas.getBoundingClientRect();
      return { x: event.clientX - box.left, y: event.clientY - box.top };
    }

    function stroke(from, to) {
      context.beginPath();
      context.moveTo(from.x, from.y);
      context.lineTo(to.x, to.y);
      context.stroke();
      ink += Math.hypot(to.x - from.x, to.y - from.y);
    }

    canvas.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      last = point(event);
      stroke(last, { x: last.x + 0.1, y: last.y });
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!last) return;
      event.preventDefault();
      // Fast strokes deliver several positions per event; drawing them all keeps curves round.
      const moves = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      for (const move of moves.length ? moves : [event]) {
        const next = point(move);
        stroke(last, next);
        last = next;
      }
    });
    for (const end of ["pointerup", "pointercancel"]) {
      canvas.addEventListener(end, () => (last = null));
    }

    // Turning the phone resizes the box; an empty pad is refitted, a signed one is kept.
    window.addEventListener("resize", () => {
      if (canvas.isConnected && ink < MIN_INK_PX) fit();
    });

    const pad = {
      clear,
      isEmpty: () => ink < MIN_INK_PX,
      toBase64: () => canvas.toDataURL("image/png").split(",", 2)[1],
    };
    fit();
    pads.set(canvas, pad);
    return pad;
  }

  // Pads are attached to every canvas.signature under root, including ones put on the page
  // after an action re-rendered a stop; the clear button is the one next to its canvas.
  function attachAll(root) {
    for (const canvas of root.querySelectorAll("canvas.signature")) attach(canvas);
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-signature-clear]");
    if (!button) return;
    const canvas = button.closest("[data-form]")?.querySelector("canvas.signature");
    if (canvas) attach(canvas).clear();
  });

  document.addEventListener("DOMContentLoaded", () => attachAll(document));

  return { attach, attachAll };
})();
