/* Draws every chart of the page ({% chart c %}) with the vendored vega-embed, under the strict CSP:
   the specification comes from a <script type="application/json"> block, expressions run through
   vega-interpreter (no `new Function`), vega-embed's injected <style> and action menu are off.
   The vendored scripts are loaded only on pages that have a chart; charts swapped in by htmx
   (lazily loaded panels) are drawn when they arrive. Until a chart is drawn, and in print, the
   server-rendered SVG next to it is shown. */
(function () {
  "use strict";
  var me = document.currentScript;
  var vendor = me ? [me.dataset.vega, me.dataset.vegaLite, me.dataset.vegaInterpreter, me.dataset.vegaEmbed] : [];
  var loading = null;

  function loadVendor() {
    if (window.vegaEmbed && window.vegaInterpreter) return Promise.resolve();
    if (loading) return loading;
    loading = vendor.reduce(function (chain, src) {
      return chain.then(function () {
        return new Promise(function (resolve, reject) {
          var s = document.createElement("script");
          s.src = src;
          s.onload = resolve;
          s.onerror = function () { reject(new Error("could not load " + src)); };
          document.head.appendChild(s);
        });
      });
    }, Promise.resolve());
    return loading;
  }

  function draw(el) {
    if (el.dataset.chartState) return;
    el.dataset.chartState = "drawing";
    var block = document.getElementById(el.dataset.chartSpec);
    if (!block) return;
    var spec = JSON.parse(block.textContent);
    window.vegaEmbed(el, spec, {
      actions: false,
      renderer: "svg",
      ast: true,
      expr: window.vegaInterpreter.expressionInterpreter,
      defaultStyle: false,
      tooltip: { disableDefaultStyle: true, theme: "bontrack" }
    }).then(function () {
      el.dataset.chartState = "drawn";
      var figure = el.closest(".chart-figure");
      if (figure) figure.classList.add("chart-live");
    }).catch(function (err) {
      el.dataset.chartState = "failed";
      if (window.console) console.error("chart", el.dataset.chartSpec, err);
    });
  }

  function drawAll(root) {
    var els = (root || document).querySelectorAll("[data-chart-spec]");
    if (!els.length) return;
    loadVendor().then(function () { els.forEach(draw); }, function (err) {
      if (window.console) console.error(err);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:load", function (e) { drawAll(e.target); });
})();
