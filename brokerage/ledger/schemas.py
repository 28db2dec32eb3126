"""Marshmallow schemas for the ledger pages."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from brokerage.ledger.kinds import EntryKind
from brokerage.ledger.rules import AccountType
from brokerage.validation import DayRangeFilters, Text, WholeNumber
from brokerage.validation import load_filters as load_query


class EntryFilterSchema(DayRangeFilters):
    """Filters on the council's journal page (query string)."""

    kind = Text(load_default=None, validate=validate.OneOf([kind.value for kind in EntryKind], error="Choose a kind of entry from the list"),
                metadata={"description": "Entry kind"})
    account = Text(load_default=None, validate=validate.Length(max=80, error="Enter at most {max} characters of an account"),
                   metadata={"description": "Part of an account's name (a person, group or provider) or code"})


def load_filters(args) -> tuple[dict, dict[str, list[str]]]:
    """Load filters from the query string; blank values mean no filter. Return (filters, errors)."""
    return load_query(EntryFilterSchema, args)



class AccountFilterSchema(Schema):
    """Filters on the council's page of accounts (query string): a type of account, part of a name, a page."""

    type = fields.Enum(AccountType, by_value=True, load_default=None, data_key="type", attribute="account_type",
                       error_messages={"unknown": "Choose a type of account from the list"}, metadata={"description": "Type of account"})
    account = Text(load_default=None, validate=validate.Length(max=80, error="Enter at most {max} characters of an account"),
                   metadata={"description": "Part of an account's name (a person, group or provider) or code"})
    page = WholeNumber(load_default=1, validate=validate.Range(min=1, max=100_000))

    class Meta:
        unknown = "exclude"


def load_account_filters(args) -> tuple[dict, dict[str, list[str]]]:
    """Load the accounts page's filters from the query string; blank values mean no filter. Return (filters, errors)."""
    return load_query(AccountFilterSchema, args)
