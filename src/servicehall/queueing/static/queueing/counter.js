// Keyboard shortcuts of the counter workstation; typing in a field never triggers one.
(function () {
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA")) { return; }
    var key = (event.key || "").toLowerCase();
    var button = document.querySelector('button[data-shortcut="' + key + '"]');
    if (button && !button.disabled) {
      event.preventDefault();
      button.disabled = true;  // one press, one request: a second press cannot call twice
      button.form.submit();
      return;
    }
    var field = document.querySelector('[data-shortcut-focus="' + key + '"]');
    if (field) { event.preventDefault(); field.focus(); return; }
    if (key === "t") {
      var form = document.getElementById("transfer-form");
      if (form) { event.preventDefault(); form.closest("details").open = true; document.getElementById("transfer-category").focus(); }
    }
  });
  document.querySelectorAll(".counter-actions form").forEach(function (form) {
    form.addEventListener("submit", function () { form.querySelector("button").disabled = true; });
  });
})();
