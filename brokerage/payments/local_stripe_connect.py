"""Stripe Connect for localstripe: accounts, account links, transfers, reversals and their balance transactions.

localstripe (a dev dependency, imported only here and in `local_stripe`) has no Connect. This module adds
the missing resources to localstripe's own aiohttp app, with its StripeObject and store conventions, shaped
like Stripe's API reference. The controls tests and the demo need under `/_config/` (complete
onboarding, fail the next transfer, pay out from a connected account) live in `local_stripe_controls`.
`install(app)` is called once by `local_stripe.start` before the app starts. See docs/local-stripe.md.
"""

from __future__ import annotations

import time
import warnings
from urllib.parse import quote

from aiohttp import web
from localstripe import resources as ls
from localstripe.errors import UserError

# localstripe registers plain functions as aiohttp handlers at import, which aiohttp deprecates.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from localstripe.server import get_post_data, json_response, unflatten_data

from brokerage.payments.local_stripe_faults import fault_middleware, idempotency_middleware

_type = type


def emit(event_type: str, obj, *, account: str | None = None) -> dict:
    """Store an Event for `obj` (a snapshot), deliver it to the registered webhooks, and return its export."""
    event = ls.Event(event_type, obj)
    if account:
        # Events from a connected account carry its id, as Stripe's Connect webhooks do.
        event.account = account
    ls.schedule_webhook(event)
    return event._export()


def _metadata(metadata) -> dict:
    if metadata in (None, ""):
        return {}
    if _type(metadata) is not dict or not all(_type(v) is str for v in metadata.values()):
        raise UserError(400, "Invalid metadata: must be a hash of strings", {"param": "metadata"})
    return dict(metadata)


def _requirements(currently_due: list[str], disabled_reason: str | None) -> dict:
    return {
        "alerts": [], "current_deadline": None, "currently_due": list(currently_due),
        "disabled_reason": disabled_reason, "errors": [], "eventually_due": list(currently_due),
        "past_due": list(currently_due), "pending_verification": [],
    }


ONBOARDING_FIELDS = ["business_type", "external_account", "individual.first_name", "individual.last_name", "tos_acceptance.date"]


class Account(ls.StripeObject):
    """A connected account (only `type=express` is modelled)."""

    object = "account"
    _id_prefix = "acct_"

    def __init__(self, type=None, country="GB", email=None, metadata=None, capabilities=None,
                 business_type=None, default_currency=None, business_profile=None, controller=None, **kwargs):
        if kwargs:
            raise UserError(400, "Received unknown parameter: " + ", ".join(kwargs), {"param": next(iter(kwargs))})
        if type not in ("express", None) or controller is not None:
            raise UserError(400, "Only Express accounts are modelled by the local server.", {"param": "type"})
        if email is not None and _type(email) is not str:
            raise UserError(400, "Invalid email", {"param": "email"})
        metadata = _metadata(metadata)
        super().__init__()
        self.type = "express"
        self.country = country
        self.email = email
        self.metadata = metadata
        self.business_type = business_type
        self.business_profile = business_profile or {}
        self.default_currency = default_currency or "gbp"
        self.capabilities = {name: "inactive" for name in (capabilities or {"transfers": {}})}
        self.charges_enabled = False
        self.payouts_enabled = False
        self.details_submitted = False
        self.requirements = _requirements(ONBOARDING_FIELDS, "requirements.past_due")
        self.future_requirements = _requirements([], None)
        self.settings = {"payouts": {"schedule": {"interval": "daily", "delay_days": 7}}}
        self.tos_acceptance = {"date": None}
        self.external_accounts = {"object": "list", "data": [], "has_more": False, "url": f"/v1/accounts/{self.id}/external_accounts"}

    def _set_status(self, *, details_submitted=None, charges_enabled=None, payouts_enabled=None,
                    currently_due=None, disabled_reason=None) -> None:
        if details_submitted is not None:
            self.details_submitted = bool(details_submitted)
        if charges_enabled is not None:
            self.charges_enabled = bool(charges_enabled)
        if payouts_enabled is not None:
            self.payouts_enabled = bool(payouts_enabled)
        if currently_due is not None or disabled_reason is not None:
            self.requirements = _requirements(currently_due or [], disabled_reason)
        active = "active" if self.payouts_enabled else "inactive"
        self.capabilities = {name: active for name in self.capabilities}
        if self.details_submitted and not self.tos_acceptance.get("date"):
            self.tos_acceptance = {"date": int(time.time())}

    @classmethod
    def _api_update(cls, id, **data):
        obj = super()._api_update(id, **data)
        emit("account.updated", obj, account=obj.id)
        return obj

    @classmethod
    def _api_delete(cls, id):
        raise UserError(405, "Method Not Allowed")

    @classmethod
    def _api_list_all(cls, url, limit=None, starting_after=None, **kwargs):
        li = super()._api_list_all(url, limit=limit, starting_after=starting_after, **kwargs)
        li._list.sort(key=lambda a: a.created, reverse=True)
        return li


