// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // "Force Password Change at Next Login" takes effect only with "Also Reset Current
  // Passwords": keep it disabled (and unticked) while reset is unticked.
  function linkForceToReset(form) {
    var reset = form.querySelector("#id_reset_current_passwords");
    var force = form.querySelector("#id_force_password_change");
    if (!reset || !force) return;
    function sync() {
      force.disabled = !reset.checked;
      if (!reset.checked) force.checked = false;
      force.closest(".field").classList.toggle("field--disabled", !reset.checked);
    }
    reset.addEventListener("change", sync);
    sync();
  }

  // The PSU form's pickers (campuses of the PSU typed, grades by name) fill its text fields,
  // which stay the form: what is typed there ticks the boxes, and the other way round.
  function linkPickers(form) {
    var pickers = form.querySelector("[data-pickers]");
    if (!pickers) return;
    pickers.hidden = false;
    var psu = form.querySelector("#id_psu_code");
    var sets = pickers.querySelectorAll("[data-picker-psu]");
    function split(value) {
      return value.split(",").map(function (v) { return v.trim().toUpperCase(); }).filter(Boolean);
    }
    function showPSU() {
      var code = psu.value.trim().toUpperCase();
      sets.forEach(function (set) {
        set.hidden = sets.length > 1 && set.getAttribute("data-picker-psu") !== code;
      });
    }
    function boxesFor(field) {
      return pickers.querySelectorAll("[data-fills='" + field.id + "']");
    }
    function fromBoxes(field) {
      var typed = split(field.value);
      boxesFor(field).forEach(function (box) {
        var at = typed.indexOf(box.value);
        if (box.checked && at < 0) typed.push(box.value);
        if (!box.checked && at >= 0) typed.splice(at, 1);
      });
      field.value = typed.join(", ");
    }
    function fromField(field) {
      var typed = split(field.value);
      boxesFor(field).forEach(function (box) { box.checked = typed.indexOf(box.value) >= 0; });
    }
    ["id_campus_codes", "id_grade_levels"].forEach(function (id) {
      var field = form.querySelector("#" + id);
      if (!field) return;
      boxesFor(field).forEach(function (box) {
        box.addEventListener("change", function () { fromBoxes(field); });
      });
      field.addEventListener("input", function () { fromField(field); });
      fromField(field);
    });
    psu.addEventListener("input", showPSU);
    showPSU();
  }

  // A large request is confirmed by typing its number of students; the server checks too.
  function guardTypedCount(form) {
    var expected = form.getAttribute("data-confirm-count");
    var input = form.querySelector("#id_confirm_count");
    var button = form.querySelector("button[type=submit]");
    if (!expected || !input || !button) return;
    function sync() { button.disabled = input.value.replace(/[,\s]/g, "") !== expected; }
    input.addEventListener("input", sync);
    sync();
  }

  // One click queues one request; the server refuses a second one anyway.
  function guardDoubleSubmit(form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) {
        window.setTimeout(function () { button.disabled = true; }, 0);
        button.textContent = "Queuing…";
      }
    });
  }

  // Of the elements carrying ``attribute``, show the one whose value is ``state`` and hide
  // the others; leave them all alone when none has that value.
  function showState(root, attribute, state) {
    var elements = root.querySelectorAll("[" + attribute + "]");
    var known = Array.prototype.some.call(elements, function (element) {
      return element.getAttribute(attribute) === state;
    });
    if (!known) return;
    elements.forEach(function (element) {
      element.hidden = element.getAttribute(attribute) !== state;
    });
  }

  // Live progress from the database, without reloading the page.
  function followProgress(section) {
    var url = section.getAttribute("data-progress-url");
    var bar = section.querySelector("[data-progress-bar]");
    var text = section.querySelector("[data-progress-text]");
    var status = section.querySelector("[data-status]");
    var waiting = section.querySelector("[data-waiting]");
    var error = section.querySelector("[data-error]");
    var duration = section.querySelector("[data-duration]");
    var startedAt = section.querySelector("[data-started-at]");
    var finishedAt = section.querySelector("[data-finished-at]");
    var handout = document.querySelector("[data-handout]");
    var handoutCount = handout && handout.querySelector("[data-handout-count]");
    var statusWord = document.querySelector("[data-status-word]");
    var format = function (n) { return Number(n).toLocaleString("en-US"); };

    function render(data) {
      bar.value = data.percent;
      bar.textContent = data.percent + "%";
      var line = data.percent + "% · " + format(data.processed) + " of " + format(data.targeted) + " students " + (data.undo ? "given back their previous passwords" : "changed");
      if (data.reset && !data.undo) line += ", " + format(data.reset) + " login passwords reset";
      if (data.skipped) line += ", " + format(data.skipped) + " left alone";
      if (data.failed) line += ", " + format(data.failed) + " failed";
      text.textContent = line;
      status.textContent = data.status_display;
      status.className = "status status--" + data.status;
      if (statusWord) statusWord.textContent = data.status_display.toLowerCase();
      waiting.hidden = !data.waiting;
      waiting.textContent = data.waiting;
      error.hidden = !data.error;
      error.textContent = data.error;
      startedAt.textContent = data.started_at_display;
      finishedAt.textContent = data.finished_at_display;
      duration.textContent = data.duration_seconds === null ? "—" : data.duration_seconds.toFixed(1) + " s";
      // The students table is rendered by the server: once finished, say a reload shows it.
      var students = "pending";
      if (data.finished) students = data.processed + data.failed ? "finished" : "none";
      showState(document, "data-students-note", students);
      if (handout) {
        if (handoutCount) handoutCount.textContent = format(data.processed) + (data.processed === 1 ? " student" : " students");
        showState(handout, "data-handout-state", data.handout);
        var signIns = handout.querySelector("[data-sign-ins]");
        if (signIns && data.sign_ins) {
          signIns.querySelector("[data-signs-in-now]").textContent = format(data.sign_ins.signs_in_now);
          signIns.querySelector("[data-signed-in]").textContent = format(data.sign_ins.signed_in) + (data.sign_ins.signed_in === 1 ? " has" : " have");
          signIns.hidden = false;
        }
      }
    }

    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          render(data);
          if (data.finished) section.setAttribute("data-finished", "true");
          else window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    if (section.getAttribute("data-finished") !== "true") poll();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-regeneration-form]").forEach(linkForceToReset);
    document.querySelectorAll("[data-regeneration-form]").forEach(linkPickers);
    document.querySelectorAll("[data-confirm-form]").forEach(guardDoubleSubmit);
    document.querySelectorAll("[data-confirm-form]").forEach(guardTypedCount);
    document.querySelectorAll("[data-progress-url]").forEach(followProgress);
    var errors = document.getElementById("form-errors");
    if (errors) errors.focus();
  });
})();
