// Live updates for every page: stream messages become DOM events on <body> ("live:notification",
// "live:unread_count"), which htmx elements listen to with hx-trigger="live:unread_count from:body".
// All tabs share one stream through live-worker.js; without SharedWorker each tab opens its own.
(function () {
  var body = document.body;
  var streamUrl = body.getAttribute("data-live-stream");
  if (!streamUrl) return;

  function deliver(message) {
    // The page is live from the stream's first word (its opening, or the unread count sent on connect).
    body.setAttribute("data-live", "open");
    if (message.kind === "notification" || message.kind === "unread_count") {
      body.dispatchEvent(new CustomEvent("live:" + message.kind, { detail: message.data }));
    }
  }

  if (window.SharedWorker) {
    // One worker per user: a tab that switched user never reads the other user's stream.
    var worker = new SharedWorker(body.getAttribute("data-live-worker"), {
      name: "shareloop-live-" + body.getAttribute("data-live-user"),
    });
    worker.port.onmessage = function (event) { deliver(event.data); };
    worker.port.start();
    worker.port.postMessage({ kind: "hello", url: streamUrl });
    window.addEventListener("pagehide", function () { worker.port.postMessage({ kind: "bye" }); });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) worker.port.postMessage({ kind: "hello", url: streamUrl });
    });
  } else {
    var stream = new EventSource(streamUrl);
    stream.addEventListener("open", function () { deliver({ kind: "open" }); });
    ["notification", "unread_count"].forEach(function (kind) {
      stream.addEventListener(kind, function (event) { deliver({ kind: kind, data: JSON.parse(event.data) }); });
    });
    window.addEventListener("pagehide", function () { stream.close(); });
  }
})();