class AccountLink(ls.StripeObject):
    """A single-use onboarding link; the local one leads to a page that can finish onboarding."""

    object = "account_link"
    _id_prefix = "acctlink_"

    def __init__(self, account=None, refresh_url=None, return_url=None, type=None, collect=None,
                 collection_options=None, **kwargs):
        if kwargs:
            raise UserError(400, "Received unknown parameter: " + ", ".join(kwargs), {"param": next(iter(kwargs))})
        for name, value in (("account", account), ("refresh_url", refresh_url), ("return_url", return_url)):
            if _type(value) is not str or not value:
                raise UserError(400, f"Missing required param: {name}.", {"param": name})
        if type not in ("account_onboarding", "account_update"):
            raise UserError(400, "Invalid type: must be one of account_onboarding or account_update", {"param": "type"})
        Account._api_retrieve(account)
        super().__init__()
        self.expires_at = self.created + 300
        self.url = f"{_BASE['url']}/_config/onboarding/{account}?return_url={_quote(return_url)}"
        self._account = account
        self._return_url = return_url
        self._refresh_url = refresh_url


def _quote(url: str) -> str:
    return quote(url, safe="")


# The server's own address, set by local_stripe.start once the port is known (links point back at it).
_BASE = {"url": "http://127.0.0.1"}


class ConnectBalanceTransaction(ls.BalanceTransaction):
    """A balance transaction for a transfer (negative) or a transfer reversal (positive)."""

    def __init__(self, amount, currency, source, type, reporting_category, description=None):
        ls.StripeObject.__init__(self)
        self.amount = amount
        self.available_on = self.created
        self.currency = currency
        self.description = description
        self.exchange_rate = None
        self.fee = 0
        self.fee_details = []
        self.reporting_category = reporting_category
        self.source = source
        self.status = "available"
        self.type = type


