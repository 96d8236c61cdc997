"""The assembled model as plain data: species, parameters, derived quantities, reactions, events.

A :class:`ModelSpec` is what the model stage produces from the KB and what every simulator and
exporter consumes (the batched ODE engine in :mod:`exoresist.ode`, the SBML exporter). It holds no
code: rates and derived quantities are expression strings in a small language that both Python
(with numpy) and libSBML's L3 formula parser read the same way:

- numbers, names of species / parameters / earlier assignments, and ``t`` (time in days);
- ``+ - * /`` and parentheses (no ``**``: write ``pow(a, b)``);
- the functions ``pow(a, b)``, ``exp(x)`` and ``sqrt(x)``.

Every species, assignment and reaction lists the KB record ids it came from (``records``), so a
knockout of a record removes exactly its terms and a reader can trace each term to evidence.

Time is in days throughout. Amounts are in the unit each species names.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import re
import tokenize
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

EXPRESSION_FUNCTIONS = frozenset({"pow", "exp", "sqrt"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ALLOWED = re.compile(r"^[A-Za-z0-9_+\-*/().,\s eE]*$")


class SpecError(ValueError):
    """A model spec that is inconsistent: an unknown name, a bad expression, a duplicate."""


@dataclass(frozen=True)
class Parameter:
    """A model parameter. ``name`` carries the unit (``k_growth_per_day``)."""

    name: str
    default: float
    low: float
    high: float
    unit: str
    source: str  # a published figure's citation, or "assumed"
    description: str
    records: tuple[str, ...] = ()
    scale: Literal["log", "linear"] = "log"

    @property
    def assumed(self) -> bool:
        return self.source == "assumed"


@dataclass(frozen=True)
class Species:
    """A state variable. ``dynamic`` ones change through reactions; ``discrete`` ones only through
    events (treatment switches, infusion rates), and export to SBML as non-constant parameters."""

    name: str
    initial: str  # an expression in parameters (evaluated once, at t = 0)
    unit: str
    description: str
    records: tuple[str, ...] = ()
    kind: Literal["dynamic", "discrete"] = "dynamic"


@dataclass(frozen=True)
class Assignment:
    """A derived quantity, evaluated in order before the reaction rates."""

    name: str
    expression: str
    unit: str
    description: str
    records: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reaction:
    """``reactants -> products`` at ``rate`` (amount per day); stoichiometries are positive."""

    name: str
    rate: str
    reactants: tuple[tuple[str, float], ...]
    products: tuple[tuple[str, float], ...]
    description: str
    records: tuple[str, ...] = ()


@dataclass(frozen=True)
class Event:
    """At ``time_day``, set each target species to its expression, all evaluated on the values
    just before the event (so a dose is ``A_gut + dose``)."""

    name: str
    time_day: float
    assignments: tuple[tuple[str, str], ...]
    description: str = ""
    records: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelSpec:
    """One assembled model: everything a simulator or exporter needs, and nothing it must guess."""

    name: str
    version: str
    context: str
    species: tuple[Species, ...]
    parameters: tuple[Parameter, ...]
    assignments: tuple[Assignment, ...]
    reactions: tuple[Reaction, ...]
    events: tuple[Event, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        check_spec(self)

    @property
    def species_names(self) -> list[str]:
        return [s.name for s in self.species]

    @property
    def parameter_names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def defaults(self) -> np.ndarray:
        """Default parameter values, shape ``(n_params,)``."""
        return np.array([p.default for p in self.parameters], dtype=float)

    def parameter_matrix(
        self,
        rows: Sequence[Mapping[str, float]],
        *,
        base: Mapping[str, float] | None = None,
        absent_ok: Collection[str] = (),
    ) -> np.ndarray:
        """``(len(rows), n_params)`` in :attr:`parameter_names` order: the defaults, then ``base``,
        then each row's values, all by name.

        A name that is not a parameter of this spec raises :class:`SpecError` with the closest
        names, unless it is listed in ``absent_ok`` (values drawn for every arm of a trial, such as
        the clearance of a drug this arm does not give, are legitimately absent from some models).
        """
        names = self.parameter_names
        index = {n: i for i, n in enumerate(names)}
        allowed = set(absent_ok)
        values = self.defaults()
        for source in ([base] if base else []) + list(rows):
            self._check_names(source, index, allowed)
        for name, value in (base or {}).items():
            if name in index:
                values[index[name]] = value
        out = np.tile(values, (len(rows), 1))
        for r, row in enumerate(rows):
            for name, value in row.items():
                i = index.get(name)
                if i is not None:
                    out[r, i] = value
        return out

    def parameter_columns(
        self,
        columns: Mapping[str, np.ndarray],
        n: int,
        *,
        base: Mapping[str, float] | None = None,
        absent_ok: Collection[str] = (),
    ) -> np.ndarray:
        """Like :meth:`parameter_matrix`, from per-parameter columns of length ``n`` (a batch of
        parameter sets stored column-wise)."""
        names = self.parameter_names
        index = {nm: i for i, nm in enumerate(names)}
        self._check_names([*(base or {}), *columns], index, set(absent_ok))
        values = self.defaults()
        for name, value in (base or {}).items():
            if name in index:
                values[index[name]] = value
        out = np.tile(values, (n, 1))
        for name, col in columns.items():
            i = index.get(name)
            if i is not None:
                out[:, i] = col
        return out

    def _check_names(self, given: Iterable[str], index: Mapping[str, int], allowed: set[str]) -> None:
        for name in given:
            if name not in index and name not in allowed:
                close = difflib.get_close_matches(name, list(index), n=3)
                hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
                raise SpecError(f"'{name}' is not a parameter of model {self.name}{hint}")

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise SpecError(f"unknown parameter '{name}'")

    def stoichiometry(self) -> np.ndarray:
        """Net stoichiometry, shape ``(n_species, n_reactions)``."""
        index = {n: i for i, n in enumerate(self.species_names)}
        out = np.zeros((len(self.species), len(self.reactions)))
        for j, r in enumerate(self.reactions):
            for name, coef in r.reactants:
                out[index[name], j] -= coef
            for name, coef in r.products:
                out[index[name], j] += coef
        return out

    def content_hash(self) -> str:
        """SHA-256 of the spec's content (identifies the model version a result came from).

        Computed once per spec (the spec is immutable) and kept outside its fields."""
        cached: str | None = self.__dict__.get("_content_hash")
        if cached is None:
            payload = json.dumps(asdict(self), sort_keys=True, default=str)
            cached = hashlib.sha256(payload.encode("utf-8")).hexdigest()
            object.__setattr__(self, "_content_hash", cached)
        return cached


def expression_names(expression: str) -> set[str]:
    """The names an expression refers to (functions excluded)."""
    if not _ALLOWED.match(expression):
        raise SpecError(f"expression has characters outside the model language: {expression!r}")
    if "**" in expression:
        raise SpecError(f"use pow(a, b), not **: {expression!r}")
    names = set(_NAME.findall(expression))
    # exponents of numeric literals (1e-3) are not names
    names = {n for n in names if not re.fullmatch(r"[eE]\d*", n)}
    return names - EXPRESSION_FUNCTIONS


def rename_names(text: str, mapping: Mapping[str, str], *, strict: bool = False) -> str:
    """Replace every name token of ``text`` by ``mapping[name]`` (verbatim); functions and all
    other tokens are kept, and the tokens are joined by single spaces.

    Works on Python tokens, so the exponent of ``1e-3`` is never mistaken for a name. A name not
    in ``mapping`` is kept, or raises :class:`KeyError` when ``strict``.

    >>> rename_names("k * pow(A, 2) + 1e-3", {"k": "p_0", "A": "y_1"})
    'p_0 * pow ( y_1 , 2 ) + 1e-3'
    >>> rename_names("k * B", {"k": "p_0"})
    'p_0 * B'
    >>> rename_names("k * B", {"k": "p_0"}, strict=True)
    Traceback (most recent call last):
    ...
    KeyError: "unknown name 'B' in 'k * B'"
    """
    parts: list[str] = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER):
            continue
        if tok.type == tokenize.NAME and tok.string not in EXPRESSION_FUNCTIONS:
            if tok.string in mapping:
                parts.append(mapping[tok.string])
                continue
            if strict:
                raise KeyError(f"unknown name '{tok.string}' in {text!r}")
        parts.append(tok.string)
    return " ".join(parts)


def check_spec(spec: ModelSpec) -> None:
    """Every name is defined once and every expression refers only to defined names, in order."""
    seen: set[str] = {"t"}
    for group in (spec.parameters, spec.species):
        for item in group:
            if item.name in seen:
                raise SpecError(f"'{item.name}' is defined twice")
            seen.add(item.name)
    params = {p.name for p in spec.parameters}
    for s in spec.species:
        unknown = expression_names(s.initial) - params
        if unknown:
            raise SpecError(f"initial value of species '{s.name}' uses {sorted(unknown)}, which are not parameters")
    for a in spec.assignments:
        unknown = expression_names(a.expression) - seen
        if unknown:
            raise SpecError(f"assignment '{a.name}' uses undefined {sorted(unknown)}")
        if a.name in seen:
            raise SpecError(f"'{a.name}' is defined twice")
        seen.add(a.name)
    species = {s.name: s for s in spec.species}
    for r in spec.reactions:
        unknown = expression_names(r.rate) - seen
        if unknown:
            raise SpecError(f"reaction '{r.name}' rate uses undefined {sorted(unknown)}")
        for name, coef in (*r.reactants, *r.products):
            if name not in species or species[name].kind != "dynamic":
                raise SpecError(f"reaction '{r.name}' changes '{name}', which is not a dynamic species")
            if coef <= 0:
                raise SpecError(f"reaction '{r.name}' has a non-positive stoichiometry for '{name}'")
    for e in spec.events:
        if e.time_day < 0:
            raise SpecError(f"event '{e.name}' is at a negative time")
        for target, expr in e.assignments:
            if target not in species:
                raise SpecError(f"event '{e.name}' assigns '{target}', which is not a species")
            unknown = expression_names(expr) - seen
            if unknown:
                raise SpecError(f"event '{e.name}' uses undefined {sorted(unknown)}")
