"""One resolver for the names users type, used by every command (and the web API).

It turns what a biologist writes into the KB's canonical ids, and says how:

* therapies: drug names, aliases and ids, regimens, brand names (``Nexavar``), and therapy
  classes with their hierarchy (``immunotherapy`` > ``immune checkpoint inhibitors`` >
  ``anti-PD-1`` > nivolumab, pembrolizumab); a class expands to every class and drug under it;
* cell types with subtypes (``macrophage`` > ``M2 macrophage``; ``TAM``; ``MSC`` > adipose MSC);
* cargos and other entities by name or alias, and in miRBase forms (``hsa-miR-21-5p``; an arm
  the KB does not state, or a precursor that covers several records, comes with a note);
* interventions by id, name, alias, a compound they cover (``GW4869``), their payload
  (``miR-122``), their target or the words of their name (``CD38 siRNA exosomes``);
* phenotypes, evidence kinds and cargo classes, with the words users type for them.

Results are data (:class:`Resolved`): kind, canonical id and name, what matched and its source,
what it expanded to and notes. An unknown name raises :class:`UnknownNameError` with the
closest valid names (token and edit distance), what kind was expected, what the name is if it is
a thing of another kind, and the command that lists every valid value. The data types live in
:mod:`exoresist.kb.name_types` and the error messages in :mod:`exoresist.kb.name_errors`.

>>> from exoresist.kb import load_kb
>>> r = load_kb().names.resolve("Nexavar", "therapy")
>>> (r.id, r.via)
('ther:sorafenib', 'brand name')
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from exoresist.kb import name_errors
from exoresist.kb.errors import UnknownNameError, name_tokens
from exoresist.kb.models import Entity, Intervention, Therapy
from exoresist.kb.name_types import (
    KIND_OPTION,
    KIND_WORDS,
    MirnaName,
    NameEntry,
    NameInputError,
    NameKind,
    Resolved,
    Synonym,
    check_name,
    listing_command,
    norm,
    parse_mirna,
)
from exoresist.kb.synonym_tables import HierarchyNode, SynonymTables, load_synonyms
from exoresist.kb.vocab import CargoClass, CellType, EntityType, EvidenceKind, Phenotype, TherapyClass

if TYPE_CHECKING:
    from exoresist.kb.base import KnowledgeBase

__all__ = [
    "KIND_OPTION",
    "KIND_WORDS",
    "NameEntry",
    "NameIndex",
    "NameInputError",
    "NameKind",
    "Resolved",
    "Synonym",
    "check_name",
    "listing_command",
    "norm",
    "parse_mirna",
]


# --- the index ------------------------------------------------------------------------------------
_PRECEDENCE = {"id": 0, "name": 0, "label": 0, "alias": 1, "brand name": 2, "compound": 2, "synonym": 3, "miRBase name": 1}


@dataclass
class _Kind:
    entries: list[NameEntry] = field(default_factory=list)
    keys: dict[str, list[tuple[NameEntry, Synonym]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, entry: NameEntry) -> None:
        self.entries.append(entry)
        for syn in entry.synonyms:
            bucket = self.keys[norm(syn.text)]
            if all(e.id != entry.id for e, _ in bucket):
                bucket.append((entry, syn))
                bucket.sort(key=lambda es: _PRECEDENCE.get(es[1].via, 5))

    def get(self, name: str) -> tuple[NameEntry, Synonym] | None:
        hits = self.keys.get(norm(name))
        return hits[0] if hits else None


class NameIndex:
    """Every name of one knowledge base and its synonym tables; build it with ``kb.names``."""

    def __init__(self, kb: KnowledgeBase, tables: SynonymTables | None = None) -> None:
        self.kb = kb
        self.tables = tables or load_synonyms()
        self._kinds: dict[NameKind, _Kind] = {k: _Kind() for k in NameKind}
        self._class_nodes = {n.id: n for n in self.tables.therapy_classes}
        self._cell_nodes = {n.id: n for n in self.tables.cell_types}
        self._cargo_ids = {kb.entity(m.cargo).id for m in kb.mechanisms}
        self._build_therapies()
        self._build_cells()
        self._build_entities()
        self._build_interventions()
        self._build_terms()

    # --- building -----------------------------------------------------------------------------
    def _build_therapies(self) -> None:
        kb, kind = self.kb, self._kinds[NameKind.THERAPY]
        brands: dict[str, list[Synonym]] = defaultdict(list)
        drug_names: dict[str, str] = {}
        for b in self.tables.therapies.brands:
            brands[norm(b.drug)].append(Synonym(b.brand, "brand name", b.source))
            drug_names[norm(b.drug)] = b.drug
        in_kb: set[str] = set()
        for t in kb.therapies:
            syns = [Synonym(t.id, "id"), Synonym(t.id.removeprefix("ther:"), "id"), Synonym(t.name, "name")]
            syns += [Synonym(a, "alias", f"alias curated on {t.id}") for a in t.aliases]
            for n in (t.name, *t.aliases):
                syns += brands.get(norm(n), [])
                in_kb.add(norm(n))
            refs = self.drug_refs(t)
            kind.add(NameEntry(NameKind.THERAPY, t.id, t.name, tuple(syns), None, tuple(sorted(refs))))
        for node in self.tables.therapy_classes:
            cid = f"class:{node.id}"
            syns = [Synonym(node.label, "label"), Synonym(node.id, "id"), Synonym(cid, "id")]
            if node.vocabulary:
                syns.append(Synonym(TherapyClass(node.id).name, "id"))
            syns += [Synonym(a.name, "alias", a.source, a.note) for a in node.aliases]
            refs = self.class_refs(node.id)
            parent = f"class:{node.parent}" if node.parent else None
            note = None if node.vocabulary else "a grouping of classes; records name its sub-classes"
            kind.add(NameEntry(NameKind.THERAPY, cid, node.label, tuple(syns), parent, tuple(sorted(refs)), note=note))
        known = {norm(d.drug): d for d in self.tables.therapies.known_drugs}
        for key, syns in brands.items():
            if key in in_kb:
                continue
            drug = known.get(key)
            name = drug.drug if drug else drug_names[key]
            desc = f"{drug.description}; " if drug else ""
            kind.add(
                NameEntry(
                    NameKind.THERAPY,
                    f"drug:{key}",
                    name,
                    (Synonym(name, "name"), *syns),
                    in_kb=False,
                    note=f"{desc}a known drug that is not in the KB",
                )
            )
        for key, drug in known.items():
            if key not in in_kb and f"drug:{key}" not in {e.id for e in kind.entries}:
                kind.add(
                    NameEntry(
                        NameKind.THERAPY,
                        f"drug:{key}",
                        drug.drug,
                        (Synonym(drug.drug, "name"),),
                        in_kb=False,
                        note=f"{drug.description}; a known drug that is not in the KB",
                    )
                )

    def _build_cells(self) -> None:
        kind = self._kinds[NameKind.CELL]
        for node in self.tables.cell_types:
            syns = [Synonym(node.label, "label"), Synonym(node.id, "id"), Synonym(f"cell:{node.id}", "id")]
            if node.vocabulary:
                syns.append(Synonym(CellType(node.id).name, "id"))
            syns += [Synonym(a.name, "alias", a.source, a.note) for a in node.aliases]
            cells = self._descendants(self._cell_nodes, node.id)
            expands = tuple(f"cell:{c}" for c in cells if self._cell_nodes[c].vocabulary)
            note = None
            if not node.vocabulary and expands:
                note = f"a grouping: it stands for {', '.join(self._cell_nodes[c.removeprefix('cell:')].label for c in expands)}"
            elif not node.vocabulary:
                note = "no record uses this cell type"
                if node.parent:
                    under = [c for c in self._descendants(self._cell_nodes, node.parent) if self._cell_nodes[c].vocabulary]
                    labels = ", ".join(self._cell_nodes[c].label for c in under)
                    note += f"; try --donor {self._cell_nodes[node.parent].label} (covers {labels})"
            parent = f"cell:{node.parent}" if node.parent else None
            kind.add(NameEntry(NameKind.CELL, f"cell:{node.id}", node.label, tuple(syns), parent, expands, note=note))

    def _build_entities(self) -> None:
        ents, cargos = self._kinds[NameKind.ENTITY], self._kinds[NameKind.CARGO]
        for e in self.kb.entities:
            syns = [Synonym(e.name, "name"), Synonym(e.id, "id")]
            syns += [Synonym(a, "alias", f"alias curated on {e.id}") for a in e.aliases]
            if e.mirbase_name:
                syns.append(Synonym(e.mirbase_name, "miRBase name", f"mature miRBase name curated on {e.id}"))
            entry = NameEntry(NameKind.ENTITY, e.id, e.name, tuple(syns), None, (e.id,), note=e.entity_type.value)
            ents.add(entry)
            if e.id in self._cargo_ids:
                cargos.add(NameEntry(NameKind.CARGO, e.id, e.name, tuple(syns), None, (e.id,), note=e.entity_type.value))

    def _build_interventions(self) -> None:
        kind = self._kinds[NameKind.INTERVENTION]
        compounds: dict[str, list[Synonym]] = defaultdict(list)
        for c in self.tables.interventions:
            compounds[c.intervention].append(
                Synonym(c.name, "compound" if c.relation != "synonym" else "synonym", c.source, c.note)
            )
        for i in self.kb.interventions:
            syns = [Synonym(i.id, "id"), Synonym(i.id.removeprefix("int:"), "id"), Synonym(i.name, "name")]
            syns += [Synonym(a, "alias", f"alias curated on {i.id}") for a in i.aliases]
            syns += compounds.get(i.id, [])
            kind.add(NameEntry(NameKind.INTERVENTION, i.id, i.name, tuple(syns), None, (i.id,), note=i.intervention_kind.value))

    def _build_terms(self) -> None:
        for nk, vocab, members in (
            (NameKind.PHENOTYPE, "phenotype", list(Phenotype)),
            (NameKind.EVIDENCE, "evidence", list(EvidenceKind)),
            (NameKind.CARGO_CLASS, "cargo_class", list(CargoClass)),
        ):
            extra = {t.term: t for t in self.tables.term_aliases(vocab)}
            for m in members:
                tid = f"{nk.value}:{m.value}"
                syns = [Synonym(m.value, "name"), Synonym(m.name, "id"), Synonym(tid, "id")]
                if m.value in extra:
                    syns += [Synonym(a.name, "alias", a.source, a.note) for a in extra[m.value].aliases]
                self._kinds[nk].add(NameEntry(nk, tid, m.value, tuple(syns), None, (tid,)))

    @staticmethod
    def _descendants(nodes: dict[str, HierarchyNode], root: str) -> list[str]:
        """``root`` and every node under it, parents before children."""
        children: dict[str | None, list[str]] = defaultdict(list)
        for n in nodes.values():
            children[n.parent].append(n.id)
        out, todo = [], [root]
        while todo:
            node = todo.pop(0)
            out.append(node)
            todo.extend(children.get(node, []))
        return out

    def _ancestors(self, class_id: str) -> list[str]:
        out, p = [], self._class_nodes[class_id].parent if class_id in self._class_nodes else None
        while p is not None:
            out.append(p)
            p = self._class_nodes[p].parent
        return out

    # --- therapy references -------------------------------------------------------------------
    def class_refs(self, class_id: str) -> set[str]:
        """A class covers itself, every class under it and every therapy record that lists one of them."""
        classes = [c for c in self._descendants(self._class_nodes, class_id) if self._class_nodes[c].vocabulary]
        refs = {f"class:{c}" for c in classes}
        refs |= {t.id for t in self.kb.therapies if {c.value for c in t.therapy_classes} & set(classes)}
        return refs

    def drug_refs(self, t: Therapy) -> set[str]:
        """A drug covers itself, its classes and the classes above them; a regimen also its components."""
        refs = {t.id}
        for c in t.therapy_classes:
            refs |= {f"class:{c.value}"} | {f"class:{a}" for a in self._ancestors(c.value) if self._class_nodes[a].vocabulary}
        for comp in t.components:
            part = self.kb.by_id.get(comp)
            if isinstance(part, Therapy):
                refs |= self.drug_refs(part)
        return refs

    def drugs_of_class(self, class_id: str) -> set[str]:
        """Single-drug therapy ids a class (``anti_pd1`` or ``class:anti_pd1``) covers; regimens left out."""
        refs = self.class_refs(class_id.removeprefix("class:"))
        return {t.id for t in self.kb.therapies if t.id in refs and not t.components}

    # --- look-ups -----------------------------------------------------------------------------
    def entries(self, kind: NameKind | str | None = None) -> list[NameEntry]:
        """Every name, alias and class (of ``kind``, or of every kind), with its expansion."""
        kinds = [NameKind(kind)] if kind is not None else list(NameKind)
        return [e for k in kinds for e in self._kinds[k].entries]

    def lookup(self, query: str) -> list[Resolved]:
        """What ``query`` means in every kind it resolves in; for ``GET /names?q=``.

        ``UnknownNameError`` with the closest names of any kind if it resolves in none;
        ``NameInputError`` for an empty name or one with a control character."""
        query = check_name(query, "name")
        out = []
        for kind in NameKind:
            try:
                out.append(self.resolve(query, kind))
            except NameInputError:
                raise
            except UnknownNameError:
                continue
        if not out:
            raise name_errors.unknown_anywhere(self, query)
        return out

    def resolve(self, name: str, kind: NameKind | str) -> Resolved:
        """Resolve ``name`` as a ``kind`` (see :class:`NameKind`); ``UnknownNameError`` otherwise."""
        kind = NameKind(kind)
        what = KIND_WORDS[kind]
        query = check_name(name, what)
        hit = self._kinds[kind].get(query)
        if hit is not None:
            entry, syn = hit
            if not entry.in_kb:
                raise name_errors.not_in_kb(self, query, entry, syn)
            return self._resolved(query, kind, entry, syn)
        if kind is NameKind.CARGO:
            ent = self._kinds[NameKind.ENTITY].get(query)
            if ent is not None:
                raise name_errors.not_a_cargo(self, query, ent[0])
        if kind in (NameKind.CARGO, NameKind.ENTITY):
            found = self._mirna(query, kind)
            if found is not None:
                return found
        if kind is NameKind.INTERVENTION:
            found = self._intervention_fallback(query)
            if found is not None:
                return found
        raise name_errors.unknown(self, query, kind)

    def _resolved(self, query: str, kind: NameKind, entry: NameEntry, syn: Synonym, notes: Sequence[str] = ()) -> Resolved:
        all_notes = list(notes)
        if syn.note:
            all_notes.append(syn.note)
        if entry.note and kind in (NameKind.THERAPY, NameKind.CELL) and entry.note not in all_notes:
            all_notes.append(entry.note)
        if kind in (NameKind.CARGO, NameKind.ENTITY):
            all_notes += self._sibling_arms(entry.id)
        labels = tuple(self._label(i) for i in entry.expands_to)
        return Resolved(
            query, kind, entry.id, entry.name, syn.via, syn.text, syn.source, entry.expands_to, labels, tuple(all_notes)
        )

    def _label(self, ident: str) -> str:
        if ident.startswith("class:"):
            node = self._class_nodes.get(ident.removeprefix("class:"))
            return node.label if node else ident
        if ident.startswith("cell:"):
            node = self._cell_nodes.get(ident.removeprefix("cell:"))
            return node.label if node else ident
        rec = self.kb.by_id.get(ident)
        return str(getattr(rec, "name", ident)) if rec is not None else ident

    # --- miRNAs -------------------------------------------------------------------------------
    def _mirnas(self) -> list[tuple[Entity, MirnaName]]:
        out = []
        for e in self.kb.entities:
            if e.entity_type is not EntityType.MIRNA:
                continue
            p = parse_mirna(e.name) or (parse_mirna(e.mirbase_precursor) if e.mirbase_precursor else None)
            if p is not None:
                out.append((e, p))
        return out

    def _sibling_arms(self, entity_id: str) -> list[str]:
        ent = self.kb.by_id.get(entity_id)
        if not isinstance(ent, Entity) or ent.entity_type is not EntityType.MIRNA:
            return []
        me = parse_mirna(ent.name)
        if me is None:
            return []
        others = [e.name for e, p in self._mirnas() if p.base == me.base and e.id != entity_id]
        return [f"the KB also has {', '.join(others)} from the same precursor; query it by name"] if others else []

    def _mirna(self, query: str, kind: NameKind) -> Resolved | None:
        q = parse_mirna(query)
        if q is None:
            return None
        family = [(e, p) for e, p in self._mirnas() if p.base == q.base]
        if kind is NameKind.CARGO:
            family = [(e, p) for e, p in family if e.id in self._cargo_ids]
        if not family:
            return None

        def arm_word(p: MirnaName) -> str:
            return f"{p.arm} arm" if p.arm else "arm not stated"

        if q.arm is not None:
            same = [e for e, p in family if p.arm == q.arm]
            if len(same) == 1:
                e = same[0]
                note = [] if norm(query) == norm(e.name) else [f"read as the miRBase form of {e.name}"]
                entry = self._kinds[kind].get(e.name)
                assert entry is not None
                return self._resolved(
                    query, kind, entry[0], Synonym(query, "miRBase form", "miRBase naming (hsa- prefix, -5p/-3p arm)"), note
                )
            have = ", ".join(f"{e.name} ({arm_word(p)})" for e, p in family)
            raise UnknownNameError(
                KIND_WORDS[kind],
                query,
                suggestions=[e.name for e, _ in family][:3],
                hint=f"the KB has no {q.arm} arm of this miRNA; it has {have} from the same precursor",
                listing=listing_command(kind),
            )
        ids = tuple(e.id for e, _ in family)
        what = "precursor" if q.precursor else "name without an arm"
        if len(family) == 1:
            e, p = family[0]
            entry = self._kinds[kind].get(e.name)
            assert entry is not None
            note = [] if norm(query) == norm(e.name) else [f"the {what} '{query}' covers {e.name} ({arm_word(p)}) in the KB"]
            return self._resolved(
                query, kind, entry[0], Synonym(query, "miRBase form", "miRBase naming (precursor hsa-mir-N)"), note
            )
        covered = ", ".join(f"{e.name} ({arm_word(p)})" for e, p in family)
        if kind is NameKind.ENTITY:
            raise UnknownNameError(
                "entity",
                query,
                suggestions=[e.name for e, _ in family],
                hint=f"the {what} is ambiguous: the KB has {covered}",
                listing=listing_command(kind),
            )
        return Resolved(
            query,
            kind,
            f"mirna:{q.base}",
            query,
            "miRBase form",
            query,
            "miRBase naming (precursor hsa-mir-N, mature miR-N-5p/-3p)",
            ids,
            tuple(e.name for e, _ in family),
            (f"arm ambiguous: the {what} covers {covered}",),
        )

    # --- interventions ------------------------------------------------------------------------
    def _intervention_fallback(self, query: str) -> Resolved | None:
        kind = self._kinds[NameKind.INTERVENTION]
        ent = self._entity_or_none(query)
        if ent is not None:
            by_role = {
                "payload": [i for i in self.kb.interventions if i.payload is not None and self._same_entity(i.payload, ent)],
                "target": [i for i in self.kb.interventions if any(self._same_entity(n, ent) for n in i.target_entities)],
            }
            for role, hits in by_role.items():
                if len(hits) == 1:
                    entry = kind.get(hits[0].id)
                    assert entry is not None
                    return self._resolved(
                        query, NameKind.INTERVENTION, entry[0], Synonym(query, role), [f"matched as its {role} ({ent.name})"]
                    )
                if len(hits) > 1:
                    raise UnknownNameError(
                        "intervention",
                        query,
                        suggestions=[i.id.removeprefix("int:") for i in hits][:3],
                        hint=f"'{query}' is the {role} of {len(hits)} interventions ({', '.join(i.id for i in hits)}): name one",
                        listing=listing_command(NameKind.INTERVENTION),
                    )
        words = set(name_tokens(query))
        if len(words) >= 2:
            hits = [i for i in self.kb.interventions if words <= self._intervention_words(i)]
            if len(hits) == 1:
                entry = kind.get(hits[0].id)
                assert entry is not None
                return self._resolved(
                    query, NameKind.INTERVENTION, entry[0], Synonym(query, "words"), [f"every word of '{query}' is in its name"]
                )
        return None

    def _intervention_words(self, i: Intervention) -> set[str]:
        text = " ".join([i.name, *i.aliases, i.payload or "", *i.target_entities, *(c.value for c in i.carrier_cells)])
        return set(name_tokens(text.replace("_", " ")))

    def _entity_or_none(self, name: str) -> Entity | None:
        hit = self._kinds[NameKind.ENTITY].get(name)
        if hit is None:
            return None
        rec = self.kb.by_id.get(hit[0].id)
        return rec if isinstance(rec, Entity) else None

    def _same_entity(self, name: str, ent: Entity) -> bool:
        hit = self._kinds[NameKind.ENTITY].get(name)
        return hit is not None and hit[0].id == ent.id
