// The share sheet fetched by htmx opens as a modal bottom sheet (focus moves in, Esc closes it).
document.addEventListener("htmx:afterSwap", function (event) {
  if (event.target.id === "share-dialog-body") {
    event.target.closest("dialog").showModal();
  }
});

// Copy-link buttons: copy the link, then let the form submit (the share is recorded server-side).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  var input = document.querySelector(button.getAttribute("data-copy"));
  if (!input) return;
  input.select();
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).catch(function () {});
  }
});

// A 400 answer to an htmx form (its errors) is swapped in like a 200: a refused share stays in the sheet.
htmx.config.responseHandling = [
  { code: "204", swap: false },
  { code: "[23]..", swap: true },
  { code: "400", swap: true, error: false },
  { code: "[45]..", swap: false, error: true },
];

// Tab rows that scroll sideways say so: data-overflow names the side with more tabs (CSS fades it).
function markOverflow(row) {
  var more = row.scrollWidth - row.clientWidth;
  var left = row.scrollLeft > 1, right = row.scrollLeft < more - 1;
  row.setAttribute("data-overflow", left && right ? "both" : left ? "left" : right ? "right" : "none");
}
function markAllOverflow() { document.querySelectorAll(".tabs-scroll").forEach(markOverflow); }
document.addEventListener("scroll", function (event) {
  if (event.target.classList && event.target.classList.contains("tabs-scroll")) markOverflow(event.target);
}, true);
window.addEventListener("resize", markAllOverflow);
document.addEventListener("DOMContentLoaded", markAllOverflow);
document.addEventListener("htmx:afterSettle", markAllOverflow);

// Rows that changed live glow for a moment once the inbox list has been refreshed.
var changedNotificationIds = [];
document.body.addEventListener("live:notification", function (event) {
  changedNotificationIds.push(String(event.detail.id));
});
document.addEventListener("htmx:afterSwap", function (event) {
  if (event.target.id !== "inbox-live") return;
  changedNotificationIds.forEach(function (id) {
    var row = event.target.querySelector('[data-notification-id="' + id + '"]');
    if (row) row.classList.add("live-changed");
  });
  changedNotificationIds = [];
});

// The demo batching panel counts down to the end of the current window (windows align to the epoch).
function updateBatchCountdowns() {
  document.querySelectorAll("[data-batch-countdown]").forEach(function (element) {
    var seconds = Number(element.getAttribute("data-batch-countdown"));
    var left = seconds - Math.floor(Date.now() / 1000) % seconds;
    element.textContent = "next delivery in " + left + " s";
  });
}
setInterval(updateBatchCountdowns, 1000);
updateBatchCountdowns();
