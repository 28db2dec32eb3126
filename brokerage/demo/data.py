"""The demo's cast, as plain data: names, places, providers, groups and what the groups ask for.

Nothing here touches the database; `people`, `groups` and `care` load it through the services.
"""

from __future__ import annotations

from datetime import time
from typing import NamedTuple

from brokerage.clusters.models import ClusterStatus
from brokerage.providers.models import ProviderKind

DEMO_SLUG = "riverside"
OTHER_SLUG = "northfield"
COUNCIL_NAME = "Riverside Borough Council (demo)"
OTHER_NAME = "Northfield City Council (demo)"
COUNCIL_DISTRICTS = "E1 E1W E2 E3 E14 E15"
OTHER_DISTRICTS = "LS6 LS7 LS8"

# Postcode districts with an approximate centre, so distances in the demo are realistic.
DISTRICTS = {
    "E1": (51.5155, -0.0590), "E2": (51.5290, -0.0600), "E3": (51.5270, -0.0240),
    "E14": (51.5080, -0.0180), "E1W": (51.5070, -0.0590), "E15": (51.5400, 0.0000),
}
OTHER_DISTRICT_CENTRES = {"LS6": (53.8196, -1.5796), "LS7": (53.8220, -1.5350), "LS8": (53.8230, -1.5100)}
# Full postcodes in those districts, with centres close to the real ones: the demo's people live at them,
# and anyone trying the forms can type them. Any other postcode in a demo district is placed at its centre.
POSTCODES = {
    "E1 6AN": (51.5203, -0.0714), "E1 1BB": (51.5190, -0.0596), "E1 4NS": (51.5241, -0.0404),
    "E1W 1LA": (51.5067, -0.0712), "E1W 3TJ": (51.5043, -0.0560),
    "E2 9PA": (51.5291, -0.0554), "E2 6DG": (51.5262, -0.0667),
    "E3 2SJ": (51.5290, -0.0226), "E3 4AE": (51.5232, -0.0301),
    "E14 5AB": (51.5049, -0.0195), "E14 0AA": (51.5105, -0.0152),
    "E15 1BX": (51.5419, -0.0026), "E15 4BQ": (51.5380, 0.0060),
    "LS6 3BR": (53.8174, -1.5822), "LS7 3HB": (53.8179, -1.5359), "LS8 5AE": (53.8148, -1.5212),
}

FIRST_NAMES = {
    "so": ["Amina", "Hodan", "Faduma", "Abdi", "Khadra", "Mohamed", "Sahra", "Yusuf"],
    "bn": ["Rahima", "Abdul", "Shirin", "Jahanara", "Mizanur", "Rokeya", "Anwar", "Nazma"],
    "pl": ["Halina", "Zofia", "Tadeusz", "Krystyna", "Janusz", "Irena"],
    "tr": ["Ayşe", "Mehmet", "Fatma", "Hüseyin", "Emine"],
    "ur": ["Parveen", "Tariq", "Shabana", "Imran", "Nasreen"],
    "en": ["Margaret", "Derek", "Joan", "Patrick", "Linda", "Winston", "Grace", "Colin", "Maureen", "Desmond"],
}
SURNAMES = {
    "so": ["Hassan", "Warsame", "Farah", "Abdullahi", "Ali", "Osman"],
    "bn": ["Begum", "Miah", "Uddin", "Khatun", "Rahman", "Ahmed"],
    "pl": ["Kowalska", "Nowak", "Wiśniewski", "Zielińska"],
    "tr": ["Yılmaz", "Demir", "Kaya", "Şahin"],
    "ur": ["Khan", "Hussain", "Iqbal", "Malik"],
    "en": ["Thompson", "Clarke", "O'Brien", "Campbell", "Walker", "Edwards", "Bennett", "Francis"],
}
# The first language of each holder, in the order they are registered (holder 1 is Amina Hassan).
LANGUAGE_MIX = ["so"] * 8 + ["bn"] * 9 + ["pl"] * 5 + ["tr"] * 4 + ["ur"] * 4 + ["en"] * 10
NEEDS = ["home_care", "personal_care", "companionship", "day_activities", "respite", "domestic", "transport", "reablement"]
GOALS = [
    "Keep living at home and see friends each week",
    "Get out to the mosque and the market on Fridays",
    "Have a carer who speaks my language",
    "Give my daughter a break on weekends",
    "Build up strength after my fall",
    "Go swimming again",
    "Cook my own meals with a little help",
]



