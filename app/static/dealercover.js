/* Behaviour of the console's own templates, as listeners instead of inline handler attributes
   (onclick="…", onchange="…"), which the Content Security Policy refuses to run.

   data-dc-autosubmit     on a <select>: choosing an option submits its form.
   data-dc-confirm="…"    on a <form>: asks the question before submitting; "cancel" stops it.
   data-dc-hide-broken    on an <img>: hidden when the picture cannot be loaded. */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("select[data-dc-autosubmit]") && field.form) {
      field.form.submit();
    }
  });

  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-dc-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  function hide(img) {
    img.style.display = "none";
  }

  // Load errors do not bubble, but they can be caught on the way down.
  document.addEventListener("error", function (event) {
    var img = event.target;
    if (img.tagName === "IMG" && img.hasAttribute("data-dc-hide-broken")) {
      hide(img);
    }
  }, true);

  // A picture that failed before this script ran has already missed the listener.
  function hideAlreadyBroken() {
    document.querySelectorAll("img[data-dc-hide-broken]").forEach(function (img) {
      if (img.complete && img.naturalWidth === 0 && img.getAttribute("src")) {
        hide(img);
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", hideAlreadyBroken);
  } else {
    hideAlreadyBroken();
  }
})();
