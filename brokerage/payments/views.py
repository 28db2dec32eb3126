"""Payment pages: Stripe's webhook, setting up a provider's payments, and holders' top-ups."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from brokerage import jobs
from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.db import get_session, writes_when_reading
from brokerage.errors import BrokerageError, ValidationFailed
from brokerage.extensions import csrf
from brokerage.formatting import pounds
from brokerage.forms import refuse, refuse_in_flash, undone_if_sent
from brokerage.payments import onboarding, rules, topup_cancel, topups, webhooks
from brokerage.payments.schemas import METHOD_HINTS, TopUpForm

blueprint = Blueprint("payments", __name__)
PROCESS_JOB = "payments.process_event"
STRIPE_FORMS = "https://connect.stripe.com"
# Stripe.js and its Payment Element, allowed under the CSP only on a page that shows the element
# (Stripe's integration security guide: scripts and frames from js.stripe.com, 3D Secure frames from
# hooks.stripe.com, calls to api.stripe.com). Stripe.js must be loaded from js.stripe.com, never self-hosted.
STRIPE_JS = "https://js.stripe.com/v3/"
STRIPE_JS_CSP = {
    "script-src": "https://js.stripe.com https://*.js.stripe.com",
    "frame-src": "https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com",
    "connect-src": "https://api.stripe.com",
}
# Where Stripe sends the holder back to (return_url) says how confirming went; it never changes anything here.
RETURN_STATUSES = ("succeeded", "processing", "failed", "requires_action")


@blueprint.post("/stripe/webhook")
@csrf.exempt
def webhook():
    """Receive a Stripe event: verify, store, answer at once; a job gives it its effect."""
    try:
        stored = webhooks.receive(session=get_session(), payload=request.get_data(), signature=request.headers.get("Stripe-Signature"),
                                  secret=current_app.config.get("STRIPE_WEBHOOK_SECRET"))
    except webhooks.WebhookRefused as error:
        current_app.logger.warning("Stripe webhook refused: %s", error.message)
        return jsonify(error=error.message), 400
    if stored.processed_at is None:
        jobs.enqueue_after_commit(PROCESS_JOB, event_id=stored.event_id)
    return jsonify(received=stored.event_id), 200


@blueprint.post("/providers/<int:provider_id>/set-up-payments")
@roles_required(Role.provider, Role.broker)
def set_up_provider(provider_id: int):
    """Make the provider's Stripe account (once) and send them to Stripe's onboarding."""
    back = url_for("providers.show", provider_id=provider_id, _external=True, _anchor="payments")
    try:
        link = onboarding.start_onboarding(session=get_session(), actor=current_user, provider_id=provider_id,
                                           config=current_app.config, return_url=back)
    except (onboarding.PaymentsNotSetUp, onboarding.StripeUnavailable) as error:
        refuse_in_flash(error)
        return redirect(back)
    return redirect(link)


@blueprint.route("/holders/<int:holder_id>/top-up", methods=["GET", "POST"])
@roles_required(Role.holder, Role.representative)
def new_top_up(holder_id: int):
    """Add money to a pool share by card or Direct Debit: the form, then Stripe's payment."""
    session = get_session()
    holder, shares = topups.shares_of(session=session, actor=current_user, holder_id=holder_id, undone=undone_if_sent("no payment was started"))
    form = TopUpForm()
    form.set_choices(shares)
    status = 200
    ready = _can_take_payments(current_app.config)
    if request.method == "POST" and not ready:
        status = refuse(form, onboarding.PaymentsNotSetUp(NOT_SET_UP))
    elif form.validate_on_submit():
        try:
            top_up = topups.start_top_up(session=session, actor=current_user, holder_id=holder.id, cluster_id=form.cluster.data,
                                         amount_pence=form.amount.pence, methods=form.methods(), config=current_app.config,
                                         form_key=form.form_key.data)
        except topups.AlreadyStarted as twin:
            flash(twin.message, "info")
            return redirect(url_for("payments.top_up", top_up_id=twin.top_up_id))
        except (ValidationFailed, onboarding.PaymentsNotSetUp, onboarding.StripeUnavailable) as error:
            status = refuse(form, error)
        else:
            return redirect(url_for("payments.top_up", top_up_id=top_up.id))
    elif form.errors:
        status = 422
    payments = topups.top_ups_of(session=session, actor=current_user, holder_id=holder.id)
    return render_template("payments/new_top_up.html", form=form, holder=holder, shares=shares, method_hints=METHOD_HINTS,
                           stripe_ready=ready, payments=payments, wallet_ids=topups.in_wallet(session=session, top_ups=[t for t, _ in payments]),
                           unpayable=topups.unpayable_groups_of(session=session, actor=current_user, holder_id=holder.id)), status


