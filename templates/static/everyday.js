// Issue 18's small helpers, loaded as a file because the CSP allows no inline script. Everything here is
// an extra: without JavaScript the pages work as before (two blank rows, codes typed, charts redrawn on
// resize).
(function () {
  "use strict";

  // A chart drawn inside a folded <details> was sized while hidden: redraw it when the part is opened.
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!(details instanceof HTMLDetailsElement) || !details.open || !window.Plotly) return;
    details.querySelectorAll(".plotly-graph-div").forEach(function (chart) {
      window.Plotly.Plots.resize(chart);
    });
  }, true);

  // "Add a row" on the case form: copy the last row of the fieldset with the next index, emptied.
  var ROW_NAME = /^(indicators|goals)-(\d+)-/;
  function renumber(value, index) {
    return value.replace(ROW_NAME, function (_m, group) { return group + "-" + index + "-"; });
  }
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-add-row]") : null;
    if (!button) return;
    event.preventDefault();
    var group = button.getAttribute("data-add-row");
    var fieldset = document.getElementById(group);
    var rows = fieldset ? fieldset.querySelectorAll(".row") : [];
    if (!rows.length) return;
    var last = rows[rows.length - 1];
    var index = rows.length;
    var copy = last.cloneNode(true);
    copy.setAttribute(group === "indicators" ? "data-indicator" : "data-goal", String(index));
    copy.querySelectorAll("[id]").forEach(function (el) { el.id = renumber(el.id, index); });
    copy.querySelectorAll("[for]").forEach(function (el) {
      el.setAttribute("for", renumber(el.getAttribute("for"), index));
    });
    copy.querySelectorAll("[name]").forEach(function (el) { el.name = renumber(el.name, index); });
    copy.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
    copy.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    });
    copy.querySelectorAll("input, textarea").forEach(function (el) {
      if (el.type !== "hidden") el.value = "";
      el.readOnly = false;
    });
    copy.querySelectorAll("select").forEach(function (el) { el.selectedIndex = 0; });
    copy.querySelectorAll("details").forEach(function (el) { el.open = false; });
    // "Indicator 2: code" becomes "Indicator 3: code" (labels without the row's number stay)
    var shown = new RegExp("\\b" + index + "\\b");
    copy.querySelectorAll("label").forEach(function (label) {
      label.textContent = label.textContent.replace(shown, String(index + 1));
    });
    last.after(copy);
    var focus = copy.querySelector("input, textarea");
    if (focus) focus.focus();
  });

  // The indicator picker: a name (Swedish or English) chosen from the library fills the code.
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.classList.contains("indicator-pick")) return;
    var list = document.getElementById(input.getAttribute("list") || "");
    if (!list) return;
    var chosen = Array.prototype.find.call(list.options, function (o) { return o.value === input.value; });
    if (!chosen) return;
    var row = input.closest(".row");
    var code = row ? row.querySelector("input[name$='-code']") : null;
    if (code) {
      code.value = chosen.getAttribute("data-code") || "";
      code.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });
})();
