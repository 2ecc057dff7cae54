// The kiosk goes back to its first screen after a minute without a touch, so the next visitor starts clean.
(function () {
  var home = document.querySelector(".public-head h1") ? window.location.pathname.replace(/(issue|check-in)\/?$/, "") : null;
  var timer;
  function reset() {
    clearTimeout(timer);
    timer = setTimeout(function () { if (home) { window.location.href = home; } }, 60000);
  }
  ["click", "touchstart", "keydown"].forEach(function (name) { document.addEventListener(name, reset, { passive: true }); });
  reset();
})();