class Transfer(ls.StripeObject):
    """Money sent from the platform's balance to a connected account."""

    object = "transfer"
    _id_prefix = "tr_"

    def __init__(self, amount=None, currency=None, destination=None, metadata=None, transfer_group=None,
                 description=None, source_transaction=None, **kwargs):
        if kwargs:
            raise UserError(400, "Received unknown parameter: " + ", ".join(kwargs), {"param": next(iter(kwargs))})
        amount = ls.try_convert_to_int(amount)
        if _type(amount) is not int or amount < 1:
            raise UserError(400, "Invalid positive integer", {"param": "amount"})
        if _type(currency) is not str or not currency:
            raise UserError(400, "Missing required param: currency.", {"param": "currency"})
        if _type(destination) is not str or not destination:
            raise UserError(400, "Missing required param: destination.", {"param": "destination"})
        metadata = _metadata(metadata)
        account = ls.store.get("account:" + destination)
        if account is None:
            raise UserError(400, f"No such destination: '{destination}'", {"code": "resource_missing", "param": "destination"})
        if account.capabilities.get("transfers") != "active":
            raise UserError(400, "Your destination account needs to have at least one of the following capabilities "
                                 "enabled: transfers, crypto_transfers, legacy_payments",
                            {"code": "insufficient_capabilities_for_transfer", "param": "destination"})
        super().__init__()
        self.amount = amount
        self.currency = currency.lower()
        self.destination = destination
        self.destination_payment = "py_" + ls.random_id(14)
        self.metadata = metadata
        self.transfer_group = transfer_group
        self.description = description
        self.source_transaction = source_transaction
        self.source_type = "card"
        txn = ConnectBalanceTransaction(-amount, self.currency, self.id, "transfer", "transfer", description)
        self.balance_transaction = txn.id

    @property
    def amount_reversed(self):
        return sum(r.amount for r in self._reversal_objects())

    @property
    def reversed(self):
        return self.amount_reversed >= self.amount

    @property
    def reversals(self):
        li = ls.List(f"/v1/transfers/{self.id}/reversals")
        li._list = self._reversal_objects()
        return li

    def _reversal_objects(self):
        return sorted((v for k, v in ls.store.items() if k.startswith("transfer_reversal:") and v.transfer == self.id),
                      key=lambda r: r.created, reverse=True)

    @classmethod
    def _api_create(cls, **data):
        obj = super()._api_create(**data)
        emit("transfer.created", obj)
        return obj

    @classmethod
    def _api_update(cls, id, **data):
        unknown = set(data) - {"metadata", "description"}
        if unknown:
            raise UserError(400, "Received unknown parameter: " + ", ".join(sorted(unknown)))
        obj = super()._api_update(id, **data)
        emit("transfer.updated", obj)
        return obj

    @classmethod
    def _api_delete(cls, id):
        raise UserError(405, "Method Not Allowed")

    @classmethod
    def _api_list_all(cls, url, limit=None, starting_after=None, destination=None, transfer_group=None, created=None, **kwargs):
        li = super()._api_list_all(url, limit=limit, starting_after=starting_after, **kwargs)
        if destination is not None:
            li._list = [t for t in li._list if t.destination == destination]
        if transfer_group is not None:
            li._list = [t for t in li._list if t.transfer_group == transfer_group]
        li._list = _filter_created(li._list, created)
        li._list.sort(key=lambda t: t.created, reverse=True)
        return li


class TransferReversal(ls.StripeObject):
    """Money taken back from a connected account to the platform."""

    object = "transfer_reversal"
    _id_prefix = "trr_"

    def __init__(self, id=None, amount=None, metadata=None, description=None, refund_application_fee=None, **kwargs):
        if kwargs:
            raise UserError(400, "Received unknown parameter: " + ", ".join(kwargs), {"param": next(iter(kwargs))})
        transfer = Transfer._api_retrieve(id)
        left = transfer.amount - transfer.amount_reversed
        amount = left if amount is None else ls.try_convert_to_int(amount)
        if _type(amount) is not int or amount < 1:
            raise UserError(400, "Invalid positive integer", {"param": "amount"})
        if amount > left:
            raise UserError(400, f"Attempted to reverse {amount} which is more than the {left} left on this transfer.",
                            {"param": "amount"})
        metadata = _metadata(metadata)
        super().__init__()
        self.amount = amount
        self.currency = transfer.currency
        self.transfer = transfer.id
        self.metadata = metadata
        self.destination_payment_refund = "pyr_" + ls.random_id(14)
        self.source_refund = None
        txn = ConnectBalanceTransaction(amount, self.currency, self.id, "transfer_refund", "transfer_reversal", description)
        self.balance_transaction = txn.id

    @classmethod
    def _api_create_for(cls, id=None, **data):
        reversal = cls(id=id, **data)
        emit("transfer.reversed", Transfer._api_retrieve(id))
        return reversal

    @classmethod
    def _api_list_for(cls, id=None, limit=None, starting_after=None):
        li = ls.List(f"/v1/transfers/{id}/reversals", limit=limit, starting_after=starting_after)
        li._list = Transfer._api_retrieve(id)._reversal_objects()
        return li


