// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // Move focus to the error summary so that screen readers announce it (QUALITY.md A2).
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
});
