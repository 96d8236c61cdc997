"""The in-memory knowledge base: typed records, name resolution and queries.

>>> from exoresist.kb import load_kb
>>> kb = load_kb()
>>> kb.therapy("5-FU").id
'ther:5-fluorouracil'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from exoresist.kb.errors import UnknownNameError
from exoresist.kb.loader import Origin, load_validated
from exoresist.kb.models import Biomarker, Entity, Intervention, Mechanism, Record, Therapy
from exoresist.kb.vocab import (
    CARGO_CLASS_OF,
    CargoClass,
    CellType,
    EvidenceGrade,
    EvidenceKind,
    Phenotype,
    TherapyClass,
)

_E = TypeVar("_E", CargoClass, CellType, Phenotype, EvidenceKind, EvidenceGrade)

KB_VERSION = "0.1.0"
"""Version of the curated content. Raise it when records change meaning; the content hash
changes with every edit."""


def _norm(name: str) -> str:
    """Fold case and the spellings that vary between papers (hyphens, spaces, Greek letters)."""
    s = name.casefold().strip()
    for a, b in (("β", "beta"), ("α", "alpha"), ("γ", "gamma"), ("κ", "kappa"), ("ζ", "zeta"), ("ð", "d")):
        s = s.replace(a, b)
    return "".join(ch for ch in s if ch.isalnum() or ch in "+:/")


def _therapy_class_aliases(c: TherapyClass) -> set[str]:
    """A therapy class answers to its value and to the usual spelling ('anti-PD-1', 'TKI')."""
    names = {c.value, c.value.replace("_", "-"), c.name}
    extra = {
        TherapyClass.ANTI_PD1: {"anti-PD-1", "anti-PD1", "PD-1 inhibitor", "PD-1 blockade"},
        TherapyClass.ANTI_PDL1: {"anti-PD-L1", "PD-L1 inhibitor"},
        TherapyClass.ANTI_CTLA4: {"anti-CTLA-4", "CTLA-4 inhibitor"},
        TherapyClass.TKI: {"TKI", "TKIs"},
        TherapyClass.ANTI_VEGF: {"anti-VEGF", "VEGF antagonist"},
        TherapyClass.IMMUNOTHERAPY: {"ICI", "ICIs", "immune checkpoint inhibitor"},
        TherapyClass.CHEMOTHERAPY: {"chemo"},
    }.get(c, set())
    return names | extra


@dataclass(frozen=True)
class KnowledgeBase:
    """All validated records, with look-ups by id and by name (case-insensitive, by alias).

    Build one with :func:`exoresist.kb.load_kb` (from YAML) or :func:`exoresist.kb.store.read_store`.
    """

    records: tuple[Record, ...]
    origins: dict[str, Origin] = field(default_factory=dict, compare=False)

    # --- basic access -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.records)

    @cached_property
    def by_id(self) -> dict[str, Record]:
        return {r.id: r for r in self.records}

    def get(self, record_id: str) -> Record:
        """The record with this id; ``UnknownNameError`` with suggestions otherwise."""
        try:
            return self.by_id[record_id]
        except KeyError:
            raise UnknownNameError("record id", record_id, self.by_id) from None

    def of_kind(self, *kinds: str) -> list[Record]:
        return [r for r in self.records if r.kind in kinds]

    @property
    def mechanisms(self) -> list[Mechanism]:
        """Mechanism and hypothesis records, in curated order."""
        return [r for r in self.records if isinstance(r, Mechanism)]

    @property
    def entities(self) -> list[Entity]:
        return [r for r in self.records if isinstance(r, Entity)]

    @property
    def therapies(self) -> list[Therapy]:
        return [r for r in self.records if isinstance(r, Therapy)]

    @property
    def interventions(self) -> list[Intervention]:
        return [r for r in self.records if isinstance(r, Intervention)]

    @property
    def biomarkers(self) -> list[Biomarker]:
        return [r for r in self.records if isinstance(r, Biomarker)]

    # --- names --------------------------------------------------------------------------------
    @cached_property
    def _entity_index(self) -> dict[str, Entity]:
        return {_norm(n): e for e in self.entities for n in (e.name, *e.aliases)}

    def entity(self, name: str) -> Entity:
        """The entity named ``name`` or one of its aliases (circRNA-SORE = circSORE)."""
        try:
            return self._entity_index[_norm(name)]
        except KeyError:
            raise UnknownNameError("entity", name, [n for e in self.entities for n in (e.name, *e.aliases)]) from None

    @cached_property
    def _therapy_index(self) -> dict[str, Therapy]:
        return {_norm(n): t for t in self.therapies for n in (t.id, t.id.removeprefix("ther:"), t.name, *t.aliases)}

    @cached_property
    def _class_index(self) -> dict[str, TherapyClass]:
        return {_norm(a): c for c in TherapyClass for a in (*_therapy_class_aliases(c), f"class:{c.value}")}

    def therapy(self, name: str) -> Therapy:
        """A therapy record by id, name or alias (5-FU = fluorouracil)."""
        try:
            return self._therapy_index[_norm(name)]
        except KeyError:
            raise UnknownNameError("therapy", name, self._therapy_names()) from None

    def _therapy_names(self) -> list[str]:
        return [n for t in self.therapies for n in (t.name, *t.aliases)] + [c.value for c in TherapyClass]

    def therapy_refs(self, name: str) -> set[str]:
        """Every therapy reference (``ther:...`` and ``class:...``) that a query for ``name`` matches.

        A drug matches itself, the regimens it is part of, and its classes; a class matches itself
        and every drug in it (anti-PD-1 covers nivolumab and pembrolizumab).
        """
        key = _norm(name)
        if key in self._therapy_index:
            t = self._therapy_index[key]
            refs = {t.id} | {f"class:{c.value}" for c in t.therapy_classes}
            for comp in t.components:
                refs |= self.therapy_refs(comp)
            return refs
        if key in self._class_index:
            c = self._class_index[key]
            refs = {f"class:{c.value}"}
            refs |= {t.id for t in self.therapies if c in t.therapy_classes}
            return refs
        raise UnknownNameError("therapy", name, self._therapy_names())

    def cargo_class(self, mech: Mechanism) -> CargoClass | None:
        return CARGO_CLASS_OF.get(self.entity(mech.cargo).entity_type)

    # --- queries ------------------------------------------------------------------------------
    def query(
        self,
        *,
        cargo: str | None = None,
        cargo_class: str | None = None,
        therapy: str | None = None,
        phenotype: str | None = None,
        donor: str | None = None,
        recipient: str | None = None,
        evidence: str | None = None,
        grade: str | None = None,
        include_hypotheses: bool = True,
    ) -> list[Mechanism]:
        """Mechanism records matching every given filter (names case-insensitive, by alias).

        Unknown names raise ``UnknownNameError`` with suggestions; they never return an empty list.
        """
        found = [m for m in self.mechanisms if include_hypotheses or m.kind == "mechanism"]
        if cargo is not None:
            ent = self.entity(cargo)
            found = [m for m in found if self.entity(m.cargo).id == ent.id]
        if cargo_class is not None:
            cc = _enum_lookup(CargoClass, cargo_class, "cargo class")
            found = [m for m in found if self.cargo_class(m) is cc]
        if therapy is not None:
            refs = self.therapy_refs(therapy)
            found = [m for m in found if any(t.therapy in refs for t in m.therapies)]
        if phenotype is not None:
            ph = _enum_lookup(Phenotype, phenotype, "phenotype")
            found = [m for m in found if ph in m.phenotypes]
        if donor is not None:
            cell = _enum_lookup(CellType, donor, "cell type")
            found = [m for m in found if cell in m.donor_cells]
        if recipient is not None:
            cell = _enum_lookup(CellType, recipient, "cell type")
            found = [m for m in found if cell in m.recipient_cells]
        if evidence is not None:
            kind = _enum_lookup(EvidenceKind, evidence, "evidence kind")
            found = [m for m in found if any(kind in e.kinds for e in m.evidence)]
        if grade is not None:
            level = _enum_lookup(EvidenceGrade, grade, "evidence grade")
            found = [m for m in found if m.evidence_grade is level]
        return found

    def to_dataframe(self, records: Iterable[Record] | None = None) -> pd.DataFrame:
        """One row per record with the flat export columns (lists joined by '; ')."""
        rows = [flat_row(self, r) for r in (self.records if records is None else records)]
        return pd.DataFrame(rows, columns=list(EXPORT_COLUMNS))

    # --- identity -----------------------------------------------------------------------------
    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON of every record, sorted by id."""
        payload = json.dumps(
            [r.model_dump(mode="json") for r in sorted(self.records, key=lambda r: r.id)], sort_keys=True, ensure_ascii=False
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _enum_lookup(enum: type[_E], name: str, what: str) -> _E:
    for member in enum:
        if _norm(name) in {_norm(member.value), _norm(member.name)}:
            return member
    raise UnknownNameError(what, name, [m.value for m in enum])


EXPORT_COLUMNS = (
    "id",
    "kind",
    "title",
    "cargo",
    "cargo_aliases",
    "cargo_class",
    "donor_cells",
    "recipient_cells",
    "axis",
    "pathways",
    "phenotypes",
    "therapies",
    "evidence",
    "evidence_grade",
    "process",
    "table1_row",
    "review_sections",
    "notes",
)


def record_row(kb: KnowledgeBase, rec: Record) -> dict[str, Any]:
    """The export row of a record: the common columns, structured (lists and dicts kept).

    Mechanism-shaped columns are empty for other kinds; ``record`` holds the full record.
    """
    row: dict[str, Any] = dict.fromkeys(EXPORT_COLUMNS)
    row.update(id=rec.id, kind=rec.kind, notes=rec.notes)
    full = rec.model_dump(mode="json", exclude_defaults=True)
    if isinstance(rec, Mechanism):
        ent = kb.entity(rec.cargo)
        cc = kb.cargo_class(rec)
        row.update(
            title=rec.title,
            cargo=ent.name,
            cargo_aliases=list(ent.aliases),
            cargo_class=cc.value if cc else None,
            donor_cells=[c.value for c in rec.donor_cells],
            recipient_cells=[c.value for c in rec.recipient_cells],
            axis=[s.model_dump(mode="json", exclude_none=True) for s in rec.axis],
            pathways=list(rec.pathways),
            phenotypes=[p.value for p in rec.phenotypes],
            therapies=[t.model_dump(mode="json") for t in rec.therapies],
            evidence=[e.model_dump(mode="json", exclude_defaults=True) for e in rec.evidence],
            evidence_grade=rec.evidence_grade.value,
            process=rec.process.value if rec.process else None,
            table1_row=rec.table1_row,
            review_sections=[s.value for s in rec.review_sections],
        )
    elif isinstance(rec, Intervention):
        row.update(
            title=rec.name,
            cargo=rec.payload,
            cargo_class=rec.payload_class.value if rec.payload_class else None,
            donor_cells=[c.value for c in rec.target_donors],
            therapies=[t.model_dump(mode="json") for t in rec.therapies],
            evidence=[e.model_dump(mode="json", exclude_defaults=True) for e in rec.evidence],
            evidence_grade=rec.evidence_grade.value,
            process=rec.process.value,
            review_sections=[s.value for s in rec.review_sections],
        )
    elif isinstance(rec, Biomarker):
        row.update(
            title=rec.name,
            cargo="; ".join(rec.markers),
            therapies=[{"therapy": t, "direction": None} for t in rec.therapies],
            evidence=[e.model_dump(mode="json", exclude_defaults=True) for e in rec.evidence],
            evidence_grade=rec.evidence_grade.value,
            review_sections=[s.value for s in rec.review_sections],
        )
    elif isinstance(rec, Therapy):
        row.update(title=rec.name, review_sections=[s.value for s in rec.review_sections])
    elif isinstance(rec, Entity):
        row.update(title=rec.name, cargo_aliases=list(rec.aliases))
        cc = CARGO_CLASS_OF.get(rec.entity_type)
        row.update(cargo_class=cc.value if cc else None)
    row["record"] = full
    return row


def flat_row(kb: KnowledgeBase, rec: Record) -> dict[str, Any]:
    """The export row flattened for CSV/TSV and DataFrames: lists joined by '; '."""
    row = record_row(kb, rec)
    row.pop("record")
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key == "axis" and value:
            out[key] = "; ".join(f"{s['source']} -{s['relation']}-> {s['target']}" for s in value)
        elif key == "therapies" and value:
            out[key] = "; ".join(f"{t['therapy']} ({t['direction']})" if t["direction"] else t["therapy"] for t in value)
        elif key == "evidence" and value:
            out[key] = "; ".join(
                f"{'+'.join(e['kinds'])} {e.get('year', '?')} {e.get('first_author') or '?'} ref {e.get('review_ref') or '?'}"
                for e in value
            )
        elif isinstance(value, list):
            out[key] = "; ".join(str(v) for v in value)
        else:
            out[key] = value
    return out


def load_kb(paths: Sequence[Path | str] | None = None) -> KnowledgeBase:
    """Load and validate curated records (default: the records shipped with exoresist).

    Raises ``KBValidationError`` naming the file, record and field of every problem.
    """
    pairs = load_validated(paths)
    return KnowledgeBase(records=tuple(r for r, _ in pairs), origins={r.id: o for r, o in pairs})
