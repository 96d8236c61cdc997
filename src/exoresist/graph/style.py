"""Colours shared by the figures and the exports that carry styling."""

from __future__ import annotations

NODE_COLOURS: dict[str, str] = {
    "intervention": "#b8b8b8",
    "cell": "#f4c27a",
    "cargo": "#8fc1e3",
    "entity": "#cfe3c3",
    "pathway": "#a9d18e",
    "phenotype": "#d7b5e0",
    "therapy_class": "#f5a3a3",
    "therapy": "#ee7b7b",
}
"""Fill colour per node type."""

EDGE_COLOURS: dict[int, str] = {1: "#2a9d3c", -1: "#d62728"}
"""Edge colour per sign: green activating, red inhibiting."""

FIGURE_FORMATS = ("png", "svg", "pdf")
"""File formats :func:`exoresist.graph.save_figure` writes."""
