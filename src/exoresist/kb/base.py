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
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from exoresist.kb.errors import UnknownNameError
from exoresist.kb.loader import Origin, load_validated, validate_extra
from exoresist.kb.models import Biomarker, Entity, Intervention, Mechanism, Record, Therapy
from exoresist.kb.names import NameIndex, NameKind, norm
from exoresist.kb.vocab import CARGO_CLASS_OF, CargoClass

if TYPE_CHECKING:
    from exoresist.kb.query import QueryResult

KB_VERSION = "0.1.0"
"""Version of the curated content. Raise it when records change meaning; the content hash
changes with every edit."""


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

    def added_records(self) -> list[Record]:
        """The records that did not come from the shipped record files (a user's ``--records``)."""
        from exoresist.kb.loader import shipped_records_dir

        shipped = shipped_records_dir().resolve()
        out = []
        for r in self.records:
            file = self.origins.get(r.id, ("", 0))[0]
            if not file or shipped not in Path(file).resolve().parents:
                out.append(r)
        return out

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
    def names(self) -> NameIndex:
        """The resolver of every name this KB knows (:mod:`exoresist.kb.names`)."""
        return NameIndex(self)

    @cached_property
    def _entity_index(self) -> dict[str, Entity]:
        return {norm(n): e for e in self.entities for n in (e.name, *e.aliases)}

    def entity(self, name: str) -> Entity:
        """The entity named ``name`` or one of its aliases (circRNA-SORE = circSORE), or a miRBase
        form of it (hsa-miR-21-5p); ``UnknownNameError`` with suggestions otherwise."""
        hit = self._entity_index.get(norm(name)) if name.isprintable() else None
        if hit is not None:
            return hit
        ent = self.by_id.get(self.names.resolve(name, NameKind.ENTITY).id)
        if not isinstance(ent, Entity):  # pragma: no cover - the resolver returns entity ids only
            raise UnknownNameError("entity", name)
        return ent

    @cached_property
    def _therapy_index(self) -> dict[str, Therapy]:
        return {norm(n): t for t in self.therapies for n in (t.id, t.id.removeprefix("ther:"), t.name, *t.aliases)}

    def therapy(self, name: str) -> Therapy:
        """A therapy record by id, name, alias or brand name (5-FU = fluorouracil, Nexavar = sorafenib).

        A class is not a therapy record: ``UnknownNameError`` says what it covers."""
        hit = self._therapy_index.get(norm(name)) if name.isprintable() else None
        if hit is not None:
            return hit
        resolved = self.names.resolve(name, NameKind.THERAPY)
        rec = self.by_id.get(resolved.id)
        if isinstance(rec, Therapy):
            return rec
        raise UnknownNameError(
            "therapy",
            name,
            suggestions=[],
            message=f"'{name}' is the therapy class {resolved.name}, not one therapy: name a drug or regimen "
            f"({', '.join(lab for i, lab in zip(resolved.expands_to, resolved.labels, strict=True) if i.startswith('ther:'))})",
        )

    def therapy_refs(self, name: str) -> set[str]:
        """Every therapy reference (``ther:...`` and ``class:...``) that a query for ``name`` matches.

        A drug matches itself, its classes (and the classes above them) and, for a regimen, its
        components; a class matches itself, every class under it and every drug in one of them
        (immunotherapy covers anti-PD-1, which covers nivolumab and pembrolizumab).
        """
        return set(self.names.resolve(name, NameKind.THERAPY).expands_to)

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
        include_hypotheses: bool = False,
    ) -> list[Mechanism]:
        """Mechanism records (and, with ``include_hypotheses``, hypothesis records) matching every
        given filter; names resolve by alias, class and subtype (:meth:`search` says how).

        Unknown names raise ``UnknownNameError`` with suggestions; they never return an empty list.
        """
        return list(
            self.search(
                cargo=cargo,
                cargo_class=cargo_class,
                therapy=therapy,
                phenotype=phenotype,
                donor=donor,
                recipient=recipient,
                evidence=evidence,
                grade=grade,
                include_hypotheses=include_hypotheses,
            ).records
        )

    def search(self, *, include_hypotheses: bool = False, **filters: str | None) -> QueryResult:
        """Like :meth:`query`, with how each name resolved, what it expanded to, how many records
        each filter matches alone, and the hypotheses left out (:class:`~exoresist.kb.query.QueryResult`)."""
        from exoresist.kb.query import run_query

        return run_query(self, include_hypotheses=include_hypotheses, **filters)

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


def load_kb(paths: Sequence[Path | str] | None = None, *, extra: Sequence[Path | str] = ()) -> KnowledgeBase:
    """Load and validate curated records: the records shipped with exoresist (or those in
    ``paths``), plus the ``extra`` files or folders of a user's own records, validated together.

    Raises ``KBValidationError`` naming the file, record and field of every problem.

    The shipped KB alone (no ``paths``, no ``extra``) is read once per process: it is package data
    and a :class:`KnowledgeBase` is immutable, so every caller gets the same object.
    """
    if paths is None and not extra:
        return _shipped_kb()
    pairs = load_validated(paths, extra)
    return _from_pairs(pairs)


def _from_pairs(pairs: Sequence[tuple[Record, Origin]]) -> KnowledgeBase:
    return KnowledgeBase(records=tuple(r for r, _ in pairs), origins={r.id: o for r, o in pairs})


@lru_cache(maxsize=1)
def _shipped_kb() -> KnowledgeBase:
    pairs = load_validated(None, ())
    return _from_pairs(pairs)


def extend_kb(kb: KnowledgeBase, extra: Sequence[Path | str]) -> KnowledgeBase:
    """``kb`` (e.g. read from a store) with the records of the ``extra`` files or folders added,
    validated against it. Raises ``KBValidationError`` naming every problem."""
    base = [(r, kb.origins.get(r.id, ("", i))) for i, r in enumerate(kb.records)]
    pairs = validate_extra(base, extra)
    return _from_pairs(pairs)
