// portplan dashboard: the little behaviour htmx does not give. No inline script (CSP).
(function () {
  "use strict";
  // the benchmark's mark: htmx has loaded and processed the page
  htmx.onLoad(function () {
    if (!performance.getEntriesByName("portplan:ready").length) {
      performance.mark("portplan:ready");
    }
  });
  // a select marked data-autosubmit submits its form (the form has a button without script)
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit")) {
      target.form.requestSubmit();
    }
  });
  // TTLs count down between live updates; the cells keep a fixed width (no layout shift)
  function format(s) {
    if (s >= 86400) return Math.floor(s / 86400) + "d " + Math.floor((s % 86400) / 3600) + "h";
    if (s >= 3600) return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
    if (s >= 60) return Math.floor(s / 60) + "m " + (s % 60) + "s";
    return s + "s";
  }
  function stamp(root) {
    root.querySelectorAll("[data-remaining]").forEach(function (el) {
      el.dataset.deadline = String(performance.now() + 1000 * Number(el.dataset.remaining));
    });
  }
  htmx.onLoad(stamp);
  setInterval(function () {
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var left = Math.max(0, Math.round((Number(el.dataset.deadline) - performance.now()) / 1000));
      el.textContent = format(left);
    });
  }, 1000);
})();
