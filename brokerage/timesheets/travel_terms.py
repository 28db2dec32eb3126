"""When a provider's travel time is paid: the periods it kept the Ethical Care Charter and a broker confirmed it.

Pure: no Flask, no SQL. `timesheets.rules` re-exports these for the week's pay; the words are in `timesheets.travel`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Iterable

# A period the charter was kept and confirmed: its first day (None: every day before the last) and its last day (None: still kept).
Period = tuple[date | None, date | None]


@dataclass(frozen=True)
class TravelTerms:
    """When travel time is paid: only while the provider keeps the Ethical Care Charter, from the day it said so.

    `from_day`: the day the charter was agreed (None: before such days were kept, so every visit);
    `until_day`: the last day it was kept, once given up (None: still kept);
    `earlier`: the periods before that it was kept and confirmed, oldest first, whose travel stays paid.
    """

    paid: bool
    from_day: date | None = None
    until_day: date | None = None
    # Not paid because the charter waits for a broker to confirm it.
    awaiting: bool = False
    earlier: tuple[Period, ...] = ()

    @property
    def periods(self) -> tuple[Period, ...]:
        """Return every period whose travel is paid, oldest first."""
        return self.earlier + ((self.from_day, self.until_day),) if self.paid else self.earlier

    def covers(self, day: date) -> bool:
        """Tell whether travel to a visit on this day is paid: it falls in any period the charter was kept and confirmed."""
        return any((first is None or day >= first) and (last is None or day <= last) for first, last in self.periods)

    def within(self, first: date, last: date) -> TravelTerms:
        """Return these terms with only the earlier periods that share a day with first..last (a week's), for its words and its sheet."""
        kept = tuple((a, b) for a, b in self.earlier if (a is None or a <= last) and b >= first)
        return replace(self, earlier=kept)


def travel_terms(*, charter: bool, since: date | None, until: date | None, confirmed: date | None = None,
                 earlier: Iterable[Period] = ()) -> TravelTerms:
    """Return when a provider's travel is paid: from the later of the days the charter was agreed and a broker confirmed it,
    until the day it was given up, and in the earlier periods it was kept and confirmed. A charter with no day agreed
    predates these days, and every visit is paid."""
    if since is not None and confirmed is None:
        terms = TravelTerms(paid=False, awaiting=charter)
    else:
        start = max(since, confirmed) if since is not None else None
        # Given up: the visits made while it was kept are still paid; with no day it was given up, none ever were.
        terms = TravelTerms(paid=charter or until is not None, from_day=start, until_day=None if charter else until)
    earlier = tuple(sorted(earlier, key=lambda period: period[0] or date.min))
    if not earlier or terms.paid:
        return replace(terms, earlier=earlier)
    # Not kept now, or ticked again and waiting for a broker: the last period it was kept and confirmed stands as the current one.
    (first, last), rest = earlier[-1], earlier[:-1]
    return TravelTerms(paid=True, from_day=first, until_day=last, awaiting=terms.awaiting, earlier=rest)
