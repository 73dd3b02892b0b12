/* 状态监控: the incident clocks tick every second and the page reloads itself every
   data-refresh seconds (a static file: the Content Security Policy runs no inline script). */
(function () {
  "use strict";

  var page = document.getElementById("dc-monitoring");
  if (!page) {
    return;
  }
  var refresh = parseInt(page.getAttribute("data-refresh"), 10) || 30;
  // The server's clock at render time, so a wrong clock on the operator's PC does not skew it.
  var skew = (parseInt(page.getAttribute("data-now"), 10) || Date.now()) - Date.now();
  var left = refresh;
  var counter = document.getElementById("dc-refresh-left");

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  function words(ms) {
    var seconds = Math.max(Math.floor(ms / 1000), 0);
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    seconds = seconds % 60;
    if (hours) {
      return hours + " 小时 " + pad(minutes) + " 分 " + pad(seconds) + " 秒";
    }
    if (minutes) {
      return minutes + " 分 " + pad(seconds) + " 秒";
    }
    return seconds + " 秒";
  }

  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll(".dc-clock[data-opened]").forEach(function (clock) {
      clock.textContent = words(now - parseInt(clock.getAttribute("data-opened"), 10));
    });
    left -= 1;
    if (counter) {
      counter.textContent = "（" + Math.max(left, 0) + " 秒后）";
    }
    if (left <= 0) {
      if (document.querySelector("details[open]")) {
        left = refresh; // someone is reading an error: do not pull the page from under them
      } else {
        window.location.reload();
      }
    }
  }

  window.setInterval(tick, 1000);
})();
