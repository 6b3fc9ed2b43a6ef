// The upload and WebSocket forms on the demo page. No framework: fetch and WebSocket only.
(function () {
  "use strict";

  // The upload handler streams the body and never parses it, so the XSRF token travels in the
  // X-XSRFToken header instead of a form field.
  var upload = document.getElementById("upload");
  upload.addEventListener("submit", function (event) {
    event.preventDefault();
    var file = upload.elements.file.files[0];
    var result = document.getElementById("upload-result");
    if (!file) { result.textContent = "choose a file first"; return; }
    result.textContent = "uploading...";
    fetch("/upload", {method: "POST", body: file, headers: {"X-XSRFToken": upload.dataset.xsrf}})
      .then(function (response) { return response.json(); })
      .then(function (data) { result.textContent = data.bytes + " bytes received"; })
      .catch(function (error) { result.textContent = "failed: " + error; });
  });

  // Same host as the page, so the server's check_origin accepts it; wss:// behind TLS.
  var echo = document.getElementById("echo");
  var socket = null;
  echo.addEventListener("submit", function (event) {
    event.preventDefault();
    var result = document.getElementById("echo-result");
    var message = echo.elements.message.value;
    function send() { socket.send(message); }
    if (socket && socket.readyState === WebSocket.OPEN) { send(); return; }
    socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    socket.onmessage = function (msg) { result.textContent = "echo: " + msg.data; };
    socket.onerror = function () { result.textContent = "WebSocket failed"; };
    socket.onopen = send;
  });
})();
