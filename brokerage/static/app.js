// carepool front-end bootstrap (ES module; loaded with <script type="module">,
// so it runs after parsing and needs no inline script under our CSP).
import { initAll } from './govuk/govuk-frontend.min.js';

// GOV.UK Frontend v5 only enhances components when <body> has
// `govuk-frontend-supported` (normally set by an inline script we cannot use).
document.body.classList.add('js-enabled', 'govuk-frontend-supported');
initAll();
