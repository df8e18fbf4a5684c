// Today's board: minutes waited and in status tick on between refreshes (coloured past the
// settings' thresholds), and an open "Cancel…" or "Cancelled today" stays open when the live
// refresh redraws the table.
(function () {
  "use strict";
  var root = document.getElementById("queue-board");
  if (!root) { return; }
  var open = {};

  function tick() {
    var table = root.querySelector("table.queue-rows");
    if (!table) { return; }
    var limits = {
      wait: [Number(table.dataset.waitWarn), Number(table.dataset.waitAlert)],
      status: [Number(table.dataset.statusWarn), Number(table.dataset.statusAlert)]
    };
    root.querySelectorAll("td.minutes[data-since]").forEach(function (cell) {
      var since = Date.parse(cell.dataset.since);
      if (isNaN(since)) { return; }
      var minutes = Math.max(0, Math.floor((Date.now() - since) / 60000));
      var limit = limits[cell.dataset.kind] || [Infinity, Infinity];
      cell.textContent = minutes + " min";
      cell.classList.remove("late-no", "late-warn", "late-alert");
      cell.classList.add(minutes >= limit[1] ? "late-alert" : minutes >= limit[0] ? "late-warn" : "late-no");
    });
  }

  function remember() {
    open = {};
    root.querySelectorAll("details[open][id]").forEach(function (d) {
      var input = d.querySelector("input[name=reason]");
      open[d.id] = input ? input.value : "";
    });
  }

  function restore() {
    Object.keys(open).forEach(function (id) {
      var d = document.getElementById(id);
      if (!d) { return; }
      d.open = true;
      var input = d.querySelector("input[name=reason]");
      if (input && open[id]) { input.value = open[id]; }
    });
  }

  root.addEventListener("toggle", remember, true);
  root.addEventListener("input", remember, true);
  new MutationObserver(function () { restore(); tick(); }).observe(root, {childList: true});
  tick();
  setInterval(tick, 30000);
})();
