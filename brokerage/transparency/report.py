"""The public report's figures for one period, built and suppressed: pure (no Flask, no SQL).

The report's smallest groups ("classes") are care spend on one kind of provider with the same facts
(local, micro, Living Wage, Ethical Care Charter) for one service. Every figure on the page is a sum of
classes: the period's spend, spend by kind of provider, by service, and with each community-wealth
measure. `rules.suppress` then hides what must be hidden, and only the figures that may be shown leave
this module: a hidden figure's amount never reaches a template or a CSV file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, Mapping

from brokerage.transparency.rules import MEASURE_KEYS, Figure, Sum, share_tenths, suppress
from brokerage.vocabulary import PROVIDER_KINDS, SERVICES

# Each measure's figure: the kinds are the kind of provider's own figure, the rest a yes/no flag of the class.
MEASURE_FIGURES = {"local": "local", "coop": "kind:coop", "cic": "kind:cic", "charity": "kind:charity", "micro": "micro",
                   "living_wage": "living_wage", "ethical_care": "ethical_care"}
FLAGS = ("local", "micro", "living_wage", "ethical_care")


@dataclass(frozen=True)
class Bits:
    """Which bit of a class's mask stands for what: one kind of provider, one service, one side of each yes/no fact.

    The database marks each row of care spend with its class's mask (queries.public_money), so one pass over
    the pool summary gives each class's pence and people, and each person's figures as the OR of their masks.
    """

    services: tuple[str, ...]  # the council's services, "other" last

    @property
    def kinds(self) -> dict[str, int]:
        """Return the bit of each kind of provider ("unknown": spend with no single provider)."""
        return {kind: 1 << n for n, kind in enumerate((*PROVIDER_KINDS, "unknown"))}

    @property
    def flags(self) -> dict[str, int]:
        """Return the bit of each yes/no fact and of its opposite ("not:local")."""
        names = [name for flag in FLAGS for name in (flag, f"not:{flag}")]
        return {name: 1 << (8 + n) for n, name in enumerate(names)}

    @property
    def service_bits(self) -> dict[str, int]:
        """Return the bit of each service."""
        return {service: 1 << (17 + n) for n, service in enumerate(self.services)}

    @property
    def care(self) -> int:
        """Return the bits any row of care spend has one of (its kind of provider)."""
        return sum(self.kinds.values())

    def decode(self, period: int, mask: int, pence: int, people: int) -> SpendClass:
        """Return the class a mask stands for, with its care spend (pence, positive) and people."""
        kind = next(kind for kind, bit in self.kinds.items() if mask & bit)
        service = next((service for service, bit in self.service_bits.items() if mask & bit), "other")
        flags = self.flags
        return SpendClass(period=period, kind=kind, living_wage=bool(mask & flags["living_wage"]), ethical_care=bool(mask & flags["ethical_care"]),
                          micro=bool(mask & flags["micro"]), local=bool(mask & flags["local"]), service=service, pence=pence, people=people)

    def people(self, unions: Mapping[int, int], groups: Iterable[str]) -> dict[str, int]:
        """Count the people in each group ("kind:coop", "service:respite", "local", "not:micro", "spent") from how many people had each OR of masks."""
        bits = {f"kind:{k}": b for k, b in self.kinds.items()} | {f"service:{s}": b for s, b in self.service_bits.items()} | self.flags | {"spent": self.care}
        return {group: sum(count for mask, count in unions.items() if mask & bits[group]) for group in groups}


@dataclass(frozen=True)
class SpendClass:
    """Care spend in one period on one kind of provider with the same facts, for one service: the report's smallest group."""

    period: int
    kind: str  # "unknown" for spend with no single provider
    living_wage: bool
    ethical_care: bool
    micro: bool
    local: bool
    service: str  # "other" for spend with no contract
    pence: int
    people: int

    @property
    def atom(self) -> tuple:
        """Return what tells this class apart from the others of its period."""
        return (self.kind, self.living_wage, self.ethical_care, self.micro, self.local, self.service)


def kinds_in(classes: Iterable[SpendClass]) -> list[str]:
    """Return the kinds of provider the report lists: all of them, and "unknown" only when some spend has no single provider."""
    unknown = any(c.kind == "unknown" for c in classes)
    return list(PROVIDER_KINDS) + (["unknown"] if unknown else [])


