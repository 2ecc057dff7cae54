// The calling display: Server-Sent Events (the browser reconnects with Last-Event-ID, the display
// reopens a stream the browser gave up on, and the server catches up), the latest calls, waiting
// counts refreshed shortly after a change, and each call spoken in Mandarin by speech synthesis.
(function () {
  var root = document.getElementById("display");
  if (!root) { return; }
  var latest = document.getElementById("latest-call");
  var list = document.getElementById("recent-calls");
  var status = document.getElementById("connection-status");
  var countsBody = document.getElementById("counts");
  function label(id) { return document.getElementById(id).content.textContent.trim(); }
  var windowLabel = label("window-label");
  var statusConnected = label("status-connected");
  var statusReconnecting = label("status-reconnecting");
  var statusRetry = label("status-retry");
  var seen = {};
  var countsTimer = null;
  var lastId = root.dataset.lastEventId || "";

  function speak(text) {
    if (!("speechSynthesis" in window)) { return; }
    var utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = "zh-CN";
    utterance.rate = 0.9;
    window.speechSynthesis.speak(utterance);
  }

  function refreshCounts() {
    if (countsTimer) { return; }
    countsTimer = setTimeout(function () {
      countsTimer = null;
      fetch(root.dataset.counts, { headers: { "Accept": "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (body) {
          countsBody.innerHTML = "";
          body.counts.forEach(function (row) {
            var tr = document.createElement("tr");
            var name = document.createElement("td"); name.textContent = row.prefix + " " + row.name;
            var count = document.createElement("td"); count.className = "n"; count.textContent = row.waiting;
            tr.appendChild(name); tr.appendChild(count); countsBody.appendChild(tr);
          });
        })
        .catch(function () {});
    }, 1000);
  }

  function showCall(message) {
    var key = message.id + ":" + message.kind;
    if (seen[key]) { return; }
    seen[key] = true;
    if (latest.dataset.number && latest.dataset.number !== message.number) {
      var item = document.createElement("li");
      var number = document.createElement("span"); number.textContent = latest.dataset.number;
      var where = document.createElement("span"); where.textContent = windowLabel.replace("{window}", latest.dataset.window);
      item.appendChild(number); item.appendChild(where);
      list.insertBefore(item, list.firstChild);
      while (list.children.length > 7) { list.removeChild(list.lastChild); }
    }
    latest.textContent = message.text;
    latest.dataset.number = message.number;
    latest.dataset.window = message.window;
    latest.classList.remove("flash"); void latest.offsetWidth; latest.classList.add("flash");
    if (!message.catch_up) { speak(message.text); speak(message.text); }
  }

  // The browser reconnects by itself after a dropped connection (sending Last-Event-ID), but gives up
  // for good when a reply is not an event stream (e.g. a proxy's 502): readyState is then CLOSED. The
  // display then opens a new stream itself, after a growing pause (1 s, 2 s, 4 s … 30 s, with jitter),
  // asking for what it missed since the last event it saw (?last_event_id=), and refreshes the counts.
  var source = null;
  var reopenTimer = null;
  var failures = 0;
  var reopens = 0;

  function reopenLater() {
    if (reopenTimer) { return; }
    var delay = Math.min(30000, 1000 * Math.pow(2, failures)) * (0.8 + Math.random() * 0.4);
    failures += 1;
    status.textContent = statusRetry.replace("{seconds}", String(Math.ceil(delay / 1000)));
    reopenTimer = setTimeout(function () {
      reopenTimer = null;
      reopens += 1;
      root.dataset.reopens = String(reopens);
      connect();
    }, delay);
  }

  function connect() {
    if (source) { source.close(); }
    var url = root.dataset.events + (lastId ? "?last_event_id=" + encodeURIComponent(lastId) : "");
    var opened = new EventSource(url);
    source = opened;
    opened.onopen = function () {
      status.textContent = statusConnected;
      if (failures > 0) { refreshCounts(); }
      failures = 0;
    };
    opened.onerror = function () {
      if (opened !== source) { return; }
      if (opened.readyState === EventSource.CLOSED) { reopenLater(); return; }
      status.textContent = statusReconnecting;
    };
    ["called", "recalled"].forEach(function (kind) {
      opened.addEventListener(kind, function (event) {
        lastId = event.lastEventId || lastId;
        showCall(JSON.parse(event.data));
        refreshCounts();
      });
    });
    ["issued", "no_show", "requeued", "cancelled", "transferred", "finished"].forEach(function (kind) {
      opened.addEventListener(kind, function (event) { lastId = event.lastEventId || lastId; refreshCounts(); });
    });
  }

  function tick() {
    var now = new Date();
    document.getElementById("clock").textContent = now.toLocaleTimeString("zh-CN", { hour12: false });
  }
  setInterval(tick, 1000); tick();
  connect();
})();
