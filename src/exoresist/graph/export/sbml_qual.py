"""SBML Level 3 Version 1 with the qual package: the signed graph as a Boolean network.

Every node is a qualitative species (max level 1), in the compartment of the cell it is placed in
(``tme``, the tumour microenvironment, for cells, cargos between cells, therapies and
interventions). Every node with incoming edges gets one transition whose inputs are its distinct
predecessors: parallel edges between two
nodes merge into one input (sign ``positive``, ``negative`` or ``dual`` when they disagree), and
their records are listed in the transition's notes. The target is 1 when any activating input is
on and no inhibiting input is on (a dual input counts as both). Species ids are the node ids made
into SBML identifiers; the original id is kept as the species name's suffix in ``[...]``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from exoresist.graph._build import MechanismGraph
from exoresist.graph.errors import GraphError, UnsupportedFeatureError

FORMAT = "sbml-qual"


def _libsbml() -> Any:
    try:
        import libsbml  # untyped: pyproject sets ignore_missing_imports for it
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise GraphError("SBML-qual export needs python-libsbml (pip install python-libsbml)") from exc
    return libsbml


def species_ids(nodes: list[str]) -> dict[str, str]:
    """A valid, unique SBML id for each node id (``entity:ent:circccar1`` -> ``entity_ent_circccar1``)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for n in nodes:
        base = re.sub(r"[^A-Za-z0-9_]", "_", n)
        if not re.match(r"[A-Za-z_]", base):
            base = "n_" + base
        sid, i = base, 2
        while sid in used:
            sid, i = f"{base}_{i}", i + 1
        used.add(sid)
        out[n] = sid
    return out


_TME = "tme"


def _compartment(data: dict[str, Any]) -> str:
    """A node placed in a cell lives in that cell's compartment (``cd8_t_cell``); cells, cargos
    between cells, therapies and interventions in the tumour microenvironment (``tme``)."""
    cell = data.get("cell")
    return str(cell) if cell and data["node_type"] != "cell" else _TME


def _check(lib: Any, code: int, what: str) -> None:
    if code != lib.LIBSBML_OPERATION_SUCCESS:
        raise UnsupportedFeatureError(FORMAT, f"{what} ({lib.OperationReturnValue_toString(code)})")


def render(mg: MechanismGraph) -> str:
    lib = _libsbml()
    g = mg.graph
    ns = lib.SBMLNamespaces(3, 1, "qual", 1)
    doc = lib.SBMLDocument(ns)
    doc.setPackageRequired("qual", True)
    model = doc.createModel()
    model.setId("exoresist_mechanism_graph")
    model.setName("exoresist mechanism graph")
    nodes = sorted(g.nodes)
    compartments = {n: _compartment(g.nodes[n]) for n in nodes}
    for cid in sorted(set(compartments.values())):
        comp = model.createCompartment()
        _check(lib, comp.setId(cid), f"compartment '{cid}'")
        comp.setName("tumour microenvironment" if cid == _TME else cid.replace("_", " "))
        comp.setConstant(True)
    qual = model.getPlugin("qual")

    sid = species_ids(nodes)
    for n in nodes:
        sp = qual.createQualitativeSpecies()
        _check(lib, sp.setId(sid[n]), f"node id '{n}'")
        sp.setName(f"{g.nodes[n]['label']} [{n}]")
        sp.setCompartment(compartments[n])
        sp.setConstant(False)
        sp.setMaxLevel(1)
        sp.setInitialLevel(0)

    for v in nodes:
        incoming: dict[str, set[int]] = defaultdict(set)
        records: dict[str, set[str]] = defaultdict(set)
        for u, _, d in g.in_edges(v, data=True):
            incoming[u].add(d["sign"])
            records[u].update(d["records"])
        if not incoming:
            continue
        tr = qual.createTransition()
        tr.setId(f"tr_{sid[v]}")
        notes = "; ".join(f"{u}: {', '.join(sorted(records[u]))}" for u in sorted(incoming))
        _check(lib, tr.setNotes(f'<body xmlns="http://www.w3.org/1999/xhtml"><p>{_xml(notes)}</p></body>'), "transition notes")
        pos_terms: list[str] = []
        neg_terms: list[str] = []
        for u in sorted(incoming):
            signs = incoming[u]
            inp = tr.createInput()
            inp.setId(f"in_{sid[u]}__{sid[v]}")
            inp.setQualitativeSpecies(sid[u])
            inp.setTransitionEffect(lib.INPUT_TRANSITION_EFFECT_NONE)
            inp.setThresholdLevel(1)
            term = f"<apply><geq/><ci>{sid[u]}</ci><cn type='integer'>1</cn></apply>"
            if 1 in signs:
                pos_terms.append(term)
            if -1 in signs:
                neg_terms.append(term)
            sign = {1: lib.INPUT_SIGN_POSITIVE, -1: lib.INPUT_SIGN_NEGATIVE}.get(next(iter(signs))) if len(signs) == 1 else None
            inp.setSign(lib.INPUT_SIGN_DUAL if sign is None else sign)
        out = tr.createOutput()
        out.setId(f"out_{sid[v]}")
        out.setQualitativeSpecies(sid[v])
        out.setTransitionEffect(lib.OUTPUT_TRANSITION_EFFECT_ASSIGNMENT_LEVEL)
        default = tr.createDefaultTerm()
        default.setResultLevel(0)
        ft = tr.createFunctionTerm()
        ft.setResultLevel(1)
        ft.setMath(_math(lib, pos_terms, neg_terms))

    problems = _errors(lib, doc)
    if problems:
        raise UnsupportedFeatureError(FORMAT, "this graph as valid SBML: " + "; ".join(problems[:5]))
    text: str = lib.writeSBMLToString(doc)
    return text


def _or(terms: list[str]) -> str:
    return terms[0] if len(terms) == 1 else "<apply><or/>" + "".join(terms) + "</apply>"


def _math(lib: Any, pos: list[str], neg: list[str]) -> Any:
    if pos and neg:
        body = f"<apply><and/>{_or(pos)}<apply><not/>{_or(neg)}</apply></apply>"
    elif pos:
        body = _or(pos)
    else:  # only inhibitors: on while none of them is on
        body = f"<apply><not/>{_or(neg)}</apply>"
    xml = f'<math xmlns="http://www.w3.org/1998/Math/MathML">{body}</math>'
    ast = lib.readMathMLFromString(xml)
    if ast is None:
        raise UnsupportedFeatureError(FORMAT, "a transition rule as MathML")
    return ast


def _errors(lib: Any, doc: Any) -> list[str]:
    doc.checkConsistency()
    log = doc.getErrorLog()
    return [
        log.getError(i).getMessage().strip()
        for i in range(log.getNumErrors())
        if log.getError(i).getSeverity() >= lib.LIBSBML_SEV_ERROR
    ]


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
