// Let HTMX swap 422 answers (refused edit with its findings, form errors) like successes.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.htmx) return;
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "422", swap: true, error: false },
    { code: "[45]..", swap: false, error: true },
  ];
});
// Keyboard: Space on a map site activates it like Enter.
document.addEventListener("keydown", function (e) {
  var t = e.target;
  if (e.key === " " && t && t.classList && t.classList.contains("site")) {
    e.preventDefault();
    t.dispatchEvent(new MouseEvent("click", { bubbles: true }));
  }
});
