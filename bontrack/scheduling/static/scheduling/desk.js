// Front desk: a "Print the day list" button (the print stylesheet does the layout).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-print]");
  if (button) { window.print(); }
});
