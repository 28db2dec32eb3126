"""Migration 0036: demand lines and providers get hours per time of day, spread from their weekly hours; and back (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import command
from sqlalchemy import create_engine, inspect

from brokerage.migrate import alembic_config, upgrade

WHEN = datetime(2026, 11, 1, tzinfo=timezone.utc)
council = sa.table("council", *(sa.column(c) for c in ("id", "slug", "name", "area_districts", "cluster_min_size", "cluster_max_size", "notice_weeks",
                                                     "surplus_weeks", "quorum_percent", "majority_percent", "dissolve_numerator",
                                                     "dissolve_denominator", "created_at")))
cluster = sa.table("cluster", sa.column("id"), sa.column("council_id"), sa.column("name"), sa.column("description"), sa.column("kinds", sa.JSON),
                   sa.column("min_size"), sa.column("max_size"), sa.column("status"), sa.column("created_at"))
provider = sa.table("provider", *(sa.column(c) for c in ("id", "council_id", "name", "kind", "capacity_hours", "postcode_district", "lat", "lon",
                                                       "radius_km", "hourly_rate_pence", "living_wage", "ethical_care_charter", "created_at",
                                                       "staff_count")),
                    *(sa.column(c, sa.JSON) for c in ("services", "languages", "staff_genders", "slots", "slot_hours")))
demand_line = sa.table("demand_line", *(sa.column(c) for c in ("id", "council_id", "cluster_id", "service", "hours", "language_required", "lat", "lon",
                                                             "max_rate_pence", "created_at")),
                       *(sa.column(c, sa.JSON) for c in ("slots", "languages", "shares", "slot_hours")))


def _provider(id_: int, capacity: int, slots: list[str]) -> dict:
    return {"id": id_, "council_id": 1, "name": f"Provider {id_}", "kind": "coop", "capacity_hours": capacity, "postcode_district": "E1",
            "lat": 51.5, "lon": -0.05, "radius_km": 5.0, "hourly_rate_pence": 2000, "living_wage": True, "ethical_care_charter": False,
            "created_at": WHEN, "staff_count": 3, "services": ["home_care"], "languages": ["en"], "staff_genders": ["female"], "slots": slots}


def _line(id_: int, hours: int, slots: list[str]) -> dict:
    return {"id": id_, "council_id": 1, "cluster_id": 1, "service": "home_care", "hours": hours, "language_required": False, "lat": 51.5,
            "lon": -0.05, "max_rate_pence": 2500, "created_at": WHEN, "slots": slots, "languages": [], "shares": {"1": 1}}


def test_weekly_hours_are_spread_over_each_lines_and_providers_times_and_back(scratch_url):
    url = scratch_url
    upgrade("0035", url=url)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(council.insert().values(id=1, slug="c", name="C", area_districts="E1", cluster_min_size=3, cluster_max_size=8,
                                                       notice_weeks=4, surplus_weeks=8, quorum_percent=50, majority_percent=50,
                                                       dissolve_numerator=2, dissolve_denominator=3, created_at=WHEN))
            connection.execute(cluster.insert().values(id=1, council_id=1, name="G", description="", kinds=["culture"], min_size=2, max_size=8,
                                                       status="active", created_at=WHEN))
            connection.execute(provider.insert(), [_provider(1, 30, ["tue_am", "mon_am", "fri_pm"]), _provider(2, 2, ["mon_am", "tue_am", "sun_eve"]),
                                                   _provider(3, 0, ["sat_pm"])])
            connection.execute(demand_line.insert(), [_line(1, 14, ["fri_pm", "mon_am", "tue_am", "wed_am", "thu_am"]),
                                                      _line(2, 2, ["mon_am", "tue_am", "wed_am"])])
        upgrade("head", url=url)
        with engine.connect() as connection:
            lines = {row.id: (row.slot_hours, row.hours, row.slots) for row in connection.execute(sa.select(demand_line))}
            providers = {row.id: (row.slot_hours, row.capacity_hours, row.slots) for row in connection.execute(sa.select(provider))}
            columns = {table: {c["name"]: c for c in inspect(connection).get_columns(table)} for table in ("match_assignment", "match_gap", "provider")}
        # 14 hours over five times: 3, 3, 3, 3 and 2, the remainder to the earliest; 2 hours over three times leaves the last one out.
        assert lines[1] == ({"mon_am": 3, "tue_am": 3, "wed_am": 3, "thu_am": 3, "fri_pm": 2}, 14, ["mon_am", "tue_am", "wed_am", "thu_am", "fri_pm"])
        assert lines[2] == ({"mon_am": 1, "tue_am": 1}, 2, ["mon_am", "tue_am"])
        # A provider's capacity stays its weekly cap; each of its times keeps at least an hour.
        assert providers[1] == ({"mon_am": 10, "tue_am": 10, "fri_pm": 10}, 30, ["tue_am", "mon_am", "fri_pm"])
        assert providers[2] == ({"mon_am": 1, "tue_am": 1, "sun_eve": 1}, 2, ["mon_am", "tue_am", "sun_eve"])
        assert providers[3] == ({"sat_pm": 1}, 0, ["sat_pm"])
        assert columns["provider"]["capacity_hours"]["nullable"] and not columns["provider"]["slot_hours"]["nullable"]
        assert columns["match_assignment"]["slot_hours"]["nullable"] and "slot_hours" in columns["match_gap"]
        with engine.begin() as connection:
            connection.execute(provider.update().where(provider.c.id == 1).values(capacity_hours=None, slot_hours={"mon_am": 12, "tue_am": 12}))
        command.downgrade(alembic_config(url), "0035")
        with engine.connect() as connection:
            caps = dict(connection.execute(sa.select(provider.c.id, provider.c.capacity_hours)).all())
            left = {table: {c["name"] for c in inspect(connection).get_columns(table)} for table in ("demand_line", "provider", "match_assignment", "match_gap")}
            nullable = {c["name"]: c["nullable"] for c in inspect(connection).get_columns("provider")}
        assert caps == {1: 24, 2: 2, 3: 0}  # a provider with no weekly cap gets the sum of its slot hours
        assert not any("slot_hours" in names for names in left.values()) and nullable["capacity_hours"] is False
        upgrade("head", url=url)  # and up again
    finally:
        engine.dispose()
