"""Resolve the names curated in records to canonical identifiers from the shipped tables.

Curators write names and symbols only; identifiers come from tables built from published
resources (see ``scripts/build_identifier_tables.py`` and ``kb/resources/PROVENANCE.json``).
A name no table resolves is kept, listed as unresolved, and shown by ``exoresist kb stats``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from exoresist.kb.base import KnowledgeBase
from exoresist.kb.identifiers import IdentifierTables, Resolved
from exoresist.kb.models import Entity, Therapy
from exoresist.kb.vocab import CellType, EntityType, Modality

#: Cell Ontology labels for the review's cell types, used only to look a term up in the shipped
#: table (never an identifier). Types with no single CL term are absent and stay unresolved.
CELL_TYPE_LABELS: dict[CellType, str] = {
    CellType.FIBROBLAST: "fibroblast",
    CellType.CAF: "cancer-associated fibroblast",
    CellType.MACROPHAGE: "macrophage",
    CellType.M2_MACROPHAGE: "alternatively activated macrophage",
    CellType.CD8_T_CELL: "CD8-positive, alpha-beta T cell",
    CellType.NK_CELL: "natural killer cell",
    CellType.REGULATORY_B_CELL: "regulatory B cell",
    CellType.ENDOTHELIAL_CELL: "endothelial cell",
    CellType.ADIPOSE_MSC: "mesenchymal stem cell of adipose tissue",
    CellType.BONE_MARROW_MSC: "mesenchymal stem cell of the bone marrow",
    CellType.T_LYMPHOCYTE: "T cell",
    CellType.LIVER_CANCER_STEM_CELL: "cancer stem cell",
}

#: Literature spellings of cell lines -> the recommended Cellosaurus name, used only to look the
#: line up in the shipped table (checked there, never an identifier).
CELL_LINE_NAMES: dict[str, str] = {"HepG2": "Hep-G2"}

#: Entity types that should carry an identifier; the others (pathways, processes, vesicle
#: populations) are abstractions with none.
IDENTIFIABLE = {
    EntityType.GENE,
    EntityType.PROTEIN,
    EntityType.MIRNA,
    EntityType.CIRCRNA,
    EntityType.LNCRNA,
    EntityType.SMALL_MOLECULE,
}


@dataclass(frozen=True)
class Xref:
    record_id: str
    name: str
    namespace: str
    identifier: str
    label: str
    matched_via: str


@dataclass(frozen=True)
class Unresolved:
    record_id: str
    name: str
    wanted: str  # the namespace that was looked up, or "none given"
    reason: str


def resolve(kb: KnowledgeBase, tables: IdentifierTables | None = None) -> tuple[list[Xref], list[Unresolved]]:
    """Every identifier the shipped tables give for the KB's names, and every name left without one."""
    tables = tables or IdentifierTables.load()
    xrefs: list[Xref] = []
    missing: list[Unresolved] = []

    def add(rid: str, name: str, wanted: str, hit: Resolved | None, why: str) -> None:
        if hit is None:
            missing.append(Unresolved(rid, name, wanted, why))
        else:
            xrefs.append(Xref(rid, name, hit.namespace, hit.identifier, hit.label, hit.matched_via))

    for rec in kb.records:
        if isinstance(rec, Entity):
            _resolve_entity(rec, tables, add, missing)
        elif isinstance(rec, Therapy):
            if rec.modality in (Modality.SMALL_MOLECULE, Modality.ANTIBODY):
                hits = tables.drug(rec.name)
                if not hits:
                    missing.append(Unresolved(rec.id, rec.name, "DrugBank", "name not in the drug table"))
                for hit in hits:
                    add(rec.id, rec.name, hit.namespace, hit, "")
            for sym in rec.molecular_targets:
                add(rec.id, sym, "HGNC", tables.gene(sym), "target symbol not in the HGNC table")
    for cell in CellType:
        label = CELL_TYPE_LABELS.get(cell)
        if label is None:
            missing.append(Unresolved(f"cell:{cell.value}", cell.value, "CL", "no single Cell Ontology term"))
        else:
            add(f"cell:{cell.value}", label, "CL", tables.cell_type(label), "label not in a shipped Cell Ontology table")
    lines = sorted({line for m in kb.mechanisms for e in m.evidence for line in e.cell_lines})
    for line in lines:
        add(
            f"line:{line}",
            line,
            "Cellosaurus",
            tables.cell_line(CELL_LINE_NAMES.get(line, line)),
            "not in a shipped Cellosaurus table",
        )
    return xrefs, missing


_Add = Callable[[str, str, str, Resolved | None, str], None]


def _resolve_entity(rec: Entity, tables: IdentifierTables, add: _Add, missing: list[Unresolved]) -> None:
    given = False
    if rec.hgnc_symbol:
        given = True
        add(rec.id, rec.hgnc_symbol, "HGNC", tables.gene(rec.hgnc_symbol), "symbol not in the HGNC table")
    if rec.mirbase_precursor:
        given = True
        add(
            rec.id,
            rec.mirbase_precursor,
            "miRBase",
            tables.mirna_precursor(rec.mirbase_precursor),
            "precursor not in miRBase table",
        )
    if rec.mirbase_name:
        given = True
        add(
            rec.id,
            rec.mirbase_name,
            "miRBase.mature",
            tables.mirna_mature(rec.mirbase_name),
            "mature name not in a shipped table",
        )
    if rec.entity_type is EntityType.SMALL_MOLECULE:
        given = True
        hits = tables.drug(rec.name)
        if not hits:
            missing.append(Unresolved(rec.id, rec.name, "DrugBank", "name not in the drug table"))
        for hit in hits:
            add(rec.id, rec.name, hit.namespace, hit, "")
    if not given and rec.entity_type in IDENTIFIABLE:
        missing.append(Unresolved(rec.id, rec.name, "none given", "no symbol or miRBase name curated"))
