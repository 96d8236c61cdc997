"""Graph exports: one module per format behind one registry.

>>> sorted(EXPORTERS)
['cx2', 'cyjs', 'dot', 'graphml', 'sbml-qual']

Each writer renders the whole :class:`~exoresist.graph.MechanismGraph` to text and raises
:class:`~exoresist.graph.errors.UnsupportedFeatureError` for what its format cannot express.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from exoresist.atomic import write_text as atomic_write_text
from exoresist.graph._build import MechanismGraph
from exoresist.graph.errors import UnknownFormatError
from exoresist.graph.export import cx2, cyjs, dot, graphml, sbml_qual


@dataclass(frozen=True)
class Exporter:
    name: str
    suffix: str
    description: str
    render: Callable[[MechanismGraph], str]


EXPORTERS: Mapping[str, Exporter] = MappingProxyType(
    {
        e.name: e
        for e in (
            Exporter("graphml", ".graphml", "GraphML (networkx, yEd, Cytoscape)", graphml.render),
            Exporter("cyjs", ".cyjs", "Cytoscape.js / Cytoscape desktop JSON", cyjs.render),
            Exporter("cx2", ".cx2", "CX2, the NDEx exchange format", cx2.render),
            Exporter("sbml-qual", ".sbml", "SBML Level 3 qual: a Boolean model of the signed graph", sbml_qual.render),
            Exporter("dot", ".dot", "Graphviz DOT", dot.render),
        )
    }
)


def exporter(fmt: str) -> Exporter:
    try:
        return EXPORTERS[fmt.lower()]
    except KeyError:
        raise UnknownFormatError(fmt, sorted(EXPORTERS)) from None


def render(mg: MechanismGraph, fmt: str) -> str:
    """The graph in format ``fmt`` as text."""
    return exporter(fmt).render(mg)


def export_graph(mg: MechanismGraph, fmt: str, path: Path | str) -> Path:
    """Write the graph in format ``fmt`` to ``path`` atomically (temporary file, then replace)."""
    text = render(mg, fmt)
    out = Path(path)
    atomic_write_text(out, text)
    return out


__all__ = ["EXPORTERS", "Exporter", "export_graph", "exporter", "render"]