@blueprint.get("/top-ups/<int:top_up_id>")
@writes_when_reading  # staff reads of a person's payment go to the access log
@roles_required(Role.holder, Role.representative, Role.broker, Role.council_officer)
def top_up(top_up_id: int):
    """Show one top-up: where it is, and for its holder a way to pay (Stripe's Payment Element). Writes only the access log."""
    session = get_session()
    page = topups.read_top_up(session=session, actor=current_user, top_up_id=top_up_id)
    item = page.top_up
    config = current_app.config
    base = config.get("STRIPE_API_BASE")
    local = bool(base and _is_local(base))
    local_pay = f"{base}/_config/payment_intents/{item.payment_intent_id}/pay" if local else None
    back = url_for("payments.top_up", top_up_id=item.id, _external=True)
    checkout, problem = None, None
    if not local and _can_take_payments(config):
        try:
            checkout = topups.checkout(session=session, actor=current_user, top_up_id=item.id, config=config)
        except (onboarding.PaymentsNotSetUp, onboarding.StripeUnavailable) as error:
            problem = error.message
    if checkout is not None and checkout.client_secret:
        g.stripe_js = True
    returned = request.args.get("redirect_status")
    return render_template("payments/top_up.html", top_up=item, page=page, methods=rules.METHODS, paid_with=rules.PAID_WITH, local_pay=local_pay, back=back,
                           checkout=checkout, problem=problem, stripe_js=STRIPE_JS, not_set_up=NOT_SET_UP,
                           publishable_key=config.get("STRIPE_PUBLISHABLE_KEY"),
                           returned=returned if returned in RETURN_STATUSES else None)


@blueprint.post("/top-ups/<int:top_up_id>/cancel")
@roles_required(Role.holder, Role.representative)
def cancel_top_up(top_up_id: int):
    """Cancel a payment nobody has made yet (Stripe first); back to its page, which then says it was cancelled."""
    back = url_for("payments.top_up", top_up_id=top_up_id)
    try:
        top_up = topup_cancel.cancel_top_up(session=get_session(), actor=current_user, top_up_id=top_up_id, config=current_app.config)
    except BrokerageError as error:
        refuse_in_flash(error)
        return redirect(back)
    flash(f"The payment of {pounds(top_up.amount_pence)} is cancelled. Nothing was taken, and it can no longer be paid.", "success")
    return redirect(back)


@blueprint.get("/top-ups")
@writes_when_reading  # staff reads of members' money added go to the access log
@roles_required(Role.broker, Role.council_officer)
def top_ups():
    """List the council's top-ups, with any refund the pool could not cover."""
    rows = topups.council_top_ups(session=get_session(), actor=current_user)
    return render_template("payments/top_ups.html", rows=rows, wallet_ids=topups.in_wallet(session=get_session(), top_ups=[r[0] for r in rows]))


NOT_SET_UP = "Card and Direct Debit payments are not set up on this server yet, so you cannot pay here. Ask your broker."


def _is_local(url: str) -> bool:
    return urlsplit(url).hostname in ("127.0.0.1", "localhost")


def _can_take_payments(config) -> bool:
    """Stripe's secret key, and a way for the holder to pay: the local test server's buttons or Stripe's Payment Element."""
    base = config.get("STRIPE_API_BASE")
    return bool(config.get("STRIPE_SECRET_KEY")) and bool((base and _is_local(base)) or config.get("STRIPE_PUBLISHABLE_KEY"))


@blueprint.after_app_request
def allow_forms_to_stripe(response):
    """Let forms lead to Stripe's onboarding (and, in the demo, to the local Stripe server) under the CSP."""
    policy = response.headers.get("Content-Security-Policy")
    if policy and "form-action 'self';" in policy:
        extra = [STRIPE_FORMS]
        base = current_app.config.get("STRIPE_API_BASE")
        if base and _is_local(base):
            parts = urlsplit(base)
            extra.append(f"{parts.scheme}://{parts.netloc}")
        response.headers["Content-Security-Policy"] = policy.replace("form-action 'self';", f"form-action 'self' {' '.join(extra)};")
    return response



@blueprint.after_app_request
def allow_stripe_js(response):
    """Let the one page showing Stripe's Payment Element load Stripe.js, its frames and its API calls under the CSP."""
    policy = response.headers.get("Content-Security-Policy")
    if policy and g.get("stripe_js"):
        directives = [part.strip() for part in policy.split(";") if part.strip()]
        names = [d.split()[0] for d in directives]
        for name, sources in STRIPE_JS_CSP.items():
            if name in names:
                i = names.index(name)
                directives[i] = f"{directives[i]} {sources}"
            else:
                directives.append(f"{name} 'self' {sources}")
        response.headers["Content-Security-Policy"] = "; ".join(directives)
    return response