def week(*parts: tuple[str, str, int]) -> dict[str, int]:
    """Return hours per time of day from (days, part, hours) such as ("mon-thu", "am", 3): days "mon", "mon-fri" or "sat,sun"."""
    order = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    hours_of = {}
    for days, part, hours in parts:
        for span in days.split(","):
            first, _, last = span.partition("-")
            for day in order[order.index(first):order.index(last or first) + 1]:
                hours_of[f"{day}_{part}"] = hours
    return {f"{day}_{part}": hours_of[f"{day}_{part}"] for day in order for part in ("am", "pm", "eve") if f"{day}_{part}" in hours_of}


# (name, kind, ownership, services, languages, staff genders, hourly rate in pence, weekly cap in hours (None: none), district)
PROVIDERS = [
    ("Hooyo Care Co-operative", ProviderKind.coop, "worker co-operative", ["home_care", "personal_care", "companionship"], ["so", "en"], ["female"], 2150, 120, "E1"),
    ("Sylhet Sisters Homecare CIC", ProviderKind.cic, "community interest company", ["home_care", "personal_care", "domestic"], ["bn", "en"], ["female"], 2250, 90, "E1W"),
    ("Bow Friends Day Club", ProviderKind.charity, "registered charity", ["day_activities", "companionship", "transport"], ["en", "bn"], ["female", "male"], 1900, 150, "E3"),
    ("Docklands Reablement Ltd", ProviderKind.private, "private company", ["reablement", "personal_care"], ["en", "pl"], ["female", "male"], 2850, 168, "E14"),
    ("Kasia's Helping Hands", ProviderKind.micro_provider, "sole trader micro-enterprise", ["domestic", "companionship", "home_care"], ["pl", "en"], ["female"], 2000, 35, "E2"),
    ("Anatolia Home Support", ProviderKind.micro_provider, "family micro-enterprise", ["home_care", "companionship"], ["tr", "en"], ["female", "male"], 2100, 40, "E15"),
    ("Stratford Respite Co-op", ProviderKind.coop, "multi-stakeholder co-operative", ["respite", "personal_care"], ["en", "ur"], ["female", "male"], 2400, None, "E15"),
]
# How many people work for each provider (five or fewer is a micro-provider); a personal assistant is one.
STAFF_COUNTS = {
    "Hooyo Care Co-operative": 14, "Sylhet Sisters Homecare CIC": 9, "Bow Friends Day Club": 22, "Docklands Reablement Ltd": 40,
    "Kasia's Helping Hands": 2, "Anatolia Home Support": 4, "Stratford Respite Co-op": 5,
}
# The hours each provider's staff can work in each time of day, across all their groups.
PROVIDER_HOURS = {
    "Hooyo Care Co-operative": week(("mon-fri", "am", 12), ("mon-fri", "pm", 10), ("mon-fri", "eve", 4), ("sat", "am", 6), ("sat", "pm", 6)),
    "Sylhet Sisters Homecare CIC": week(("mon-fri", "am", 10), ("mon-fri", "pm", 6), ("sat", "am", 6)),
    "Bow Friends Day Club": week(("mon-fri", "am", 12), ("mon-fri", "pm", 12), ("sat", "am", 6)),
    "Docklands Reablement Ltd": week(("mon-sun", "am", 8), ("mon-sun", "pm", 8), ("mon-sun", "eve", 4)),
    "Kasia's Helping Hands": week(("mon-fri", "am", 4), ("mon-fri", "pm", 4)),
    "Anatolia Home Support": week(("mon-sat", "am", 4), ("mon-sat", "pm", 3)),
    "Stratford Respite Co-op": week(("mon-fri", "eve", 4), ("sat-sun", "am", 6), ("sat-sun", "pm", 6), ("sat-sun", "eve", 6)),
    "Fartun Abdi (PA)": week(("mon-sat", "am", 3)),
    "Nasima Khatun (PA)": week(("mon-fri", "am", 2), ("tue,thu", "pm", 3), ("sat", "pm", 3)),
    "Tomasz Nowak (PA)": week(("mon-fri", "pm", 4)),
    "Grace Mensah (PA)": week(("mon-fri", "eve", 2), ("sat-sun", "am", 3)),
    "Bilal Iqbal (PA)": week(("tue,thu", "am", 3), ("mon,wed,fri", "pm", 3)),
    "Headingley Care Co-op": week(("mon-tue", "am", 20), ("wed", "pm", 20)),
}
# Personal assistants: (name, languages, genders, district).
PAS = [
    ("Fartun Abdi (PA)", ["so", "en", "ar"], ["female"], "E1"),
    ("Nasima Khatun (PA)", ["bn", "en"], ["female"], "E2"),
    ("Tomasz Nowak (PA)", ["pl", "en"], ["male"], "E14"),
    ("Grace Mensah (PA)", ["en", "tw"], ["female"], "E3"),
    ("Bilal Iqbal (PA)", ["ur", "pa", "en"], ["male"], "E1W"),
]
SLOTS = [f"{d}_{p}" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun") for p in ("am", "pm", "eve")]

# Where each group's story ends: active, still forming, members voting to close it ("closing": the
# product closes a group in the same moment the vote passes, so its status stays active until then),
# or closed. Each group draws its members from the holders whose first language is `lang`.
CLUSTERS = [
    ("Somali elders of Whitechapel", ["culture", "neighbourhood"], "E1", "so", ClusterStatus.active, "Somali-speaking elders pooling for home care from women carers who share our language and faith."),
    ("Bengali women's care circle", ["culture"], "E1W", "bn", ClusterStatus.active, "Bengali and Sylheti-speaking women buying personal care together."),
    ("Bow carers' respite group", ["care_need"], "E3", "en", ClusterStatus.active, "Families who need regular respite breaks, sharing a trusted team."),
    ("Polish companions", ["culture", "goal"], "E14", "pl", ClusterStatus.forming, "Polish speakers who want company and help getting out and about."),
    ("Poplar get-moving group", ["goal", "neighbourhood"], "E14", "en", ClusterStatus.forming, "Regaining strength after illness, with reablement sessions together."),
    ("Stratford Turkish families", ["culture", "neighbourhood"], "E15", "tr", ClusterStatus.closing, "Turkish-speaking families; closing as members move to a new scheme."),
    ("Bethnal Green lunch club", ["neighbourhood", "care_need"], "E2", "en", ClusterStatus.closed, "A lunch and companionship group that has finished its work."),
    ("Urdu speakers' home help", ["culture", "care_need"], "E1W", "ur", ClusterStatus.active, "Urdu-speaking households sharing domestic help and companionship."),
]
GROUP_SIZE = (3, 8)  # the demo groups' smallest and largest size

# What the active groups ask the matching to find: (group, service, hours a week in each time of day, languages,
# language required, carer gender, most per hour in pence).
DEMAND = [
    ("Somali elders of Whitechapel", "home_care", week(("mon-thu", "am", 3), ("fri", "pm", 2)), ["so"], True, "female", 2400),
    ("Somali elders of Whitechapel", "respite", week(("sun", "eve", 4)), ["so"], True, "female", 2600),
    ("Bengali women's care circle", "personal_care", week(("mon,wed", "am", 3), ("fri-sat", "am", 2)), ["bn"], True, "female", 2500),
    ("Bengali women's care circle", "companionship", week(("tue,thu", "pm", 3)), ["bn", "en"], False, None, 2000),
    ("Bow carers' respite group", "respite", week(("sat", "am", 3), ("sat", "pm", 3), ("sun", "am", 2)), [], False, None, 2600),
    ("Urdu speakers' home help", "domestic", week(("mon,wed,fri", "pm", 2)), ["ur"], False, None, 2000),
]
# Care a group has already agreed: matched, sent to the group, voted through and contracted.
CONTRACTED = ("Bengali women's care circle", "domestic", week(("tue,thu", "am", 2), ("sat", "pm", 2)), ["bn"], True, "female", 2400)
# Its visits in a week: (weekday, Monday = 0; start; minutes), in the times the circle asked for: six hours in all.
CONTRACTED_VISITS = [(1, time(9, 30), 120), (3, time(9, 30), 120), (5, time(14, 0), 120)]

# The weekly runs pay direct payments and collect pledges for this many weeks before the real one, so the
# previous calendar quarter in England (which can begin 26 weeks before today) is always in the story.
HISTORY_WEEKS = 27
# The other council joined carepool later: its weekly runs cover only this many weeks (it is there to show tenancy).
OTHER_COUNCIL_WEEKS = 4
# The story begins this many weeks before the real week: a fortnight for the groups to form, then the weeks of money.
STORY_WEEKS = HISTORY_WEEKS + 3


class AgreedCare(NamedTuple):
    """Care a group agrees earlier in the story and gets from then on."""

    weeks_back: int  # weeks before the real week that the group asks for it (on the Saturday; voted through on Sunday)
    wish: tuple  # as in DEMAND
    provider: str  # the one provider the wish can find: its service, language or carer is offered by nobody else
    visits: list  # the visits of a week of care: (weekday, Monday = 0; start; minutes)
    every: int = 1  # care every this many weeks


# The first two are agreed the weekend before the weekly runs begin, the CIC's four months ago. The Urdu
# speakers ask for no care until the last days, so their pool shares keep months of pledges unspent.
HISTORY_CARE = [
    AgreedCare(HISTORY_WEEKS + 1, ("Somali elders of Whitechapel", "personal_care", week(("tue", "am", 3), ("thu", "pm", 3)), ["so"], True, "female", 2400),
               "Hooyo Care Co-operative", [(1, time(9, 0), 180), (3, time(14, 0), 180)]),
    # A day at the club every other Wednesday, for one member in turn.
    AgreedCare(HISTORY_WEEKS + 1, ("Bow carers' respite group", "day_activities", week(("wed", "am", 3), ("wed", "pm", 3)), [], False, None, 2200),
               "Bow Friends Day Club", [(2, time(10, 0), 360)], every=2),
    # Personal care on Monday and Friday mornings of every other week.
    AgreedCare(16, ("Bengali women's care circle", "personal_care", week(("mon,fri", "am", 2)), ["bn"], True, "female", 2500),
               "Sylhet Sisters Homecare CIC", [(0, time(9, 0), 120), (4, time(9, 0), 120)], every=2),
]

# The people whose sign-in details `brokerage demo` prints: (email, name), or the email of a holder's or provider's login.
ADMIN = ("admin@carepool.example", "Alex Admin")
BROKER = ("broker@riverside.example", "Bola Broker")
# A second broker records providers' evidence, so Bola can check it: nobody verifies what they added themselves.
BROKER_2 = ("broker2@riverside.example", "Femi Second-Broker")
OFFICER = ("officer@riverside.example", "Chris Officer")
OFFICER_2 = ("officer2@riverside.example", "Dana Second-Officer")
HOLDER_LOGIN = "holder@riverside.example"
REPRESENTATIVE = ("rep@riverside.example", "Idil Hassan")
PROVIDER_LOGIN = "provider@riverside.example"
# The provider login belongs to the personal assistant the Bengali circle contracts, so it has visits to record and payments to see.
PROVIDER_WITH_LOGIN = "Nasima Khatun (PA)"
OTHER_BROKER = ("broker@northfield.example", "Nia Northfield-Broker")
OTHER_HOLDER_LOGIN = "holder@northfield.example"
PRINTED = [ADMIN[0], BROKER[0], BROKER_2[0], OFFICER[0], OFFICER_2[0], HOLDER_LOGIN, REPRESENTATIVE[0], PROVIDER_LOGIN, OTHER_BROKER[0], OTHER_HOLDER_LOGIN]
# Every other holder who takes part in a group signs in with an address like this one (not printed).
MEMBER_EMAIL = "holder{id}@members.riverside.example"
# The holder the broker has just invited: the invitation waits in the outbox (/admin/outbox, for the admin login).
INVITED_EMAIL = "holder{id}@invited.riverside.example"
# The personal assistant the broker registered and has just invited to sign in: the invitation waits in the outbox too.
PROVIDER_INVITED = "Bilal Iqbal (PA)"
INVITED_PROVIDER_EMAIL = "provider{id}@invited.riverside.example"
# Each provider with care to record signs in with an address like this one (not printed; Nasima's is PROVIDER_LOGIN).
PROVIDER_EMAIL = "provider{id}@providers.riverside.example"
