"""The controls of the local Stripe server (brokerage.payments.local_stripe), over HTTP.

The tests and the demo use them to do what a person would do at Stripe: finish a provider's onboarding,
pay a top-up, make a transfer fail. They only talk to the local server's `/_config/` routes, so this
module needs no localstripe: the demo loader drives a server that runs in another process.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass


@dataclass
class Controls:
    """A local Stripe server's address and its test controls."""

    url: str

    def _call(self, method: str, path: str, data: dict | None = None):
        body = json.dumps(data).encode() if data is not None else None
        request = urllib.request.Request(self.url + path, data=body, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            text = answer.read()
        return json.loads(text) if text else None

    def flush(self) -> None:
        """Forget every object, event, idempotency key and queued fault."""
        self._call("DELETE", "/_config/data")

    def set_account_status(self, account_id: str, **status) -> dict:
        """Set details_submitted / charges_enabled / payouts_enabled / currently_due / disabled_reason; return account.updated."""
        return self._call("POST", f"/_config/accounts/{account_id}/status", status)["event"]

    def complete_onboarding(self, account_id: str) -> dict:
        """Finish an account's onboarding as Stripe would (payouts enabled); return the account.updated event."""
        return self.set_account_status(account_id, complete=True)

    def fail_next_transfer(self, *, status: int = 500, message: str | None = None, code: str | None = None,
                           mode: str = "error", count: int = 1, seconds: float | None = None) -> None:
        """Make the next `count` transfer requests fail: an error `status`, a `lost_response`, or a `delay`."""
        data = {"mode": mode, "count": count, "status": status, "message": message, "code": code}
        if seconds is not None:
            data["seconds"] = seconds
        self._call("POST", "/_config/transfers/fail_next", data)

    def pay(self, payment_intent_id: str, *, method: str = "card", succeed: bool = True) -> list[dict]:
        """Pay a PaymentIntent as the holder would (card or bacs_debit); return the events it caused."""
        answer = self._call("POST", f"/_config/payment_intents/{payment_intent_id}/pay", {"method": method, "succeed": succeed})
        return answer["events"]

    def payout(self, account_id: str, amount: int, *, status: str = "paid") -> dict:
        """Pay out `amount` pence from a connected account to its bank (paid or failed); return the event."""
        return self._call("POST", f"/_config/accounts/{account_id}/payouts", {"amount": amount, "status": status})["event"]

    def events(self, type: str | None = None) -> list[dict]:
        """Return the stored events, oldest first, optionally of one type."""
        return self._call("GET", "/_config/events" + (f"?type={type}" if type else ""))