def _filter_created(items, created):
    if created is None:
        return items
    if _type(created) is not dict:
        created = {"eq": created}
    tests = {"gt": lambda a, b: a > b, "gte": lambda a, b: a >= b, "lt": lambda a, b: a < b,
             "lte": lambda a, b: a <= b, "eq": lambda a, b: a == b}
    for op, value in created.items():
        value = ls.try_convert_to_int(value)
        if op not in tests or _type(value) is not int:
            raise UserError(400, "Invalid created filter", {"param": "created"})
        items = [i for i in items if tests[op](i.created, value)]
    return items


def _list_balance_transactions(cls, url, limit=None, starting_after=None, type=None, source=None, created=None, **kwargs):
    """GET /v1/balance_transactions with Stripe's `type`, `source` and `created` filters, newest first."""
    if kwargs:
        raise UserError(400, "Received unknown parameter: " + ", ".join(kwargs))
    li = ls.List(url, limit=limit, starting_after=starting_after)
    li._list = [v for k, v in ls.store.items() if k.startswith("balance_transaction:")]
    if type is not None:
        li._list = [t for t in li._list if t.type == type]
    if source is not None:
        li._list = [t for t in li._list if t.source == source]
    li._list = _filter_created(li._list, created)
    li._list.sort(key=lambda t: t.created, reverse=True)
    return li


def _extra(func):
    """Wrap a localstripe-style function as a route (path parameters and body as keyword arguments)."""
    async def handler(request):
        data = await get_post_data(request) or {}
        data.update(unflatten_data(request.query) or {})
        data.update(request.match_info)
        expand = data.pop("expand", None)
        return json_response(func(**data)._export(expand=expand))
    return handler


def install(app: web.Application) -> None:
    """Add the Connect resources, their list filters, idempotency and faults to localstripe's app."""
    app.middlewares.append(fault_middleware)
    app.middlewares.append(idempotency_middleware)
    ls.BalanceTransaction._api_list_all = classmethod(_list_balance_transactions)
    extras = [
        ("POST", "/v1/transfers/{id}/reversals", _extra(TransferReversal._api_create_for)),
        ("GET", "/v1/transfers/{id}/reversals", _extra(TransferReversal._api_list_for)),
    ]
    for method, url, handler in extras:
        app.router.add_route(method, url, handler)
    for cls, plural in ((Account, "accounts"), (AccountLink, "account_links"), (Transfer, "transfers")):
        app.router.add_route("POST", f"/v1/{plural}", _create_route(cls))
        if cls is not AccountLink:
            app.router.add_route("GET", f"/v1/{plural}/{{id}}", _retrieve_route(cls))
            app.router.add_route("GET", f"/v1/{plural}", _list_route(cls, f"/v1/{plural}"))
    app.router.add_route("POST", "/v1/accounts/{id}", _update_route(Account))
    app.router.add_route("POST", "/v1/transfers/{id}", _update_route(Transfer))


def _create_route(cls):
    async def handler(request):
        data = await get_post_data(request) or {}
        expand = data.pop("expand", None)
        return json_response(cls._api_create(**data)._export(expand=expand))
    return handler


def _retrieve_route(cls):
    async def handler(request):
        data = unflatten_data(request.query)
        expand = data.pop("expand", None)
        return json_response(cls._api_retrieve(request.match_info["id"])._export(expand=expand))
    return handler


def _list_route(cls, url):
    async def handler(request):
        data = unflatten_data(request.query)
        expand = data.pop("expand", None)
        return json_response(cls._api_list_all(url, **data)._export(expand=expand))
    return handler


def _update_route(cls):
    async def handler(request):
        data = await get_post_data(request) or {}
        expand = data.pop("expand", None)
        return json_response(cls._api_update(request.match_info["id"], **data)._export(expand=expand))
    return handler


def set_base_url(url: str) -> None:
    """Tell the extension its own address, so account links point back at this server."""
    _BASE["url"] = url

