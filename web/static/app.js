// Keyboard shortcut: "/" focuses the search box (unless the user is already typing somewhere).
(function () {
  "use strict";

  function isTyping(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) {
      return;
    }
    var box = document.getElementById("q");
    if (box) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });

  // Changing the section filter re-runs the current search.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.classList && target.classList.contains("section-select") && target.form) {
      var box = document.getElementById("q");
      if (box && box.value.trim() !== "") {
        target.form.submit();
      }
    }
  });
})();
