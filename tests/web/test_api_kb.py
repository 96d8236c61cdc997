"""The knowledge-base API: the same answers as the library and `kb query`/`kb show`, paging, 422/404 with suggestions."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from exoresist.kb import KnowledgeBase
from exoresist.kb.base import record_row
from exoresist.kb.browse import record_detail
from exoresist.kb.store import open_kb


def test_records_are_kb_query_rows_with_paging(client: TestClient, kb: KnowledgeBase) -> None:
    want = [record_row(kb, m) for m in kb.query(therapy="sorafenib", include_hypotheses=True)]
    got = client.get("/api/v1/records", params={"therapy": "sorafenib", "limit": 5, "offset": 3}).json()
    assert got["total"] == len(want) > 8
    assert (got["limit"], got["offset"]) == (5, 3)
    assert got["items"] == want[3:8]
    everything = []
    for offset in range(0, len(want), 4):
        everything += client.get("/api/v1/records", params={"therapy": "sorafenib", "limit": 4, "offset": offset}).json()["items"]
    assert everything == want  # paging loses and repeats nothing


def test_class_filter_and_grade_and_words(client: TestClient, kb: KnowledgeBase) -> None:
    pd1 = client.get("/api/v1/records", params={"therapy": "anti-PD-1", "limit": 500}).json()
    assert {r["id"] for r in pd1["items"]} == {m.id for m in kb.query(therapy="anti-PD-1", include_hypotheses=True)}
    a = client.get("/api/v1/records", params={"grade": "A", "facets": "true", "limit": 500}).json()
    assert a["facets"]["grade"] == {"A": a["total"]}
    words = client.get("/api/v1/records", params={"q": "TIM-3 NK"}).json()
    assert [r["id"] for r in words["items"]] == ["mech:circuhrf1-nk-tim3"]


def test_unknown_name_is_422_with_field_and_suggestion(client: TestClient) -> None:
    r = client.get("/api/v1/records", params={"cargo": "circSOR"})
    assert r.status_code == 422
    (d,) = r.json()["detail"]
    assert d["loc"] == ["query", "cargo"]
    assert "circRNA-SORE" in d["suggestions"]
    r = client.get("/api/v1/records", params={"donor": "hcc cel", "recipient": "nk_cell"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "donor"]
    r = client.get("/api/v1/records", params={"grade": "Z"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "grade"]
    r = client.get("/api/v1/records", params={"limit": 0})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "limit"]


def test_record_item_is_kb_show_plus_citation(client: TestClient) -> None:
    opened = open_kb()
    body = client.get("/api/v1/records/mech:circuhrf1-nk-tim3").json()
    show = record_detail(opened.kb, opened.xrefs, opened.unresolved, "mech:circuhrf1-nk-tim3")
    assert {k: body[k] for k in show} == show
    assert body["url"].endswith("/records/mech:circuhrf1-nk-tim3")
    assert opened.kb.content_hash[:12] in body["citation"]["bibtex"]
    assert opened.kb.content_hash[:12] in body["citation"]["text"]
    assert body["evidence_grade_meaning"].startswith("shown in HCC both in vitro and in vivo")
    missing = client.get("/api/v1/records/mech:circuhrf1-nk-tim")
    assert missing.status_code == 404
    assert "mech:circuhrf1-nk-tim3" in missing.json()["detail"][0]["suggestions"]
    tsv = client.get("/api/v1/records/mech:circuhrf1-nk-tim3", params={"format": "tsv"})
    rows = list(csv.DictReader(io.StringIO(tsv.text), delimiter="\t"))
    assert [r["id"] for r in rows] == ["mech:circuhrf1-nk-tim3"] and rows[0]["cargo"] == "circUHRF1"


def test_export_has_every_match_in_each_format(client: TestClient, kb: KnowledgeBase) -> None:
    n = len(kb.query(cargo_class="miRNA", include_hypotheses=True))
    for fmt, count in (
        ("json", lambda t: len(__import__("json").loads(t))),
        ("jsonl", lambda t: len(t.splitlines())),
        ("csv", lambda t: len(list(csv.DictReader(io.StringIO(t))))),
        ("tsv", lambda t: len(list(csv.DictReader(io.StringIO(t), delimiter="\t")))),
    ):
        r = client.get("/api/v1/records/export", params={"cargo_class": "miRNA", "format": fmt})
        assert r.status_code == 200, fmt
        assert count(r.text) == n, fmt
        assert "attachment" in r.headers["content-disposition"]


def test_other_kinds_and_entities(client: TestClient, kb: KnowledgeBase) -> None:
    for path, n in (
        ("/api/v1/therapies", len(kb.therapies)),
        ("/api/v1/interventions", len(kb.interventions)),
        ("/api/v1/biomarkers", len(kb.biomarkers)),
        ("/api/v1/entities", len(kb.entities)),
    ):
        body = client.get(path, params={"limit": 500}).json()
        assert body["total"] == n == len(body["items"]), path
    pd1 = client.get("/api/v1/therapies", params={"class": "anti_pd1"}).json()
    assert {t["id"] for t in pd1["items"]} >= {"ther:nivolumab", "ther:pembrolizumab"}
    ent = client.get("/api/v1/entities/circRNA-SORE").json()
    assert ent["id"].startswith("ent:") and ent["uses"]["as_cargo"]
    therapy = client.get("/api/v1/therapies/5-FU").json()
    assert therapy["id"] == "ther:5-fluorouracil"
    wrong_kind = client.get("/api/v1/biomarkers/mech:circuhrf1-nk-tim3")
    assert wrong_kind.status_code == 404


def test_names_resolver_and_suggestions(client: TestClient) -> None:
    body = client.get("/api/v1/names", params={"q": "5-FU"}).json()
    assert body["items"] == [{"kind": "therapy", "id": "ther:5-fluorouracil", "name": "fluorouracil", "via": "name or alias"}]
    assert body["total"] == 1 and body["suggestions"] == []
    kinds = {m["kind"] for m in client.get("/api/v1/names", params={"q": "anti-PD-1"}).json()["items"]}
    assert "therapy_class" in kinds
    miss = client.get("/api/v1/names", params={"q": "sorafinib"}).json()
    assert miss["items"] == [] and "sorafenib" in miss["suggestions"]


def test_provenance_on_every_answer(client: TestClient, kb: KnowledgeBase) -> None:
    for path in ("/api/v1/records", "/api/v1/stats", "/", "/api/v1/records/export?format=csv", "/openapi.json"):
        r = client.get(path)
        assert r.headers["x-kb-content-hash"] == kb.content_hash, path
        assert r.headers["x-exoresist-version"] and r.headers["x-model-version"]
    body = client.get("/api/v1/stats").json()
    assert body["provenance"]["kb_content_hash"] == kb.content_hash == body["content_hash"]
