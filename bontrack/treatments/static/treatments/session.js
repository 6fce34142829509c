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
// Injection maps. A tap (or Enter) on a charted site loads its editor: bring the editor into view
// and focus its first field, so that on a tablet the form is where the finger is.
var mapSitePicked = false;
document.addEventListener("click", function (e) {
  var site = e.target && e.target.closest ? e.target.closest("a.site") : null;
  if (site) mapSitePicked = true;
  // A muscle without a site (clinician-built protocols): fill the "Add a site" form with it.
  var target = e.target && e.target.closest ? e.target.closest("a.muscle-target") : null;
  if (!target) return;
  var heading = document.getElementById("h-add");
  var form = heading ? heading.closest("section").querySelector("form") : null;
  if (!form || !form.elements.muscle || !form.elements.side) return;
  e.preventDefault();
  form.elements.muscle.value = target.getAttribute("data-choice");
  form.elements.side.value = target.getAttribute("data-side");
  form.closest("section").scrollIntoView({ block: "nearest" });
  (form.elements.units || form.elements.muscle).focus({ preventScroll: true });
});
document.addEventListener("htmx:afterSettle", function () {
  if (!mapSitePicked) return;
  mapSitePicked = false;
  var editor = document.getElementById("site-editor");
  if (!editor) return;
  editor.scrollIntoView({ block: "nearest" });
  var field = editor.querySelector("input:not([type=hidden]), select, textarea");
  if (field) field.focus({ preventScroll: true });
});
