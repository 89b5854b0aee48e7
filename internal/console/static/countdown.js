// Counts deadlines down: every <time data-countdown datetime="…"> says how
// long is left, in the page's language, and again each half minute. The
// server writes the same words first, so the page reads without this.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";
  var fmt = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(lang, { numeric: "always" }) : null;
  function say(ms) {
    var abs = Math.abs(ms), sign = ms < 0 ? -1 : 1;
    var units = [["day", 864e5], ["hour", 36e5], ["minute", 6e4]];
    for (var i = 0; i < units.length; i++) {
      if (abs >= units[i][1] || i === units.length - 1) {
        return fmt.format(sign * Math.floor(abs / units[i][1]), units[i][0]);
      }
    }
  }
  function tick() {
    if (!fmt) return;
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(at)) el.textContent = say(at - now);
    });
  }
  tick();
  setInterval(tick, 30000);
})();
