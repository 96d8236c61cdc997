"""Graph and model API: the CLI's JSON, focused views, exports, simulations, limits."""

from __future__ import annotations

import csv
import io
import json

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from exoresist.cli.main import app as cli
from exoresist.graph import build_graph, explain, targets
from exoresist.kb import KnowledgeBase

runner = CliRunner()


def _cli_json(*args: str) -> object:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _without_provenance(body: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in body.items() if k != "provenance"}


def test_explain_routes_targets_compare_are_the_cli_json(client: TestClient) -> None:
    explain_q = {"cargo": "circCCAR1", "therapy": "anti-PD-1"}
    compare_q = [("therapy", "sorafenib"), ("therapy", "lenvatinib")]
    cases = [
        ("/api/v1/graph/explain", explain_q, ["graph", "explain", "--cargo", "circCCAR1", "--therapy", "anti-PD-1"]),
        ("/api/v1/graph/routes", {"therapy": "sorafenib"}, ["graph", "routes", "--therapy", "sorafenib"]),
        ("/api/v1/graph/targets", {"therapy": "sorafenib", "top": 5}, ["graph", "targets", "--therapy", "sorafenib", "--top=5"]),
        ("/api/v1/graph/compare", compare_q, ["graph", "compare", "--therapy", "sorafenib", "--therapy", "lenvatinib"]),
    ]
    for path, params, args in cases:
        r = client.get(path, params=params)
        assert r.status_code == 200, path
        assert _without_provenance(r.json()) == _cli_json(*args, "--format", "json"), path


