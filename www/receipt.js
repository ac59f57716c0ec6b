// The receipt page's print button (no inline script: the page's CSP allows only this file).
// Shown only when this runs, so a page without script shows no button that does nothing.
const button = document.getElementById('print');
if (button) {
  button.hidden = false;
  button.addEventListener('click', () => window.print());
}
