// Progressive enhancement only: every page works without this script.
// "Select all" boxes tick or untick the boxes of their table.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    all.hidden = false;
    var label = document.querySelector("label[for='" + all.id + "']");
    if (label) { label.hidden = false; }
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name='" + all.dataset.selectAll + "']").forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });
});
