// The window's outward screen (一机双屏) reloads its panel when this window's state changes.
(function () {
  var root = document.getElementById("citizen-screen");
  if (!root) { return; }
  var windowId = Number(root.dataset.window);
  var pending = null;
  function refresh() {
    if (pending) { return; }
    pending = setTimeout(function () {
      pending = null;
      fetch(root.dataset.fragment, { headers: { "HX-Request": "true" } })
        .then(function (response) { return response.text(); })
        .then(function (html) { root.innerHTML = html; })
        .catch(function () {});
    }, 150);
  }
  var source = new EventSource(root.dataset.events);
  ["called", "recalled", "started", "finished", "no_show", "transferred", "paused", "resumed", "window"].forEach(function (kind) {
    source.addEventListener(kind, function (event) {
      var message = JSON.parse(event.data);
      if (message.window_id === windowId) { refresh(); }
    });
  });
  // The rating prompt fades after a few minutes even without events.
  setInterval(refresh, 60000);
})();
