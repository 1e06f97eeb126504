// One live inbox stream per browser and user, shared by every tab of the site (a SharedWorker):
// a browser opens at most six connections per host over HTTP/1.1, so a stream per tab froze the seventh.
// EventSource reconnects by itself and sends Last-Event-ID, so a dropped stream resumes where it stopped.
var ports = [];
var stream = null;
var lastUnreadCount = null;

function broadcast(message) {
  ports.forEach(function (port) { port.postMessage(message); });
}

function forward(kind) {
  return function (event) {
    var message = { kind: kind, id: event.lastEventId, data: JSON.parse(event.data) };
    if (kind === "unread_count") lastUnreadCount = message;
    broadcast(message);
  };
}

function openStream(url) {
  stream = new EventSource(url);
  stream.addEventListener("notification", forward("notification"));
  stream.addEventListener("unread_count", forward("unread_count"));
  stream.addEventListener("open", function () { broadcast({ kind: "open" }); });
}

self.onconnect = function (connect) {
  var port = connect.ports[0];
  port.onmessage = function (event) {
    if (event.data.kind === "hello") {
      if (ports.indexOf(port) < 0) ports.push(port);
      if (!stream) openStream(event.data.url);
      else if (lastUnreadCount) port.postMessage(lastUnreadCount); // a late tab catches up at once
    } else if (event.data.kind === "bye") {
      ports = ports.filter(function (other) { return other !== port; });
      if (!ports.length && stream) { stream.close(); stream = null; lastUnreadCount = null; }
    }
  };
  port.start();
};