def services_in(classes: Iterable[SpendClass]) -> list[str]:
    """Return the services with spend in any period, in the vocabulary's order, then any others, then "other"."""
    return ordered_services({c.service for c in classes})


def ordered_services(present: set[str]) -> list[str]:
    """Return services in the vocabulary's order, then any others, then "other"."""
    return [s for s in SERVICES if s in present] + sorted(present - set(SERVICES) - {"other"}) + (["other"] if "other" in present else [])


def figure_keys(kinds: Iterable[str], services: Iterable[str]) -> list[str]:
    """Return the keys of one period's spend figures: the total, each kind and service, and each fact and its opposite."""
    return ["spent", *[f"kind:{k}" for k in kinds], *[f"service:{s}" for s in services],
            *[name for flag in FLAGS for name in (flag, f"not:{flag}")]]


def figures_of(classes: list[SpendClass], people: Mapping[str, int], *, kinds: list[str], services: list[str]) -> tuple[dict[str, Figure], list[Sum]]:
    """Return one period's spend figures and the sums a reader knows they make, from its classes and the people in each figure."""
    def figure(key: str, chosen: list[SpendClass], *, published: bool = True) -> Figure:
        return Figure(pence=sum(c.pence for c in chosen), people=people.get(key, 0), atoms=frozenset(c.atom for c in chosen), published=published)

    figures = {"spent": figure("spent", classes)}
    for kind in kinds:
        figures[f"kind:{kind}"] = figure(f"kind:{kind}", [c for c in classes if c.kind == kind])
    for service in services:
        figures[f"service:{service}"] = figure(f"service:{service}", [c for c in classes if c.service == service])
    sums = [Sum("spent", tuple(f"kind:{k}" for k in kinds)), Sum("spent", tuple(f"service:{s}" for s in services))]
    for flag in FLAGS:
        figures[flag] = figure(flag, [c for c in classes if getattr(c, flag)])
        figures[f"not:{flag}"] = figure(f"not:{flag}", [c for c in classes if not getattr(c, flag)], published=False)
        sums.append(Sum("spent", (flag, f"not:{flag}")))
    return figures, sums


@dataclass(frozen=True)
class Shown:
    """A figure as the public may see it: pence and people, or None for both when it is suppressed."""

    pence: int | None
    people: int | None = None

    @property
    def hidden(self) -> bool:
        """Tell whether the figure is suppressed."""
        return self.pence is None


@dataclass
class PublicPeriod:
    """One period of the public report: only the figures that may be shown."""

    start: date
    pooled: Shown
    spent: Shown
    kinds: dict[str, Shown] = field(default_factory=dict)
    services: dict[str, Shown] = field(default_factory=dict)
    measures: dict[str, Shown] = field(default_factory=dict)

    def share(self, measure: str) -> int | None:
        """Return a measure's share of the period's spend in tenths of a percent, or None when hidden or nothing was spent."""
        part = self.measures[measure]
        if part.hidden or self.spent.hidden:
            return None
        return share_tenths(part.pence, self.spent.pence)


def public_period(start: date, classes: list[SpendClass], people: Mapping[str, int], pooled: tuple[int, int], *,
                  kinds: list[str], services: list[str]) -> PublicPeriod:
    """Return one period of the public report with every figure about fewer than five people, and what would give one away, hidden."""
    figures, sums = figures_of(classes, people, kinds=kinds, services=services)
    figures["pooled"] = Figure(pence=pooled[0], people=pooled[1])
    hidden = suppress(figures, sums, atoms={c.atom: c.people for c in classes})

    def shown(key: str, *, with_people: bool = False) -> Shown:
        if key in hidden:
            return Shown(None)
        return Shown(figures[key].pence, figures[key].people if with_people else None)

    return PublicPeriod(
        start=start, pooled=shown("pooled", with_people=True), spent=shown("spent", with_people=True),
        kinds={kind: shown(f"kind:{kind}") for kind in kinds}, services={service: shown(f"service:{service}") for service in services},
        measures={measure: shown(MEASURE_FIGURES[measure]) for measure in MEASURE_KEYS},
    )
