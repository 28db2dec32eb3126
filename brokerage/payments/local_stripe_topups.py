"""Top-ups on the local Stripe server: PaymentIntents by card or Bacs Direct Debit, refunds and their events.

localstripe's PaymentIntent takes `payment_method_types` but neither keeps nor checks it, knows no
Bacs Direct Debit, and a refund sends no `charge.refunded`. This module (a localstripe extension, like
`local_stripe_connect`) keeps and checks the types (card, bacs_debit), treats a Bacs debit like
localstripe's SEPA debit (it settles a moment later, not at once), sends `charge.refunded` on a refund, and
names on each charge how it was paid (`payment_method_details.type`), as Stripe does.

POST /_config/payment_intents/{id}/pay `{"method": "card"|"bacs_debit", "succeed": true|false}` stands in
for the holder paying on Stripe's page: it confirms the intent with a test payment method, waits until
the payment settles or fails, and answers the intent and the events it caused.
"""

from __future__ import annotations

import asyncio
import warnings

from aiohttp import web
from localstripe import resources as ls
from localstripe.errors import UserError

# localstripe registers plain functions as aiohttp handlers at import, which aiohttp deprecates.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from localstripe.server import get_post_data, json_response

PAYMENT_METHOD_TYPES = ("card", "bacs_debit")
EMITTED_KEY = "_ext:emitted"
GOOD_IBAN = "DE89370400440532013000"
FAILING_IBAN = "DE62370400440532013001"  # localstripe declines this one
CARDS = {True: "pm_card_visa", False: "pm_card_chargeCustomerFail"}

_original = {}


def _payment_intent_init(self, payment_method_types=None, description=None, **kwargs):
    types = payment_method_types if payment_method_types is not None else ["card"]
    if type(types) is not list or not types or not all(t in PAYMENT_METHOD_TYPES for t in types):
        raise UserError(400, "Invalid payment_method_types: each must be one of card or bacs_debit",
                        {"param": "payment_method_types"})
    _original["pi_init"](self, **kwargs)
    self.payment_method_types = types
    self.description = description


def _is_async(self):
    return ls.PaymentMethod._api_retrieve(self.payment_method).type in ("sepa_debit", "bacs_debit")


def _charging_is_declined(self):
    if self.type == "bacs_debit":
        return self._sepa_debit_iban == FAILING_IBAN
    return _original["declined"](self)


def _charge_init(self, *args, **kwargs):
    """Name the way a charge was paid, as Stripe's charge does (`payment_method_details.type`)."""
    _original["charge_init"](self, *args, **kwargs)
    try:
        kind = ls.PaymentMethod._api_retrieve(self.payment_method).type
    except UserError:  # a card or source of a customer, not a payment method: Stripe's details would say more; these say nothing
        return
    self.payment_method_details = {"type": kind}


def _refund_init(self, *args, **kwargs):
    _original["refund_init"](self, *args, **kwargs)
    charge = ls.Charge._api_retrieve(self.charge)
    if self.payment_intent is None:
        self.payment_intent = charge.payment_intent
    ls.schedule_webhook(ls.Event("charge.refunded", charge))


def _recording_schedule_webhook(event):
    """Keep each event's export in order (the /pay control answers those it caused), then deliver it."""
    emitted = ls.store.get(EMITTED_KEY)
    if emitted is None:
        emitted = ls.store[EMITTED_KEY] = []
    emitted.append(event._export())
    _original["schedule_webhook"](event)


def _bacs_method(succeed: bool):
    method = ls.PaymentMethod(type="sepa_debit", sepa_debit={"iban": GOOD_IBAN if succeed else FAILING_IBAN})
    method.type = "bacs_debit"
    del method.sepa_debit
    method.bacs_debit = {"sort_code": "108800", "last4": "2345" if succeed else "0002",
                         "fingerprint": ls.fingerprint(method.id)}
    return method


async def _pay(request):
    """POST /_config/payment_intents/{id}/pay: pay the intent as the holder would on Stripe's page."""
    intent = ls.PaymentIntent._api_retrieve(request.match_info["id"])
    data = await get_post_data(request) or {}
    method = data.get("method", "card")
    succeed = ls.try_convert_to_bool(data.get("succeed", True))
    if method not in intent.payment_method_types or type(succeed) is not bool:
        raise UserError(400, f"method must be one of {intent.payment_method_types} and succeed true or false")
    if intent.status != "requires_payment_method":
        raise UserError(400, f"This PaymentIntent's status is {intent.status}, so it cannot be paid.")
    emitted = ls.store.setdefault(EMITTED_KEY, [])
    before = len(emitted)
    payment_method = _bacs_method(succeed) if method == "bacs_debit" else ls.PaymentMethod._api_retrieve(CARDS[succeed])
    intent.payment_method = payment_method.id
    try:
        intent._confirm(on_failure_now=intent._report_failure)
    except UserError:
        pass  # a declined card: the intent records the failure and payment_intent.payment_failed is sent
    # A debit settles a moment later (localstripe's own delay); wait for it, within bounds.
    for _ in range(200):
        charge = intent.latest_charge
        if charge is None or charge.status == "failed" or charge.balance_transaction is not None:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0)  # let the settling callback finish sending its event
    events = ls.store.get(EMITTED_KEY, [])[before:]
    back = data.get("return_url")
    if back:
        # A form on the demo's page (the holder "paying"): go back to it, on this machine only.
        if not isinstance(back, str) or not back.startswith(("http://127.0.0.1", "http://localhost")):
            raise UserError(400, "return_url must be local")
        raise web.HTTPSeeOther(back)
    return json_response({"payment_intent": intent._export(), "events": events})


def install_topups(app) -> None:
    """Patch localstripe's PaymentIntent, Charge and Refund, and add the /pay control."""
    if not _original:
        _original["pi_init"] = ls.PaymentIntent.__init__
        _original["refund_init"] = ls.Refund.__init__
        _original["charge_init"] = ls.Charge.__init__
        _original["schedule_webhook"] = ls.schedule_webhook
        _original["declined"] = ls.PaymentMethod._charging_is_declined
        ls.PaymentMethod._charging_is_declined = _charging_is_declined
        ls.PaymentIntent.__init__ = _payment_intent_init
        ls.Refund.__init__ = _refund_init
        ls.Charge.__init__ = _charge_init
        ls.Charge._is_async_payment_method = _is_async
        ls.schedule_webhook = _recording_schedule_webhook
    app.router.add_route("POST", "/_config/payment_intents/{id}/pay", _pay)
