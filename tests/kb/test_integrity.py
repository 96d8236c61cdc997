"""Data-integrity suite: walks every shipped record and checks the review is fully covered."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from exoresist.kb import KnowledgeBase, Mechanism
from exoresist.kb.identifiers import IdentifierTables
from exoresist.kb.loader import shipped_records_dir
from exoresist.kb.vocab import CellType, Direction, EvidenceGrade, ModelProcess, Phenotype

REVIEW = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "000_8c5f8eb6c55849bf.txt"


def test_table1_has_every_row_once(kb: KnowledgeBase) -> None:
    rows = Counter(m.table1_row for m in kb.mechanisms if m.table1_row is not None)
    assert sorted(rows) == list(range(1, 22))
    assert set(rows.values()) == {1}


def test_table1_counts_by_cargo_class(kb: KnowledgeBase) -> None:
    # The review's Table 1: 6 circRNAs, 7 miRNAs, 2 lncRNAs, 2 proteins, 4 unclassified vesicle rows.
    table1 = [m for m in kb.mechanisms if m.table1_row is not None]
    counts = Counter(c.value if (c := kb.cargo_class(m)) else None for m in table1)
    assert counts == {"circRNA": 6, "miRNA": 7, "lncRNA": 2, "protein": 2, "unclassified_vesicles": 4}


def test_table1_references_are_14_to_34_in_order(kb: KnowledgeBase) -> None:
    table1 = sorted((m for m in kb.mechanisms if m.table1_row is not None), key=lambda m: m.table1_row or 0)
    refs = [m.evidence[0].review_ref for m in table1]
    assert refs == list(range(14, 35))


@pytest.mark.parametrize(
    "cargo",
    ["PD-L1", "HMGB1", "14-3-3ζ", "miR-21-5p", "FN1", "COL2A1", "FGG", "P-gp", "ABCG2", "MRP1", "ZFPM2-AS1"],
)
def test_text_only_cargos_are_curated(kb: KnowledgeBase, cargo: str) -> None:
    ent = kb.entity(cargo)
    used = [m for m in kb.mechanisms if kb.entity(m.cargo).id == ent.id or any(kb.entity(s.target).id == ent.id for s in m.axis)]
    assert used, f"no mechanism or hypothesis record uses {cargo}"


def test_m2_macrophage_mir21_axis(kb: KnowledgeBase) -> None:
    found = kb.query(cargo="miR-21-5p", donor="m2_macrophage", phenotype="cd8_t_cell_dysfunction")
    assert found and any(kb.entity("YAP").name in {s.target for s in m.axis} for m in found)


def test_second_axes(kb: KnowledgeBase) -> None:
    assert len(kb.query(cargo="linc-ROR")) >= 2
    assert any("miR-876-5p" in {s.target for s in m.axis} for m in kb.query(cargo="linc-ROR"))
    mir494 = kb.query(cargo="miR-494-3p")
    assert len(mir494) >= 2 and any(CellType.ENDOTHELIAL_CELL in m.recipient_cells for m in mir494)


def test_efflux_pump_transfer_is_a_hypothesis(kb: KnowledgeBase) -> None:
    efflux = [m for m in kb.mechanisms if Phenotype.DRUG_EFFLUX in m.phenotypes and m.kind == "hypothesis"]
    assert efflux and all(m.evidence_grade in (EvidenceGrade.C, EvidenceGrade.D) for m in efflux)


@pytest.mark.parametrize(
    "target", ["RAB27A", "RAB27B", "S100A10", "pIgR", "miR-122", "miR-199a", "siGRP78", "IQGAP1", "FOXM1", "asiatic acid"]
)
def test_interventions_are_curated(kb: KnowledgeBase, target: str) -> None:
    ent = kb.entity(target)
    hits = [
        i
        for i in kb.interventions
        if (i.payload and kb.entity(i.payload).id == ent.id) or any(kb.entity(t).id == ent.id for t in i.target_entities)
    ]
    assert hits, f"no intervention acts on or delivers {target}"


def test_cd38_sirna_and_sorafenib_loaded_exosomes(kb: KnowledgeBase) -> None:
    names = " ".join(i.name.casefold() for i in kb.interventions)
    assert "cd38" in names and "sorafenib" in names


def test_biomarkers_cover_each_use(kb: KnowledgeBase) -> None:
    uses = {u.value for b in kb.biomarkers for u in b.intended_uses}
    assert {"diagnostic", "predictive", "prognostic"} <= uses
    assert all(b.samples for b in kb.biomarkers)


def test_dynamic_records_name_donors_recipients_and_therapies(kb: KnowledgeBase) -> None:
    for m in kb.mechanisms:
        if m.process is None or not m.exosomal:
            continue
        assert m.donor_cells, f"{m.id}: process {m.process} but no donor cells"
        assert m.recipient_cells, f"{m.id}: process {m.process} but no recipient cells"


def test_sensitising_records_use_the_sensitise_process(kb: KnowledgeBase) -> None:
    for m in kb.mechanisms:
        directions = {t.direction for t in m.therapies}
        if directions == {Direction.SENSITISES} and m.process is not None:
            assert m.process is ModelProcess.SENSITISE, m.id
        if m.process is ModelProcess.SENSITISE:
            assert Direction.PROMOTES_RESISTANCE not in directions, m.id


def test_review_errors_are_recorded(kb: KnowledgeBase) -> None:
    for drug in ("nivolumab", "pembrolizumab"):
        t = kb.therapy(drug)
        assert "PDCD1" in t.molecular_targets
        assert any("PD-L1" in c.review_says for c in t.corrections), drug
    row8 = next(m for m in kb.mechanisms if m.table1_row == 8)
    assert {t.direction for t in row8.therapies} == {Direction.SENSITISES}
    assert row8.corrections


def test_every_mechanism_cites_its_evidence(kb: KnowledgeBase) -> None:
    for m in kb.mechanisms:
        if m.kind == "mechanism":
            assert m.evidence, m.id
        if m.table1_row is not None:  # Table 1 gives the year of every row; the text often does not
            assert m.evidence[0].year, m.id


def test_curated_symbols_are_approved_hgnc_symbols(kb: KnowledgeBase) -> None:
    tables = IdentifierTables.load()
    wrong = []
    for e in kb.entities:
        if e.hgnc_symbol:
            hit = tables.gene(e.hgnc_symbol)
            if hit is None or hit.label != e.hgnc_symbol:
                wrong.append((e.name, e.hgnc_symbol, hit.label if hit else None))
    for t in kb.therapies:
        for sym in t.molecular_targets:
            hit = tables.gene(sym)
            if hit is None or hit.label != sym:
                wrong.append((t.name, sym, hit.label if hit else None))
    assert wrong == []


def test_no_identifier_typed_into_the_yaml() -> None:
    pattern = re.compile(r"HGNC:\d|MIMAT\d|\bMI\d{7}\b|\bDB\d{5}\b|CHEBI:\d|CVCL_|\bCL:\d")
    for path in sorted(shipped_records_dir().glob("*.yaml")):
        hits = pattern.findall(path.read_text(encoding="utf-8"))
        assert hits == [], f"{path.name} contains typed identifiers: {hits}"


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.casefold())


@pytest.mark.skipif(not REVIEW.exists(), reason="the review text lives in ../shared beside the repo")
def test_prose_is_paraphrased_not_copied(kb: KnowledgeBase) -> None:
    """No run of 10 consecutive words in a curated finding, note or title appears in the review."""
    review = " ".join(_words(REVIEW.read_text(encoding="utf-8")))
    n = 10
    copied = []
    for r in kb.records:
        texts = [r.notes or ""]
        if isinstance(r, Mechanism):
            texts += [r.title, *(e.finding for e in r.evidence)]
        for text in texts:
            w = _words(text)
            for i in range(len(w) - n + 1):
                window = " ".join(w[i : i + n])
                if window in review:
                    copied.append((r.id, window))
                    break
    assert copied == []
