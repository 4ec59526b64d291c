// Live pages (data-live) reload when the server reports a new run, release step, approval or
// audit event. Without JavaScript they refresh with a <meta> tag instead.
(function () {
  if (!document.body || !document.body.dataset.live || !window.EventSource) return;
  var first = true;
  var source = new EventSource("/api/v1/events");
  source.addEventListener("change", function () {
    if (first) { first = false; return; }  // the first event is the state the page shows
    var active = document.activeElement;
    if (active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA")) return;
    source.close();
    window.location.reload();
  });
})();
