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

  // Live progress from the database, without reloading the page.
  function followProgress(section) {
    var url = section.getAttribute("data-progress-url");
    var bar = section.querySelector("[data-progress-bar]");
    var text = section.querySelector("[data-progress-text]");
    var status = section.querySelector("[data-status]");
    var waiting = section.querySelector("[data-waiting]");
    var error = section.querySelector("[data-error]");
    var duration = section.querySelector("[data-duration]");
    var format = function (n) { return Number(n).toLocaleString("en-US"); };

    function render(data) {
      bar.value = data.percent;
      bar.textContent = data.percent + "%";
      var line = data.percent + "% · " + format(data.processed) + " of " + format(data.targeted) + " students changed";
      if (data.reset) line += ", " + format(data.reset) + " login passwords reset";
      if (data.failed) line += ", " + format(data.failed) + " failed";
      text.textContent = line;
      status.textContent = data.status_display;
      status.className = "status status--" + data.status;
      waiting.hidden = !data.waiting;
      waiting.textContent = data.waiting;
      error.hidden = !data.error;
      error.textContent = data.error;
      if (data.duration_seconds !== null) duration.textContent = data.duration_seconds.toFixed(1) + " s";
    }

    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          render(data);
          if (!data.finished) window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    if (section.getAttribute("data-finished") !== "true") poll();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-regeneration-form]").forEach(linkForceToReset);
    document.querySelectorAll("[data-confirm-form]").forEach(guardDoubleSubmit);
    document.querySelectorAll("[data-progress-url]").forEach(followProgress);
    var errors = document.getElementById("form-errors");
    if (errors) errors.focus();
  });
})();
