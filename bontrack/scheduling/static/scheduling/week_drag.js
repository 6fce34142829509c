// Drag-to-reschedule on the week view: progressive enhancement over the move form.
// Drop an appointment on another day: the move form opens with that day (same time) filled in,
// so the change is still confirmed, validated and audited by the server. Without JavaScript,
// or with the keyboard, the "Move" link opens the same form.
(function () {
  "use strict";
  function setUp(root) {
    root.querySelectorAll("tr[data-move-url]").forEach(function (row) {
      row.setAttribute("draggable", "true");
      row.addEventListener("dragstart", function (event) {
        event.dataTransfer.setData("text/plain", row.dataset.moveUrl + "|" + row.dataset.time);
        event.dataTransfer.effectAllowed = "move";
      });
    });
    root.querySelectorAll("section[data-date]").forEach(function (day) {
      day.addEventListener("dragover", function (event) {
        event.preventDefault();
        day.style.outline = "3px dashed currentColor";
      });
      day.addEventListener("dragleave", function () {
        day.style.outline = "";
      });
      day.addEventListener("drop", function (event) {
        event.preventDefault();
        day.style.outline = "";
        var parts = event.dataTransfer.getData("text/plain").split("|");
        if (!parts[0]) { return; }
        var url = parts[0] + "?date=" + encodeURIComponent(day.dataset.date) +
          "&time=" + encodeURIComponent(parts[1] || "");
        window.location.assign(url);
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  document.addEventListener("htmx:afterSwap", function (event) { setUp(event.target); });
})();
