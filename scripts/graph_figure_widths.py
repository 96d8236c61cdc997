"""Width and height, in inches, of the figure of every therapy, class and cargo with routes on the
shipped KB (what docs/graph.md quotes), widest first:

    .venv/bin/python scripts/graph_figure_widths.py
"""

from __future__ import annotations

import io
import struct

from exoresist.graph import MechanismGraph, build_graph, draw, find_routes
from exoresist.kb import load_kb
from exoresist.kb.vocab import TherapyClass

DPI = 150
"""The resolution ``save_figure`` writes PNGs at (the figures are 150 dpi)."""
LIMIT = 8.0 * 8.0 / 6.0
"""Widest figure, inches, whose 8 pt labels stay at 6 pt or more on an 8 in page."""


def size(mg: MechanismGraph, therapy: str | None = None, cargo: str | None = None) -> tuple[float, float]:
    """Width and height, inches, of the saved figure (tight bounding box, as ``save_figure`` writes it)."""
    buf = io.BytesIO()
    draw(mg, therapy=therapy, cargo=cargo).savefig(buf, format="png", bbox_inches="tight")
    w, h = struct.unpack(">II", buf.getvalue()[16:24])
    return w / DPI, h / DPI


def main() -> None:
    mg = build_graph(load_kb())
    kb = mg.kb
    out: list[tuple[str, float, float]] = []
    for t in sorted({t.name for t in kb.therapies} | {c.value for c in TherapyClass}):
        if find_routes(mg, t):
            out.append((t, *size(mg, therapy=t)))
    for c in sorted({kb.entity(m.cargo).name for m in mg.mechanisms()}):
        if find_routes(mg, None, cargo=c):
            out.append((c, *size(mg, cargo=c)))
    for name, w, h in sorted(out, key=lambda x: -x[1]):
        print(f"{name:40s} {w:5.1f} x {h:4.1f} in")
    print(f"{len(out)} figures, {sum(w > LIMIT for _, w, _ in out)} wider than {LIMIT:.2f} in")


if __name__ == "__main__":
    main()
