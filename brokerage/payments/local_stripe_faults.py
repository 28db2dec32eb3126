"""Idempotency keys and injected transfer failures for the local Stripe server (localstripe extension).

Stripe keeps the result of a POST made with an `Idempotency-Key` header: the same key with the same
parameters replays the first answer (header `Idempotent-Replayed: true`); the same key with other
parameters is refused with 400 `idempotency_error`; a second request while the first still runs gets
409. Like Stripe, only results of requests that ran are kept; here that means successful ones (2xx).

Tests and the demo can make the next transfers fail (POST /_config/transfers/fail_next):
- `{"status": 400, "message": "...", "code": "..."}`: answer that error, create nothing;
- `{"mode": "lost_response"}`: create the transfer, then close the connection without an answer
  (what a client sees as a timeout); a retry with the same key gets the transfer that was made;
- `{"mode": "delay", "seconds": 2}`: wait that long before handling (to trip a client's timeout).
`count` (default 1) says how many transfer requests the fault applies to. The state lives in
localstripe's store, so flushing the store (DELETE /_config/data) clears it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import warnings

from aiohttp import web
from localstripe import resources as ls
from localstripe.errors import UserError, json_response

# localstripe registers plain functions as aiohttp handlers at import, which aiohttp deprecates.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from localstripe.server import get_post_data

FAULTS_KEY = "_ext:transfer_faults"
IDEMPOTENCY_KEY = "_ext:idempotency"
IN_FLIGHT_KEY = "_ext:idempotency_in_flight"
FAULTY_PATH = "/v1/transfers"


def _state(key: str, default):
    if key not in ls.store:
        ls.store[key] = default
    return ls.store[key]


def set_transfer_fault(data: dict) -> dict:
    """Queue a fault for the next transfer request(s); return the queued fault."""
    mode = data.get("mode", "error")
    count = ls.try_convert_to_int(data.get("count", 1))
    if mode not in ("error", "lost_response", "delay") or type(count) is not int or count < 1:
        raise UserError(400, "mode must be error, lost_response or delay, and count a whole number")
    fault = {"mode": mode, "count": count}
    if mode == "error":
        status = ls.try_convert_to_int(data.get("status", 500))
        if type(status) is not int or not 400 <= status <= 599:
            raise UserError(400, "status must be a 4xx or 5xx code")
        fault.update(status=status, message=data.get("message") or "An error occurred with our connection to Stripe.",
                     code=data.get("code"))
    elif mode == "delay":
        seconds = ls.try_convert_to_float(data.get("seconds", 5))
        if type(seconds) is not float or not 0 <= seconds <= 120:
            raise UserError(400, "seconds must be between 0 and 120")
        fault["seconds"] = seconds
    _state(FAULTS_KEY, []).extend(dict(fault, count=1) for _ in range(count))
    return fault


def _error_response(fault: dict) -> web.Response:
    kind = "api_error" if fault["status"] >= 500 else "invalid_request_error"
    error = {"type": kind, "message": fault["message"]}
    if fault.get("code"):
        error["code"] = fault["code"]
    # Stripe tells clients whether a retry may help; a 5xx here stands for a passing fault.
    headers = {"Stripe-Should-Retry": "true" if fault["status"] >= 500 else "false"}
    return json_response({"error": error}, status=fault["status"], headers=headers)


@web.middleware
async def fault_middleware(request, handler):
    """Apply the next queued fault to a transfer request (POST /v1/transfers)."""
    faults = ls.store.get(FAULTS_KEY) or []
    if request.method != "POST" or request.path != FAULTY_PATH or not faults:
        return await handler(request)
    fault = faults.pop(0)
    if fault["mode"] == "error":
        return _error_response(fault)
    if fault["mode"] == "delay":
        await asyncio.sleep(fault["seconds"])
        return await handler(request)
    await handler(request)
    # lost_response: the transfer exists, but its answer never reaches the client.
    request.transport.close()
    raise asyncio.CancelledError()


def _idempotency_error(status: int, message: str) -> web.Response:
    return json_response({"error": {"type": "idempotency_error", "message": message}}, status=status)


def _fingerprint(request, data) -> str:
    text = json.dumps({"method": request.method, "path": request.path, "params": data}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@web.middleware
async def idempotency_middleware(request, handler):
    """Replay the answer to a repeated Idempotency-Key, refuse one reused with other parameters."""
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key or not request.path.startswith("/v1/"):
        return await handler(request)
    data = await get_post_data(request) or {}
    scope = f"{request.headers.get('Stripe-Account', '')}:{key}"
    fingerprint = _fingerprint(request, data)
    done = _state(IDEMPOTENCY_KEY, {})
    in_flight = _state(IN_FLIGHT_KEY, set())
    if scope in done:
        first = done[scope]
        if first["fingerprint"] != fingerprint:
            return _idempotency_error(400, "Keys for idempotent requests can only be used with the same parameters "
                                           f"they were first used with. Try using a key other than '{key}' if you "
                                           "meant to execute a different request.")
        return web.Response(status=first["status"], body=first["body"], content_type="application/json",
                            headers={"Idempotent-Replayed": "true", "Idempotency-Key": key})
    if scope in in_flight:
        return _idempotency_error(409, "There is currently another in-progress request using this Stripe "
                                       "idempotency key. Please try again later.")
    in_flight.add(scope)
    try:
        response = await handler(request)
    finally:
        in_flight.discard(scope)
    if 200 <= response.status < 300 and isinstance(response, web.Response):
        done[scope] = {"fingerprint": fingerprint, "status": response.status, "body": response.body}
    response.headers["Idempotency-Key"] = key
    return response
