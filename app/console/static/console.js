// Small enhancements only: every page works without this script.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Ask before a form that changes what every new decision uses.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  // The part on credit only matters for a prepayment: show it when that outcome is chosen.
  for (const form of document.querySelectorAll("form.review-form")) {
    const part = form.querySelector(".credit-part");
    if (!part) continue;
    const sync = () => {
      const chosen = form.querySelector("input[name=outcome]:checked");
      part.hidden = !(chosen && chosen.value === "prepayment") && !part.querySelector("[aria-invalid]");
    };
    form.addEventListener("change", sync);
    sync();
  }
});
