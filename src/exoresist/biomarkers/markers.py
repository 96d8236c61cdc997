"""Which cargos can be measured in a virtual patient, and how: the marker definitions.

A marker is a KB entity measured in plasma. It is *dynamic* when the patient model has a cargo pool
for it (some active mechanism record makes its donors secrete it); its level then follows the pool
over time. Otherwise it is *static*: its level is the tumour's expression draw only, constant in
time, and every output says so. A biomarker record whose marker names no single molecule (a protein
panel, "post-radiotherapy exosomes") cannot be measured and is listed with the reason.

Names are turned into entities by :func:`resolve_cargo`, the one adapter to the KB's name look-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from exoresist.biomarkers.errors import BiomarkerError
from exoresist.kb import Entity, KnowledgeBase, Mechanism
from exoresist.kb.vocab import Direction, EntityType
from exoresist.model.assemble import candidate_mechanisms, pool_name

MEASURABLE_TYPES = (EntityType.MIRNA, EntityType.CIRCRNA, EntityType.LNCRNA, EntityType.PROTEIN, EntityType.GENE)


def resolve_cargo(kb: KnowledgeBase, name: str) -> tuple[Entity, str]:
    """The KB entity a measured cargo's name means, and how the name was read ("" when by its
    name or id; otherwise the resolver's reading, e.g. "alias", "miRBase form", "miRBase name").

    The biomarker stage reads names only through the KB's one resolver (:mod:`exoresist.kb.names`):
    ``hsa-`` prefixes, miRBase forms, case and aliases are understood; an arm the KB does not hold
    is never guessed (``miR-4669-5p`` names an arm the KB has no record of). An unknown name raises
    :class:`~exoresist.kb.UnknownNameError` with suggestions.

    >>> from exoresist.kb import load_kb
    >>> resolve_cargo(load_kb(), "hsa-miR-4669")
    (..., 'miRBase form')
    """
    r = kb.names.resolve(name, "entity")
    ent = kb.entity(r.id)
    return ent, "" if r.via in ("name", "id") else r.via


@dataclass(frozen=True)
class MarkerSpec:
    """One measurable cargo.

    ``pool``: the model species (``X_<cargo>``) of a dynamic marker, ``None`` for a static one.
    ``records``: the mechanism records whose expression draws set the tumour's loading of the cargo
    (active records for a dynamic marker; every record naming the cargo for a static one).
    ``direction``: +1 when the KB says the cargo promotes resistance (a higher level is expected to
    go with a higher hazard and less response), -1 when it sensitises.
    """

    name: str
    entity_id: str
    pool: str | None
    records: tuple[str, ...]
    direction: Literal[1, -1]
    direction_basis: str
    sources: tuple[str, ...]  # biomarker record ids naming it, and/or "cargo pool"

    @property
    def dynamic(self) -> bool:
        return self.pool is not None

    @property
    def measured_from(self) -> str:
        if self.pool is not None:
            return f"cargo pool {self.pool} (secreted by its donor cells) times the tumour's expression"
        n = len(self.records)
        what = f"its {n} record{'s' if n != 1 else ''}' expression draw" if n else "an expression draw from the cargo prior"
        return f"static: no mechanism in the patient model makes it dynamic; level from {what} only, constant in time"


@dataclass(frozen=True)
class Unmeasurable:
    """A biomarker record's marker that names no single molecule."""

    name: str
    record_id: str
    reason: str


def _direction(kb: KnowledgeBase, records: Sequence[Mechanism]) -> tuple[Literal[1, -1], str]:
    promotes = sum(t.direction is Direction.PROMOTES_RESISTANCE for m in records for t in m.therapies)
    sensitises = sum(t.direction is Direction.SENSITISES for m in records for t in m.therapies)
    if not records:
        return 1, "assumed: no record gives a direction; a raised level is taken to mean more disease"
    if sensitises > promotes:
        return -1, f"{sensitises} record therapy link(s) sensitise, {promotes} promote resistance"
    return 1, f"{promotes} record therapy link(s) promote resistance, {sensitises} sensitise"