def test_graph_errors(client: TestClient) -> None:
    r = client.get("/api/v1/graph/explain", params={"cargo": "circCCAR", "therapy": "anti-PD-1"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "cargo"] and "circCCAR1" in r.json()["detail"][0]["suggestions"]
    r = client.get("/api/v1/graph/explain", params={"cargo": "circCCAR1", "therapy": "sorafenib"})
    assert r.status_code == 404 and "no route" in r.json()["detail"][0]["msg"]
    assert client.get("/api/v1/graph/compare", params={"therapy": "sorafenib"}).status_code == 422
    assert client.get("/api/v1/graph/view", params={"expand": "entity:ent:nope"}).status_code == 404
    assert client.get("/api/v1/graph/export", params={"format": "png"}).status_code == 422


def test_tables_of_a_result_download(client: TestClient, kb: KnowledgeBase) -> None:
    mg = build_graph(kb)
    r = client.get("/api/v1/graph/targets", params={"therapy": "sorafenib", "format": "tsv", "table": "interventions"})
    rows = list(csv.DictReader(io.StringIO(r.text), delimiter="\t"))
    assert [x["intervention"] for x in rows] == [i.intervention for i in targets(mg, therapy="sorafenib").interventions]
    r = client.get("/api/v1/graph/explain", params={"cargo": "circCCAR1", "therapy": "anti-PD-1", "format": "csv"})
    assert len(list(csv.DictReader(io.StringIO(r.text)))) == len(explain(mg, cargo="circCCAR1", therapy="anti-PD-1").routes)
    bad_q = {"cargo": "circCCAR1", "therapy": "anti-PD-1", "format": "csv", "table": "x"}
    bad = client.get("/api/v1/graph/explain", params=bad_q)
    assert bad.status_code == 422 and "routes" in bad.json()["detail"][0]["msg"]


def test_view_and_export(client: TestClient, kb: KnowledgeBase) -> None:
    v = client.get("/api/v1/graph/view", params={"view": "explain", "cargo": "circUHRF1", "therapy": "anti-PD-1"}).json()
    assert "entity:ent:circuhrf1" in {n["data"]["id"] for n in v["elements"]["nodes"]}
    more = client.get("/api/v1/graph/view", params={"view": "node", "expand": ["therapy:ther:sorafenib"], "per_node": 4}).json()
    assert more["n_edges"] == 4 and more["hidden"]["therapy:ther:sorafenib"] > 0
    mg = build_graph(kb)
    for fmt in ("graphml", "cx2", "cyjs", "sbml-qual", "dot"):
        r = client.get("/api/v1/graph/export", params={"format": fmt})
        assert r.status_code == 200 and r.text, fmt
    cyjs = client.get("/api/v1/graph/export", params={"format": "cyjs"}).json()
    assert len(cyjs["elements"]["nodes"]) == mg.graph.number_of_nodes()


def test_simulation_is_the_cli_json(client: TestClient) -> None:
    body = {"context": "culture", "therapies": ["sorafenib"], "interventions": ["secretion-blockade"], "days": 5, "every": 1}
    r = client.post("/api/v1/simulations", json=body)
    assert r.status_code == 200
    want = _cli_json("simulate", "--context", "culture", "--therapy", "sorafenib", "--intervention", "secretion-blockade",
                     "--days", "5", "--every", "1", "--format", "json")  # fmt: skip
    assert _without_provenance(r.json()) == want
    assert r.json()["provenance"]["spec_hash"] == want["spec_hash"] == r.headers["x-spec-hash"]  # type: ignore[index]
    csv_rows = list(csv.DictReader(io.StringIO(client.post("/api/v1/simulations?format=csv", json=body).text)))
    assert len(csv_rows) == 6 and float(csv_rows[-1]["day"]) == 5.0


def test_simulation_bad_input_is_422_naming_the_field(client: TestClient) -> None:
    cases = [
        ({"therapies": ["sorafinib"]}, ["body", "therapies"], "sorafenib"),
        ({"interventions": ["secretion-blokade"]}, ["body", "interventions"], None),
        ({"knockouts": ["circSOR"]}, ["body", "knockouts"], "circRNA-SORE"),
        ({"params": {"k_nope": 1.0}}, ["body", "params"], None),
        ({"days": 4000}, ["body", "days"], None),
        ({"days": 3000, "every": 0.1}, ["body", "every"], None),
        ({"context": "dish"}, ["body", "context"], None),
        ({"extra": 1}, ["body", "extra"], None),
    ]
    for patch, loc, suggestion in cases:
        r = client.post("/api/v1/simulations", json={"context": "culture", "days": 3, **patch})
        assert r.status_code == 422, patch
        d = r.json()["detail"][0]
        assert d["loc"] == loc, (patch, d)
        if suggestion:
            assert suggestion in d["suggestions"], d
    nan = client.post("/api/v1/simulations", content=b'{"days": NaN}', headers={"content-type": "application/json"})
    assert nan.status_code == 422
    big = client.post("/api/v1/simulations", content=b"{" + b" " * 70_000 + b"}", headers={"content-type": "application/json"})
    assert big.status_code == 413


def test_model_and_sbml(client: TestClient) -> None:
    q = {"context": "culture", "therapy": "sorafenib", "days": 3}
    body = client.get("/api/v1/model", params=q).json()
    want = _cli_json("model", "show", "--context", "culture", "--therapy", "sorafenib", "--days", "3", "--format", "json")
    assert _without_provenance(body) == want
    sbml = client.get("/api/v1/model/sbml", params=q)
    assert sbml.status_code == 200 and "<sbml" in sbml.text and sbml.headers["x-spec-hash"] == body["spec_hash"]
    bad = client.get("/api/v1/model", params={"therapy": "aspirin"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "therapy"]
    assert client.get("/api/v1/model/sbml", params={**q, "param": "nope"}).status_code == 422


def test_cors_is_off_and_no_file_paths(client: TestClient) -> None:
    r = client.options("/api/v1/records", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in r.headers
    r = client.get("/api/v1/records", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    spec = client.get("/openapi.json").json()
    names = {p["name"] for ops in spec["paths"].values() for op in ops.values() for p in op.get("parameters", [])}
    assert not {n for n in names if n in ("path", "file", "out", "output", "records", "db")} - {"records"}
    assert "db" not in names and "out" not in names
