"""Sign and evidence arithmetic: the rules every query uses, in one place.

A step's sign is +1 when it raises its target's activity and -1 when it lowers it. The net sign
of a path is the product of its steps, so two inhibitions make an activation: a circRNA that
sponges (-1) a miRNA that inhibits (-1) PTEN raises PTEN (+1).

>>> path_sign([relation_sign("sponges"), relation_sign("inhibits")])
1

Evidence grades run A (strongest) to D (weakest); a path is as strong as its weakest edge.

>>> weakest_grade(["A", "C", "B"])
'C'
"""

from __future__ import annotations

from collections.abc import Iterable
from math import prod

from exoresist.kb.vocab import RELATION_SIGN, Direction, EvidenceGrade, Relation

GRADE_ORDER: tuple[str, ...] = tuple(g.value for g in EvidenceGrade)
"""Grades from strongest to weakest: ('A', 'B', 'C', 'D')."""

#: Signs of the structural edge types (axis relations take theirs from RELATION_SIGN).
STRUCTURAL_SIGN: dict[str, int] = {
    "secretes": 1,
    "expresses": 1,
    "taken_up_by": 1,
    "acts_on": 1,
    "becomes": 1,
    "promotes_resistance_to": 1,
    "sensitises_to": -1,
    "blocks": -1,
    "includes": 1,
}


def relation_sign(relation: str | Relation) -> int:
    """+1 or -1 for an axis relation (``activates`` +1, ``sponges`` -1, ...)."""
    return RELATION_SIGN[Relation(relation)]


def direction_relation(direction: Direction) -> str:
    """The edge type of a phenotype -> therapy edge for a record's therapy effect."""
    return "promotes_resistance_to" if direction is Direction.PROMOTES_RESISTANCE else "sensitises_to"


def path_sign(signs: Iterable[int]) -> int:
    """Net sign of a path: the product of its step signs (an empty path is +1)."""
    out = prod(signs)
    if out not in (1, -1):
        raise ValueError(f"step signs must be +1 or -1, got a product of {out}")
    return out


def best_grade(grades: Iterable[str]) -> str:
    """The strongest of several grades (an edge backed by several records is as strong as the best)."""
    return min(grades, key=GRADE_ORDER.index)


def weakest_grade(grades: Iterable[str]) -> str:
    """The weakest of several grades (a path is as strong as its weakest edge)."""
    return max(grades, key=GRADE_ORDER.index)


def sign_word(sign: int) -> str:
    return "+" if sign > 0 else "-"
