// What the console adds to htmx (static/htmx-2.0.11.min.js), which swaps
// parts of a page where that helps: a form refused for a field (422) is
// swapped like any answer, showing the field's message; any other refusal
// or a lost connection loads the address as a whole page, so its reason
// shows as it would without htmx.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.xhr.status === 422) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
    // A deal page's live part (#live) whose stage changed: the page's
    // actions are another stage's, so the whole page loads again.
    var live = e.detail.target;
    if (live && live.id === "live" && e.detail.shouldSwap) {
      var next = new DOMParser().parseFromString(e.detail.serverResponse, "text/html").getElementById("live");
      if (!next || next.getAttribute("data-stage") !== live.getAttribute("data-stage")) {
        e.detail.shouldSwap = false;
        window.location.reload();
      }
    }
  });
  function reload(e) {
    var info = e.detail.pathInfo || {};
    var path = info.finalRequestPath || info.requestPath;
    var verb = e.detail.requestConfig && e.detail.requestConfig.verb;
    if (path && verb === "get") window.location.assign(path);
  }
  document.addEventListener("htmx:responseError", reload);
  document.addEventListener("htmx:sendError", reload);
})();
