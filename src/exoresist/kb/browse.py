"""Browsing the KB: one record in full, text search, facet counts, the therapy class hierarchy,
where an entity is used, and how to cite a record. The CLI and the web pages both call these.

>>> from exoresist.kb import load_kb
>>> kb = load_kb()
>>> [r.id for r in search(kb, "circUHRF1")]
['ent:circuhrf1', 'mech:circuhrf1-nk-tim3']
>>> [r.id for r in search(kb, "TIM-3 NK")]
['mech:circuhrf1-nk-tim3']
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from exoresist.kb.base import KnowledgeBase
from exoresist.kb.models import Biomarker, Entity, Intervention, Mechanism, Record, Therapy
from exoresist.kb.names import norm as _norm
from exoresist.kb.vocab import CellType, EvidenceGrade, EvidenceKind, Phenotype, TherapyClass
from exoresist.kb.xrefs import Unresolved, Xref

GRADE_MEANING: dict[str, str] = {
    EvidenceGrade.A.value: "shown in HCC both in vitro and in vivo",
    EvidenceGrade.B.value: "shown in HCC in vitro only, or in patient samples only",
    EvidenceGrade.C.value: "shown in other cancers, or in HCC without the exosomal step",
    EvidenceGrade.D.value: "proposed by the review without direct evidence (a hypothesis)",
}
"""What each evidence grade means (the rules :class:`~exoresist.kb.vocab.EvidenceGrade` states)."""

EVIDENCE_KIND_MEANING: dict[str, str] = {
    EvidenceKind.IN_VITRO.value: "cell culture experiments",
    EvidenceKind.IN_VIVO.value: "animal experiments (e.g. mouse xenografts)",
    EvidenceKind.PATIENT_SAMPLES.value: "measurements in patients' tissue, serum or plasma",
}

FACETS = ("cargo_class", "therapy", "donor", "recipient", "phenotype", "evidence", "grade")
"""The filters of :meth:`KnowledgeBase.query` that :func:`facet_counts` counts values of."""


def record_detail(kb: KnowledgeBase, xrefs: Sequence[Xref], unresolved: Sequence[Unresolved], record_id: str) -> dict[str, Any]:
    """One record in full (what ``kb show`` prints): the curated fields, for a mechanism its cargo
    record and cargo class, and the identifiers resolved (or not) for it and its cargo."""
    rec = kb.get(record_id)
    out: dict[str, Any] = rec.model_dump(mode="json", exclude_defaults=True)
    if isinstance(rec, Mechanism):
        ent = kb.entity(rec.cargo)
        out["cargo_record"] = ent.id
        cc = kb.cargo_class(rec)
        out["cargo_class"] = cc.value if cc else None
        ids = {ent.id, rec.id}
    else:
        ids = {rec.id}
    out["identifiers"] = [x.__dict__ for x in xrefs if x.record_id in ids]
    out["unresolved"] = [u.__dict__ for u in unresolved if u.record_id in ids]
    return out


def record_label(rec: Record) -> str:
    """A record's display name: a mechanism's title, otherwise its name."""
    return rec.title if isinstance(rec, Mechanism) else rec.name


def _texts(kb: KnowledgeBase, rec: Record) -> tuple[list[str], list[str]]:
    """(names, other text) of a record that a search looks in."""
    names = [rec.id, record_label(rec)]
    other: list[str] = [rec.notes or ""]
    if isinstance(rec, Mechanism):
        ent = kb.entity(rec.cargo)
        names += [ent.name, *ent.aliases]
        other += [n for s in rec.axis for n in (s.source, s.target)] + list(rec.pathways)
        other += [e.finding for e in rec.evidence] + [e.first_author or "" for e in rec.evidence]
    elif isinstance(rec, Entity | Therapy | Intervention):
        names += list(rec.aliases)
        if isinstance(rec, Entity):
            other.append(rec.description or "")
        if isinstance(rec, Intervention):
            other += [*rec.target_entities, rec.payload or ""]
    elif isinstance(rec, Biomarker):
        names += list(rec.markers)
        other += [e.finding for e in rec.evidence]
    return names, other


class SearchIndex:
    """The folded texts of every record, computed once, for repeated :meth:`search` calls."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._texts: dict[str, tuple[list[str], list[str]]] = {}
        for rec in kb.records:
            names, other = _texts(kb, rec)
            self._texts[rec.id] = ([_norm(n) for n in names], [_norm(o) for o in other])

    def search(self, text: str, records: Iterable[Record] | None = None) -> list[Record]:
        """See :func:`search`."""
        words = [w for w in (_norm(w) for w in re.split(r"\s+", text.strip())) if w]
        pool = list(self.kb.records if records is None else records)
        if not words:
            return pool
        whole = _norm(text)
        scored: list[tuple[int, int, Record]] = []
        for i, rec in enumerate(pool):
            nnames, nother = self._texts.get(rec.id) or ([_norm(n) for n in _texts(self.kb, rec)[0]], [])
            if not all(any(w in n for n in nnames) or any(w in o for o in nother) for w in words):
                continue
            if whole in nnames:
                score = 0
            elif all(any(w in n for n in nnames) for w in words):
                score = 1
            else:
                score = 2
            scored.append((score, i, rec))
        return [r for _, _, r in sorted(scored, key=lambda t: (t[0], t[1]))]


