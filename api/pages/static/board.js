// The dispatcher's board: pick a date, run planning with a live progress bar, move a visit,
// publish. The page itself is drawn by the server; after any change we load it again, so
// what the dispatcher sees is always what is stored.
"use strict";

(() => {
  const data = JSON.parse(document.getElementById("board-data").textContent);
  const t = data.words;
  const $ = (id) => document.getElementById(id);
  const POLL_MS = 500;
  // Remembered per area and date so a reload (or a second tab) keeps following a running job.
  const JOB_KEY = `board-job:${data.area}:${data.date}`;
  let jobId = null;

  // The board stays on its area: every reload names it.
  function go(params) {
    location.href = "/app/board?" + new URLSearchParams({ area: data.area, ...params }).toString();
  }

  function ifMatch() {
    return { "If-Match": `"${data.version}"` };
  }

  function fail(failure) {
    Dispatch.toast(failure.message, true);
  }

  // --- planning -------------------------------------------------------------------------

  function setBusy(busy) {
    $("plan-button").disabled = busy;
    $("cancel-button").hidden = !busy;
    const publish = $("publish-button");
    if (publish && busy) publish.disabled = true;
  }

  function showProgress(job) {
    const share = Math.max(0, Math.min(1, job.progress || 0));
    $("progress-box").hidden = false;
    $("progress").value = share;
    $("progress-text").textContent =
      `${Math.round(share * 100)}% ${job.message || t.job_queued}${retryNote(job)}`;
  }

  // A job put back in the queue mid-run (a crash, a restart) says so, and which run this is.
  function retryNote(job) {
    if (!job.requeues) return "";
    const attempt = t.job_attempt.replace("{n}", String(job.attempts));
    return ` · ${attempt}, ${t.job_requeued}: ${job.requeue_reason}`;
  }

  function finished(job) {
    sessionStorage.removeItem(JOB_KEY);
    jobId = null;
    if (job.status === "succeeded" && job.plan_id) {
      Dispatch.toast(`${t.job_done}${retryNote(job)}`);
      go({ date: data.date, plan: job.plan_id });
      return;
    }
    setBusy(false);
    const word = job.status === "cancelled" ? t.job_cancelled : t.job_failed;
    const said = job.message ? `${word}: ${job.message}` : word;
    Dispatch.toast(`${said}${retryNote(job)}`, job.status !== "cancelled");
  }

  function follow(job) {
    jobId = job.id;
    showProgress(job);
    if (job.status !== "queued" && job.status !== "running") {
      finished(job);
      return;
    }
    setTimeout(poll, POLL_MS);
  }

  async function poll() {
    try {
      follow(await Dispatch.api("GET", `/plans/jobs/${jobId}`));
    } catch (failure) {
      if (failure.status === 404) {
        finished({ status: "failed", message: failure.message });
        return;
      }
      // A dropped answer on shop Wi-Fi: keep asking, the job runs on regardless.
      $("progress-text").textContent = failure.message;
      setTimeout(poll, POLL_MS * 4);
    }
  }

  async function startPlanning() {
    const body = { date: data.date, area: data.area };
    const seconds = Number($("plan-seconds").value);
    if (seconds > 0) body.time_limit_s = seconds;
    setBusy(true);
    try {
      const job = await Dispatch.api("POST", "/plans", body, { action: `plan ${data.date}` });
      sessionStorage.setItem(JOB_KEY, String(job.id));
      follow(job);
    } catch (failure) {
      setBusy(false);
      fail(failure);
    }
  }

  async function cancelPlanning() {
    if (jobId === null) return;
    $("cancel-button").disabled = true;
    try {
      // The poll sees the job end; a running solve stops at its next progress report.
      await Dispatch.api("POST", `/plans/jobs/${jobId}/cancel`, undefined, {
        action: `cancel job ${jobId}`,
      });
    } catch (failure) {
      fail(failure);
    } finally {
      $("cancel-button").disabled = false;
    }
  }

  // A job this screen started, or else one started elsewhere for the date (the 15:00
  // scheduler, another dispatcher): the board follows whichever is still running.
  async function resumePlanning() {
    const remembered = sessionStorage.getItem(JOB_KEY);
    try {
      let job = remembered ? await Dispatch.api("GET", `/plans/jobs/${remembered}`) : null;
      if (!job || (job.status !== "queued" && job.status !== "running")) {
        sessionStorage.removeItem(JOB_KEY);
        const active = await Dispatch.api("GET", `/plans/jobs?date=${data.date}&area=${encodeURIComponent(data.area)}&active=true`);
        job = active.length ? active[0] : null;
      }
      if (job) {
        setBusy(true);
        follow(job);
      }
    } catch (_) {
      sessionStorage.removeItem(JOB_KEY);
    }
  }

  // --- edits ----------------------------------------------------------------------------

  async function publish() {
    if (!confirm(t.publish_confirm)) return;
    const button = $("publish-button");
    button.disabled = true;
    try {
      await Dispatch.api("POST", `/plans/${data.plan}/publish`, undefined, {
        action: `publish ${data.plan} v${data.version}`,
        headers: ifMatch(),
      });
      Dispatch.toast(t.published);
      go({ plan: data.plan });
    } catch (failure) {
      button.disabled = false;
      fail(failure);
    }
  }

  // The crew a visit is on already is no destination for it.
  function markCurrentCrew() {
    const chosen = $("move-order").selectedOptions[0];
    const current = chosen ? chosen.dataset.vehicle : "";
    let firstOther = null;
    for (const option of $("move-to").options) {
      option.disabled = option.value === current;
      if (!option.disabled && firstOther === null) firstOther = option;
    }
    if ($("move-to").selectedOptions[0]?.disabled && firstOther) firstOther.selected = true;
  }

  async function move(event) {
    event.preventDefault();
    const order = $("move-order").value;
    const vehicle = $("move-to").value;
    const body = { order, vehicle_code: vehicle, override_reason: $("move-reason").value.trim() };
    $("move-button").disabled = true;
    try {
      await Dispatch.api("POST", `/plans/${data.plan}/moves`, body, {
        action: `move ${data.plan} v${data.version} ${order} ${vehicle}`,
        headers: ifMatch(),
      });
      Dispatch.toast(`${t.moved}: ${order} → ${vehicle}`);
      go({ plan: data.plan });
    } catch (failure) {
      $("move-button").disabled = false;
      fail(failure);
    }
  }

  // --- wiring ---------------------------------------------------------------------------

  $("date").addEventListener("change", (event) => {
    if (!event.target.value) return;
    // The KPI panel keeps the range it was showing for the new date.
    const kpiRange = data.kpi_days > 1 ? { kpi_days: data.kpi_days } : {};
    go({ date: event.target.value, ...kpiRange });
  });
  if ($("area")) {
    // Another area's board, on the same date: each desk plans its own.
    $("area").addEventListener("change", (event) => go({ area: event.target.value, date: data.date }));
  }
  $("plan-button").addEventListener("click", startPlanning);
  $("cancel-button").addEventListener("click", cancelPlanning);
  if ($("publish-button")) $("publish-button").addEventListener("click", publish);
  if ($("plan-choice")) {
    $("plan-choice").addEventListener("change", (event) => go({ plan: event.target.value }));
  }
  if ($("move-form")) {
    $("move-order").addEventListener("change", markCurrentCrew);
    $("move-form").addEventListener("submit", move);
    markCurrentCrew();
  }
  resumePlanning();
})();
