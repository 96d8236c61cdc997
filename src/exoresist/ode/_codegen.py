"""Generate vectorised numpy functions from a :class:`~exoresist.model.spec.ModelSpec`.

The expression strings of a spec are valid Python once ``pow``, ``exp`` and ``sqrt`` are bound to
their numpy versions, so initial values, assignments, rates and events are emitted from the
strings themselves (after renaming every model name to a safe local identifier, so a species
called ``np`` or ``lambda`` cannot clash with anything). Only the Jacobian goes through sympy: each
expression is parsed with a locals dict that makes every renamed name a plain ``Symbol`` (so a
species ``E`` or ``S`` never becomes Euler's number or a sympy function) and differentiated
symbolically, chaining through the ordered assignments.

Internally every function works on arrays with the *batch in the last axis*: species values are
``(n_species, n_sets)``, parameters ``(n_params, n_sets)``. The compiled model is cached per spec
content hash.
"""

from __future__ import annotations

import io
import keyword
import tokenize
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy
from sympy.printing.numpy import NumPyPrinter

from exoresist.model.spec import EXPRESSION_FUNCTIONS, ModelSpec

FloatArray = np.ndarray

StateFn = Callable[[float, FloatArray, FloatArray], FloatArray]
"""``f(t_day, y (n_species, n_sets), p (n_params, n_sets)) -> array``."""


def rename(expression: str, mapping: Mapping[str, str]) -> str:
    """Replace every name token of ``expression`` by ``mapping[name]`` (functions are kept).

    Works on Python tokens, so the exponent of ``1e-3`` is never mistaken for a name.

    >>> rename("k * pow(A, 2) + 1e-3", {"k": "p_0", "A": "y_1"})
    'p_0 *pow (y_1 ,2 )+1e-3'
    """
    out: list[tuple[int, str]] = []
    for tok in tokenize.generate_tokens(io.StringIO(expression).readline):
        if tok.type == tokenize.NAME and tok.string not in EXPRESSION_FUNCTIONS:
            if tok.string not in mapping:
                raise KeyError(f"unknown name '{tok.string}' in {expression!r}")
            out.append((tokenize.NAME, mapping[tok.string]))
        elif tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER):
            continue
        else:
            out.append((tok.type, tok.string))
    return tokenize.untokenize(out).strip()


@dataclass(frozen=True)
class CompiledModel:
    """Vectorised functions for one spec; all arrays have the batch in the last axis.

    - ``initial(p)``: ``(n_species, n_sets)`` initial values at t = 0.
    - ``derived(t, y, p)``: ``(n_assignments, n_sets)`` assignments in spec order.
    - ``rhs(t, y, p)``: ``(n_species, n_sets)`` time derivatives (zero rows for discrete species).
    - ``jac(t, y, p)``: ``(n_species, n_species, n_sets)``, ``J[i, k] = d rhs_i / d y_k``.
    - ``dfdt(t, y, p)``: ``(n_species, n_sets)`` explicit time derivative, or ``None`` when no
      rate or assignment uses ``t``.
    - ``events[k](t, y, p)``: ``(n_species, n_sets)`` state after event ``k`` (spec order).
    """

    spec_hash: str
    n_species: int
    dynamic: np.ndarray  # (n_species,) bool
    initial: Callable[[FloatArray], FloatArray]
    derived: StateFn
    rhs: StateFn
    jac: StateFn
    dfdt: StateFn | None
    events: tuple[StateFn, ...]
    source: str


def _names(spec: ModelSpec) -> dict[str, str]:
    mapping: dict[str, str] = {"t": "t"}
    for i, s in enumerate(spec.species):
        mapping[s.name] = f"y_{i}"
    for i, p in enumerate(spec.parameters):
        mapping[p.name] = f"p_{i}"
    for i, a in enumerate(spec.assignments):
        mapping[a.name] = f"a_{i}"
    assert not any(keyword.iskeyword(v) for v in mapping.values())
    return mapping


_SYMPY_FUNCS: dict[str, object] = {"pow": sympy.Pow, "exp": sympy.exp, "sqrt": sympy.sqrt}


def _sym(expression: str, symbols: Mapping[str, object]) -> sympy.Expr:
    return sympy.sympify(expression, locals={**symbols, **_SYMPY_FUNCS})


class _Printer(NumPyPrinter):  # type: ignore[misc]
    """numpy printer that writes plain floats for rationals (``1/2`` → ``0.5``)."""

    def _print_Rational(self, expr: object) -> str:
        return repr(float(expr))  # type: ignore[arg-type]

    def _print_Half(self, expr: object) -> str:
        return "0.5"


def _unpack(spec: ModelSpec, lines: list[str], *, params: bool = True, species: bool = True) -> None:
    if species:
        for i in range(len(spec.species)):
            lines.append(f"    y_{i} = y[{i}]")
    if params:
        for i in range(len(spec.parameters)):
            lines.append(f"    p_{i} = p[{i}]")


