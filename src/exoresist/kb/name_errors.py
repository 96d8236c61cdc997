"""How the name resolver says that a name is unknown: the closest valid names, what the name is if
it names a thing of another kind (an intervention target given as a cargo, a gene given as a
therapy), a known drug that is not in the KB, and the command that lists every valid value."""

from __future__ import annotations

from typing import TYPE_CHECKING

from exoresist.kb.errors import UnknownNameError, similarity
from exoresist.kb.models import Entity
from exoresist.kb.name_types import KIND_OPTION, KIND_WORDS, NameEntry, NameKind, Synonym, listing_command, norm

if TYPE_CHECKING:
    from exoresist.kb.names import NameIndex


def not_in_kb(index: NameIndex, query: str, entry: NameEntry, syn: Synonym) -> UnknownNameError:
    """A drug (or the brand of one) that the synonym tables know but the KB holds no record of."""
    known = {norm(d.drug): d for d in index.tables.therapies.known_drugs}.get(norm(entry.name))
    desc = f" ({known.description})" if known else ""
    if syn.via == "brand name":
        text = f"'{query}' is the brand name of {entry.name}{desc}, a known drug that is not in the KB"
    else:
        text = f"'{query}' is a known drug{desc} that is not in the KB"
    alternatives: list[str] = []
    for c in known.classes if known else ():
        node = index._class_nodes.get(c.value)
        drugs = sorted(index._label(r) for r in index.drugs_of_class(c.value))
        if node and drugs:
            alternatives += [node.label, *drugs]
    if alternatives:
        shown = list(dict.fromkeys(alternatives))
        text += f"; the KB has {', '.join(shown[:5])}" + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")
    return UnknownNameError(
        "therapy", query, suggestions=[], message=f"{text} ({listing_command(NameKind.THERAPY)} lists them all)"
    )


def not_a_cargo(index: NameIndex, query: str, entry: NameEntry) -> UnknownNameError:
    """An entity given as a cargo that no record carries: say what it is instead."""
    ent = index.kb.by_id[entry.id]
    assert isinstance(ent, Entity)
    names = {norm(n) for n in (ent.name, *ent.aliases)}
    targeted = [i for i in index.kb.interventions if any(norm(n) in names for n in i.target_entities)]
    payload = [i for i in index.kb.interventions if i.payload and norm(i.payload) in names]
    on_axis = [
        m.id
        for m in index.kb.mechanisms
        if any(norm(s.source) in names or norm(s.target) in names for s in m.axis) or any(norm(p) in names for p in m.pathways)
    ]
    if targeted:
        msg = f"'{query}' is an intervention target, not a cargo: try --intervention {targeted[0].id.removeprefix('int:')}"
    elif payload:
        msg = f"'{query}' is an intervention payload, not a cargo: try --intervention {payload[0].id.removeprefix('int:')}"
    elif on_axis:
        shown = ", ".join(on_axis[:3]) + (f" and {len(on_axis) - 3} more" if len(on_axis) > 3 else "")
        msg = f"'{query}' ({ent.entity_type.value}) is on the axis or pathways of {shown}, not a cargo"
    else:
        msg = f"'{query}' is an entity ({ent.entity_type.value}) that no record carries as a cargo"
    return UnknownNameError("cargo", query, suggestions=[], message=f"{msg} ({listing_command(NameKind.CARGO)} lists the cargos)")


def unknown(index: NameIndex, query: str, kind: NameKind) -> UnknownNameError:
    """A name of no kind expected: the closest names of that kind, and what the name is if anything."""
    what = KIND_WORDS[kind]
    hint, extra = other_kind_hint(index, query, kind)
    scored: list[tuple[float, str]] = []
    for e in index._kinds[kind].entries:
        if not e.in_kb:
            continue
        texts = [s.text for s in e.synonyms if s.via != "id" or kind is NameKind.INTERVENTION]
        best = max((similarity(query, t) for t in texts), default=0.0)
        scored.append((best, display(e)))
    scored.sort(key=lambda x: (-x[0], len(x[1]), x[1]))
    suggestions: list[str] = list(extra)
    for score, shown in scored:
        if score < 0.6 or len(suggestions) >= 3:
            break
        if shown not in suggestions:
            suggestions.append(shown)
    if hint is None and kind is NameKind.THERAPY:
        hint = drug_table_hint(index, query)
        if hint is not None:  # a real drug: look-alike names would mislead
            suggestions = [s for s in suggestions if similarity(query, s) >= 0.85]
    return UnknownNameError(what, query, suggestions=suggestions[:3], hint=hint, listing=listing_command(kind))


