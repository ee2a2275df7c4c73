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

// Suggestions as you type: the search box becomes an ARIA 1.2 combobox with a listbox popup
// (aria-activedescendant keeps the focus in the box). Without this script the form works as
// before. Suggestion texts are inserted as text nodes, never as HTML.
(function () {
  "use strict";

  var DEBOUNCE_MS = 150;
  var LIMIT = 8;
  var KIND_LABELS = { title: "标题", speaker: "发言人", org: "机构", publisher: "来源", word: "词语" };

  function setUp(box) {
    var form = box.form;
    var wrapper = box.parentNode;
    if (!form || !wrapper || !window.fetch) {
      return;
    }
    var endpoint = box.getAttribute("data-suggest-url") || "/api/suggest";
    var list = document.createElement("ul");
    list.id = box.id + "-suggestions";
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "搜索建议");
    list.hidden = true;
    wrapper.appendChild(list);

    box.setAttribute("role", "combobox");
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-expanded", "false");
    box.setAttribute("aria-controls", list.id);

    var timer = null;
    var sequence = 0; // only the answer to the latest request is shown
    var active = -1;
    var shownFor = null;

    function options() {
      return list.querySelectorAll("[role=option]");
    }

    function close() {
      list.hidden = true;
      box.setAttribute("aria-expanded", "false");
      box.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function setActive(index) {
      var opts = options();
      if (!opts.length) {
        return;
      }
      if (index < -1) {
        index = opts.length - 1;
      } else if (index >= opts.length) {
        index = -1;
      }
      for (var i = 0; i < opts.length; i++) {
        opts[i].setAttribute("aria-selected", i === index ? "true" : "false");
        opts[i].classList.toggle("active", i === index);
      }
      active = index;
      if (index >= 0) {
        box.setAttribute("aria-activedescendant", opts[index].id);
        opts[index].scrollIntoView({ block: "nearest" });
      } else {
        box.removeAttribute("aria-activedescendant");
      }
    }

    function choose(option) {
      box.value = option.getAttribute("data-value");
      close();
      if (form.requestSubmit) {
        form.requestSubmit();
      } else {
        form.submit();
      }
    }

    function render(query, suggestions) {
      while (list.firstChild) {
        list.removeChild(list.firstChild);
      }
      shownFor = query;
      list.setAttribute("data-query", query); // what the list answers (tests wait for it)
      suggestions.forEach(function (item, i) {
        var option = document.createElement("li");
        option.id = list.id + "-" + i;
        option.className = "suggestion";
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.setAttribute("data-value", item.text);
        var text = document.createElement("span");
        text.className = "suggestion-text";
        text.textContent = item.text;
        var kind = document.createElement("span");
        kind.className = "suggestion-kind kind-" + item.kind;
        kind.textContent = KIND_LABELS[item.kind] || "";
        option.appendChild(text);
        option.appendChild(kind);
        list.appendChild(option);
      });
      active = -1;
      box.removeAttribute("aria-activedescendant");
      if (suggestions.length && document.activeElement === box) {
        list.hidden = false;
        box.setAttribute("aria-expanded", "true");
      } else {
        close();
      }
    }

    function fetchSuggestions() {
      // what the form could send (a pasted text can be longer than maxlength)
      var query = box.maxLength > 0 ? box.value.slice(0, box.maxLength) : box.value;
      if (query.trim() === "") {
        sequence++;
        render(query, []);
        return;
      }
      var mine = ++sequence;
      var url = endpoint + "?q=" + encodeURIComponent(query) + "&limit=" + LIMIT;
      fetch(url, { headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : { suggestions: [] };
        })
        .then(function (body) {
          if (mine === sequence) {
            render(query, body.suggestions || []);
          }
        })
        .catch(function () {
          if (mine === sequence) {
            render(query, []);
          }
        });
    }

    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, DEBOUNCE_MS);
    });

    box.addEventListener("keydown", function (event) {
      var open = !list.hidden;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!open) {
          if (options().length && shownFor === box.value) {
            list.hidden = false;
            box.setAttribute("aria-expanded", "true");
          } else {
            fetchSuggestions();
          }
          event.preventDefault();
          return;
        }
        event.preventDefault();
        setActive(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Enter") {
        if (open && active >= 0) {
          event.preventDefault();
          choose(options()[active]);
        } else {
          close();
        }
      } else if (event.key === "Escape") {
        if (open) {
          event.preventDefault();
          close();
        }
      } else if (event.key === "Tab") {
        close();
      }
    });

    box.addEventListener("blur", close);

    // mousedown would move the focus out of the box (and close the list) before the click
    list.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });
    list.addEventListener("click", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) {
        choose(option);
      }
    });
    list.addEventListener("mousemove", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) {
        setActive(Array.prototype.indexOf.call(options(), option));
      }
    });
  }

  function start() {
    var box = document.getElementById("q");
    if (box) {
      setUp(box);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
