"""The name resolver (exoresist.kb.names): every failing example of the names issue, and the synonym tables."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from exoresist.kb import KBValidationError, KnowledgeBase, NameInputError, UnknownNameError, load_kb
from exoresist.kb.names import NameKind, norm, parse_mirna
from exoresist.kb.synonym_tables import SYNONYM_FILES, load_synonyms, synonyms_dir
from exoresist.kb.vocab import CellType, TherapyClass


def _error(kb: KnowledgeBase, name: str, kind: str) -> str:
    with pytest.raises(UnknownNameError) as info:
        kb.names.resolve(name, kind)
    text = str(info.value)
    assert "\n" not in text
    return text


# --- therapies -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("brand", "drug"),
    [
        ("Nexavar", "ther:sorafenib"),
        ("Lenvima", "ther:lenvatinib"),
        ("Stivarga", "ther:regorafenib"),
        ("Cabometyx", "ther:cabozantinib"),
        ("Opdivo", "ther:nivolumab"),
        ("Keytruda", "ther:pembrolizumab"),
        ("Tecentriq", "ther:atezolizumab"),
        ("Avastin", "ther:bevacizumab"),
        ("Imfinzi", "ther:durvalumab"),
        ("Imjudo", "ther:tremelimumab"),
    ],
)
def test_brand_names_resolve_with_their_source(kb: KnowledgeBase, brand: str, drug: str) -> None:
    r = kb.names.resolve(brand, "therapy")
    assert (r.id, r.via) == (drug, "brand name")
    assert r.source and "label" in r.source and brand.upper() in r.source
    assert kb.therapy(brand).id == drug  # the KB's own look-up uses the resolver


@pytest.mark.parametrize("drug", ["tislelizumab", "Camrelizumab"])
def test_a_known_drug_not_in_the_kb_says_so(kb: KnowledgeBase, drug: str) -> None:
    text = _error(kb, drug, "therapy")
    assert drug.lower() in text.lower() and "a known drug" in text and "that is not in the KB" in text
    assert "nivolumab" in text and "pembrolizumab" in text  # the KB's drugs of the same class
    assert "did you mean" not in text  # no look-alike drug is offered instead


def test_brands_of_drugs_added_to_the_kb_resolve(kb: KnowledgeBase) -> None:
    for brand, drug in (("Cyramza", "ther:ramucirumab"), ("Yervoy", "ther:ipilimumab")):
        r = kb.names.resolve(brand, "therapy")
        assert (r.id, r.via) == (drug, "brand name")


def test_a_drug_only_the_drug_table_knows(kb: KnowledgeBase) -> None:
    text = _error(kb, "imatinib", "therapy")
    assert "known drug (DrugBank DB00619) that is not in the KB" in text


def test_classes_expand_through_the_hierarchy(kb: KnowledgeBase) -> None:
    immuno = kb.names.resolve("immunotherapy", "therapy")
    assert {"class:anti_pd1", "class:anti_pdl1", "class:anti_ctla4", "ther:nivolumab", "ther:tremelimumab"} <= set(
        immuno.expands_to
    )
    assert immuno.expanded and "anti-PD-1" in immuno.covers
    ici = kb.names.resolve("ICI", "therapy")
    assert ici.id == "class:immune_checkpoint_inhibitor" and ici.via == "alias" and "review" in str(ici.source)
    assert set(ici.expands_to) == set(immuno.expands_to) - {"class:immunotherapy"}
    tki = kb.names.resolve("TKI", "therapy")
    assert {"ther:sorafenib", "ther:lenvatinib", "ther:regorafenib", "ther:cabozantinib"} <= set(tki.expands_to)
    assert "ther:bevacizumab" not in tki.expands_to
    chemo = kb.names.resolve("chemotherapy", "therapy")
    assert {"class:platinum", "ther:cisplatin", "ther:doxorubicin"} <= set(chemo.expands_to)
    # the issue's silent empty results are records now
    assert kb.query(therapy="immunotherapy") and kb.query(therapy="ICI")
    assert {m.id for m in kb.query(therapy="ICI")} == {m.id for m in kb.query(therapy="nivolumab")}


def test_a_drug_matches_records_stated_for_its_classes_but_does_not_expand(kb: KnowledgeBase) -> None:
    r = kb.names.resolve("nivolumab", "therapy")
    assert {"ther:nivolumab", "class:anti_pd1", "class:immunotherapy"} <= set(r.expands_to)
    assert not r.expanded
    assert kb.names.resolve("atezolizumab+bevacizumab", "therapy").covers == ("atezolizumab", "bevacizumab")


def test_a_target_is_not_a_therapy(kb: KnowledgeBase) -> None:
    text = _error(kb, "PD-1", "therapy")
    assert "'PD-1' is a gene in the KB, not a therapy" in text and "anti-PD-1" in text and "nivolumab" in text


# --- cells ---------------------------------------------------------------------------------------
def test_parent_cell_types_match_their_subtypes(kb: KnowledgeBase) -> None:
    assert set(kb.names.resolve("macrophage", "cell").expands_to) == {"cell:macrophage", "cell:m2_macrophage"}
    assert set(kb.names.resolve("fibroblast", "cell").expands_to) == {"cell:fibroblast", "cell:cancer_associated_fibroblast"}
    assert set(kb.names.resolve("MSC", "cell").expands_to) == {
        "cell:adipose_mesenchymal_stem_cell",
        "cell:bone_marrow_mesenchymal_stem_cell",
    }
    assert set(kb.names.resolve("T cell", "cell").expands_to) == {"cell:cd8_t_cell", "cell:tumour_infiltrating_t_lymphocyte"}
    assert kb.names.resolve("CAF", "cell").id == "cell:cancer_associated_fibroblast"
    assert kb.names.resolve("TILs", "cell").id == "cell:tumour_infiltrating_t_lymphocyte"
    donors = {m.id for m in kb.query(donor="macrophage")}
    wanted = {CellType.MACROPHAGE, CellType.M2_MACROPHAGE}
    assert donors and donors == {m.id for m in kb.mechanisms if m.kind == "mechanism" and wanted & set(m.donor_cells)}


def test_tam_is_known_and_an_empty_result_says_why(kb: KnowledgeBase) -> None:
    r = kb.names.resolve("TAM", "cell")
    assert r.id == "cell:tumour_associated_macrophage" and "Table 1" in str(r.source)
    assert any("try --donor macrophage" in n for n in r.notes)
    result = kb.search(donor="TAM")
    assert not result.records
    assert "no record matches --donor TAM" in str(result.empty_reason())


# --- cargos and miRBase forms ----------------------------------------------------------------------
def test_mirbase_forms(kb: KnowledgeBase) -> None:
    assert kb.names.resolve("hsa-miR-21-5p", "cargo").id == "ent:mir-21-5p"
    assert kb.entity("hsa-miR-21-5p").id == "ent:mir-21-5p"
    assert kb.names.resolve("MIR-494-3P", "cargo").id == "ent:mir-494-3p"
    armless = kb.names.resolve("miR-494", "cargo")
    assert armless.id == "ent:mir-494-3p" and "3p arm" in armless.notes[0]
    precursor = kb.names.resolve("hsa-mir-21", "cargo")
    assert set(precursor.expands_to) == {"ent:mir-21", "ent:mir-21-5p"} and "arm ambiguous" in precursor.notes[0]
    exact = kb.names.resolve("miR-21", "cargo")
    assert exact.id == "ent:mir-21" and "miR-21-5p" in exact.notes[0]
    text = _error(kb, "miR-122-5p", "cargo")
    assert "did you mean 'miR-122'" in text and "arm not stated" in text
    assert parse_mirna("hsa-mir-21") is not None and parse_mirna("hsa-mir-21").precursor  # type: ignore[union-attr]
    assert parse_mirna("miR-21") is not None and not parse_mirna("miR-21").precursor  # type: ignore[union-attr]


def test_a_name_of_another_kind_says_what_it_is(kb: KnowledgeBase) -> None:
    assert _error(kb, "RAB27A", "cargo").startswith(
        "'RAB27A' is an intervention target, not a cargo: try --intervention rab27a-knockdown"
    )
    assert "is an intervention payload, not a cargo: try --intervention bmmsc-exo-cd38-sirna" in _error(kb, "CD38 siRNA", "cargo")
    assert "is on the axis or pathways of" in _error(kb, "PTEN", "cargo")
    assert "is an intervention (int:rab27a-knockdown), not a therapy" in _error(kb, "RAB27A knockdown", "therapy")


# --- interventions -------------------------------------------------------------------------------
def test_interventions_by_name_payload_compound_and_shortcut(kb: KnowledgeBase) -> None:
    gw = kb.names.resolve("GW4869", "intervention")
    assert gw.id == "int:exosome-biogenesis-release-inhibitors" and gw.via == "compound"
    assert "PMID 20353945" in str(gw.source)
    assert kb.names.resolve("miR-122", "intervention").id == "int:amsc-exo-mir122"
    assert kb.names.resolve("CD38 siRNA exosomes", "intervention").id == "int:bmmsc-exo-cd38-sirna"
    for short, rid in (
        ("secretion-blockade", "int:rab27a-knockdown"),
        ("rab27a", "int:rab27a-knockdown"),
        ("rab27b", "int:rab27b-knockdown"),
        ("anti-pIgR", "int:anti-pigr-antibody"),
        ("anti-s100a10", "int:anti-s100a10-antibody"),
    ):
        r = kb.names.resolve(short, "intervention")
        assert (r.id, r.via) == (rid, "alias")  # the shortcuts are aliases on the records now
    text = _error(kb, "CD133", "intervention")
    assert "target of 2 interventions" in text


# --- other vocabularies and unknown names ----------------------------------------------------------
def test_vocabulary_synonyms_with_notes(kb: KnowledgeBase) -> None:
    clinical = kb.names.resolve("clinical", "evidence")
    assert clinical.id == "evidence:patient_samples" and "clinical-trial" in clinical.notes[0]
    assert kb.names.resolve("EMT", "phenotype").id == "phenotype:emt"
    assert kb.names.resolve("microRNA", "cargo-class").id == "cargo-class:miRNA"


def test_unknown_names_suggest_by_token_and_edit_distance(kb: KnowledgeBase) -> None:
    text = _error(kb, "sorafenbi", "therapy")
    assert "unknown therapy 'sorafenbi'" in text and "did you mean 'sorafenib'" in text
    assert "exoresist names --kind therapy" in text
    assert "did you mean 'hcc_cell'" in _error(kb, "hcc_cel", "cell")
    assert "unknown phenotype 'stemnes': did you mean 'stemness'" in _error(kb, "stemnes", "phenotype")


def test_empty_and_control_character_names_are_refused(kb: KnowledgeBase) -> None:
    for bad in ("", "   ", "sora\nfenib", "sora\tfenib"):
        with pytest.raises(NameInputError):
            kb.names.resolve(bad, "therapy")
    with pytest.raises(NameInputError, match=r"control character"):
        kb.therapy("sora\nfenib")


def test_lookup_across_kinds(kb: KnowledgeBase) -> None:
    kinds = {r.kind for r in kb.names.lookup("RAB27A")}
    assert kinds == {NameKind.ENTITY, NameKind.INTERVENTION}
    with pytest.raises(UnknownNameError, match="unknown name 'sorafenibb': did you mean 'sorafenib'"):
        kb.names.lookup("sorafenibb")


def test_results_are_data(kb: KnowledgeBase) -> None:
    d = kb.names.resolve("Nexavar", "therapy").to_dict()
    assert d["kind"] == "therapy" and d["id"] == "ther:sorafenib" and d["via"] == "brand name" and d["source"]
    entries = kb.names.entries("therapy")
    assert any(e.id == "class:immune_checkpoint_inhibitor" and e.parent == "class:immunotherapy" for e in entries)
    assert any(e.id == "drug:tislelizumab" and not e.in_kb for e in entries)
    assert all(e.to_dict()["kind"] == "therapy" for e in entries)


# --- the synonym tables ----------------------------------------------------------------------------
def test_shipped_tables_are_consistent_with_the_kb(kb: KnowledgeBase) -> None:
    tables = load_synonyms()
    names = {norm(n) for t in kb.therapies for n in (t.name, *t.aliases)}
    known = {norm(d.drug) for d in tables.therapies.known_drugs}
    for b in tables.therapies.brands:
        assert norm(b.drug) in names | known, f"brand {b.brand}: drug {b.drug} is neither in the KB nor a known drug"
        assert norm(b.brand) not in names, f"brand {b.brand} is also a record name or alias"
    for c in tables.interventions:
        assert c.intervention in kb.by_id
        assert "TODO" not in c.source
    assert {n.id for n in tables.therapy_classes if n.vocabulary} == {c.value for c in TherapyClass}
    assert {n.id for n in tables.cell_types if n.vocabulary} == {c.value for c in CellType}
    # every synonym of a kind names one thing
    for kind in NameKind:
        seen: dict[str, str] = {}
        for e in kb.names.entries(kind):
            for s in e.synonyms:
                if s.via == "id":
                    continue
                key = norm(s.text)
                assert seen.setdefault(key, e.id) == e.id or (kind is NameKind.THERAPY and "radiotherapy" in key), (
                    f"{kind}: '{s.text}' names {seen[key]} and {e.id}"
                )


def _copy_tables(tmp_path: Path) -> Path:
    for name in SYNONYM_FILES:
        (tmp_path / name).write_text((synonyms_dir() / name).read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


def test_a_malformed_table_is_reported_with_file_entry_and_field(tmp_path: Path) -> None:
    folder = _copy_tables(tmp_path)
    nodes = yaml.safe_load((folder / "cell_types.yaml").read_text(encoding="utf-8"))
    nodes[0]["parent"] = "no_such_cell"
    nodes.append({"id": "made_up_cell", "label": "made-up cell"})
    (folder / "cell_types.yaml").write_text(yaml.safe_dump(nodes), encoding="utf-8")
    therapies = yaml.safe_load((folder / "therapies.yaml").read_text(encoding="utf-8"))
    therapies["brands"].append({"brand": "Nothing"})
    (folder / "therapies.yaml").write_text(yaml.safe_dump(therapies), encoding="utf-8")
    with pytest.raises(KBValidationError) as info:
        load_synonyms(folder)
    issues = [str(i) for i in info.value.issues]
    assert any("cell_types.yaml [hcc_cell] parent: unknown parent 'no_such_cell'" in i for i in issues)
    assert any("[made_up_cell] id: not a vocabulary term" in i for i in issues)
    assert any("therapies.yaml [therapies] brands.15.drug" in i for i in issues)


def test_a_compound_without_a_source_is_refused(tmp_path: Path) -> None:
    folder = _copy_tables(tmp_path)
    (folder / "interventions.yaml").write_text(
        "- {name: X123, intervention: 'int:rab27a-knockdown', relation: compound, note: a test entry,"
        " source: TODO find a citation}\n",
        encoding="utf-8",
    )
    with pytest.raises(KBValidationError, match="still to be found"):
        load_synonyms(folder)


def test_a_mini_kb_without_the_brand_drug_says_not_in_this_kb(mini_dir: Path) -> None:
    kb = load_kb([mini_dir])
    assert kb.names.resolve("Nexavar", "therapy").id == "ther:sorafenib"  # a record alias there
    with pytest.raises(UnknownNameError, match="'Lenvima' is the brand name of lenvatinib, a known drug that is not in the KB"):
        kb.names.resolve("Lenvima", "therapy")
