"""A local Stripe-compatible server for the tests and the demo: localstripe plus Connect, on 127.0.0.1.

localstripe is a dev dependency (pyproject `dev` extra): only this module and its extensions
(`local_stripe_connect`, `local_stripe_controls`, `local_stripe_faults`, `local_stripe_topups`) import it, and nothing in the
running product imports them. localstripe's own command listens on every interface and keeps its data
in /tmp; here the app is started from Python, bound to 127.0.0.1 on a free port, in a background thread
with its own event loop, and its store lives in memory only. One server per process (localstripe's
store is a module global). What the extension covers and what it does not: docs/local-stripe.md.

    server = local_stripe.start()         # server.url -> STRIPE_API_BASE
    event = server.complete_onboarding("acct_...")
    server.stop()
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
import warnings
from dataclasses import dataclass, field

from aiohttp import web
from localstripe import resources as ls

# localstripe registers plain functions as aiohttp handlers at import, which aiohttp deprecates.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from localstripe import server as ls_server
from localstripe.webhooks import _webhooks, register_webhook

from brokerage.payments import local_stripe_connect, local_stripe_controls, local_stripe_topups

HOST = "127.0.0.1"
_lock = threading.Lock()
_state: dict = {"installed": False, "running": None, "loop": None}


def _install() -> None:
    """Extend localstripe's app once per process, and keep its store off the disk."""
    if _state["installed"]:
        return
    # localstripe pickles its store to /tmp/localstripe.pickle on every write, shared by every process.
    ls.store.dump_to_disk = lambda: None
    ls.store.try_load_from_disk = lambda: None
    local_stripe_connect.install(ls_server.app)
    local_stripe_controls.install_controls(ls_server.app)
    local_stripe_topups.install_topups(ls_server.app)
    _state["installed"] = True


def _loop() -> asyncio.AbstractEventLoop:
    """Return the process's one loop for the server, running in a daemon thread (an aiohttp app keeps its loop)."""
    if _state.get("loop") is None:
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, name="local-stripe", daemon=True).start()
        _state["loop"] = loop
    return _state["loop"]


@dataclass
class LocalStripe:
    """A running local Stripe server: its address, controls for tests and the demo, and stop()."""

    url: str
    _runner: web.AppRunner = field(repr=False)

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

    def send_webhooks_to(self, url: str, secret: str) -> None:
        """Deliver every later event, signed with `secret`, to `url` (a local address)."""
        if not url.startswith((f"http://{HOST}", "http://localhost")):
            raise ValueError("webhooks go to a local address only")
        register_webhook("carepool", url, secret, None)

    def stop(self) -> None:
        """Stop serving (pending webhook deliveries are dropped); the store keeps its data until flushed."""
        async def shutdown():
            await self._runner.cleanup()
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), _loop()).result(timeout=30)
        _webhooks.pop("carepool", None)
        with _lock:
            _state["running"] = None


def start(port: int = 0) -> LocalStripe:
    """Start the local Stripe server on 127.0.0.1 (`port` 0: a free one) and return its handle."""
    with _lock:
        if _state["running"] is not None:
            raise RuntimeError("a local Stripe server already runs in this process: stop it first")
        _install()

        async def serve() -> tuple[web.AppRunner, int]:
            runner = web.AppRunner(ls_server.app, access_log=None, handle_signals=False)
            await runner.setup()
            site = web.TCPSite(runner, HOST, port)
            await site.start()
            return runner, site._server.sockets[0].getsockname()[1]

        runner, bound = asyncio.run_coroutine_threadsafe(serve(), _loop()).result(timeout=30)
        url = f"http://{HOST}:{bound}"
        local_stripe_connect.set_base_url(url)
        server = LocalStripe(url=url, _runner=runner)
        _state["running"] = server
        return server
