// carepool front-end bootstrap (ES module; loaded with <script type="module">,
// so it runs after parsing and needs no inline script under our CSP).
import { initAll } from './govuk/govuk-frontend.min.js';

// GOV.UK Frontend v5 only enhances components when <body> has
// `govuk-frontend-supported` (normally set by an inline script we cannot use).
document.body.classList.add('js-enabled', 'govuk-frontend-supported');
initAll();

// A table's scroll region (macros.html data_table) is a tab stop only while the
// table is wider than its region, so a keyboard can scroll it; a table that fits
// is not an extra stop. Without this script every region stays a tab stop.
const tableRegions = document.querySelectorAll('.app-table-scroll');
const updateTabStop = (region) => {
  if (region.scrollWidth > region.clientWidth) region.setAttribute('tabindex', '0');
  else if (document.activeElement !== region) region.removeAttribute('tabindex');
};
if (tableRegions.length && 'ResizeObserver' in window) {
  const observer = new ResizeObserver((entries) => {
    entries.forEach((entry) => updateTabStop(entry.target.closest('.app-table-scroll')));
  });
  tableRegions.forEach((region) => {
    observer.observe(region);
    if (region.firstElementChild) observer.observe(region.firstElementChild);
  });
}
// A link, field or button reached by Tab inside the region scrolls fully into
// view: browsers stop scrolling once part of it shows, which can leave a button
// cut off at the edge of a narrow screen.
tableRegions.forEach((region) => {
  region.addEventListener('focusin', (event) => {
    if (event.target !== region) event.target.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  });
});

// A long list of checkboxes folded into a details element (macros.html
// checkboxes(collapsed=True)) says in its summary what is ticked; keep it true
// as boxes are ticked.
document.querySelectorAll('details.app-choices').forEach((details) => {
  const chosen = details.querySelector('.app-choices__chosen');
  if (!chosen) return;
  details.addEventListener('change', () => {
    const labels = [...details.querySelectorAll('input[type="checkbox"]:checked')]
      .map((box) => (box.labels && box.labels[0] ? box.labels[0].textContent.trim() : box.value));
    chosen.textContent = labels.length
      ? labels.slice(0, 4).join(', ') + (labels.length > 4 ? ` and ${labels.length - 4} more` : '')
      : 'None chosen';
  });
});

// Hours per time of day folded into a details element (macros.html slot_hours_input(collapsed=True)) say
// in the summary how many hours a week the boxes hold; keep it true as they are typed in.
document.querySelectorAll('details.app-slot-hours-fold').forEach((details) => {
  const said = details.querySelector('.app-slot-hours__said');
  if (!said) return;
  details.addEventListener('input', () => {
    const boxes = [...details.querySelectorAll('input[inputmode="numeric"]')];
    const whole = (box) => /^\s*[0-9]+\s*$/.test(box.value);
    const hours = boxes.map((box) => (whole(box) ? parseInt(box.value, 10) : 0)).reduce((sum, value) => sum + value, 0);
    // Where empty means "no change" (an optional field), a box that is not a whole number must not read as that.
    const wrong = said.dataset.wrong && boxes.some((box) => box.value.trim() && !whole(box));
    said.textContent = wrong ? said.dataset.wrong : hours ? `${hours} ${hours === 1 ? 'hour' : 'hours'} a week` : said.dataset.none;
  });
});
