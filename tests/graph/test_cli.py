"""``exoresist graph ...`` on the hand-made and shipped KBs, and on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
from typer.testing import CliRunner

from exoresist.cli.main import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_explain_json_on_the_shipped_kb() -> None:
    code, out, _ = run("graph", "explain", "--cargo", "circCCAR1", "--therapy", "anti-PD-1", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert d["n_routes"] == 2 and all(r["anchor_records"] == ["mech:circccar1-pdl1-pd1-cd8"] for r in d["routes"])
    # the keys the README documents, and the cell of every step
    documented = {"effect", "net_sign", "weakest_evidence", "cargo", "donor", "phenotype", "therapy", "anchor_records"}
    documented |= {"segments", "cells", "non_exosomal_records", "records", "composed", "nodes", "text", "steps"}
    for r in d["routes"]:
        assert documented | {"in_cells", "pathways"} <= set(r)
        assert all(s["cell"] and s["cell_label"] for s in r["steps"])
        assert r["pathways"] == ["Wnt/β-catenin"] and r["composed"] is False
    assert {tuple(r["in_cells"]) for r in d["routes"]} == {("cell:hcc_cell",), ("cell:hcc_cell", "cell:cd8_t_cell")}


def test_text_commands(mini_records: Path) -> None:
    rec = ("--records", str(mini_records), "--standalone")
    code, out, _ = run("graph", "explain", "--cargo", "circX", "--therapy", "sorafenib", *rec)
    assert code == 0 and "circX sponges miR-1-3p" in out
    code, out, _ = run("graph", "routes", "--therapy", "sorafenib", *rec)
    assert code == 0 and "by phenotype" in out
    code, out, _ = run("graph", "targets", "--therapy", "sorafenib", "--top", "3", *rec, "--format", "json")
    assert code == 0 and len(json.loads(out)["nodes"]) == 3
    code, out, _ = run("graph", "compare", "--therapy", "sorafenib", "--therapy", "anti-PD-1", *rec)
    assert code == 0 and "mech:mir2-caf" in out


def test_unknown_name_exits_1_with_suggestion(mini_records: Path) -> None:
    code, out, err = run(
        "graph", "explain", "--cargo", "circY", "--therapy", "sorafenib", "--records", str(mini_records), "--standalone"
    )
    assert code == 1 and "unknown cargo 'circY'" in err and "circX" in err and out == ""
    code, _, err = run("graph", "routes", "--therapy", "sorafenbi", "--records", str(mini_records), "--standalone")
    assert code == 1 and "did you mean 'sorafenib'" in err


def test_no_route_exits_1(mini_records: Path) -> None:
    code, _, err = run(
        "graph", "explain", "--cargo", "circX", "--therapy", "nivolumab", "--records", str(mini_records), "--standalone"
    )
    assert code == 1 and "no route" in err
    code, out, _ = run(
        "graph",
        "explain",
        "--cargo",
        "circX",
        "--therapy",
        "nivolumab",
        "--records",
        str(mini_records),
        "--standalone",
        "--include-hypotheses",
    )
    assert code == 0 and "hyp:circx-pd1" in out


def test_export_and_draw(mini_records: Path, tmp_path: Path) -> None:
    out = tmp_path / "g.graphml"
    code, msg, _ = run("graph", "export", "--format", "graphml", "-o", str(out), "--records", str(mini_records), "--standalone")
    assert code == 0 and "22 nodes and 24 edges" in msg
    assert nx.read_graphml(out, force_multigraph=True).number_of_edges() == 24
    code, _, _ = run(
        "graph", "export", "--format", "sbml-qual", "-o", str(tmp_path / "g.sbml"), "--records", str(mini_records), "--standalone"
    )
    assert code == 0
    png = tmp_path / "f.png"
    code, _, _ = run("graph", "draw", "--therapy", "sorafenib", "-o", str(png), "--records", str(mini_records), "--standalone")
    assert code == 0 and png.stat().st_size > 1000
    code, _, err = run("graph", "draw", "-o", str(tmp_path / "f.gif"), "--records", str(mini_records), "--standalone")
    assert code == 1 and "unknown format" in err


def test_db_option_reads_a_built_store(mini_records: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kb.sqlite'}"
    from exoresist.kb import load_kb
    from exoresist.kb.store import build_store

    build_store(load_kb([mini_records]), url, xrefs=[], unresolved=[])
    code, out, _ = run("graph", "explain", "--cargo", "circX", "--therapy", "sorafenib", "--db", url)
    assert code == 0 and "circX sponges miR-1-3p" in out
    code, _, err = run("graph", "routes", "--therapy", "sorafenib", "--db", f"sqlite:///{tmp_path / 'missing.sqlite'}")
    assert code == 1 and "no KB store" in err
    code, _, err = run("graph", "routes", "--therapy", "sorafenib", "--db", url, "--records", str(mini_records), "--standalone")
    assert code == 1 and "leave out --db" in err
    # --records adds to the store's records: a new cargo becomes explainable
    extra = tmp_path / "mine.yaml"
    extra.write_text(
        "- {kind: entity, id: ent:circq, name: circQ, entity_type: circRNA}\n"
        "- kind: mechanism\n  id: mech:circq-pten\n  title: circQ raises PTEN (test record)\n"
        "  review_sections: [targeted_therapy]\n  donor_cells: [hcc_cell]\n  cargo: circQ\n"
        "  recipient_cells: [hcc_cell]\n  axis: [{source: circQ, relation: upregulates, target: PTEN}]\n"
        "  phenotypes: [apoptosis_evasion]\n  therapies: [{therapy: ther:sorafenib, direction: promotes_resistance}]\n"
        "  evidence: [{kinds: [in_vitro], finding: 'A made-up finding for this test only, long enough.'}]\n"
        "  evidence_grade: B\n",
        encoding="utf-8",
    )
    code, out, err = run("graph", "explain", "--cargo", "circQ", "--therapy", "sorafenib", "--db", url, "--records", str(extra))
    assert code == 0 and "mech:circq-pten" in out, err
