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
