// iisbitness report: filters by severity and rule, and copy buttons on command blocks.
// Progressive: without JavaScript every finding and command is shown and selectable.
// Grouped lists (a cause's pools, fixes of one kind, pools alike) are plain <details>: no script needed.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  var causes = Array.prototype.slice.call(document.querySelectorAll("article.cause"));
  var count = document.getElementById("filter-count");
  function apply() {
    var wanted = {};
    Array.prototype.forEach.call(form.querySelectorAll("input[name=severity]"), function (box) {
      wanted[box.value] = box.checked;
    });
    var rule = form.querySelector("select[name=rule]").value;
    var shown = 0;
    causes.forEach(function (el) {
      var ok = wanted[el.getAttribute("data-severity")] && (!rule || el.getAttribute("data-rule") === rule);
      el.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + causes.length + " causes shown";
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
  // A run of fixes of one kind (one per pool, thousands on a big server) gets its buttons when it is opened.
  Array.prototype.forEach.call(document.querySelectorAll(".cmd"), function (block) {
    if (!block.closest("details.run")) { addCopy(block); }
  });
  document.addEventListener("toggle", function (e) {
    var run = e.target;
    if (run.matches && run.matches("details.run") && run.open && !run.hasAttribute("data-copy")) {
      run.setAttribute("data-copy", "");
      Array.prototype.forEach.call(run.querySelectorAll(".cmd"), addCopy);
    }
  }, true);
}());
// Printing (or saving as PDF) shows every fix and every PowerShell block.
window.addEventListener("beforeprint", function () {
  Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
});