def search(kb: KnowledgeBase, text: str, records: Iterable[Record] | None = None) -> list[Record]:
    """Records whose id, name, alias, cargo, axis, pathways, findings or notes contain every word
    of ``text`` (case-insensitive; hyphens, spaces and Greek letters folded as in name look-ups).

    Best first: an exact id or name, then a word found in a name, then in other text. (Build a
    :class:`SearchIndex` once to search the same KB many times.)"""
    return SearchIndex(kb).search(text, records)


def facet_counts(kb: KnowledgeBase, mechanisms: Iterable[Mechanism]) -> dict[str, dict[str, int]]:
    """For each facet of :data:`FACETS`, how many of ``mechanisms`` have each value (most first).

    Therapy counts are by therapy reference as curated (``ther:...`` or ``class:...``); a record
    counts once per value however often it names it."""
    counts: dict[str, Counter[str]] = {f: Counter() for f in FACETS}
    for m in mechanisms:
        cc = kb.cargo_class(m)
        counts["cargo_class"][cc.value if cc else "none"] += 1
        counts["therapy"].update({t.therapy for t in m.therapies})
        counts["donor"].update({c.value for c in m.donor_cells})
        counts["recipient"].update({c.value for c in m.recipient_cells})
        counts["phenotype"].update({p.value for p in m.phenotypes})
        counts["evidence"].update({k.value for e in m.evidence for k in e.kinds})
        counts["grade"][m.evidence_grade.value] += 1
    return {f: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) for f, c in counts.items()}


def facet_choices(kb: KnowledgeBase) -> dict[str, list[str]]:
    """Every value each facet can take (the vocabularies; for therapies the records and classes)."""
    from exoresist.kb.vocab import CargoClass

    return {
        "cargo_class": [c.value for c in CargoClass],
        "therapy": [t.id for t in kb.therapies] + [f"class:{c.value}" for c in TherapyClass],
        "donor": [c.value for c in CellType],
        "recipient": [c.value for c in CellType],
        "phenotype": [p.value for p in Phenotype],
        "evidence": [k.value for k in EvidenceKind],
        "grade": [g.value for g in EvidenceGrade],
    }


def therapy_hierarchy(kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Therapy classes with the drugs and regimens in each (a drug can be in several classes), in
    vocabulary order; classes without a therapy record are kept (records may name the class)."""
    out = []
    for c in TherapyClass:
        members = [{"id": t.id, "name": t.name} for t in kb.therapies if c in t.therapy_classes]
        out.append({"ref": f"class:{c.value}", "class": c.value, "therapies": members})
    return out


def entity_uses(kb: KnowledgeBase, name: str) -> dict[str, Any]:
    """Where an entity (by name or alias) appears: the records it is the cargo of, the records whose
    axis or pathways name it, the interventions acting on it and the biomarkers measuring it."""
    ent = kb.entity(name)
    names = {ent.name, *ent.aliases}
    as_cargo = [m.id for m in kb.mechanisms if kb.entity(m.cargo).id == ent.id]
    on_axis = [
        m.id
        for m in kb.mechanisms
        if m.id not in as_cargo and names & ({n for s in m.axis for n in (s.source, s.target)} | set(m.pathways))
    ]
    interventions = [i.id for i in kb.interventions if names & {*i.target_entities, i.payload or ""}]
    biomarkers = [b.id for b in kb.biomarkers if names & set(b.markers)]
    return {"entity": ent.id, "as_cargo": as_cargo, "on_axis": on_axis, "interventions": interventions, "biomarkers": biomarkers}


def citation(rec: Record, *, kb_version: str, content_hash: str, url: str, accessed: date | None = None) -> dict[str, str]:
    """How to cite one record: a line of text and a BibTeX entry naming the KB version and hash."""
    day = (accessed or date.today()).isoformat()
    title = record_label(rec)
    key = "exoresist-" + re.sub(r"[^a-z0-9]+", "-", rec.id.lower()).strip("-")
    text = (
        f"exoresist knowledge base {kb_version} (content {content_hash[:12]}), record {rec.id}: {title}. {url} (accessed {day})."
    )
    bib_title = title.replace("{", "").replace("}", "")
    bibtex = (
        f"@misc{{{key},\n"
        f"  title        = {{{{{bib_title}}} (exoresist record {rec.id})}},\n"
        f"  howpublished = {{\\url{{{url}}}}},\n"
        f"  note         = {{exoresist knowledge base {kb_version}, content hash {content_hash[:12]}; accessed {day}}},\n"
        f"  year         = {{{day[:4]}}}\n"
        "}"
    )
    return {"text": text, "bibtex": bibtex}
