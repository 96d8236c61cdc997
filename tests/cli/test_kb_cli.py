"""Every `exoresist kb` command, on the shipped KB and on bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from exoresist.cli.main import app
from exoresist.kb import KnowledgeBase
from tests.conftest import MINI_MECHANISMS, write_mini

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_validate_shipped_records() -> None:
    code, out, _ = run("kb", "validate")
    assert code == 0 and "record(s) in 7 file(s) are valid" in out and "nothing was written" not in out


def test_validate_bad_folder_names_file_record_field(tmp_path: Path) -> None:
    write_mini(tmp_path, mechanisms_yaml=MINI_MECHANISMS.replace("ther:sorafenib", "ther:sorafinib"))
    code, _, err = run("kb", "validate", "--standalone", str(tmp_path))
    assert code == 1
    assert "mechanisms.yaml [mech:circx-pten] therapies.0.therapy: unknown therapy 'ther:sorafinib'" in err
    assert "did you mean 'ther:sorafenib'" in err


def test_build_then_read_from_store(tmp_path: Path, kb: KnowledgeBase) -> None:
    url = f"sqlite:///{tmp_path / 'kb.sqlite'}"
    code, out, _ = run("kb", "build", "--db", url)
    assert code == 0 and f"{len(kb)} records" in out
    code, out, _ = run("kb", "stats", "--db", url, "--format", "json")
    assert code == 0
    stats = json.loads(out)
    assert stats["records"] == len(kb) and stats["content_hash"] == kb.content_hash


def test_reading_a_missing_store_is_an_error_and_creates_nothing(tmp_path: Path) -> None:
    code, _, err = run("kb", "query", "--db", f"sqlite:///{tmp_path / 'missing.sqlite'}")
    assert code == 1 and "no KB store" in err
    assert not (tmp_path / "missing.sqlite").exists()


def test_query_by_alias_and_class(kb: KnowledgeBase) -> None:
    code, out, _ = run("kb", "query", "--cargo", "circSORE", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert rows and all(r["cargo"] == kb.entity("circRNA-SORE").name for r in rows)
    code, out, _ = run("kb", "query", "--therapy", "5-FU", "--format", "json")
    ids_5fu = {r["id"] for r in json.loads(out)}
    code, out, _ = run("kb", "query", "--therapy", "fluorouracil", "--format", "json")
    assert ids_5fu and ids_5fu == {r["id"] for r in json.loads(out)}
    code, out, _ = run("kb", "query", "--therapy", "nivolumab", "--format", "json")
    assert "mech:circuhrf1-nk-tim3" in {r["id"] for r in json.loads(out)}  # anti-PD-1 class covers nivolumab


def test_query_filters_combine(kb: KnowledgeBase) -> None:
    code, out, _ = run("kb", "query", "--cargo-class", "circRNA", "--evidence", "in_vivo", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and all(r["cargo_class"] == "circRNA" for r in rows)
    expected = {m.id for m in kb.query(cargo_class="circRNA", evidence="in_vivo")}
    assert {r["id"] for r in rows} == expected


def test_query_table_output() -> None:
    code, out, _ = run("kb", "query", "--phenotype", "stemness")
    assert code == 0 and "record(s)" in out


def test_query_unknown_name_suggests() -> None:
    code, _, err = run("kb", "query", "--therapy", "sorafinib")
    assert code == 1 and "unknown therapy 'sorafinib'" in err and "sorafenib" in err
    code, _, err = run("kb", "query", "--phenotype", "stemnes")
    assert code == 1 and "did you mean 'stemness'" in err
    code, _, err = run("kb", "query", "--donor", "hcc_cel")
    assert code == 1 and "hcc_cell" in err


def test_show(kb: KnowledgeBase) -> None:
    code, out, _ = run("kb", "show", "mech:circuhrf1-nk-tim3")
    assert code == 0
    rec = json.loads(out)
    assert rec["id"] == "mech:circuhrf1-nk-tim3" and rec["cargo_class"] == "circRNA"
    code, _, err = run("kb", "show", "mech:circuhrf1-nk-tim")
    assert code == 1 and "did you mean 'mech:circuhrf1-nk-tim3'" in err


def test_stats_text() -> None:
    code, out, _ = run("kb", "stats")
    assert code == 0 and "Table 1 (21 rows) by cargo class" in out and "unresolved names" in out


def test_export_formats(tmp_path: Path, kb: KnowledgeBase) -> None:
    code, out, _ = run("kb", "export", "--format", "jsonl")
    assert code == 0
    lines = [json.loads(x) for x in out.splitlines()]
    assert len(lines) == len(kb)
    required = {"id", "kind", "cargo", "cargo_aliases", "cargo_class", "donor_cells", "recipient_cells", "axis", "pathways"}
    required |= {"phenotypes", "therapies", "evidence", "process", "notes"}
    assert all(required <= set(line) for line in lines)
    for fmt, delim in (("csv", ","), ("tsv", "\t")):
        target = tmp_path / f"kb.{fmt}"
        code, _, _ = run("kb", "export", "--format", fmt, "-o", str(target))
        assert code == 0
        rows = list(csv.DictReader(target.open(encoding="utf-8"), delimiter=delim))
        assert len(rows) == len(kb)
    code, out, _ = run("kb", "export", "--format", "json")
    assert len(json.loads(out)) == len(kb)


def test_coverage_and_schema_check(tmp_path: Path) -> None:
    target = tmp_path / "coverage.md"
    assert run("kb", "coverage", "--check", "-o", str(target))[0] == 1
    assert run("kb", "coverage", "-o", str(target))[0] == 0
    assert run("kb", "coverage", "--check", "-o", str(target))[0] == 0
    schema = tmp_path / "schema.json"
    assert run("kb", "schema", "-o", str(schema))[0] == 0
    assert json.loads(schema.read_text())["title"].startswith("exoresist")


def test_format_check_and_rewrite(tmp_path: Path) -> None:
    write_mini(
        tmp_path,
        therapies_yaml=(
            "- {kind: therapy, id: 'ther:sorafenib', name: sorafenib,"
            " therapy_classes: [tyrosine_kinase_inhibitor], modality: small_molecule}\n"
        ),
    )
    code, out, _ = run("kb", "format", "--check", str(tmp_path))
    assert code == 1 and "would reformat" in out
    assert run("kb", "format", str(tmp_path))[0] == 0
    assert run("kb", "format", "--check", str(tmp_path))[0] == 0
    assert run("kb", "validate", "--standalone", str(tmp_path))[0] == 0


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("exoresist ")
