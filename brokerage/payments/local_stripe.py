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
import threading
import warnings
from dataclasses import dataclass, field

from aiohttp import web
from localstripe import resources as ls

# localstripe registers plain functions as aiohttp handlers at import, which aiohttp deprecates.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from localstripe import server as ls_server
from localstripe.webhooks import _webhooks, register_webhook

from brokerage.errors import BrokerageError
from brokerage.payments import local_stripe_connect, local_stripe_controls, local_stripe_topups
from brokerage.payments.local_controls import Controls
from brokerage.untrusted import shown

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
class LocalStripe(Controls):
    """A running local Stripe server: its address, its controls (see Controls), webhooks and stop()."""

    _runner: web.AppRunner = field(repr=False, default=None)

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


def read_kept(path: str) -> dict:
    """Return the store kept in the file at `path` ({} when there is no file yet); raise BrokerageError if it holds anything else."""
    import pickle  # only the demo's server keeps its store

    not_kept = BrokerageError(f"the file to keep the store in, {shown(path, 200)}, holds something else: name a new file, "
                              "or the one the server wrote", field="keep")
    try:
        with open(path, "rb") as file:
            kept = pickle.load(file)
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise BrokerageError(f"cannot read the file to keep the store in, {shown(path, 200)}: {error.strerror or error}",
                             field="keep") from None
    except Exception as error:  # unpickling another kind of file raises almost anything (UnpicklingError, EOFError, IndexError…)
        raise not_kept from error
    if not isinstance(kept, dict):
        raise not_kept
    return kept


def keep_in(path: str, kept: dict | None = None) -> None:
    """Keep the store in the file at `path` (the demo's server, so a restart remembers accounts and transfers).

    Loads what the file holds now (or `kept`, already read from it) and rewrites it after every change, as
    localstripe's own disk store does.
    """
    import pickle  # only the demo's server keeps its store

    kept = read_kept(path) if kept is None else kept
    _install()

    def dump() -> None:
        with open(path, "wb") as file:
            pickle.dump(dict(ls.store), file, protocol=pickle.HIGHEST_PROTOCOL)

    dict.clear(ls.store)
    dict.update(ls.store, kept)
    ls.store.dump_to_disk = dump


def start(port: int = 0, *, keep: str | None = None) -> LocalStripe:
    """Start the local Stripe server on 127.0.0.1 (`port` 0: a free one) and return its handle.

    `keep`: a file to keep the store in across restarts (see `keep_in`); by default it lives in memory only.
    """
    kept = read_kept(keep) if keep else None  # a file that holds something else is refused before anything starts
    with _lock:
        if _state["running"] is not None:
            raise RuntimeError("a local Stripe server already runs in this process: stop it first")
        _install()
        if keep:
            keep_in(keep, kept)

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
