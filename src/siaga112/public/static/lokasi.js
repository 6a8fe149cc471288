// The reporter's position, only when they press the button and the browser allows it.
(function () {
  var button = document.getElementById("pakai-lokasi");
  if (!button || !("geolocation" in navigator)) return;
  var status = document.getElementById("status-lokasi");
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = "Mencari lokasi…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById("lat").value = pos.coords.latitude.toFixed(6);
      document.getElementById("lon").value = pos.coords.longitude.toFixed(6);
      document.getElementById("accuracy_m").value = Math.round(pos.coords.accuracy);
      status.textContent = "Lokasi terbaca (ketelitian ±" + Math.round(pos.coords.accuracy) + " m).";
    }, function () {
      status.textContent = "Lokasi tidak dapat dibaca. Isi alamat atau patokan saja.";
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
  });
})();