def _patient_pools(kb: KnowledgeBase) -> dict[str, list[Mechanism]]:
    """Entity id -> the records with a model effect that carry it (one pool per cargo): a trial
    that measures the cargo secretes its pool in every arm."""
    out: dict[str, list[Mechanism]] = {}
    for m in candidate_mechanisms(kb):
        out.setdefault(kb.entity(m.cargo).id, []).append(m)
    return out


def marker_spec(kb: KnowledgeBase, entity: Entity, sources: Sequence[str] = ()) -> MarkerSpec:
    """The marker definition of ``entity`` (dynamic when the patient model has its pool)."""
    pools = _patient_pools(kb)
    if entity.id in pools:
        recs = pools[entity.id]
        direction, basis = _direction(kb, recs)
        return MarkerSpec(
            entity.name, entity.id, pool_name(entity.id), tuple(m.id for m in recs), direction, basis, tuple(sources)
        )
    recs = [m for m in kb.mechanisms if kb.entity(m.cargo).id == entity.id]
    direction, basis = _direction(kb, recs)
    return MarkerSpec(entity.name, entity.id, None, tuple(m.id for m in recs), direction, basis, tuple(sources))


def _unmeasurable_reason(entity: Entity) -> str | None:
    if entity.entity_type not in MEASURABLE_TYPES:
        return f"a {entity.entity_type.value} entity with no specific cargo the model carries"
    if entity.entity_type in (EntityType.PROTEIN, EntityType.GENE) and not entity.hgnc_symbol:
        return "names no single measurable molecule (no gene symbol)"
    return None


def default_markers(kb: KnowledgeBase) -> tuple[list[MarkerSpec], list[Unmeasurable]]:
    """Every KB biomarker record's marker, then every other cargo the patient model makes dynamic."""
    specs: dict[str, MarkerSpec] = {}
    sources: dict[str, list[str]] = {}
    skipped: list[Unmeasurable] = []
    pools = _patient_pools(kb)
    for bm in kb.biomarkers:
        for name in bm.markers:
            ent = kb.entity(name)
            pooled = ent.id in pools
            reason = None if pooled else _unmeasurable_reason(ent)
            if reason is not None:
                skipped.append(Unmeasurable(ent.name, bm.id, reason))
                continue
            sources.setdefault(ent.id, []).append(bm.id)
            specs.setdefault(ent.id, marker_spec(kb, ent))
    for ent_id in _patient_pools(kb):
        sources.setdefault(ent_id, [])
        pooled_ent = kb.get(ent_id)
        assert isinstance(pooled_ent, Entity)
        specs.setdefault(ent_id, marker_spec(kb, pooled_ent))
    out = []
    for ent_id, spec in specs.items():
        src = tuple(sources[ent_id]) + (("cargo pool",) if spec.dynamic else ())
        out.append(MarkerSpec(spec.name, spec.entity_id, spec.pool, spec.records, spec.direction, spec.direction_basis, src))
    return out, skipped


def biomarker_record_markers(kb: KnowledgeBase) -> tuple[list[MarkerSpec], list[Unmeasurable]]:
    """Only the markers of the KB's biomarker records (what ``exoresist demo`` evaluates)."""
    specs, skipped = default_markers(kb)
    return [s for s in specs if any(x.startswith("bm:") for x in s.sources)], skipped


def markers_by_name(kb: KnowledgeBase, names: Sequence[str]) -> list[MarkerSpec]:
    """Marker definitions for user-given names (through :func:`resolve_cargo`); an unmeasurable one is an error."""
    out: list[MarkerSpec] = []
    for name in names:
        ent, _ = resolve_cargo(kb, name)
        if ent.id not in _patient_pools(kb):
            reason = _unmeasurable_reason(ent)
            if reason is not None:
                raise BiomarkerError(f"marker '{name}' ({ent.name}) cannot be measured in a virtual patient: {reason}")
        sources = tuple(bm.id for bm in kb.biomarkers if any(kb.entity(x).id == ent.id for x in bm.markers))
        spec = marker_spec(kb, ent, sources)
        if all(s.entity_id != spec.entity_id for s in out):
            out.append(spec)
    return out
