"""Validation problems, reported with the file, the record, the field and a suggestion."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
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
    """A name given by a user (therapy, cargo, cell type, ...) that the KB does not know.

    ``what`` is the kind of thing expected ("therapy", "cell type", ...), ``suggestions`` the
    closest valid names (best first), ``hint`` a sentence saying what the name is instead (a name
    of another kind, a known drug that is not in the KB) and ``listing`` the command that lists
    every valid value. ``str(error)`` is one line.
    """

    def __init__(
        self,
        what: str,
        name: str,
        choices: Iterable[str] = (),
        *,
        suggestions: Sequence[str] | None = None,
        hint: str | None = None,
        listing: str | None = None,
        message: str | None = None,
    ) -> None:
        self.what = what
        self.name = name
        self.suggestions = list(suggestions) if suggestions is not None else suggest(name, choices, n=3)
        self.hint = hint
        self.listing = listing
        if message is None:
            message = f"unknown {what} '{_printable(name)}'"
            if hint:
                message += f": {hint}"
            if self.suggestions:
                message += (": " if not hint else "; ") + "did you mean " + " or ".join(f"'{s}'" for s in self.suggestions) + "?"
            if listing:
                message += f" (all valid values: {listing})"
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.args[0])


def _printable(name: str) -> str:
    """``name`` with control characters escaped, so an error stays on one line."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in name)


_TOKEN = re.compile(r"[a-z]+|[0-9]+")


def name_tokens(name: str) -> list[str]:
    """Word and number tokens of a name, case-folded, with the miRBase species prefix and a plural
    ``s`` dropped: ``hsa-miR-122-5p`` -> ``['mir', '122', '5', 'p']``."""
    s = name.casefold().strip()
    s = s.removeprefix("hsa-")
    tokens = _TOKEN.findall(s)
    return [t[:-1] if len(t) > 3 and t.endswith("s") and not t.isdigit() else t for t in tokens]


def _compact(name: str) -> str:
    return "".join(name_tokens(name))


def similarity(query: str, choice: str) -> float:
    """How alike two names are, in [0, 1]: the better of the edit-distance ratio of their compact
    forms and a token overlap in which numbers count double (so ``miR-122-5p`` is nearer to
    ``miR-122`` than to ``miR-21-5p``); a choice whose tokens begin the query's (or the reverse)
    gets a bonus."""
    a, b = _compact(query), _compact(choice)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    edit = difflib.SequenceMatcher(None, a, b).ratio()
    ta, tb = name_tokens(query), name_tokens(choice)

    def weight(tokens: Iterable[str]) -> float:
        return sum(2.0 if t.isdigit() else 1.0 for t in tokens)

    sa, sb = set(ta), set(tb)
    union = weight(sa | sb)
    overlap = weight(sa & sb) / union if union else 0.0
    # a number token in the query that the choice lacks is strong evidence against it
    if {t for t in sa if t.isdigit()} and not ({t for t in sa if t.isdigit()} & sb):
        overlap *= 0.5
        edit *= 0.8
    prefix = min(len(ta), len(tb))
    bonus = 0.3 if prefix and ta[:prefix] == tb[:prefix] else 0.0
    return min(0.99, max(edit, overlap) + bonus)


def suggest(name: str, choices: Iterable[str], n: int = 1, cutoff: float = 0.6) -> list[str]:
    """Closest matches to ``name`` among ``choices`` (case-insensitive), best first, by token and
    edit distance (:func:`similarity`)."""
    pool: dict[str, str] = {}
    for c in choices:
        pool.setdefault(c.casefold(), c)
    if name.casefold() in pool:
        return [pool[name.casefold()]][:n]
    scored = sorted(((similarity(name, c), c) for c in pool.values()), key=lambda x: (-x[0], len(x[1]), x[1]))
    return [c for s, c in scored if s >= cutoff][:n]


class StoreError(RuntimeError):
    """The store URL is invalid, the store is missing, or it was built by another schema version
    (raised by :mod:`exoresist.kb.store`; defined here so that catching it does not load SQLAlchemy)."""
