"""The words several packages share have one home, and every page and the matching engine read them from it."""

from __future__ import annotations

from brokerage import formatting, vocabulary
from brokerage.matching import vocabulary as engine
from brokerage.matching.explain import _supplier_phrase
from brokerage.providers.models import ProviderKind


def test_each_provider_kind_has_one_label_for_pages_and_for_the_engines_explanations():
    assert [kind.value for kind in ProviderKind] == list(vocabulary.PROVIDER_KINDS) == list(engine.KINDS)
    assert ProviderKind.coop.label == "Care co-operative"
    for kind in ProviderKind:
        assert engine.KIND_NAMES[kind.value] == kind.label[0].lower() + kind.label[1:]


def test_the_engine_says_care_co_operative_as_the_pages_do():
    class Supply:
        kind, living_wage, ethical_care_charter = "coop", True, False

    assert _supplier_phrase(Supply) == "care co-operative paying the Living Wage"


def test_every_iso_639_1_code_is_accepted_with_a_name_from_the_locale_data():
    assert len(vocabulary.LANGUAGE_CODES) == 185
    assert {"en", "so", "bn", "sh", "bh", "zu"} <= vocabulary.LANGUAGE_CODES
    assert engine.LANGUAGE_CODES is vocabulary.LANGUAGE_CODES
    assert vocabulary.language_name("so") == "Somali"
    assert vocabulary.language_name("bh") == "Bihari"  # withdrawn from ISO 639-1, still sent by older systems
    assert vocabulary.language_name("bn") == "Bengali"  # CLDR says "Bangla"; people in England say Bengali
    assert vocabulary.language_name("zz") == "zz"
    assert all(name and name != code for code, name in vocabulary.LANGUAGE_NAMES.items())


def test_the_forms_offer_the_common_languages_english_first_then_by_name():
    assert len(vocabulary.COMMON_LANGUAGES) == 33 and set(vocabulary.COMMON_LANGUAGES) <= vocabulary.LANGUAGE_CODES
    choices = vocabulary.language_choices(["de", "so"])
    assert choices[0] == ("en", "English")
    assert [code for code, _ in choices].count("so") == 1 and ("de", "German") in choices
    names = [name for _, name in choices[1:]]
    assert names == sorted(names)


def test_services_and_slots_are_named_once():
    assert list(vocabulary.SERVICE_NAMES) == list(vocabulary.SERVICES) == list(engine.SERVICES)
    assert engine.service_name("domestic") == vocabulary.service_name("domestic") == "domestic help"
    assert vocabulary.slot_label("sun_eve") == "Sunday evening" and engine.slot_name("sun_eve") == "Sunday evenings"


def test_formatting_keeps_no_word_lists_of_its_own():
    assert not hasattr(formatting, "LANGUAGE_NAMES") and not hasattr(formatting, "SERVICE_NAMES")
    assert formatting.language_name is vocabulary.language_name and formatting.service_name is vocabulary.service_name


def test_vetting_evidence_is_named_as_a_sentence_reads_it():
    assert vocabulary.vetting_names(["dbs", "insurance", "cqc"]) == "DBS check, insurance, CQC registration"
    assert vocabulary.vetting_names([]) == ""


def test_no_hourly_rate_the_product_takes_is_one_the_matching_format_refuses():
    from brokerage.matching.instance import MAX_PENCE
    from brokerage.vocabulary import HOURLY_RATE_MAX_PENCE

    assert 0 < HOURLY_RATE_MAX_PENCE < MAX_PENCE


def test_the_hours_of_each_part_of_the_day_are_said_from_the_same_table_visits_are_judged_by():
    assert vocabulary.part_hours_sentence() == "A morning is 6am to midday, an afternoon midday to 5pm and an evening 5pm to 10pm."
    # A visit starting at 5pm is in the evening, as the sentence says.
    from datetime import date, time

    from brokerage.timesheets.rules import visit_slot

    assert visit_slot(date(2026, 11, 30), time(17, 0)) == "mon_eve" and visit_slot(date(2026, 11, 30), time(11, 59)) == "mon_am"
    assert visit_slot(date(2026, 11, 30), time(22, 0)) is None


def test_a_time_of_day_is_said_one_way_everywhere_the_govuk_way():
    said = [vocabulary.clock_words(h, m) for h, m in [(0, 0), (0, 30), (6, 0), (9, 30), (12, 0), (12, 5), (13, 0), (17, 5), (23, 59), (24, 0)]]
    assert said == ["midnight", "12:30am", "6am", "9:30am", "midday", "12:05pm", "1pm", "5:05pm", "11:59pm", "midnight"]
