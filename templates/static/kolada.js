// The Kolada fetch can take several seconds (one request per key figure): say so, and stop a second click
// from starting a second fetch. Loaded as a file because the CSP allows no inline script.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.classList.contains("kolada-fetch")) return;
  var button = form.querySelector("button[type=submit]");
  var status = form.querySelector("[data-kolada-status]");
  if (button) {
    if (button.disabled) { event.preventDefault(); return; }
    button.disabled = true;
    button.textContent = button.getAttribute("data-busy") || button.textContent;
  }
  if (status) status.textContent = status.getAttribute("data-text") || "";
  form.setAttribute("aria-busy", "true");
});
