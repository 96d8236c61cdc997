"""Compile a :class:`~exoresist.model.spec.ModelSpec` into *data*: an instruction tape and a sparse
LU schedule that one generic, compiled interpreter (:mod:`exoresist.ode._engine`) evaluates.

Nothing here generates or compiles code per spec: a new spec costs only this Python pass (parsing,
sympy derivatives), never a numba compilation.

The tape is a register machine. Registers are rows of a ``(n_reg, n_lanes)`` array (one column per
parameter set integrated together); the layout is fixed: species ``0 .. n_y-1``, parameters
``n_y .. n_y+n_p-1``, then ``t``, then the constants, then temporaries. An instruction is four
integers ``(opcode, dst, a, b)``. Several *programs* (slices of the tape) exist:

- ``rhs``: the ordered assignments and reaction rates, as far as the rates need them; ``f = S r``
  is then accumulated from the rate registers with the sparse stoichiometry
  (``f_row, f_reg, f_coef``);
- ``jac`` (run right after ``rhs`` at the same point, reusing its registers): the nonzero entries
  of ``J = d f / d y`` and, when a rate or assignment uses ``t``, of ``d f / d t``. Partial
  derivatives come from sympy; the chain rule through the ordered assignments is applied on the tape
  (``dA/dy`` per assignment, ``dR/dy`` per reaction, ``J = S dR/dy``), only where structurally
  nonzero, so a shared derived quantity is differentiated once;
- ``initial`` (in parameters), ``derived`` (assignments) and one program per event.

Expressions of the spec language are parsed with :mod:`ast` (after renaming every model name to a
safe identifier), derivatives are built with sympy, and both are emitted with value numbering (an
identical instruction is emitted once). Every program keeps only the instructions its outputs
depend on (backward liveness), so e.g. assignments that only feed outputs (volumes, diameters) cost
nothing in the right-hand side, and an event evaluates only what its targets need; the Jacobian
part holds whatever else the Jacobian and ``df/dt`` need. Registers of temporaries are reused once
dead (linear scan).

The linear systems ``(I / (h gamma) - J) k = v`` are solved with a sparse LU whose pivot order
(minimum degree on the symmetrised pattern, diagonal pivots) and fill-in are fixed here; the factor
and solve schedules are op lists too. The engine checks every pivot and falls back to dense
partial pivoting for a set whose pivot is tiny.
"""

from __future__ import annotations

import ast
import hashlib
import keyword
import os
import pickle
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from exoresist.model.spec import ModelSpec, rename_names

if TYPE_CHECKING:  # sympy is imported where tapes are built: a process that loads cached tapes never needs it
    import sympy

# opcodes of the tape (kept in sync with exoresist.ode._engine.run_program)
OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_NEG, OP_POW, OP_EXP, OP_SQRT, OP_LOG, OP_SQR = range(10)
_UNARY = {OP_NEG, OP_EXP, OP_SQRT, OP_LOG, OP_SQR}
_COMMUTATIVE = {OP_ADD, OP_MUL}

VIRTUAL = 1 << 30  # ids of virtual registers (temporaries) start here

# op kinds of the LU factor schedule
LU_PIVOT, LU_SCALE, LU_UPDATE = range(3)
# op kinds of the backward solve schedule
BS_SUB, BS_SCALE = range(2)


