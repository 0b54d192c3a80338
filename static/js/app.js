// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Copy buttons: <button data-copy="#input-id">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var input = document.querySelector(button.dataset.copy);
    if (!input) return;
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done);
    } else {
      input.select();
      document.execCommand("copy");
      done();
    }
  });

  // Forms with data-confirm ask before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);

  // A Restore button (<button data-restore-for="#input" data-default-value="…">) is enabled only
  // while its field differs from the default. Without JavaScript it stays enabled.
  var syncRestoreButtons = function () {
    document.querySelectorAll("[data-restore-for]").forEach(function (button) {
      var input = document.querySelector(button.dataset.restoreFor);
      if (input) button.disabled = input.value.trim() === button.dataset.defaultValue;
    });
  };
  syncRestoreButtons();
  document.addEventListener("input", syncRestoreButtons);
  document.addEventListener("htmx:afterSettle", syncRestoreButtons);

  // After an htmx save that failed validation, bring the error summary into view and focus it,
  // as a full page load would (the Save button may be far below it).
  document.addEventListener("htmx:afterSettle", function (event) {
    var root = event.target;
    var summary = root && root.querySelector ? root.querySelector("[data-error-summary]") : null;
    if (summary) summary.focus();
  });

  // Close an open actions menu when clicking elsewhere or pressing Escape.
  var closeMenus = function (except) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  };
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest("details.menu"));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("details.menu[open]");
    if (open) {
      open.removeAttribute("open");
      open.querySelector("summary").focus();
    }
  });
})();
