// The patient's camera and microphone test (device check page). CSP-safe: no inline script;
// nothing leaves the device. The page's Permissions-Policy allows camera and microphone.
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  ready(function () {
    var button = document.getElementById("device-start");
    var video = document.getElementById("device-video");
    var meter = document.getElementById("device-level");
    var status = document.getElementById("device-status");
    var box = document.getElementById("device-check");
    if (!button || !video || !meter || !status || !box) { return; }
    function say(state, text) { box.setAttribute("data-state", state); status.textContent = text; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say("unsupported", "This browser cannot use a camera here. Try a recent Chrome, Edge, Firefox or Safari.");
      button.disabled = true;
      return;
    }
    button.addEventListener("click", function () {
      button.disabled = true;
      say("asking", "Waiting for your permission…");
      navigator.mediaDevices.getUserMedia({ video: true, audio: true }).then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        var hasVideo = stream.getVideoTracks().length > 0;
        var hasAudio = stream.getAudioTracks().length > 0;
        say("ok", (hasVideo ? "Camera works: you should see yourself. " : "No camera found. ") +
          (hasAudio ? "Microphone works: speak and watch the level move." : "No microphone found."));
        var Ctx = window.AudioContext || window.webkitAudioContext;
        if (!hasAudio || !Ctx) { return; }
        var ctx = new Ctx();
        var analyser = ctx.createAnalyser();
        analyser.fftSize = 256;
        ctx.createMediaStreamSource(stream).connect(analyser);
        var data = new Uint8Array(analyser.frequencyBinCount);
        (function tick() {
          analyser.getByteTimeDomainData(data);
          var peak = 0;
          for (var i = 0; i < data.length; i++) { peak = Math.max(peak, Math.abs(data[i] - 128)); }
          meter.value = Math.min(100, Math.round(peak / 1.28));
          meter.textContent = String(meter.value);
          window.requestAnimationFrame(tick);
        })();
      }).catch(function (err) {
        button.disabled = false;
        var denied = err && (err.name === "NotAllowedError" || err.name === "SecurityError");
        say("error", denied
          ? "The browser was not allowed to use the camera or microphone. Allow them in the address bar and try again."
          : "No camera or microphone could be opened (" + (err && err.name ? err.name : "unknown") + "). Check that they are connected and not in use.");
      });
    });
  });
})();