class _Builder:
    """SSA value numbering over virtual registers; physical registers are assigned per program."""

    def __init__(self, n_y: int, n_p: int) -> None:
        self.n_fixed = n_y + n_p + 1  # species, parameters, t
        self.consts: dict[float, int] = {}
        self.ops: list[tuple[int, int, int, int]] = []  # virtual: (op, dst, a, b), dst >= VBASE
        self.memo: dict[tuple[int, int, int], int] = {}
        self.negated: dict[int, int] = {}  # register -> the register it is the negation of
        self.next_virtual = VIRTUAL

    def const(self, value: float) -> int:
        value = float(value)
        key = value if value == value else float("nan")
        if key not in self.consts:
            self.consts[key] = -(len(self.consts) + 1)  # constants: negative ids until layout
        return self.consts[key]

    def emit(self, op: int, a: int, b: int = 0) -> int:
        if op in _COMMUTATIVE and b < a:
            a, b = b, a
        key = (op, a, b)
        if key in self.memo:
            return self.memo[key]
        dst = self.next_virtual
        self.next_virtual += 1
        self.ops.append((op, dst, a, b))
        self.memo[key] = dst
        if op == OP_NEG:
            self.negated[dst] = a
        return dst

    # simple algebra that keeps the tape short, each rule exact in IEEE arithmetic (a + (-b) is
    # a - b; (-a) b is -(a b); (-a) + (-b) is -(a + b)); negations move outwards until a sum
    # absorbs them, and a negation nothing reads any more is then dropped as dead
    def add(self, a: int, b: int) -> int:
        na, nb = self.negated.get(a), self.negated.get(b)
        if na is not None and nb is not None:
            return self.emit(OP_NEG, self.add(na, nb))
        if nb is not None:
            return self.emit(OP_SUB, a, nb)
        if na is not None:
            return self.emit(OP_SUB, b, na)
        return self.emit(OP_ADD, a, b)

    def mul(self, a: int, b: int) -> int:
        one = self.const(1.0)
        if a == one:
            return b
        if b == one:
            return a
        na, nb = self.negated.get(a), self.negated.get(b)
        if na is not None and nb is not None:
            return self.mul(na, nb)
        if na is not None:
            return self.emit(OP_NEG, self.mul(na, b))
        if nb is not None:
            return self.emit(OP_NEG, self.mul(a, nb))
        return self.emit(OP_MUL, a, b)


