"""Browsing helpers shared by the CLI and the web layer: detail, search, facets, hierarchy, uses, citation."""

from __future__ import annotations

from datetime import date

import pytest

from exoresist.kb import KnowledgeBase, UnknownNameError
from exoresist.kb.browse import (
    FACETS,
    GRADE_MEANING,
    citation,
    entity_uses,
    facet_counts,
    record_detail,
    search,
    therapy_hierarchy,
)
from exoresist.kb.store import backend_name, open_kb
from exoresist.tabular import delimited


def test_record_detail_adds_cargo_and_identifiers(kb: KnowledgeBase) -> None:
    opened = open_kb()
    d = record_detail(opened.kb, opened.xrefs, opened.unresolved, "mech:circuhrf1-nk-tim3")
    assert d["cargo_record"] == "ent:circuhrf1"
    assert d["cargo_class"] == "circRNA"
    assert {x["record_id"] for x in d["identifiers"]} <= {"ent:circuhrf1", "mech:circuhrf1-nk-tim3"}
    assert d["identifiers"], "circUHRF1's host gene resolves against HGNC"
    with pytest.raises(UnknownNameError, match="did you mean"):
        record_detail(opened.kb, [], [], "mech:circuhrf1-nk-tim")


def test_search_ranks_names_first_and_needs_every_word(kb: KnowledgeBase) -> None:
    ids = [r.id for r in search(kb, "circUHRF1")]
    assert ids[:2] == ["ent:circuhrf1", "mech:circuhrf1-nk-tim3"]
    assert [r.id for r in search(kb, "TIM-3 NK")] == ["mech:circuhrf1-nk-tim3"]
    assert search(kb, "no-such-word-anywhere") == []
    assert len(search(kb, "  ")) == len(kb)  # no words: everything


def test_grade_filter_and_facets_agree(kb: KnowledgeBase) -> None:
    mechs = kb.query()
    counts = facet_counts(kb, mechs)
    assert set(counts) == set(FACETS)
    for grade, n in counts["grade"].items():
        assert len(kb.query(grade=grade)) == n
    assert sum(counts["grade"].values()) == len(mechs)
    assert counts["cargo_class"]["circRNA"] == len(kb.query(cargo_class="circRNA"))
    with pytest.raises(UnknownNameError, match="evidence grade"):
        kb.query(grade="E")
    assert set(GRADE_MEANING) == {"A", "B", "C", "D"}


def test_therapy_hierarchy_lists_drugs_under_classes(kb: KnowledgeBase) -> None:
    tree = {c["class"]: [t["id"] for t in c["therapies"]] for c in therapy_hierarchy(kb)}
    assert "ther:nivolumab" in tree["anti_pd1"]
    assert "ther:sorafenib" in tree["tyrosine_kinase_inhibitor"]


def test_entity_uses(kb: KnowledgeBase) -> None:
    uses = entity_uses(kb, "circUHRF1")
    assert uses["entity"] == "ent:circuhrf1"
    assert "mech:circuhrf1-nk-tim3" in uses["as_cargo"]
    tim3 = entity_uses(kb, "HAVCR2" if any(e.name == "HAVCR2" for e in kb.entities) else "TIM-3")
    assert "mech:circuhrf1-nk-tim3" in tim3["on_axis"]


def test_citation_names_version_hash_and_url(kb: KnowledgeBase) -> None:
    rec = kb.get("mech:circuhrf1-nk-tim3")
    c = citation(rec, kb_version="0.1.0", content_hash="abcdef0123456789", url="http://x/records/r", accessed=date(2026, 1, 2))
    assert "0.1.0" in c["text"] and "abcdef012345" in c["text"] and "http://x/records/r" in c["text"]
    assert c["bibtex"].startswith("@misc{exoresist-mech-circuhrf1-nk-tim3,")
    assert "year         = {2026}" in c["bibtex"]


def test_open_kb_from_records_and_backend_names() -> None:
    opened = open_kb()
    assert opened.meta["source"] == "records"
    assert opened.meta["content_hash"] == opened.kb.content_hash
    assert backend_name("postgresql://u:p@127.0.0.1/db") == "postgresql"
    assert backend_name("sqlite:///x.sqlite") == "sqlite"


def test_delimited_flattens_lists_and_dicts() -> None:
    text = delimited([{"a": [1, {"k": 1}], "b": None}, {"a": [], "c": {"k": 2}}], "\t")
    assert text.splitlines() == ["a\tb\tc.k", '"1; {""k"": 1}"\t\t', "\t\t2"]
