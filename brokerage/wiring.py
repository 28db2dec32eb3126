"""Connect the domain packages' cross-package hooks; called once by `create_app` (the top layer).

A lower package offers a registry; a higher package registers what it owns here, so no lower package
ever imports a higher one (issue 9: the ledger knows no domain, clusters never imports matching).
"""

from __future__ import annotations


def connect_domains() -> None:
    """Register every package's hooks; safe to call more than once."""