def _generate(spec: ModelSpec) -> str:
    mapping = _names(spec)
    n = len(spec.species)
    py = {a.name: rename(a.expression, mapping) for a in spec.assignments}
    lines: list[str] = ["# generated from spec " + spec.name + " " + spec.version, ""]

    def assignments_block() -> None:
        for i, a in enumerate(spec.assignments):
            lines.append(f"    a_{i} = {py[a.name]}")

    # initial values
    lines.append("def initial(p):")
    lines.append("    nb = p.shape[1]")
    _unpack(spec, lines, species=False)
    lines.append(f"    out = np.empty(({n}, nb))")
    for i, s in enumerate(spec.species):
        lines.append(f"    out[{i}] = {rename(s.initial, mapping)}")
    lines.append("    return out")
    lines.append("")

    # derived quantities
    lines.append("def derived(t, y, p):")
    lines.append("    nb = y.shape[1]")
    _unpack(spec, lines)
    assignments_block()
    lines.append(f"    out = np.empty(({len(spec.assignments)}, nb))")
    for i in range(len(spec.assignments)):
        lines.append(f"    out[{i}] = a_{i}")
    lines.append("    return out")
    lines.append("")

    # right-hand side: rates, then sparse stoichiometry
    stoich = spec.stoichiometry()
    lines.append("def rhs(t, y, p):")
    lines.append("    nb = y.shape[1]")
    _unpack(spec, lines)
    assignments_block()
    for j, r in enumerate(spec.reactions):
        lines.append(f"    r_{j} = {rename(r.rate, mapping)}")
    lines.append(f"    out = np.zeros(({n}, nb))")
    for i in range(n):
        terms = [f"{stoich[i, j]!r} * r_{j}" for j in range(len(spec.reactions)) if stoich[i, j] != 0.0]
        if terms:
            lines.append(f"    out[{i}] = " + " + ".join(terms))
    lines.append("    return out")
    lines.append("")

    # symbolic derivatives
    symbols = {v: sympy.Symbol(v, real=True) for v in mapping.values()}
    dyn = [i for i, s in enumerate(spec.species) if s.kind == "dynamic"]
    ysym = {i: symbols[f"y_{i}"] for i in dyn}
    tsym = symbols["t"]
    a_exprs = [_sym(py[a.name], symbols) for a in spec.assignments]
    a_syms = [symbols[f"a_{i}"] for i in range(len(spec.assignments))]
    r_exprs = [_sym(rename(r.rate, mapping), symbols) for r in spec.reactions]

    def rate_derivatives(var: sympy.Symbol) -> list[sympy.Expr]:
        """d(rate)/d var for every reaction, chaining through the ordered assignments."""
        da: list[sympy.Expr] = []
        for expr in a_exprs:
            d = sympy.diff(expr, var)
            for k in range(len(da)):
                if da[k] != 0 and expr.has(a_syms[k]):
                    d = d + sympy.diff(expr, a_syms[k]) * da[k]
            da.append(d)
        dr: list[sympy.Expr] = []
        for expr in r_exprs:
            d = sympy.diff(expr, var)
            for k, ak in enumerate(a_syms):
                if da[k] != 0 and expr.has(ak):
                    d = d + sympy.diff(expr, ak) * da[k]
            dr.append(d)
        return dr

    uses_t = any(e.has(tsym) for e in (*a_exprs, *r_exprs))
    dfdt_entries: dict[object, sympy.Expr] = {}
    if uses_t:
        dr = rate_derivatives(tsym)
        for i in dyn:
            acc = sympy.Integer(0)
            for j, d in enumerate(dr):
                if stoich[i, j] != 0.0 and d != 0:
                    acc = acc + sympy.Float(stoich[i, j]) * d
            if acc != 0:
                dfdt_entries[i] = acc

    printer = _Printer({"fully_qualified_modules": False})

    def emit_derivative_function(
        name: str, entries: Mapping[object, sympy.Expr], shape: str, index: Callable[[object], str]
    ) -> None:
        lines.append(f"def {name}(t, y, p):")
        lines.append("    nb = y.shape[1]")
        _unpack(spec, lines)
        assignments_block()
        keys = list(entries)
        subexprs, reduced = sympy.cse([entries[k] for k in keys], symbols=sympy.numbered_symbols("c_"))
        for sym, expr in subexprs:
            lines.append(f"    {sym} = {printer.doprint(expr)}")
        lines.append(f"    out = np.zeros({shape})")
        for key, expr in zip(keys, reduced, strict=True):
            lines.append(f"    out[{index(key)}] = {printer.doprint(expr)}")
        lines.append("    return out")
        lines.append("")

    # Jacobian by the chain rule on arrays: partial derivatives are printed from sympy, and
    # d a / d y, d r / d y and J = S @ d r / d y are accumulated numerically, so a shared
    # derived quantity (total tumour, say) costs one array per assignment instead of an
    # expanded expression per Jacobian entry.
    ysyms = [(k, ysym[k]) for k in dyn]
    partial_ay = {(m, k): sympy.diff(e, y) for m, e in enumerate(a_exprs) for k, y in ysyms}
    partial_aa = {(m, q): sympy.diff(e, a_syms[q]) for m, e in enumerate(a_exprs) for q in range(m) if e.has(a_syms[q])}
    partial_ry = {(j, k): sympy.diff(e, y) for j, e in enumerate(r_exprs) for k, y in ysyms}
    partial_ra = {(j, m): sympy.diff(e, a) for j, e in enumerate(r_exprs) for m, a in enumerate(a_syms) if e.has(a)}
    blocks = [
        ("dA_y", {k: v for k, v in partial_ay.items() if v != 0}),
        ("dA_a", {k: v for k, v in partial_aa.items() if v != 0}),
        ("dR_y", {k: v for k, v in partial_ry.items() if v != 0}),
        ("dR_a", {k: v for k, v in partial_ra.items() if v != 0}),
    ]
    keys = [(block, key) for block, entries in blocks for key in entries]
    exprs = [entries[key] for _, entries in blocks for key in entries]
    lines.append("def jac(t, y, p):")
    lines.append("    nb = y.shape[1]")
    _unpack(spec, lines)
    assignments_block()
    subexprs, reduced = sympy.cse(exprs, symbols=sympy.numbered_symbols("c_"))
    for sym, expr in subexprs:
        lines.append(f"    {sym} = {printer.doprint(expr)}")
    values = {key: printer.doprint(expr) for key, expr in zip(keys, reduced, strict=True)}
    n_a, n_r = len(spec.assignments), len(spec.reactions)
    lines.append(f"    dA = np.zeros(({max(n_a, 1)}, {n}, nb))")
    for m in range(n_a):
        for (block, key), text in values.items():
            if block == "dA_y" and key[0] == m:
                lines.append(f"    dA[{m}, {key[1]}] = {text}")
        for (block, key), text in values.items():
            if block == "dA_a" and key[0] == m:
                lines.append(f"    dA[{m}] += ({text}) * dA[{key[1]}]")
    lines.append(f"    dR = np.zeros(({max(n_r, 1)}, {n}, nb))")
    for (block, key), text in values.items():
        if block == "dR_y":
            lines.append(f"    dR[{key[0]}, {key[1]}] = {text}")
    for (block, key), text in values.items():
        if block == "dR_a":
            lines.append(f"    dR[{key[0]}] += ({text}) * dA[{key[1]}]")
    lines.append(f"    out = np.zeros(({n}, {n}, nb))")
    for i in range(n):
        terms = [f"{stoich[i, j]!r} * dR[{j}]" for j in range(n_r) if stoich[i, j] != 0.0]
        if terms:
            lines.append(f"    out[{i}] = " + " + ".join(terms))
    lines.append("    return out")
    lines.append("")
    if uses_t:
        emit_derivative_function("dfdt", dfdt_entries, f"({n}, nb)", str)

    # events: every target from the pre-event values (and pre-event assignments)
    for k, e in enumerate(spec.events):
        lines.append(f"def event_{k}(t, y, p):")
        _unpack(spec, lines)
        assignments_block()
        targets = [(spec.species_names.index(target), rename(expr, mapping)) for target, expr in e.assignments]
        for m, (_, expr) in enumerate(targets):
            lines.append(f"    v_{m} = {expr}")
        lines.append("    out = y.copy()")
        for m, (i, _) in enumerate(targets):
            lines.append(f"    out[{i}] = v_{m}")
        lines.append("    return out")
        lines.append("")
    return "\n".join(lines)


