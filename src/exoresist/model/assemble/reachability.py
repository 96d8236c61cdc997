"""Which records act in an assembled model: a record acts when its strength parameter reaches a
reaction rate or an event, directly or through the derived quantities a rate reads.

A record can take part in assembly and still act on nothing in a scenario: a transfer-of-resistance
record for lenvatinib in a sorafenib model has no resistant pool to fill, and CD8 exhaustion has no
T cells to act on in a nude mouse. Its strength then survives only in quantities no rate reads.
Attribution, sensitivity analysis and knockouts must use the acting records only.
"""

from __future__ import annotations

from exoresist.model.spec import ModelSpec, expression_names


def rate_dependencies(spec: ModelSpec) -> set[str]:
    """Every name (parameter, species or derived quantity) that some reaction rate or event
    assignment reads, directly or through derived quantities."""
    needed: set[str] = set()
    for r in spec.reactions:
        needed |= expression_names(r.rate)
    for e in spec.events:
        for _, expr in e.assignments:
            needed |= expression_names(expr)
    # assignments only read earlier ones, so one pass from the last to the first closes the set
    for a in reversed(spec.assignments):
        if a.name in needed:
            needed |= expression_names(a.expression)
    return needed


def acting_records(spec: ModelSpec) -> tuple[str, ...]:
    """Ids of the records whose strength parameter reaches a rate, in parameter order."""
    needed = rate_dependencies(spec)
    return tuple(r for p in spec.parameters if p.name.startswith("strength_") and p.name in needed for r in p.records)
