"""Controls of the local Stripe server for tests and the demo, under /_config/ like localstripe's own.

What Stripe decides on its side (an account's review, a connected account's payout, a failing transfer)
is set here and sends the events Stripe would. A localstripe extension, like `local_stripe_connect`;
the routes are listed in docs/local-stripe.md.
"""

from __future__ import annotations

import warnings

from aiohttp import web
from localstripe import resources as ls
from localstripe.errors import UserError

# localstripe registers plain functions as aiohttp handlers at import, which aiohttp deprecates.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from localstripe.server import get_post_data, json_response

from brokerage.payments.local_stripe_connect import Account, emit
from brokerage.payments.local_stripe_faults import set_transfer_fault

_type = type


async def _account_status(request):
    """POST /_config/accounts/{id}/status: set what Stripe would after review, and emit account.updated."""
    account = Account._api_retrieve(request.match_info["id"])
    data = await get_post_data(request) or {}
    if data.pop("complete", False):
        data = {"details_submitted": True, "charges_enabled": True, "payouts_enabled": True, "currently_due": [], **data}
    allowed = {"details_submitted", "charges_enabled", "payouts_enabled", "currently_due", "disabled_reason"}
    if set(data) - allowed:
        raise UserError(400, "Unexpected " + ", ".join(sorted(set(data) - allowed)))
    account._set_status(**data)
    return json_response({"account": account._export(), "event": emit("account.updated", account, account=account.id)})


async def _onboarding_page(request):
    """GET /_config/onboarding/{id}: the local stand-in for Stripe's hosted onboarding."""
    account = Account._api_retrieve(request.match_info["id"])
    back = request.query.get("return_url", "")
    html = ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Local Stripe onboarding</title></head>"
            "<body style='font-family:sans-serif;max-width:40em;margin:2em auto'>"
            "<h1>Local Stripe onboarding</h1>"
            f"<p>This stands in for Stripe's onboarding for account <code>{account.id}</code>. Nothing real is set up.</p>"
            f"<form method='post' action='/_config/onboarding/{account.id}'>"
            f"<input type='hidden' name='return_url' value='{_escape(back)}'>"
            "<button type='submit'>Submit details and return</button></form></body></html>")
    return web.Response(text=html, content_type="text/html")


async def _onboarding_submit(request):
    """POST /_config/onboarding/{id}: finish onboarding (Stripe then sends account.updated) and go back."""
    account = Account._api_retrieve(request.match_info["id"])
    data = await request.post()
    account._set_status(details_submitted=True, charges_enabled=True, payouts_enabled=True, currently_due=[])
    emit("account.updated", account, account=account.id)
    back = data.get("return_url") or "/"
    if not back.startswith(("http://127.0.0.1", "http://localhost")):
        raise UserError(400, "return_url must be local")
    raise web.HTTPSeeOther(back)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("'", "&#39;").replace("<", "&lt;").replace(">", "&gt;")


async def _transfer_fault(request):
    """POST /_config/transfers/fail_next: make the next transfer(s) fail (see local_stripe_faults)."""
    data = await get_post_data(request) or {}
    return json_response(set_transfer_fault(data))


async def _connected_payout(request):
    """POST /_config/accounts/{id}/payouts: a payout from a connected account to its bank, paid or failed."""
    account = Account._api_retrieve(request.match_info["id"])
    data = await get_post_data(request) or {}
    amount = ls.try_convert_to_int(data.get("amount"))
    status = data.get("status", "paid")
    if _type(amount) is not int or amount < 1 or status not in ("paid", "failed"):
        raise UserError(400, "amount (pence) and status paid|failed are needed")
    payout = ConnectedPayout(account.id, amount, data.get("currency", "gbp"), status)
    return json_response({"payout": payout._export(), "event": emit(f"payout.{status}", payout, account=account.id)})


class ConnectedPayout(ls.StripeObject):
    """A payout on a connected account (kept apart from the platform's own localstripe Payouts)."""

    object = "connected_payout"
    _id_prefix = "po_"

    def __init__(self, account, amount, currency, status):
        super().__init__()
        self.amount = amount
        self.currency = currency
        self.status = status
        self.arrival_date = self.created + 2 * 24 * 3600
        self.automatic = True
        self.method = "standard"
        self.type = "bank_account"
        self.destination = "ba_" + ls.random_id(24)
        self.balance_transaction = "txn_" + ls.random_id(24)
        self.failure_code = "account_closed" if status == "failed" else None
        self.failure_message = "The bank account has been closed." if status == "failed" else None
        self.metadata = {}
        self._account = account

    def _export(self, expand=None):
        exported = super()._export(expand=expand)
        exported["object"] = "payout"
        return exported


async def _event_deliver(request):
    """GET /_config/events: the events stored so far, oldest first, as a plain list (tests replay them)."""
    kind = request.query.get("type")
    events = [v._export() for k, v in ls.store.items() if k.startswith("event:") and (kind is None or v.type == kind)]
    return json_response(events)


def install_controls(app: web.Application) -> None:
    """Add the /_config/ controls to localstripe's app."""
    for method, url, handler in (
        ("POST", "/_config/accounts/{id}/status", _account_status),
        ("POST", "/_config/accounts/{id}/payouts", _connected_payout),
        ("GET", "/_config/onboarding/{id}", _onboarding_page),
        ("POST", "/_config/onboarding/{id}", _onboarding_submit),
        ("POST", "/_config/transfers/fail_next", _transfer_fault),
        ("GET", "/_config/events", _event_deliver),
    ):
        app.router.add_route(method, url, handler)
