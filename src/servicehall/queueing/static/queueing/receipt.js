// At the kiosk the receipt prints itself and the kiosk returns to its first screen.
window.addEventListener("load", function () {
  window.print();
  var home = document.getElementById("kiosk-home");
  if (home) { setTimeout(function () { window.location.href = home.href; }, 8000); }
});
