"""Fixed vocabularies of the matching format: slots, kinds, genders and ISO 639-1 languages.

The codes and their names live in `brokerage.vocabulary`, shared with every page; the file format
depends on these codes, so the engine reads them from here.
"""

from __future__ import annotations

from brokerage.vocabulary import (  # noqa: F401 (re-exported for the engine)
    GENDERS,
    LANGUAGE_CODES,
    PROVIDER_KINDS as KINDS,
    SERVICES,
    SLOT_BIT,
    SLOTS,
    language_name,
    provider_kind_name,
    service_name,
    slot_name,
    times_phrase,
)

# How the engine's explanations name each kind of supplier, in a sentence.
KIND_NAMES = {kind: provider_kind_name(kind) for kind in KINDS}
