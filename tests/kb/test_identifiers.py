"""Look-ups against the shipped identifier tables, checked against the table files themselves.

Each expected identifier is read from the gzipped TSV with the ``csv`` module (independently of
``exoresist.kb.identifiers``); the few literal identifiers below were read from those files.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import gzip
import hashlib
import json
import shutil
from importlib import resources
from pathlib import Path

import pytest

from exoresist.kb.identifiers import TABLE_COLUMNS, IdentifierTableError, IdentifierTables, Resolved

RESOURCES = Path(str(resources.files("exoresist.kb") / "resources"))


@functools.cache
def rows(table: str) -> list[dict[str, str]]:
    """The rows of a shipped table, read with the csv module (cached; do not mutate)."""
    with gzip.open(RESOURCES / table, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def hgnc_row(symbol: str) -> dict[str, str]:
    hits = [r for r in rows("hgnc.tsv.gz") if r["symbol"] == symbol]
    assert len(hits) == 1, f"{symbol} is not a unique approved symbol in hgnc.tsv.gz"
    return hits[0]


@pytest.fixture(scope="module")
def tables() -> IdentifierTables:
    return IdentifierTables.load()


# --- genes -------------------------------------------------------------------------------------


def test_approved_symbol(tables: IdentifierTables) -> None:
    row = hgnc_row("S100A10")
    assert row["hgnc_id"] == "HGNC:10487"
    hit = tables.gene("S100A10")
    assert hit == Resolved("HGNC", row["hgnc_id"], "S100A10", "symbol")


def test_symbol_is_case_insensitive_after_exact(tables: IdentifierTables) -> None:
    row = hgnc_row("HAVCR2")
    hit = tables.gene("havcr2")
    assert hit is not None and hit.identifier == row["hgnc_id"] and hit.label == "HAVCR2"
    assert hit.matched_via == "symbol"


def test_alias_resolves_to_approved_symbol(tables: IdentifierTables) -> None:
    row = hgnc_row("HAVCR2")
    assert "Tim-3" in row["alias_symbols"].split("|")  # as HGNC spells it
    for name in ("Tim-3", "TIM-3", "TIM3"):
        hit = tables.gene(name)
        assert hit is not None, name
        assert (hit.identifier, hit.label, hit.matched_via) == (row["hgnc_id"], "HAVCR2", "alias")


def test_previous_symbol(tables: IdentifierTables) -> None:
    row = hgnc_row("ENTPD1")
    assert "CD39" in row["previous_symbols"].split("|")
    hit = tables.gene("CD39")
    assert hit is not None and hit.identifier == row["hgnc_id"] and hit.matched_via == "previous_symbol"


def test_approved_symbol_beats_alias_of_another_gene(tables: IdentifierTables) -> None:
    # "HGF" is the approved symbol of HGF and an alias of IL6 in the table.
    assert "HGF" in hgnc_row("IL6")["alias_symbols"].split("|")
    hit = tables.gene("HGF")
    assert hit is not None and hit.label == "HGF" and hit.identifier == hgnc_row("HGF")["hgnc_id"]


@pytest.mark.parametrize("name", ["PD1", "MRP1", "MRP2"])
def test_ambiguous_alias_is_none(tables: IdentifierTables, name: str) -> None:
    owners = {
        r["hgnc_id"]
        for r in rows("hgnc.tsv.gz")
        if name in r["alias_symbols"].split("|") or name in r["previous_symbols"].split("|")
    }
    assert len(owners) >= 2, f"{name} is no longer ambiguous in the table"
    assert tables.gene(name) is None
    assert {c.identifier for c in tables.gene_candidates(name)} == owners


@pytest.mark.parametrize("name", ["NOT-A-GENE-XYZ", "", "   "])
def test_unknown_symbol_is_none(tables: IdentifierTables, name: str) -> None:
    assert tables.gene(name) is None
    assert tables.gene_candidates(name) == []


def test_gene_record(tables: IdentifierTables) -> None:
    row = hgnc_row("S100A10")
    rec = tables.gene_record(row["hgnc_id"])
    assert rec is not None and rec["symbol"] == "S100A10" and rec["alias_symbols"] == row["alias_symbols"].split("|")
    assert tables.gene_record("HGNC:0") is None


def test_resolved_is_frozen(tables: IdentifierTables) -> None:
    hit = tables.gene("S100A10")
    assert hit is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        hit.label = "x"  # type: ignore[misc]


# --- miRNAs ------------------------------------------------------------------------------------


def test_mirna_precursor(tables: IdentifierTables) -> None:
    (row,) = [r for r in rows("mirbase.tsv.gz") if r["name"] == "hsa-mir-21"]
    assert row["mirbase_id"] == "MI0000077"
    for name in ("hsa-mir-21", "HSA-MIR-21"):
        hit = tables.mirna_precursor(name)
        assert hit == Resolved("miRBase", row["mirbase_id"], "hsa-mir-21", "name")
    assert tables.mirna_precursor("hsa-mir-does-not-exist") is None


def test_mirna_mature(tables: IdentifierTables) -> None:
    (row,) = [r for r in rows("mirbase_mature.tsv.gz") if r["name"] == "hsa-miR-21-5p"]
    assert row["mimat_id"] == "MIMAT0000076"
    assert tables.mirna_mature("hsa-miR-21-5p") == Resolved("miRBase.mature", row["mimat_id"], "hsa-miR-21-5p", "name")
    # An older name of the same accession, kept from the package's older miRNA.xls export.
    (old,) = [r for r in rows("mirbase_mature.tsv.gz") if "hsa-miR-210" in r["previous_names"].split("|")]
    hit = tables.mirna_mature("hsa-miR-210")
    assert hit is not None and hit.identifier == old["mimat_id"] and hit.label == old["name"]
    assert hit.matched_via == "previous_name"
    assert tables.mirna_mature("hsa-miR-does-not-exist") is None


# --- drugs -------------------------------------------------------------------------------------


def test_drug_sorafenib(tables: IdentifierTables) -> None:
    (row,) = [r for r in rows("drugs.tsv.gz") if r["name"].casefold() == "sorafenib"]
    assert (row["drugbank_id"], row["name"]) == ("DB00398", "Sorafenib")
    hits = tables.drug("sorafenib")
    assert hits[0] == Resolved("DrugBank", row["drugbank_id"], "Sorafenib", "name")
    by_ns = {h.namespace: h.identifier for h in hits}
    assert by_ns == {"DrugBank": "DB00398", "ChEBI": row["chebi_id"], "ChEMBL": row["chembl_id"]}
    assert row["chebi_id"] == "CHEBI:50924" and row["chembl_id"] == "CHEMBL1336"
    assert [h.identifier for h in tables.drug("DB00398")] == [h.identifier for h in hits]
    assert tables.drug("SORAFENIB") == hits


def test_unknown_drug(tables: IdentifierTables) -> None:
    assert tables.drug("not-a-drug-name") == []
    assert tables.drug("DB99999") == []


# --- cells -------------------------------------------------------------------------------------


def test_cell_type(tables: IdentifierTables) -> None:
    (row,) = [r for r in rows("cell_ontology.tsv.gz") if r["label"] == "macrophage"]
    assert tables.cell_type("macrophage") == Resolved("CL", row["cl_id"], "macrophage", "name")
    assert tables.cell_type("not a cell type at all") is None


def test_cell_type_synonym(tables: IdentifierTables) -> None:
    labels = {r["label"].casefold() for r in rows("cell_ontology.tsv.gz")}
    synonym_owners: dict[str, set[str]] = {}
    for r in rows("cell_ontology.tsv.gz"):
        for s in filter(None, r["synonyms"].split("|")):
            synonym_owners.setdefault(s.casefold(), set()).add(r["cl_id"])
    name, owners = next((s, o) for s, o in sorted(synonym_owners.items()) if len(o) == 1 and s not in labels)
    hit = tables.cell_type(name)
    assert hit is not None and hit.identifier in owners and hit.matched_via == "alias"


def test_cell_line(tables: IdentifierTables) -> None:
    (row,) = [r for r in rows("cellosaurus.tsv.gz") if r["name"] == "Hep-G2"]
    assert tables.cell_line("Hep-G2") == Resolved("Cellosaurus", row["cvcl_id"], "Hep-G2", "name")
    assert tables.cell_line("hep-g2") == Resolved("Cellosaurus", row["cvcl_id"], "Hep-G2", "name")
    # The table has no synonyms: a spelling variant resolves only when asked for loose matching.
    assert tables.cell_line("HepG2") is None
    assert tables.cell_line("HepG2", loose=True) == Resolved("Cellosaurus", row["cvcl_id"], "Hep-G2", "normalized_name")
    assert tables.cell_line("no such cell line 123") is None
    assert tables.cell_line("no such cell line 123", loose=True) is None


def test_loose_cell_line_match_can_be_wrong(tables: IdentifierTables) -> None:
    # Why loose matching is opt-in: the literature's "LO2" (letter O) means L-02, but loosely it
    # equals another Cellosaurus entry, "LO #2".
    (l02,) = [r for r in rows("cellosaurus.tsv.gz") if r["name"] == "L-02"]
    (lo2,) = [r for r in rows("cellosaurus.tsv.gz") if r["name"] == "LO #2"]
    assert tables.cell_line("LO2") is None
    hit = tables.cell_line("LO2", loose=True)
    assert hit is not None and hit.identifier == lo2["cvcl_id"] != l02["cvcl_id"]


# --- provenance and loading --------------------------------------------------------------------


def test_provenance_lists_every_table_with_checksums(tables: IdentifierTables) -> None:
    prov = tables.provenance()
    listed = prov["tables"]
    assert isinstance(listed, dict)
    shipped = {p.name for p in RESOURCES.glob("*.tsv.gz")}
    assert set(listed) == shipped
    assert {"hgnc.tsv.gz", "mirbase.tsv.gz", "drugs.tsv.gz"} <= shipped
    assert isinstance(prov["generated_utc"], str)
    for name, entry in listed.items():
        blob = (RESOURCES / name).read_bytes()
        assert entry["table_sha256"] == hashlib.sha256(blob).hexdigest(), name
        assert len(entry["wheel_sha256"]) == 64 and entry["source_package"] and entry["source_version"]
        assert entry["source_files"] and all(len(f["sha256"]) == 64 and f["path"] for f in entry["source_files"])
        assert entry["rows"] == len(rows(name)), name
        assert entry["columns"] == list(TABLE_COLUMNS[name])
        assert entry["upstream"] and "upstream_licence" in entry


def test_provenance_is_a_copy(tables: IdentifierTables) -> None:
    prov = tables.provenance()
    prov["tables"] = {}
    assert tables.provenance()["tables"]


def test_load_is_cached_and_loads_from_a_copy(tmp_path: Path) -> None:
    assert IdentifierTables.load() is IdentifierTables.load()
    copy = tmp_path / "res"
    shutil.copytree(RESOURCES, copy)
    fresh = IdentifierTables.load(copy)
    assert fresh.gene("S100A10") is not None and fresh.cell_line("HepG2", loose=True) is not None
    assert fresh.drug("sorafenib") and fresh.cell_type("macrophage") is not None


# --- errors ------------------------------------------------------------------------------------


def _copy(tmp_path: Path) -> Path:
    dest = tmp_path / "res"
    shutil.copytree(RESOURCES, dest)
    return dest


def test_missing_required_table_names_the_file(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "hgnc.tsv.gz").unlink()
    with pytest.raises(IdentifierTableError, match=r"hgnc\.tsv\.gz"):
        IdentifierTables.load(d)


def test_malformed_header_names_the_file(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "drugs.tsv.gz").write_bytes(gzip.compress(b"id\tname\nDB00001\tx\n"))
    with pytest.raises(IdentifierTableError, match=r"drugs\.tsv\.gz: header"):
        IdentifierTables.load(d)


def test_malformed_row_names_file_and_line(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "mirbase.tsv.gz").write_bytes(gzip.compress(b"mirbase_id\tname\thgnc_id\nMI0000001\tx\t\nbad row\n"))
    with pytest.raises(IdentifierTableError, match=r"mirbase\.tsv\.gz: line 3"):
        IdentifierTables.load(d)


def test_not_gzip_names_the_file(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "mirbase.tsv.gz").write_bytes(b"plain text")
    with pytest.raises(IdentifierTableError, match=r"mirbase\.tsv\.gz: not a readable gzipped"):
        IdentifierTables.load(d)


def test_missing_provenance(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "PROVENANCE.json").unlink()
    with pytest.raises(IdentifierTableError, match=r"PROVENANCE\.json: missing"):
        IdentifierTables.load(d)


def test_listed_table_missing(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "cellosaurus.tsv.gz").unlink()
    with pytest.raises(IdentifierTableError, match=r"cellosaurus\.tsv\.gz: listed in PROVENANCE\.json"):
        IdentifierTables.load(d)


def test_optional_tables_absent_give_none(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    prov = json.loads((d / "PROVENANCE.json").read_text(encoding="utf-8"))
    for name in ("mirbase_mature.tsv.gz", "cell_ontology.tsv.gz", "cellosaurus.tsv.gz"):
        (d / name).unlink()
        del prov["tables"][name]
    (d / "PROVENANCE.json").write_text(json.dumps(prov), encoding="utf-8")
    t = IdentifierTables.load(d)
    assert t.mirna_mature("hsa-miR-21-5p") is None
    assert t.cell_type("macrophage") is None
    assert t.cell_line("Hep-G2") is None
    assert t.gene("S100A10") is not None
    assert t.available == frozenset({"hgnc.tsv.gz", "mirbase.tsv.gz", "drugs.tsv.gz"})
