"""Pooled spend pages for the council's brokers and officers: a breakdown per page, each with its chart, table and CSV file.

Every page takes the same query string: the period (from_month, from_year, to_month, to_year; the
last 12 months when empty), at most one group, holder and provider filter, `order`, `page`, and
`format=csv` for every row as a spreadsheet.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from flask_login import current_user

from brokerage import clock
from brokerage.access import roles_required
from brokerage.accounts.models import Role
from brokerage.db import get_session, writes_when_reading
from brokerage.spending import drawing, export, services
from brokerage.spending.rules import TITLES, Dimension, Period, csv_filename, month_name, quick_periods
from brokerage.spending.schemas import load_report_query

blueprint = Blueprint("spending", __name__, url_prefix="/spending")
for _name, _function in (("spend_chart", drawing.breakdown_chart), ("month_chart", drawing.month_chart),
                         ("unspent_chart", drawing.unspent_chart),
                         ("spend_headings", export.headings), ("spend_cells", export.cells)):
    blueprint.add_app_template_global(_function, _name)
blueprint.add_app_template_filter(month_name, "month_name")

ENDPOINTS = {
    Dimension.group: "spending.groups", Dimension.holder: "spending.members", Dimension.provider: "spending.providers",
    Dimension.service: "spending.services", Dimension.ownership: "spending.kinds", Dimension.month: "spending.index",
}  # fmt: skip
# Where a row's name leads: a group to its members' shares, a share or a provider to its months.
DRILL = {Dimension.group: "spending.members", Dimension.holder: "spending.index", Dimension.provider: "spending.index"}


@blueprint.app_template_global("spending_url")
def spending_url(endpoint: str, period: Period | None, filters: dict | None = None, **extra) -> str:
    """Return a report's address for a period and filters (and, say, `format='csv'` or `page=2`)."""
    values = {**(period.args() if period else {}), **(filters or {}), **extra}
    return url_for(endpoint, **{key: value for key, value in values.items() if value is not None})


def _report(dimension: Dimension, template: str):
    today = clock.today()
    query = load_report_query(request.args, today=today)
    page = {"query": query, "quick": quick_periods(today), "endpoints": ENDPOINTS, "drill": DRILL, "titles": TITLES,
            "dimension": dimension, "this": ENDPOINTS[dimension]}
    if query.errors:
        # Nothing is listed for a period that cannot be read; the filters are still checked, so another council's id is a 404.
        _, names = services.report_scope(session=get_session(), actor=current_user, group_id=query.group_id, holder_id=query.holder_id,
                                         provider_id=query.provider_id)
        if query.wants_csv:
            return Response("\n".join(m for ms in query.errors.values() for m in ms) + "\n", status=422, mimetype="text/plain")
        return render_template(template, report=None, names=names, **page), 422
    report = services.spend_by(
        session=get_session(), actor=current_user, dimension=dimension, start=query.period.start, end=query.period.end,
        group_id=query.group_id, holder_id=query.holder_id, provider_id=query.provider_id, order=query.order,
        page=None if query.wants_csv else query.page,
    )
    if query.wants_csv:
        name = csv_filename(council_slug=report.council_slug, dimension=dimension, period=report.period)
        return Response(export.report_csv(report), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
    return render_template(template, report=report, names=report.scope_names, **page)


@blueprint.route("/")
@writes_when_reading  # a filter on one member logs the read of their money (services.report_scope)
@roles_required(Role.broker, Role.council_officer)
def index():
    """Show the period's pooled money in one reckoning, month by month, with links to every breakdown."""
    return _report(Dimension.month, "spending/index.html")


@blueprint.route("/groups")
@writes_when_reading  # a filter on one member logs the read of their money (services.report_scope)
@roles_required(Role.broker, Role.council_officer)
def groups():
    """Show each group's pooled money: in, spent, returned and unspent."""
    return _report(Dimension.group, "spending/report.html")


@blueprint.route("/members")
@writes_when_reading  # a filter on one member logs the read of their money (services.report_scope)
@roles_required(Role.broker, Role.council_officer)
def members():
    """Show each member's share of each group's pool, a page at a time."""
    return _report(Dimension.holder, "spending/report.html")


@blueprint.route("/providers")
@writes_when_reading  # a filter on one member logs the read of their money (services.report_scope)
@roles_required(Role.broker, Role.council_officer)
def providers():
    """Show what the pools were charged for each provider's care, paid to it yet or not."""
    return _report(Dimension.provider, "spending/report.html")


@blueprint.route("/services", endpoint="services")
@writes_when_reading  # a filter on one member logs the read of their money (services.report_scope)
@roles_required(Role.broker, Role.council_officer)
def by_service():
    """Show what each service cost the pools."""
    return _report(Dimension.service, "spending/report.html")


@blueprint.route("/kinds-of-provider")
@writes_when_reading  # a filter on one member logs the read of their money (services.report_scope)
@roles_required(Role.broker, Role.council_officer)
def kinds():
    """Show what went to each kind of provider: personal assistants, micro-providers, co-ops, CICs, charities, private companies."""
    return _report(Dimension.ownership, "spending/report.html")
