"""Community-wealth pages for the council's staff, its settings, and the public report (no sign-in)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from brokerage import clock
from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.db import get_session, noting_changes, writes_when_reading
from brokerage.errors import NotFound, ValidationFailed
from brokerage.forms import refuse
from brokerage.transparency import pages, periods, services
from brokerage.transparency.rules import MIN_PEOPLE
from brokerage.transparency.schemas import SettingsForm, csv_text, load_period, load_public_table

blueprint = Blueprint("transparency", __name__)

# The public report is the same for everyone and names no one, so shared caches may keep it a few minutes; but an answer
# to a visitor with cookies may carry a refreshed session cookie, which only their own browser may keep.
PUBLIC_CACHE = "public, max-age=300"
PRIVATE_CACHE = "private, max-age=300"


def _cacheable(response):
    response.headers["Cache-Control"] = PRIVATE_CACHE if request.cookies else PUBLIC_CACHE
    response.vary.add("Cookie")
    return response


@blueprint.route("/community-wealth")
@roles_required(Role.broker, Role.council_officer)
def wealth():
    """Show the shares of care spend with local, co-operative and fair-work providers, month by month."""
    today = clock.today()
    start, end, _, errors = load_period(request.args, today=today)
    # A period that cannot be read shows no figures, rather than other months' as if they were asked for.
    trend = None if errors else services.wealth_trend(session=get_session(), actor=current_user, start=start, end=end)
    return render_template(
        "transparency/wealth.html", trend=trend, errors=errors, args=request.args, today=today, presets=periods.presets(today),
        tables=pages.wealth_tables(trend, today=today) if trend else [], summary=pages.period_summary(trend) if trend else [],
        start=start, end=end, month_text=periods.month_text, month_name=periods.month_name,
    ), (422 if errors else 200)


@blueprint.route("/community-wealth/figures.csv")
@roles_required(Role.broker, Role.council_officer)
def wealth_csv():
    """Download one chart's figures, month by month (CSV)."""
    start, end, chart, errors = load_period(request.args, today=clock.today(), with_chart=True)
    if errors:
        raise ValidationFailed(errors, "The months or the chart in this address cannot be read. "
                                       "Go back to the community-wealth page and choose the months again.")
    trend = services.wealth_trend(session=get_session(), actor=current_user, start=start, end=end)
    head, rows = pages.wealth_csv(trend, chart)
    filename = f"community-wealth-{chart}-{periods.month_text(start)}-to-{periods.month_text(end)}.csv"
    return Response(csv_text(head, rows), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}", "Cache-Control": "no-store"})


@blueprint.route("/community-wealth/settings", methods=["GET", "POST"])
@roles_required(Role.council_officer)
def settings():
    """Set what counts as a local provider, and whether the council publishes its public report."""
    session = get_session()
    form = SettingsForm()
    status = 200
    if form.validate_on_submit():
        try:
            with noting_changes(session) as changes:
                council = services.update_wealth_settings(session=session, actor=current_user, local_distance_km=form.local_distance_km.data,
                                                          publish_report=bool(form.publish_report.data))
        except ValidationFailed as error:
            status = refuse(form, error)
        else:
            if changes.none:
                flash("Nothing was changed: the community-wealth settings are as they were.", "info")
            else:
                flash("The community-wealth settings are saved." + (" Your public report is published." if council.publish_report else ""), "success")
            return redirect(url_for("transparency.settings"))
    elif form.is_submitted():
        status = 422
    page = services.wealth_settings(session=session, actor=current_user)
    if not form.is_submitted():
        form.fill(page.council)
    return render_template("transparency/settings.html", form=form, page=page), status


@blueprint.route("/public/<slug>")
@writes_when_reading  # the first showing of a complete quarter freezes its figures
def public_report(slug: str):
    """Show a council's public report of pooled spending, to anyone (404 unless the council publishes it)."""
    report = services.public_report(session=get_session(), slug=slug)
    covers = periods.quarters_span(report.periods[0].start, report.periods[-1].start) if report.periods else None
    page = render_template("transparency/public.html", report=report, tables=pages.public_tables(report), min_people=MIN_PEOPLE, covers=covers)
    return _cacheable(make_response(page))


@blueprint.route("/public/<slug>/figures.csv")
@writes_when_reading
def public_csv(slug: str):
    """Download one table of a council's public report (CSV), with [c] for each figure kept confidential."""
    table = load_public_table(request.args)
    report = services.public_report(session=get_session(), slug=slug)
    if table is None:
        raise NotFound()
    head, rows = pages.public_csv(report, table)
    disposition = f"attachment; filename={report.slug}-{table}.csv"
    return _cacheable(Response(csv_text(head, rows), mimetype="text/csv", headers={"Content-Disposition": disposition}))
