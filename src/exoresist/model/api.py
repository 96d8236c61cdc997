"""What the CLI and other stages call: build a scenario's model, override parameters, summarise.

>>> from exoresist.kb import load_kb
>>> spec = build_model(load_kb(), Scenario(context="culture", therapies=("sorafenib",), days=3))
>>> spec.context
'culture'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from exoresist.kb import KnowledgeBase
from exoresist.kb.errors import UnknownNameError
from exoresist.model.assemble import (
    MODEL_VERSION,
    STRENGTH_PRIOR,
    Context,
    Scenario,
    assemble,
    candidate_mechanisms,
    knockout_ids,
    strength_param,
)
from exoresist.model.drugs import all_parameters
from exoresist.model.spec import ModelSpec


class ParameterError(ValueError):
    """A --param override that is malformed, unknown or out of range."""


__all__ = [
    "MODEL_VERSION",
    "ParameterError",
    "Scenario",
    "build_model",
    "describe",
    "make_scenario",
    "parameter_table_markdown",
    "parameters_with_overrides",
    "parse_overrides",
]


def build_model(kb: KnowledgeBase, scenario: Scenario) -> ModelSpec:
    """The model of ``scenario`` assembled from ``kb``."""
    return assemble(kb, scenario)


def make_scenario(
    kb: KnowledgeBase,
    *,
    context: Context = "patient",
    therapies: Iterable[str] = (),
    interventions: Iterable[str] = (),
    knockouts: Iterable[str] = (),
    days: float = 365.0,
    include_hypotheses: bool = False,
) -> Scenario:
    """The scenario the model commands describe: ``knockouts`` are record ids or cargo names (a
    cargo switches off every record carrying it; see :func:`~exoresist.model.assemble.knockout_ids`)."""
    return Scenario(
        context=context,
        therapies=tuple(therapies),
        interventions=tuple(interventions),
        knockouts=knockout_ids(kb, knockouts),
        days=days,
        include_hypotheses=include_hypotheses,
    )


def parse_overrides(items: Iterable[str]) -> dict[str, float]:
    """``["k_growth_patient_per_day=0.01", ...]`` -> a mapping; a clear error for a bad item."""
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--param expects NAME=VALUE, got '{item}'")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ParameterError(f"--param {name.strip()}: '{value}' is not a number") from None
    return out


def parameters_with_overrides(spec: ModelSpec, overrides: Mapping[str, float]) -> np.ndarray:
    """Default parameters of ``spec`` with ``overrides`` applied, shape ``(1, n_params)``."""
    names = spec.parameter_names
    values = spec.defaults()
    for name, value in overrides.items():
        if name not in names:
            raise UnknownNameError("parameter", name, names, listing="exoresist model show --format json, or docs/parameters.md")
        if not np.isfinite(value) or value < 0:
            raise ParameterError(f"parameter {name} must be a finite, non-negative number, got {value}")
        values[names.index(name)] = value
    return values[None, :]


def describe(spec: ModelSpec) -> dict[str, Any]:
    """The model as data: species, parameters, derived quantities, processes and events, each
    with the KB records behind it."""
    return {
        "name": spec.name,
        "version": spec.version,
        "context": spec.context,
        "spec_hash": spec.content_hash(),
        "species": [
            {"name": s.name, "unit": s.unit, "kind": s.kind, "description": s.description, "records": list(s.records)}
            for s in spec.species
        ],
        "parameters": [
            {
                "name": p.name,
                "default": p.default,
                "low": p.low,
                "high": p.high,
                "unit": p.unit,
                "source": p.source,
                "description": p.description,
                "records": list(p.records),
            }
            for p in spec.parameters
        ],
        "derived": [
            {"name": a.name, "expression": a.expression, "unit": a.unit, "records": list(a.records)} for a in spec.assignments
        ],
        "processes": [
            {
                "name": r.name,
                "rate": r.rate,
                "reactants": [n for n, _ in r.reactants],
                "products": [n for n, _ in r.products],
                "description": r.description,
                "records": list(r.records),
            }
            for r in spec.reactions
        ],
        "events": [
            {"name": e.name, "time_day": e.time_day, "assignments": dict(e.assignments), "records": list(e.records)}
            for e in spec.events
        ],
        "notes": list(spec.notes),
    }


def parameter_table_markdown(kb: KnowledgeBase | None = None, record_ids: Iterable[str] = ()) -> str:
    """docs/parameters.md: every model parameter with unit, default, prior range and source; with
    ``kb`` and ``record_ids`` (a user's own records), also the strength parameter of each of those
    records that acts in the model."""
    params = sorted(all_parameters(), key=lambda p: p.name)
    lines = [
        "# Model parameters",
        "",
        "Generated by `exoresist model parameters -o docs/parameters.md`; do not edit by hand.",
        f"Model version {MODEL_VERSION}. Each mechanism record also gets a strength parameter",
        "`strength_<record>` (default 1, prior 0.1-10, assumed), created when the model is assembled.",
        "Values marked `assumed` have no published source; they carry a prior range and enter the",
        "sensitivity analysis.",
        "",
        f"{sum(p.assumed for p in params)} of {len(params)} parameters are assumed.",
        "",
        "| name | default | prior | unit | source | description |",
        "|---|---:|---|---|---|---|",
    ]
    for p in params:
        lines.append(
            f"| `{p.name}` | {p.default:.4g} | {p.low:.4g} – {p.high:.4g} ({p.scale}) | {p.unit} | {p.source} | {p.description} |"
        )
    lines.append("")
    if kb is not None:
        wanted = set(record_ids)
        acting = [m for m in candidate_mechanisms(kb, include_hypotheses=True) if m.id in wanted]
        lines += ["## Strength parameters of the added records", ""]
        if not acting:
            lines += ["None of the added records acts in the model (a mechanism needs `process` and `exosomal: true`).", ""]
        else:
            lines += ["| name | default | prior | unit | source | description |", "|---|---:|---|---|---|---|"]
            low, high = STRENGTH_PRIOR
            for m in acting:
                only = " (acts only with --include-hypotheses)" if m.kind == "hypothesis" else ""
                if m.therapies:
                    only += " (acts when one of its therapies is given)"
                prior = f"{low:.4g} – {high:.4g} (log)"
                lines.append(f"| `{strength_param(m.id)}` | 1 | {prior} | 1 | assumed | strength of {m.id}: {m.title}{only} |")
            lines.append("")
    return "\n".join(lines)
