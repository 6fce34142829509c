// Diary pages (no inline script: the Content-Security-Policy forbids it).
document.addEventListener("DOMContentLoaded", function () {
  // Staff transcription: "Another date" opens that day's transcription page.
  document.querySelectorAll("form[data-day-url]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var base = form.dataset.dayUrl.replace(/\/$/, "");
      var day = form.elements.d.value;
      if (day) window.location.href = base + "/day/" + day + "/";
    });
  });
  // Portal day: "I had a headache" moves the focus to the hours field.
  document.querySelectorAll("a[data-focus]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById(link.dataset.focus);
      if (!target) return; // follow the link to its anchor
      event.preventDefault(); // the anchor jump would take the focus back
      target.focus();
    });
  });
});