@lru_cache(maxsize=32)
def _compile_cached(spec_hash: str, spec: ModelSpec) -> CompiledModel:
    source = _generate(spec)
    namespace: dict[str, object] = {
        "np": np,
        "numpy": np,
        "pow": np.power,
        "exp": np.exp,
        "sqrt": np.sqrt,
        "power": np.power,
        "STOICH": spec.stoichiometry(),
        "__builtins__": {},
    }
    # the printer writes unqualified names (exp, sqrt, ...) for sympy functions
    for fname in ("log", "sin", "cos", "tan", "abs", "sign"):
        namespace[fname] = getattr(np, fname if fname != "abs" else "absolute")
    code = compile(source, f"<exoresist.ode generated: {spec.name} {spec_hash[:12]}>", "exec")
    exec(code, namespace)
    dynamic = np.array([s.kind == "dynamic" for s in spec.species], dtype=bool)
    return CompiledModel(
        spec_hash=spec_hash,
        n_species=len(spec.species),
        dynamic=dynamic,
        initial=namespace["initial"],  # type: ignore[arg-type]
        derived=namespace["derived"],  # type: ignore[arg-type]
        rhs=namespace["rhs"],  # type: ignore[arg-type]
        jac=namespace["jac"],  # type: ignore[arg-type]
        dfdt=namespace.get("dfdt"),  # type: ignore[arg-type]
        events=tuple(namespace[f"event_{k}"] for k in range(len(spec.events))),  # type: ignore[misc]
        source=source,
    )


def compile_spec(spec: ModelSpec) -> CompiledModel:
    """The compiled functions for ``spec``, built once per spec content hash."""
    return _compile_cached(spec.content_hash(), spec)
