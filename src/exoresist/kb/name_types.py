"""The data types of the name resolver (:mod:`exoresist.kb.names`): kinds, synonyms, entries,
results, the checks every name passes and the reading of miRBase names."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from exoresist.kb.errors import UnknownNameError


class NameKind(StrEnum):
    """The kinds of name the resolver knows (``exoresist names --kind``)."""

    THERAPY = "therapy"  # drugs, regimens, brand names and therapy classes
    CELL = "cell"
    CARGO = "cargo"  # entities that some mechanism or hypothesis carries
    ENTITY = "entity"  # every entity (cargos, axis nodes, pathways, payloads)
    INTERVENTION = "intervention"
    PHENOTYPE = "phenotype"
    EVIDENCE = "evidence"
    CARGO_CLASS = "cargo-class"


#: How an error message names each kind.
KIND_WORDS: dict[NameKind, str] = {
    NameKind.THERAPY: "therapy",
    NameKind.CELL: "cell type",
    NameKind.CARGO: "cargo",
    NameKind.ENTITY: "entity",
    NameKind.INTERVENTION: "intervention",
    NameKind.PHENOTYPE: "phenotype",
    NameKind.EVIDENCE: "evidence kind",
    NameKind.CARGO_CLASS: "cargo class",
}
#: The option that takes each kind, for "try --intervention ..." hints.
KIND_OPTION: dict[NameKind, str] = {
    NameKind.THERAPY: "--therapy",
    NameKind.CELL: "--donor",
    NameKind.CARGO: "--cargo",
    NameKind.ENTITY: "--cargo",
    NameKind.INTERVENTION: "--intervention",
    NameKind.PHENOTYPE: "--phenotype",
    NameKind.EVIDENCE: "--evidence",
    NameKind.CARGO_CLASS: "--cargo-class",
}


def listing_command(kind: NameKind) -> str:
    """The command that lists every valid name of ``kind``."""
    return f"exoresist names --kind {kind.value}"


class NameInputError(UnknownNameError):
    """A name that cannot be a name at all: empty, or holding a control character."""


def check_name(text: str, what: str) -> str:
    """``text`` stripped, or ``NameInputError`` if it is empty or holds a control character
    (a newline, a tab, ...) - such a name would otherwise be matched by its letters alone."""
    label = what if what == "name" else f"{what} name"
    bad = [ch for ch in text if not ch.isprintable() and ch != " "]
    if bad:
        shown = text.encode("unicode_escape").decode("ascii")
        raise NameInputError(
            what, text, message=f"{label} '{shown}' contains a control character ({bad[0]!r}): type it on one line"
        )
    stripped = text.strip()
    if not stripped:
        raise NameInputError(what, text, message=f"empty {label}: give a name ({listing_command_for(what)} lists them)")
    return stripped


def listing_command_for(what: str) -> str:
    for kind, word in KIND_WORDS.items():
        if word == what:
            return listing_command(kind)
    return "exoresist names"


def norm(name: str) -> str:
    """Fold case and the spellings that vary between papers (hyphens, spaces, Greek letters)."""
    s = name.casefold().strip()
    for a, b in (("β", "beta"), ("α", "alpha"), ("γ", "gamma"), ("κ", "kappa"), ("ζ", "zeta"), ("ð", "d"), ("φ", "phi")):
        s = s.replace(a, b)
    return "".join(ch for ch in s if ch.isalnum() or ch in "+:/")


@dataclass(frozen=True)
class Synonym:
    """One way to write a name: the text, how it relates to the name and where it comes from."""

    text: str
    via: str  # "id", "name", "label", "alias", "brand name", "compound", "synonym", "miRBase name", ...
    source: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class NameEntry:
    """One thing a name can mean: a row of ``exoresist names``."""

    kind: NameKind
    id: str
    name: str
    synonyms: tuple[Synonym, ...]
    parent: str | None = None
    expands_to: tuple[str, ...] = ()
    in_kb: bool = True
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = self.kind.value
        d["synonyms"] = [{k: v for k, v in asdict(s).items() if v is not None} for s in self.synonyms]
        return d


@dataclass(frozen=True)
class Resolved:
    """What a name resolved to.

    ``id`` is the canonical id (``ther:sorafenib``, ``class:immunotherapy``, ``cell:m2_macrophage``,
    ``ent:mir-21-5p``, ``int:...``, ``phenotype:stemness``, ``evidence:in_vitro``,
    ``cargo-class:miRNA``); ``expands_to`` the ids a query for it matches (a class: itself, its
    sub-classes and their drugs) and ``labels`` their display names; ``via`` how the name matched
    and ``source`` where that synonym comes from; ``notes`` anything the user should know.
    """

    query: str
    kind: NameKind
    id: str
    name: str
    via: str
    matched: str
    source: str | None = None
    expands_to: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def covers(self) -> tuple[str, ...]:
        """The labels of what the name stands for besides itself: a class's sub-classes and drugs,
        a regimen's drugs, a parent cell type's subtypes, a precursor's mature forms. (A drug's
        own classes are in ``expands_to`` - a query for it matches records stated for them - but
        it does not stand for them.)"""
        pairs = zip(self.expands_to, self.labels, strict=False)
        if self.id.startswith("ther:"):
            return tuple(lab for i, lab in pairs if i.startswith("ther:") and i != self.id)
        return tuple(lab for i, lab in pairs if i != self.id)

    @property
    def expanded(self) -> bool:
        """True when the name covers more than itself (a class, a regimen, a parent cell type, a precursor)."""
        return bool(self.covers)

    def describe(self) -> str:
        """One line: what the name resolved to, how, and what it expanded to."""
        text = f"'{self.query}' = {self.name} ({KIND_WORDS[self.kind]} {self.id}"
        if self.via not in ("name", "id", "label"):
            text += f"; {self.via}" + (f", source: {self.source}" if self.source else "")
        text += ")"
        if self.expanded:
            text += f", expanded to {', '.join(self.covers)}"
        for note in self.notes:
            text += f"; {note}"
        return text

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = self.kind.value
        d["expanded"] = self.expanded
        return d


# --- miRBase forms --------------------------------------------------------------------------------
_MIR = re.compile(r"^(?P<species>hsa-)?(?P<fam>mir|mirna|microrna|let)-?(?P<num>\d+[a-z]?(?:-\d+)?)(?:-(?P<arm>[35]p))?$", re.I)


@dataclass(frozen=True)
class MirnaName:
    """A miRNA name read as miRBase writes it."""

    base: str  # "mir-21", "let-7a"
    arm: str | None
    precursor: bool  # written as a miRBase precursor (hsa-mir-21)


def parse_mirna(name: str) -> MirnaName | None:
    """``hsa-miR-21-5p`` -> base ``mir-21``, arm ``5p``; ``hsa-mir-21`` is the precursor."""
    m = _MIR.match(name.strip().replace(" ", ""))
    if m is None:
        return None
    fam = "let" if m["fam"].casefold() == "let" else "mir"
    precursor = bool(m["species"]) and m["fam"] == "mir" and not m["arm"]
    return MirnaName(f"{fam}-{m['num'].casefold()}", (m["arm"] or "").casefold() or None, precursor)
