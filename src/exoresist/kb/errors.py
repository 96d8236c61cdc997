"""Validation problems, reported with the file, the record, the field and a suggestion."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One problem found while validating curated records."""

    file: str
    record_id: str | None
    field: str | None
    message: str
    suggestion: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.record_id:
            where += f" [{self.record_id}]"
        if self.field:
            where += f" {self.field}"
        text = f"{where}: {self.message}"
        if self.suggestion:
            text += f" (did you mean '{self.suggestion}'?)"
        return text


class KBValidationError(ValueError):
    """Raised when curated records are invalid. ``issues`` lists every problem found."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues = list(issues)
        head = f"{len(self.issues)} problem(s) in the knowledge base records"
        super().__init__(head + ":\n" + "\n".join(f"  - {i}" for i in self.issues))


class UnknownNameError(LookupError):
    """A name given by a user (therapy, cargo, cell type, ...) that the KB does not know."""

    def __init__(self, what: str, name: str, choices: Iterable[str]) -> None:
        self.what = what
        self.name = name
        self.suggestions = suggest(name, choices, n=3)
        msg = f"unknown {what} '{name}'"
        if self.suggestions:
            msg += ": did you mean " + " or ".join(f"'{s}'" for s in self.suggestions) + "?"
        super().__init__(msg)


def suggest(name: str, choices: Iterable[str], n: int = 1) -> list[str]:
    """Closest matches to ``name`` among ``choices`` (case-insensitive), best first."""
    pool = {c.casefold(): c for c in choices}
    hits = difflib.get_close_matches(name.casefold(), list(pool), n=n, cutoff=0.6)
    return [pool[h] for h in hits]
