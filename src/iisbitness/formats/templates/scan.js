// iisbitness report: filters by severity and rule, and copy buttons on command blocks.
// Progressive: without JavaScript every finding and command is shown and selectable (but in a table past PLAIN_ROWS).
// Grouped lists (a cause's pools, pools alike) are plain <details>; so are tables (fixes of one kind, causes alike)
// of up to scan_html.PLAIN_ROWS rows, as plain rows with their commands. Only a longer table is built from its
// patterns when opened (without JavaScript the patterns and each row's values are shown).
(function () {
  "use strict";
  // With the script, a long table's patterns and values are never laid out (its rows are built instead, scan.css).
  document.documentElement.classList.add("js");
  var form = document.getElementById("filters");
  var causes = Array.prototype.slice.call(document.querySelectorAll("article.cause"));
  var count = document.getElementById("filter-count");
  function apply() {
    var wanted = {};
    Array.prototype.forEach.call(form.querySelectorAll("input[name=severity]"), function (box) {
      wanted[box.value] = box.checked;
    });
    var rule = form.querySelector("select[name=rule]").value;
    var shown = 0, total = 0;
    causes.forEach(function (el) {
      var ok = wanted[el.getAttribute("data-severity")] && (!rule || el.getAttribute("data-rule") === rule);
      var n = Number(el.getAttribute("data-causes") || 1);  // causes alike: one article
      el.hidden = !ok;
      total += n;
      if (ok) { shown += n; }
    });
    count.textContent = shown + " of " + total + " causes shown";
  }
  if (form) {
    form.hidden = false;
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    apply();
  }
  function copied(button, label) {
    button.textContent = label;
    window.setTimeout(function () { button.textContent = "Copy"; }, 1500);
  }
  function fallback(code, button) {
    var range = document.createRange();
    range.selectNodeContents(code);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
    copied(button, ok ? "Copied" : "Selected: press Ctrl+C");
  }
  function addCopy(block) {
    var code = block.querySelector("code");
    var shell = block.querySelector(".shell");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy " + (shell ? shell.textContent :
      block.classList.contains("ps1") ? "PowerShell" : "cmd.exe") + " commands");
    button.addEventListener("click", function () {
      var text = code.textContent;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { copied(button, "Copied"); },
          function () { fallback(code, button); });
      } else {
        fallback(code, button);
      }
    });
    block.appendChild(button);
  }
  // A table past PLAIN_ROWS (a run of fixes of one kind, causes alike: thousands on a big server) comes as patterns and a
  // line of values per row (formats/scan_html.py: Rows); its rows, and their copy buttons, are built when opened:
  // each <var>N</var> of the row's pattern replaced by the line's N-th value, as text.
  // Rows are built CHUNK at a time (the first when opened, the next on a button): a table of 20,000 rows would take
  // seconds to lay out.
  var CHUNK = 500;
  function more(box, lines, patterns, start) {
    var out = document.createDocumentFragment();
    lines.slice(start, start + CHUNK).forEach(function (line) {
      var v = line.split(" ");
      var row = patterns[Number(v[0])].cloneNode(true);
      Array.prototype.forEach.call(row.querySelectorAll("var"), function (slot) {
        slot.replaceWith(document.createTextNode(v[Number(slot.textContent)]));
      });
      Array.prototype.forEach.call(row.querySelectorAll(".cmd"), addCopy);
      out.appendChild(row);
    });
    box.querySelector("tbody.built").appendChild(out);
    var next = box.querySelector("button.more-rows");
    var left = lines.length - start - CHUNK;
    if (left > 0) {
      if (!next) {
        next = document.createElement("button");
        next.type = "button";
        next.className = "more-rows";
        box.appendChild(next);
      }
      next.textContent = "Show " + Math.min(left, CHUNK) + " more rows (" + left + " not shown)";
      next.onclick = function () { more(box, lines, patterns, start + CHUNK); };
    } else if (next) {
      next.remove();
    }
  }
  function build(box, all) {
    box.setAttribute("data-built", "");
    var patterns = box.querySelector("tbody.patterns");
    var values = box.querySelector("pre.values");
    var lines = values.textContent.split("\n");
    patterns.hidden = true;
    values.hidden = true;
    box.querySelector(".rows-hint").hidden = true;
    if (all) {
      for (var start = 0; start < lines.length; start += CHUNK) { more(box, lines, patterns.children, start); }
    } else {
      more(box, lines, patterns.children, 0);
    }
  }
  function opened(details, all) {
    Array.prototype.forEach.call(details.querySelectorAll(".rows-box:not([data-built])"), function (box) {
      if (box.closest("details") === details) { build(box, all); }
    });
  }
  // Every command block but a long table's (its buttons come with its rows): plain rows' too.
  Array.prototype.forEach.call(document.querySelectorAll(".cmd"), function (block) {
    if (!block.closest(".rows-box")) { addCopy(block); }
  });
  document.addEventListener("toggle", function (e) {
    if (e.target.open) { opened(e.target); }
  }, true);
  // Printing (or saving as PDF) shows every fix and every PowerShell block.
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; opened(d, true); });
  });
}());
