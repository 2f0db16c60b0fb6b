// Live timeline: while an investigation runs, fetch its timeline fragment every few seconds and swap it in.
// (htmx is not on PyPI and nothing may come from a CDN; this is all the page needs of it.)
// The fragment's root says the investigation's status; polling stops once it is no longer "running".
(function () {
  "use strict";
  function poll(box) {
    var url = box.getAttribute("data-poll");
    var every = parseInt(box.getAttribute("data-interval"), 10) || 2000;
    var failures = 0;
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (response.status === 401) {  // the session ended: log in again, then come back here
            window.location.href = "/ui/login?next=" + encodeURIComponent(window.location.pathname);
            return null;
          }
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.text();
        })
        .then(function (html) {
          if (html === null) { return; }
          failures = 0;
          var focused = document.activeElement && document.activeElement.id;
          box.innerHTML = html;
          if (focused) {  // keep keyboard focus where it was when the content is replaced
            var again = document.getElementById(focused);
            if (again) { again.focus(); }
          }
          var root = box.querySelector("[data-status]");
          if (root && root.getAttribute("data-status") === "running") {
            window.setTimeout(tick, every);
          } else {
            box.removeAttribute("data-poll");
          }
        })
        .catch(function () {
          failures += 1;  // back off on errors, give up after ten in a row
          if (failures < 10) { window.setTimeout(tick, every * failures); }
        });
    }
    window.setTimeout(tick, every);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll("[data-poll]");
    for (var i = 0; i < boxes.length; i++) { poll(boxes[i]); }
  });
})();
