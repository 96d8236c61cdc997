"""Small hand-made specs shared by the ODE and SBML tests."""

from __future__ import annotations

from exoresist.model.spec import Assignment, Event, ModelSpec, Parameter, Reaction, Species


def par(name: str, default: float, unit: str = "dimensionless") -> Parameter:
    return Parameter(
        name, default, default / 10 if default > 0 else 0.0, default * 10 if default > 0 else 1.0, unit, "assumed", name
    )


def decay_spec() -> ModelSpec:
    """``A' = -k A``, ``A(0) = A0``."""
    return ModelSpec(
        name="decay",
        version="1",
        context="test",
        species=(Species("A", "A0", "mg", "amount"),),
        parameters=(par("A0", 3.0, "mg"), par("k_per_day", 0.7, "1/day")),
        assignments=(),
        reactions=(Reaction("elimination", "k_per_day * A", (("A", 1.0),), (), "first order"),),
    )


def logistic_spec(events: tuple[Event, ...] = ()) -> ModelSpec:
    """``N' = r N (1 - N / K)``; names chosen to collide with sympy's (N, E, S, I, beta, gamma)."""
    return ModelSpec(
        name="logistic",
        version="1",
        context="test",
        species=(Species("N", "N0", "cell", "tumour cells"),),
        parameters=(par("N0", 1e6, "cell"), par("r_per_day", 0.05, "1/day"), par("K", 1e9, "cell")),
        assignments=(Assignment("S", "N / K", "dimensionless", "fraction of capacity"),),
        reactions=(Reaction("growth", "r_per_day * N * (1 - S)", (), (("N", 1.0),), "logistic"),),
        events=events,
    )


def pk_spec(period_day: float = 21.0, n_doses: int = 5, t0_day: float = 0.0) -> ModelSpec:
    """Stiff two-compartment PK (fast elimination, slow tissue) with IV boluses every ``period_day``."""
    events = tuple(Event(f"dose_{i}", t0_day + i * period_day, (("C", "C + dose_mg"),), "bolus") for i in range(n_doses))
    return ModelSpec(
        name="pk2",
        version="1",
        context="test",
        species=(Species("C", "0", "mg", "central"), Species("P", "0", "mg", "peripheral")),
        parameters=(
            par("dose_mg", 200.0, "mg"),
            par("k10_per_day", 40.0, "1/day"),
            par("k12_per_day", 5.0, "1/day"),
            par("k21_per_day", 0.05, "1/day"),
        ),
        assignments=(),
        reactions=(
            Reaction("elim", "k10_per_day * C", (("C", 1.0),), (), "elimination"),
            Reaction("to_tissue", "k12_per_day * C", (("C", 1.0),), (("P", 1.0),), "distribution"),
            Reaction("from_tissue", "k21_per_day * P", (("P", 1.0),), (("C", 1.0),), "redistribution"),
        ),
        events=events,
    )


def exosome_pool_spec() -> ModelSpec:
    """A tumour secretes exosomes; the pool decays in hours and is taken up by recipient cells.
    Counter species record every secreted, decayed and taken-up amount, so
    ``E + decayed + taken_up - secreted`` is conserved."""
    return ModelSpec(
        name="pool",
        version="1",
        context="test",
        species=(
            Species("T", "T0", "cell", "tumour"),
            Species("E", "E0", "particle", "exosome pool"),
            Species("secreted", "0", "particle", "counter"),
            Species("decayed", "0", "particle", "counter"),
            Species("taken_up", "0", "particle", "counter"),
        ),
        parameters=(
            par("T0", 1e3, "cell"),
            par("E0", 50.0, "particle"),
            par("g_per_day", 0.1, "1/day"),
            par("s_per_cell_day", 2.0, "particle/cell/day"),
            par("kd_per_day", 8.0, "1/day"),
            par("ku_per_cell_day", 1e-3, "1/cell/day"),
            par("R", 500.0, "cell"),
        ),
        assignments=(),
        reactions=(
            Reaction("growth", "g_per_day * T", (), (("T", 1.0),), "growth"),
            Reaction("secretion", "s_per_cell_day * T", (), (("E", 1.0), ("secreted", 1.0)), "secretion"),
            Reaction("decay", "kd_per_day * E", (("E", 1.0),), (("decayed", 1.0),), "decay"),
            Reaction("uptake", "ku_per_cell_day * R * E", (("E", 1.0),), (("taken_up", 1.0),), "uptake"),
        ),
    )


def quadratic_blowup_spec() -> ModelSpec:
    """``N' = q N^2``: finite-time blow-up at ``1 / (q N0)``."""
    return ModelSpec(
        name="blowup",
        version="1",
        context="test",
        species=(Species("N", "N0", "cell", "cells"),),
        parameters=(par("N0", 1.0, "cell"), par("q", 1e-3, "1/cell/day")),
        assignments=(),
        reactions=(Reaction("autocatalysis", "q * pow(N, 2)", (), (("N", 1.0),), "quadratic"),),
    )
