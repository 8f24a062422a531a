// The signature pad: draw with a mouse, pen or finger on the canvas; on submit the drawing is
// sent as PNG data in the hidden `signature_image` field (the typed signature otherwise).
(function () {
  "use strict";

  function setUp() {
    var form = document.getElementById("sign-form");
    var canvas = document.getElementById("signature-canvas");
    if (!form || !canvas) return;
    var context = canvas.getContext("2d");
    var hidden = document.getElementById("id_signature_image");
    var typed = document.getElementById("signature-typed");
    var drawn = document.getElementById("signature-drawn");
    var drawing = false;
    var hasInk = false;

    context.lineWidth = 2.5;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = "#111";

    function point(event) {
      var box = canvas.getBoundingClientRect();
      return {
        x: (event.clientX - box.left) * (canvas.width / box.width),
        y: (event.clientY - box.top) * (canvas.height / box.height),
      };
    }

    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      canvas.setPointerCapture(event.pointerId);
      var at = point(event);
      context.beginPath();
      context.moveTo(at.x, at.y);
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      var at = point(event);
      context.lineTo(at.x, at.y);
      context.stroke();
      hasInk = true;
      event.preventDefault();
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
      canvas.addEventListener(name, function () { drawing = false; });
    });

    document.getElementById("signature-clear").addEventListener("click", function () {
      context.clearRect(0, 0, canvas.width, canvas.height);
      hidden.value = "";
      hasInk = false;
    });

    // After an error the page comes back with the drawing that was sent: show it again.
    if (hidden.value.indexOf("data:image/png;base64,") === 0) {
      var image = new Image();
      image.onload = function () {
        context.drawImage(image, 0, 0, canvas.width, canvas.height);
        hasInk = true;
      };
      image.src = hidden.value;
    }

    form.querySelectorAll("input[name=signature_mode]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        var draw = form.querySelector("input[name=signature_mode]:checked").value === "draw";
        drawn.hidden = !draw;
        typed.hidden = draw;
      });
    });

    form.addEventListener("submit", function () {
      var draw = form.querySelector("input[name=signature_mode]:checked").value === "draw";
      hidden.value = draw && hasInk ? canvas.toDataURL("image/png") : "";
      if (draw) document.getElementById("id_signature_text").value = "";
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