def display(entry: NameEntry) -> str:
    """How a suggestion names an entry: the vocabulary term that records and tables use for
    cell types and other terms, the short id for interventions, else the name."""
    if entry.kind in (NameKind.CELL, NameKind.PHENOTYPE, NameKind.EVIDENCE, NameKind.CARGO_CLASS):
        return entry.id.split(":", 1)[1]
    if entry.kind is NameKind.INTERVENTION:
        return entry.id.removeprefix("int:")
    return entry.name


def other_kind_hint(index: NameIndex, query: str, kind: NameKind) -> tuple[str | None, list[str]]:
    """If ``query`` names a thing of another kind, say what it is (and what to try)."""
    order = [NameKind.INTERVENTION, NameKind.THERAPY, NameKind.ENTITY, NameKind.CELL, NameKind.PHENOTYPE]
    order += [NameKind.EVIDENCE, NameKind.CARGO_CLASS]
    for other in order:
        if other is kind or (kind is NameKind.CARGO and other is NameKind.ENTITY):
            continue
        hit = index._kinds[other].get(query)
        if hit is None or not hit[0].in_kb:
            continue
        entry = hit[0]
        if other is NameKind.ENTITY and kind is NameKind.THERAPY:
            ent = index.kb.by_id[entry.id]
            assert isinstance(ent, Entity)
            aimed = therapies_aimed_at(index, ent)
            text = f"'{query}' is a {ent.entity_type.value} in the KB, not a therapy"
            if aimed:
                text += f"; therapies aimed at it: {', '.join(aimed)}"
            return text, aimed[:3]
        word = KIND_WORDS[other]
        short = entry.id.removeprefix("int:") if other is NameKind.INTERVENTION else entry.name
        expected = KIND_WORDS[kind]
        text = f"'{query}' is {_article(word)} {word} ({entry.id}), not {_article(expected)} {expected}"
        return f"{text}: try {KIND_OPTION[other]} {short}", []
    return None, []


def therapies_aimed_at(index: NameIndex, ent: Entity) -> list[str]:
    """Class labels and drug names of the therapies whose molecular target is ``ent``."""
    symbols = {norm(n) for n in (ent.name, *ent.aliases, ent.hgnc_symbol or "") if n}
    drugs = [t for t in index.kb.therapies if any(norm(s) in symbols for s in t.molecular_targets)]
    labels: list[str] = []
    for t in drugs:
        deepest = max(t.therapy_classes, key=lambda c: len(index._ancestors(c.value)), default=None)
        if deepest is not None:
            label = index._class_nodes[deepest.value].label
            if label not in labels:
                labels.append(label)
    return labels + [t.name for t in drugs if t.name not in labels]


def drug_table_hint(index: NameIndex, query: str) -> str | None:
    """A drug the shipped DrugBank table knows but the KB does not."""
    try:
        from exoresist.kb.identifiers import IdentifierTableError, IdentifierTables

        hits = IdentifierTables.load().drug(query)
    except (ImportError, OSError, ValueError, IdentifierTableError):
        return None
    ids = sorted({h.identifier for h in hits if h.namespace == "DrugBank"})
    if not ids:
        return None
    return f"'{query}' is a known drug (DrugBank {', '.join(ids)}) that is not in the KB"


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def unknown_anywhere(index: NameIndex, query: str) -> UnknownNameError:
    """A name that resolves in no kind: the most telling error of any kind, else the closest names of all."""
    errors: list[UnknownNameError] = []
    for kind in NameKind:
        try:
            index.resolve(query, kind)
        except UnknownNameError as exc:
            errors.append(exc)
    for err in errors:  # a known drug that is not in the KB, a name of an unexpected role
        if err.hint or (not err.suggestions and "unknown" not in str(err)):
            return err
    pool = [s.text for k in NameKind for e in index._kinds[k].entries if e.in_kb for s in e.synonyms if s.via != "id"]
    return UnknownNameError("name", query, pool, listing="exoresist names")