def _parse(builder: _Builder, text: str, names: Mapping[str, int]) -> int:
    """Emit a renamed spec-language expression; returns its register."""

    def walk(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return builder.const(float(node.value))
        if isinstance(node, ast.Name):
            return names[node.id]
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return builder.emit(OP_NEG, walk(node.operand))
            if isinstance(node.op, ast.UAdd):
                return walk(node.operand)
        if isinstance(node, ast.BinOp):
            a, b = walk(node.left), walk(node.right)
            ops = {ast.Add: OP_ADD, ast.Sub: OP_SUB, ast.Mult: OP_MUL, ast.Div: OP_DIV}
            for kind, op in ops.items():
                if isinstance(node.op, kind):
                    return builder.emit(op, a, b)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            args = [walk(x) for x in node.args]
            if node.func.id == "pow" and len(args) == 2:
                return builder.emit(OP_POW, args[0], args[1])
            if node.func.id == "exp" and len(args) == 1:
                return builder.emit(OP_EXP, args[0])
            if node.func.id == "sqrt" and len(args) == 1:
                return builder.emit(OP_SQRT, args[0])
        raise ValueError(f"unsupported expression {text!r}")

    return walk(ast.parse(text, mode="eval"))


def _emit_sympy(builder: _Builder, expr: sympy.Expr, names: Mapping[sympy.Symbol, int], memo: dict[sympy.Expr, int]) -> int:
    """Emit a sympy expression (from derivatives of spec expressions); returns its register."""
    import sympy

    if expr in memo:
        return memo[expr]
    if expr.is_Symbol:
        out = names[expr]
    elif expr.is_Number:
        out = builder.const(float(expr))
    elif expr.is_Add:
        terms = [_emit_sympy(builder, a, names, memo) for a in expr.args]
        out = terms[0]
        for t in terms[1:]:
            out = builder.add(out, t)
    elif expr.is_Mul:
        num: list[int] = []
        den: list[int] = []
        sign = 1.0
        for factor in expr.args:
            if factor.is_Number and float(factor) < 0:
                sign = -sign
                factor = -factor
            if factor.is_Pow and factor.exp.is_Number and float(factor.exp) < 0:
                den.append(_emit_sympy(builder, sympy.Pow(factor.base, -factor.exp), names, memo))
            else:
                num.append(_emit_sympy(builder, factor, names, memo))
        top = num[0] if num else builder.const(1.0)
        for r in num[1:]:
            top = builder.mul(top, r)
        if den:
            bottom = den[0]
            for r in den[1:]:
                bottom = builder.mul(bottom, r)
            top = builder.emit(OP_DIV, top, bottom)
        out = builder.emit(OP_NEG, top) if sign < 0 else top
    elif expr.is_Pow:
        base = _emit_sympy(builder, expr.base, names, memo)
        e = expr.exp
        if e.is_Number and float(e) < 0:
            inner = _emit_sympy(builder, sympy.Pow(expr.base, -e), names, memo)
            out = builder.emit(OP_DIV, builder.const(1.0), inner)
        elif e == 2:
            out = builder.emit(OP_SQR, base)
        elif e == sympy.Rational(1, 2):
            out = builder.emit(OP_SQRT, base)
        elif e == 1:
            out = base
        else:
            out = builder.emit(OP_POW, base, _emit_sympy(builder, e, names, memo))
    elif isinstance(expr, sympy.exp):
        out = builder.emit(OP_EXP, _emit_sympy(builder, expr.args[0], names, memo))
    elif isinstance(expr, sympy.log):
        out = builder.emit(OP_LOG, _emit_sympy(builder, expr.args[0], names, memo))
    else:
        raise ValueError(f"cannot put {expr!r} on the tape")
    memo[expr] = out
    return out


@dataclass(frozen=True)
class CompiledModel:
    """One spec as data for the engine (see the module docstring); arrays are numpy, read-only in use.

    ``programs`` maps a program name to its ``(start, stop)`` slice of ``ops``. ``outputs`` of a
    program are registers: ``init_reg`` (per species), ``derived_reg`` (per assignment),
    ``f_row/f_reg/f_coef`` (stoichiometry), ``j_row/j_col/j_reg`` (Jacobian nonzeros),
    ``dt_row/dt_reg`` (nonzeros of d f / d t), ``ev_*`` (event targets).
    """

    spec_hash: str
    n_species: int
    n_params: int
    dynamic: np.ndarray  # (n_species,) bool
    uses_time: bool
    n_reg: int
    t_reg: int
    const_reg: np.ndarray  # registers of the constants
    const_val: np.ndarray
    ops: np.ndarray  # (n_ops, 4) int64
    rhs_ops: tuple[int, int]
    jac_ops: tuple[int, int]
    init_ops: tuple[int, int]
    derived_ops: tuple[int, int]
    init_reg: np.ndarray
    derived_reg: np.ndarray
    f_row: np.ndarray
    f_reg: np.ndarray
    f_coef: np.ndarray
    j_row: np.ndarray
    j_col: np.ndarray
    j_reg: np.ndarray
    dt_row: np.ndarray
    dt_reg: np.ndarray
    ev_ops: np.ndarray  # (n_events, 2) tape slices
    ev_tgt: np.ndarray  # (n_events, 2) slices of ev_species / ev_reg
    ev_species: np.ndarray
    ev_reg: np.ndarray
    # sparse LU of W = I / (h gamma) - J in the permuted order perm (row k of W' is row perm[k])
    perm: np.ndarray
    lu_nnz: int
    j_pos: np.ndarray  # (nnz_J,) stored position of each Jacobian nonzero
    diag_pos: np.ndarray  # (n,) stored position of W'[k, k]
    lu_ops: np.ndarray  # (n, 4) int64: (kind, a, b, c)
    fwd_ops: np.ndarray  # (n, 3): x[i] -= lu[pos] * x[k]
    bwd_ops: np.ndarray  # (n, 4): (kind, k, pos, j)

    def rhs(self, t: float, y: np.ndarray, p: np.ndarray) -> np.ndarray:
        """``(n_species, n_sets)`` time derivatives at ``y (n_species, n_sets)``, ``p (n_params, n_sets)``."""
        from exoresist.ode._engine import eval_rhs_jac

        return eval_rhs_jac(self, t, y, p)[0]

    def jac(self, t: float, y: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Dense ``(n_species, n_species, n_sets)`` Jacobian, ``J[i, k] = d rhs_i / d y_k``."""
        from exoresist.ode._engine import eval_rhs_jac

        return eval_rhs_jac(self, t, y, p)[1]

    def dfdt(self, t: float, y: np.ndarray, p: np.ndarray) -> np.ndarray:
        """``(n_species, n_sets)`` explicit time derivative of the right-hand side (zero if unused)."""
        from exoresist.ode._engine import eval_rhs_jac

        return eval_rhs_jac(self, t, y, p)[2]

    def initial(self, p: np.ndarray) -> np.ndarray:
        """``(n_species, n_sets)`` initial values from ``p (n_params, n_sets)``."""
        from exoresist.ode._engine import eval_outputs

        return eval_outputs(self, self.init_ops, self.init_reg, 0.0, None, p)

    def derived(self, t: float, y: np.ndarray, p: np.ndarray) -> np.ndarray:
        """``(n_assignments, n_sets)`` derived quantities in spec order."""
        from exoresist.ode._engine import eval_outputs

        return eval_outputs(self, self.derived_ops, self.derived_reg, t, y, p)


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


def _sympy_funcs() -> dict[str, object]:
    import sympy

    return {"pow": sympy.Pow, "exp": sympy.exp, "sqrt": sympy.sqrt}


def _minimum_degree(pattern: np.ndarray) -> list[int]:
    """A minimum-degree elimination order of the symmetrised ``pattern`` (n x n bool)."""
    n = pattern.shape[0]
    adj = [set(np.flatnonzero(pattern[i] | pattern[:, i]).tolist()) - {i} for i in range(n)]
    remaining = set(range(n))
    order: list[int] = []
    while remaining:
        k = min(remaining, key=lambda v: (len(adj[v]), v))
        order.append(k)
        remaining.discard(k)
        nbrs = adj[k]
        for a in nbrs:
            adj[a] |= nbrs - {a}
            adj[a].discard(k)
    return order


def _live_ops(ops: list[tuple[int, int, int, int]], outputs: list[int]) -> list[tuple[int, int, int, int]]:
    """The instructions of an SSA program that ``outputs`` depend on, in their order (backward
    liveness: dead instructions, e.g. assignments only needed for outputs, are dropped)."""
    live = {v for v in outputs if v >= VIRTUAL}
    keep: list[tuple[int, int, int, int]] = []
    for ins in reversed(ops):
        op, dst, a, b = ins
        if dst not in live:
            continue
        keep.append(ins)
        live.add(a)
        if op not in _UNARY:
            live.add(b)
    keep.reverse()
    return keep


def _allocate(
    ops: list[tuple[int, int, int, int]], live_out: set[int], first_temp: int, const_id: Mapping[int, int]
) -> tuple[list[tuple[int, int, int, int]], dict[int, int], int]:
    """Linear-scan register allocation of one SSA program (one output op per input op); returns
    ``(ops, virtual -> physical register, registers used)``."""
    last_use: dict[int, int] = {}
    for idx, (op, _dst, a, b) in enumerate(ops):
        last_use[a] = idx
        if op not in _UNARY:
            last_use[b] = idx
    for v in live_out:
        last_use[v] = len(ops)
    free: list[int] = []
    phys: dict[int, int] = {}
    n_reg = first_temp
    out: list[tuple[int, int, int, int]] = []

    def reg(v: int) -> int:
        if v < 0:
            return const_id[v]
        if v < VIRTUAL:
            return v
        return phys[v]

    for idx, (op, dst, a, b) in enumerate(ops):
        ra = reg(a)
        rb = reg(b) if op not in _UNARY else 0
        # the destination is taken before the operands that die here are freed, so it is never
        # one of them: the engine's lane loops then vectorise (an in-place row would make LLVM's
        # runtime alias check fall back to scalar code)
        if free:
            r = free.pop()
        else:
            r = n_reg
            n_reg += 1
        for v in {a} if op in _UNARY else {a, b}:
            if v >= VIRTUAL and last_use.get(v) == idx:
                free.append(phys[v])
        phys[dst] = r
        out.append((op, r, ra, rb))
        if dst not in last_use:  # never read: the register is free again at once
            free.append(r)
    return out, phys, n_reg


def _symbolic_lu(n: int, j_row: np.ndarray, j_col: np.ndarray) -> tuple[np.ndarray, dict[str, object]]:
    """Pivot order, fill-in and op schedules of the LU of ``W = I / (h gamma) - J`` (diagonal pivots)."""
    pattern = np.eye(n, dtype=bool)
    pattern[j_row, j_col] = True
    perm = np.array(_minimum_degree(pattern), dtype=np.int64)
    inv = np.empty(n, dtype=np.int64)
    inv[perm] = np.arange(n)
    pat = pattern[np.ix_(perm, perm)].copy()
    below: list[list[int]] = []
    right: list[list[int]] = []
    for k in range(n):
        rows = [i for i in range(k + 1, n) if pat[i, k]]
        cols = [j for j in range(k + 1, n) if pat[k, j]]
        for i in rows:
            pat[i, cols] = True
        below.append(rows)
        right.append(cols)
    pos = -np.ones((n, n), dtype=np.int64)
    rows_nz, cols_nz = np.nonzero(pat)
    pos[rows_nz, cols_nz] = np.arange(rows_nz.size)
    lu_ops: list[tuple[int, int, int, int]] = []
    fwd: list[tuple[int, int, int]] = []
    bwd: list[tuple[int, int, int, int]] = []
    for k in range(n):
        lu_ops.append((LU_PIVOT, k, int(pos[k, k]), 0))
        for i in below[k]:
            lu_ops.append((LU_SCALE, int(pos[i, k]), k, 0))
        for i in below[k]:
            for j in right[k]:
                lu_ops.append((LU_UPDATE, int(pos[i, j]), int(pos[i, k]), int(pos[k, j])))
            fwd.append((i, int(pos[i, k]), k))
    for k in range(n - 1, -1, -1):
        for j in right[k]:
            bwd.append((BS_SUB, k, int(pos[k, j]), j))
        bwd.append((BS_SCALE, k, 0, 0))
    lu: dict[str, object] = {
        "lu_nnz": int(rows_nz.size),
        "j_pos": pos[inv[j_row], inv[j_col]].astype(np.int64),
        "diag_pos": pos[np.arange(n), np.arange(n)].astype(np.int64),
        "lu_ops": np.array(lu_ops, dtype=np.int64).reshape(-1, 4),
        "fwd_ops": np.array(fwd, dtype=np.int64).reshape(-1, 3),
        "bwd_ops": np.array(bwd, dtype=np.int64).reshape(-1, 4),
    }
    return perm, lu


CACHE_ENV = "EXORESIST_CACHE_DIR"
"""Environment variable naming the folder of built tapes (default ``$XDG_CACHE_HOME/exoresist`` or
``~/.cache/exoresist``); set it to an empty string to build in memory only."""


def cache_dir() -> Path | None:
    """The folder of built tapes, or None when caching on disk is off."""
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        return Path(value) / "tapes" if value.strip() else None
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory: no disk cache
            return None
    return Path(base) / "exoresist" / "tapes"


@lru_cache(maxsize=1)
def _builder_version() -> str:
    """Hash of this module's source: a change to how tapes are built invalidates every cached one."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def _load_or_build(spec_hash: str, spec: ModelSpec) -> CompiledModel:
    """The tape of ``spec`` from the disk cache, or built (symbolic Jacobian: about 1.5 s per spec)
    and stored there for the next process: every Dask worker and every command would otherwise
    build the same tapes again. A cache entry is plain data (arrays and integers) keyed by the spec's
    content hash and the builder's version; one that cannot be read is rebuilt, and a folder that
    cannot be written only means no caching."""
    folder = cache_dir()
    path = folder / f"{spec_hash}-{_builder_version()}.pkl" if folder is not None else None
    if path is not None and path.is_file():
        try:
            with path.open("rb") as fh:
                model = pickle.load(fh)
            if isinstance(model, CompiledModel) and model.spec_hash == spec_hash:
                return model
        except Exception:
            pass
    model = _build(spec)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tape-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, path)  # atomic: a reader sees the whole entry or none
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        except OSError:
            pass
    return model


@lru_cache(maxsize=64)
def _compile_cached(spec_hash: str, spec: ModelSpec) -> CompiledModel:
    return _load_or_build(spec_hash, spec)


def compile_spec(spec: ModelSpec) -> CompiledModel:
    """The tape and LU schedule for ``spec``, built once per spec content hash (in memory, and on
    disk across processes: :func:`cache_dir`)."""
    return _compile_cached(spec.content_hash(), spec)


def _build(spec: ModelSpec) -> CompiledModel:
    n_y, n_p, n_a, n_r = len(spec.species), len(spec.parameters), len(spec.assignments), len(spec.reactions)
    mapping = _names(spec)
    builder = _Builder(n_y, n_p)
    t_reg = n_y + n_p
    fixed: dict[str, int] = {"t": t_reg}
    fixed.update({f"y_{i}": i for i in range(n_y)})
    fixed.update({f"p_{i}": n_y + i for i in range(n_p)})
    stoich = spec.stoichiometry()
    dynamic = np.array([s.kind == "dynamic" for s in spec.species], dtype=bool)

    programs: dict[str, tuple[list[tuple[int, int, int, int]], list[int]]] = {}

    def take(name: str, outputs: list[int]) -> None:
        programs[name] = (builder.ops, outputs)
        builder.ops = []
        builder.memo = {}

    # initial values (parameters only)
    take("init", [_parse(builder, rename_names(s.initial, mapping, strict=True), fixed) for s in spec.species])

    def assignments(names: dict[str, int]) -> list[int]:
        regs: list[int] = []
        for i, a in enumerate(spec.assignments):
            v = _parse(builder, rename_names(a.expression, mapping, strict=True), names)
            names[f"a_{i}"] = v
            regs.append(v)
        return regs

    take("derived", assignments(dict(fixed)))
    for k, e in enumerate(spec.events):
        names = dict(fixed)
        assignments(names)
        take(f"event_{k}", [_parse(builder, rename_names(expr, mapping, strict=True), names) for _, expr in e.assignments])

    # rhs: assignments and rates (value numbering carries on into the Jacobian that follows)
    names = dict(fixed)
    a_v = assignments(names)
    rate_text = [rename_names(r.rate, mapping, strict=True) for r in spec.reactions]
    r_v = [_parse(builder, text, names) for text in rate_text]
    rhs_ops = builder.ops
    builder.ops = []

    # symbolic partial derivatives, chain rule on the tape
    import sympy

    funcs = _sympy_funcs()
    symbols = {v: sympy.Symbol(v, real=True) for v in mapping.values()}
    sym_reg: dict[sympy.Symbol, int] = {symbols[k]: v for k, v in fixed.items()}
    sym_reg.update({symbols[f"a_{i}"]: a_v[i] for i in range(n_a)})
    a_exprs = [
        sympy.sympify(rename_names(a.expression, mapping, strict=True), locals={**symbols, **funcs}) for a in spec.assignments
    ]
    r_exprs = [sympy.sympify(text, locals={**symbols, **funcs}) for text in rate_text]
    a_free = [e.free_symbols for e in a_exprs]
    r_free = [e.free_symbols for e in r_exprs]
    a_syms = [symbols[f"a_{i}"] for i in range(n_a)]
    memo: dict[sympy.Expr, int] = {}
    dyn = [i for i in range(n_y) if dynamic[i]]
    uses_time = any(symbols["t"] in f for f in (*a_free, *r_free))
    variables = [(k, symbols[f"y_{k}"]) for k in dyn] + ([(-1, symbols["t"])] if uses_time else [])

    def partial(expr: sympy.Expr, free: set[sympy.Symbol], var: sympy.Symbol) -> int | None:
        if var not in free:
            return None
        d = sympy.diff(expr, var)
        if d == 0:
            return None
        return _emit_sympy(builder, d, sym_reg, memo)

    # partials with respect to assignments do not depend on the variable: emit lazily, once
    da_partial: dict[tuple[int, int], int | None] = {}
    dr_partial: dict[tuple[int, int], int | None] = {}
    j_entries: list[tuple[int, int, int]] = []
    dt_entries: list[tuple[int, int]] = []
    for col, var in variables:
        dA: list[int | None] = []
        for m in range(n_a):
            acc = partial(a_exprs[m], a_free[m], var)
            for q in range(m):
                if dA[q] is None or a_syms[q] not in a_free[m]:
                    continue
                if (m, q) not in da_partial:
                    da_partial[(m, q)] = partial(a_exprs[m], a_free[m], a_syms[q])
                pq = da_partial[(m, q)]
                if pq is None:
                    continue
                term = builder.mul(pq, dA[q])  # type: ignore[arg-type]
                acc = term if acc is None else builder.add(acc, term)
            dA.append(acc)
        dR: list[int | None] = []
        for j in range(n_r):
            acc = partial(r_exprs[j], r_free[j], var)
            for m in range(n_a):
                if dA[m] is None or a_syms[m] not in r_free[j]:
                    continue
                if (j, m) not in dr_partial:
                    dr_partial[(j, m)] = partial(r_exprs[j], r_free[j], a_syms[m])
                pm = dr_partial[(j, m)]
                if pm is None:
                    continue
                term = builder.mul(pm, dA[m])  # type: ignore[arg-type]
                acc = term if acc is None else builder.add(acc, term)
            dR.append(acc)
        for i in dyn:
            acc2: int | None = None
            for j in range(n_r):
                dj = dR[j]
                if stoich[i, j] == 0.0 or dj is None:
                    continue
                c = stoich[i, j]
                if c == 1.0:
                    term = dj
                elif c == -1.0:
                    term = builder.emit(OP_NEG, dj)
                else:
                    term = builder.mul(builder.const(c), dj)
                acc2 = term if acc2 is None else builder.add(acc2, term)
            if acc2 is None:
                continue
            if col >= 0:
                j_entries.append((i, col, acc2))
            else:
                dt_entries.append((i, acc2))
    jac_ops = builder.ops
    builder.ops = []

    # dead-instruction elimination: the rhs part keeps only what the rates need (it also runs
    # alone, for the stages); the jac part anything else the Jacobian and df/dt need
    j_out = [v for _, _, v in j_entries]
    dt_out = [v for _, v in dt_entries]
    rhs_live = _live_ops(rhs_ops, r_v)
    in_rhs = {dst for _, dst, _, _ in rhs_live}
    jac_live = [ins for ins in _live_ops(rhs_ops + jac_ops, [*j_out, *dt_out]) if ins[1] not in in_rhs]

    # constants and physical layout
    n_const = len(builder.consts)
    first_temp = t_reg + 1 + n_const
    const_id = {vid: t_reg + 1 + idx for idx, vid in enumerate(sorted(builder.consts.values(), reverse=True))}
    const_val = np.zeros(n_const)
    for value, vid in builder.consts.items():
        const_val[const_id[vid] - t_reg - 1] = value
    const_reg = np.arange(t_reg + 1, t_reg + 1 + n_const, dtype=np.int64)

    flat: list[tuple[int, int, int, int]] = []
    slices: dict[str, tuple[int, int]] = {}
    outputs: dict[str, list[int]] = {}
    n_reg = first_temp

    def place(name: str, ops: list[tuple[int, int, int, int]], out: list[int], live_out: set[int]) -> None:
        nonlocal n_reg
        allocated, phys, used = _allocate(ops, live_out, first_temp, const_id)
        slices[name] = (len(flat), len(flat) + len(allocated))
        flat.extend(allocated)
        outputs[name] = [const_id[v] if v < 0 else v if v < VIRTUAL else phys[v] for v in out]
        n_reg = max(n_reg, used)

    for name, (ops, out) in programs.items():
        place(name, _live_ops(ops, out), out, set(out))
    # rhs + jac are allocated as one program: the Jacobian reads registers the rates left, and the
    # rates stay live to the end (f is accumulated from them between the two)
    place("rhsjac", rhs_live + jac_live, [*r_v, *j_out, *dt_out], {*r_v, *j_out, *dt_out})
    lo, hi = slices["rhsjac"]
    slices["rhs"] = (lo, lo + len(rhs_live))
    slices["jac"] = (lo + len(rhs_live), hi)
    rate_reg = outputs["rhsjac"][:n_r]
    j_reg = np.array(outputs["rhsjac"][n_r : n_r + len(j_out)], dtype=np.int64)
    dt_reg = np.array(outputs["rhsjac"][n_r + len(j_out) :], dtype=np.int64)

    ops_arr = np.array(flat, dtype=np.int64).reshape(-1, 4)
    f_entries = sorted((i, j) for i in range(n_y) for j in range(n_r) if stoich[i, j] != 0.0)
    f_row = np.array([i for i, _ in f_entries], dtype=np.int64)
    f_reg = np.array([rate_reg[j] for _, j in f_entries], dtype=np.int64)
    f_coef = np.array([stoich[i, j] for i, j in f_entries], dtype=float)
    j_row = np.array([i for i, _, _ in j_entries], dtype=np.int64)
    j_col = np.array([k for _, k, _ in j_entries], dtype=np.int64)
    dt_row = np.array([i for i, _ in dt_entries], dtype=np.int64)

    ev_ops = np.zeros((len(spec.events), 2), dtype=np.int64)
    ev_tgt = np.zeros((len(spec.events), 2), dtype=np.int64)
    ev_species: list[int] = []
    ev_reg: list[int] = []
    for k, e in enumerate(spec.events):
        ev_ops[k] = slices[f"event_{k}"]
        ev_tgt[k, 0] = len(ev_species)
        for (name, _), r in zip(e.assignments, outputs[f"event_{k}"], strict=True):
            ev_species.append(spec.species_names.index(name))
            ev_reg.append(r)
        ev_tgt[k, 1] = len(ev_species)

    perm, lu = _symbolic_lu(n_y, j_row, j_col)
    return CompiledModel(
        spec_hash=spec.content_hash(),
        n_species=n_y,
        n_params=n_p,
        dynamic=dynamic,
        uses_time=uses_time,
        n_reg=n_reg,
        t_reg=t_reg,
        const_reg=const_reg,
        const_val=const_val,
        ops=ops_arr,
        rhs_ops=slices["rhs"],
        jac_ops=slices["jac"],
        init_ops=slices["init"],
        derived_ops=slices["derived"],
        init_reg=np.array(outputs["init"], dtype=np.int64),
        derived_reg=np.array(outputs["derived"], dtype=np.int64),
        f_row=f_row,
        f_reg=f_reg,
        f_coef=f_coef,
        j_row=j_row,
        j_col=j_col,
        j_reg=j_reg,
        dt_row=dt_row,
        dt_reg=dt_reg,
        ev_ops=ev_ops,
        ev_tgt=ev_tgt,
        ev_species=np.array(ev_species, dtype=np.int64),
        ev_reg=np.array(ev_reg, dtype=np.int64),
        perm=perm,
        **lu,  # type: ignore[arg-type]
    )
