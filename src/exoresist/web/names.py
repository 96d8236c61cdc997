"""The one module through which the web layer resolves names typed by a user.

It wraps today's look-ups of the library (``kb.get``, ``kb.entity``, ``kb.therapy``,
``kb.therapy_refs``, the model's intervention names and the vocabularies) and the suggestions of
:class:`~exoresist.kb.errors.UnknownNameError`. When the shared name resolver of ``exoresist.kb``
lands, this module is the only one that changes.
"""

from __future__ import annotations

from typing import Any

from exoresist.kb import KnowledgeBase, UnknownNameError
from exoresist.kb.browse import record_label
from exoresist.kb.errors import suggest
from exoresist.kb.vocab import CellType, Phenotype
from exoresist.model.assemble import resolve_interventions


def suggestions(exc: UnknownNameError) -> list[str]:
    """The close matches an unknown-name error offers, best first."""
    return list(exc.suggestions)


def resolve(kb: KnowledgeBase, q: str) -> dict[str, Any]:
    """Everything ``q`` names: ``{"query", "matches": [{"kind", "id", "name", "via"}], "suggestions"}``.

    A name can match several things (a record id, an entity, a drug or a therapy class, an
    intervention, a cell type, a phenotype); ``suggestions`` lists close names when nothing matches."""
    q = q.strip()
    matches: list[dict[str, Any]] = []
    if q in kb.by_id:
        rec = kb.by_id[q]
        matches.append({"kind": rec.kind, "id": rec.id, "name": record_label(rec), "via": "record id"})
    pool: list[str] = list(kb.by_id)
    try:
        ent = kb.entity(q)
        matches.append({"kind": "entity", "id": ent.id, "name": ent.name, "via": "name or alias"})
    except UnknownNameError as exc:
        pool += exc.suggestions
    try:
        t = kb.therapy(q)
        matches.append({"kind": "therapy", "id": t.id, "name": t.name, "via": "name or alias"})
    except UnknownNameError as exc:
        pool += exc.suggestions
        try:
            refs = sorted(r for r in kb.therapy_refs(q) if r.startswith("class:"))
            matches += [{"kind": "therapy_class", "id": r, "name": r.removeprefix("class:"), "via": "class"} for r in refs[:1]]
        except UnknownNameError:
            pass
    try:
        (iv,) = resolve_interventions(kb, [q])
        matches.append({"kind": "intervention", "id": iv.id, "name": iv.name, "via": "name, alias or short form"})
    except UnknownNameError as exc:
        pool += exc.suggestions
    for vocab, kind in ((CellType, "cell_type"), (Phenotype, "phenotype")):
        for member in vocab:
            if q.casefold() in (member.value.casefold(), member.value.replace("_", " ").casefold()):
                matches.append({"kind": kind, "id": member.value, "name": member.value.replace("_", " "), "via": "vocabulary"})
    seen: set[tuple[str, str]] = set()
    unique = []
    for m in matches:
        if (m["kind"], m["id"]) not in seen:
            seen.add((m["kind"], m["id"]))
            unique.append(m)
    return {"query": q, "matches": unique, "suggestions": [] if unique else suggest(q, dict.fromkeys(pool), n=5)}
