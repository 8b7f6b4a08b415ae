// Beat's pages work without this file; it only adds what needs a script:
// "use my location" buttons (their messages come translated in data attributes), and opening a receipt link whose token is in the URL fragment.
(function () {
  "use strict";

  function locate(onPosition, onFailure) {
    if (!navigator.geolocation) { onFailure(); return; }
    navigator.geolocation.getCurrentPosition(function (position) {
      onPosition(position.coords.latitude.toFixed(6), position.coords.longitude.toFixed(6));
    }, onFailure, { timeout: 10000 });
  }

  // Home: find my beat from where I am (the position goes in a POST body, never in a URL).
  document.querySelectorAll("form[data-geolocate]").forEach(function (form) {
    if (!navigator.geolocation) return;
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      if (form.elements.lat.value) return;
      event.preventDefault();
      locate(function (lat, long) {
        form.elements.lat.value = lat;
        form.elements.long.value = long;
        form.submit();
      }, function () { form.hidden = true; });
    });
  });

  // Voice a concern: fill the location from the device.
  document.querySelectorAll("[data-geolocate-field]").forEach(function (holder) {
    if (!navigator.geolocation) return;
    var form = holder.closest("form");
    var result = holder.querySelector(".geolocate-result");
    holder.hidden = false;
    holder.querySelector("button").addEventListener("click", function () {
      locate(function (lat, long) {
        form.elements.lat.value = lat;
        form.elements.long.value = long;
        result.textContent = result.dataset.done;
      }, function () {
        result.textContent = result.dataset.failed;
      });
    });
  });

  // Follow: a receipt link carries "#<concern id>.<token>"; post it, then forget the fragment.
  var follow = document.querySelector("form.follow-form");
  if (follow && /^#[A-Za-z0-9-]+\.[A-Za-z0-9_-]{16,}$/.test(window.location.hash)) {
    follow.elements.receipt.value = window.location.hash.slice(1);
    history.replaceState(null, "", window.location.pathname);
    follow.submit();
  }
})();
