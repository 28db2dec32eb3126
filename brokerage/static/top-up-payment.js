// Stripe's Payment Element on a top-up page (templates/payments/top_up.html).
// Our CSP allows no inline script, so the page hands over what Stripe needs in data- attributes of
// #payment-form: the publishable key, the PaymentIntent's client secret and the page to come back to.
// Without JavaScript the form stays hidden and the page explains what to do instead.
// Paying never adds money here: Stripe's payment_intent.succeeded event does, through our webhook.

const form = document.getElementById('payment-form');
if (form) start(form);

function start(form) {
  const needsJs = document.getElementById('payment-needs-js');
  const summary = document.getElementById('payment-error-summary');
  const summaryLink = document.getElementById('payment-error-summary-link');
  const group = document.getElementById('payment-group');
  const errorLine = document.getElementById('payment-error');
  const statusLine = document.getElementById('payment-status');
  const button = document.getElementById('payment-submit');
  let busy = false;
  let paymentElement = null;

  const setButton = (enabled) => {
    button.disabled = !enabled;
    button.setAttribute('aria-disabled', enabled ? 'false' : 'true');
  };
  const say = (text) => {
    statusLine.textContent = text;
    statusLine.hidden = !text;
  };
  const clearError = () => {
    summary.hidden = true;
    errorLine.hidden = true;
    errorLine.textContent = '';
    group.classList.remove('govuk-form-group--error');
  };
  // An error shows twice, as GOV.UK pages do: in the summary at the top (focused, so a screen reader
  // reads it) and beside the payment box (inside the aria-live region).
  const showError = (message) => {
    summaryLink.textContent = message;
    summary.hidden = false;
    const hidden = document.createElement('span');
    hidden.className = 'govuk-visually-hidden';
    hidden.textContent = 'Error:';
    errorLine.replaceChildren(hidden, ` ${message}`);
    errorLine.hidden = false;
    group.classList.add('govuk-form-group--error');
    say('');
    summary.focus();
  };

  summaryLink.addEventListener('click', (event) => {
    event.preventDefault();
    if (paymentElement) paymentElement.focus();
    else document.getElementById('payment-element').focus();
  });

  // The form is shown from here on: JavaScript runs.
  form.hidden = false;
  needsJs.hidden = true;

  if (typeof window.Stripe !== 'function') {
    showError('The payment box could not load from Stripe. Check your internet connection and reload the page. Nothing has been taken.');
    return;
  }

  const stripe = window.Stripe(form.dataset.publishableKey, { locale: 'en-GB' });
  const elements = stripe.elements({
    clientSecret: form.dataset.clientSecret,
    // Close to GOV.UK Frontend: its text, link and error colours, square corners, a yellow focus ring.
    appearance: {
      theme: 'stripe',
      variables: {
        colorPrimary: '#1d70b8',
        colorText: '#0b0c0c',
        colorDanger: '#d4351c',
        fontFamily: 'arial, sans-serif',
        fontSizeBase: '19px',
        borderRadius: '0px',
        focusOutline: '3px solid #ffdd00',
        focusBoxShadow: 'inset 0 0 0 2px #0b0c0c',
      },
      rules: {
        '.Input': { border: '2px solid #0b0c0c' },
        '.Label': { fontWeight: '700' },
      },
    },
  });
  paymentElement = elements.create('payment', { layout: 'tabs' });
  paymentElement.on('ready', () => setButton(true));
  paymentElement.on('loaderror', () => {
    showError('The payment box could not load from Stripe. Reload the page to try again. Nothing has been taken.');
  });
  paymentElement.mount('#payment-element');

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    setButton(false);
    clearError();
    say('Sending your payment to Stripe. Do not close this page.');
    // On success Stripe takes the browser to return_url (this page, with ?payment_intent=...&redirect_status=...),
    // after any bank check (3D Secure). We get an answer here only when the payment did not go ahead.
    const { error } = await stripe.confirmPayment({
      elements,
      confirmParams: { return_url: form.dataset.returnUrl },
    });
    busy = false;
    setButton(true);
    if (error.type === 'card_error' || error.type === 'validation_error') {
      showError(error.message || 'Check the details and try again.');
    } else {
      showError('Stripe could not take the payment just now. Nothing has been taken. Try again in a few minutes.');
    }
  });
}
