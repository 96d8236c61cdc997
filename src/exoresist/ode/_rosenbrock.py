"""A batched, adaptive, L-stable Rosenbrock integrator (Rodas4) with a common step size.

Method: RODAS4 of Hairer & Wanner — 6 stages, order 4, embedded order 3, stiffly accurate and
L-stable. Coefficients are those of E. Hairer and G. Wanner, *Solving Ordinary Differential
Equations II*, 2nd ed., Springer 1996, Sect. IV.7 (method "RODAS"), as distributed in Hairer's
``rodas.f`` (subroutine ``ROCOE``, ``METH = 1``), in the transformed form that avoids
matrix-vector products: for each stage

    (I / (h gamma) - J) k_i = f(t + c_i h, y + sum_j a_ij k_j) + sum_j (c_ij / h) k_j + h d_i df/dt

and, the method being stiffly accurate, ``y_new = y + sum_j a_5j k_j + k_5 + k_6`` with error
estimate ``k_6``. The numbers were cross-checked against two independent transcriptions (Numerical
Recipes 3rd ed. ``StepperRoss`` and a Rust port of ``rodas.f``); a test checks the observed order.

Arrays keep the batch in the last axis: ``y`` is ``(n_species, n_sets)``. One step size is shared
by the batch; the error norm of a step is the largest per-set weighted RMS norm. Sets whose state
becomes non-finite, or that keep a step rejected down to the minimum step size, are removed from
the batch by the caller (see :func:`integrate_to`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from exoresist.ode._codegen import CompiledModel
from exoresist.ode._linalg import lu_factor, lu_solve

GAMMA = 0.25
C2, C3, C4 = 0.386, 0.21, 0.63
D1, D2, D3, D4 = 0.25, -0.1043, 0.1035, -0.3620000000000023e-01
A21 = 0.1544000000000000e01
A31, A32 = 0.9466785280815826e00, 0.2557011698983284e00
A41, A42, A43 = 0.3314825187068521e01, 0.2896124015972201e01, 0.9986419139977817e00
A51, A52, A53, A54 = 0.1221224509226641e01, 0.6019134481288629e01, 0.1253708332932087e02, -0.6878860361058950e00
C21 = -0.5668800000000000e01
C31, C32 = -0.2430093356833875e01, -0.2063599157091915e00
C41, C42, C43 = -0.1073529058151375e00, -0.9594562251023355e01, -0.2047028614809616e02
C51, C52, C53, C54 = 0.7496443313967647e01, -0.1024680431464352e02, -0.3399990352819905e02, 0.1170890893206160e02
C61, C62, C63, C64, C65 = (
    0.8083246795921522e01,
    -0.7981132988064893e01,
    -0.3152159432874371e02,
    0.1631930543123136e02,
    -0.6058818238834054e01,
)
ERROR_ORDER = 3  # order of the embedded solution: step factor uses err ** (-1 / (ERROR_ORDER + 1))

SAFETY = 0.9
FAC_MIN = 0.2
FAC_MAX = 6.0


def _batched_solver(matrix: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """A solver for the blocks of ``matrix`` ``(n, n, n_sets)``: ``solve(v (n, n_sets))``.

    One LU factorisation (partial pivoting, numba loops over the batch) per step serves all six
    stage solves.
    """
    lu, piv = lu_factor(np.ascontiguousarray(matrix))

    def solve(v: np.ndarray) -> np.ndarray:
        out: np.ndarray = lu_solve(lu, piv, np.ascontiguousarray(v))
        return out

    return solve


def rodas4_step(
    model: CompiledModel,
    t: float,
    h: float,
    y: np.ndarray,
    p: np.ndarray,
    f0: np.ndarray,
    jac: np.ndarray,
    ft: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """One Rodas4 step from ``(t, y)`` of size ``h`` (days); returns ``(y_new, error_estimate)``.

    ``f0 = rhs(t, y)``, ``jac = d rhs / d y`` ``(n, n, n_sets)`` and ``ft = d rhs / d t`` (or
    ``None`` when the model is autonomous) are evaluated by the caller so a rejected step can reuse
    them.
    """
    n = y.shape[0]
    eye = np.eye(n)[:, :, None]
    solve = _batched_solver(eye / (h * GAMMA) - jac)

    def rhs(c: float, arg: np.ndarray) -> np.ndarray:
        return model.rhs(t + c * h, arg, p)

    def time_term(d: float) -> np.ndarray | float:
        return h * d * ft if ft is not None else 0.0

    k1 = solve(f0 + time_term(D1))
    k2 = solve(rhs(C2, y + A21 * k1) + (C21 / h) * k1 + time_term(D2))
    k3 = solve(rhs(C3, y + A31 * k1 + A32 * k2) + (C31 * k1 + C32 * k2) / h + time_term(D3))
    k4 = solve(
        rhs(C4, y + A41 * k1 + A42 * k2 + A43 * k3) + (C41 * k1 + C42 * k2 + C43 * k3) / h + time_term(D4),
    )
    y5 = y + A51 * k1 + A52 * k2 + A53 * k3 + A54 * k4
    k5 = solve(rhs(1.0, y5) + (C51 * k1 + C52 * k2 + C53 * k3 + C54 * k4) / h)
    y6 = y5 + k5
    k6 = solve(rhs(1.0, y6) + (C61 * k1 + C62 * k2 + C63 * k3 + C64 * k4 + C65 * k5) / h)
    return y6 + k6, k6


@dataclass
class BatchState:
    """The active part of a batch: ``y`` ``(n_species, n_active)``, ``p`` ``(n_params, n_active)``
    and ``index`` ``(n_active,)``, the position of each active set in the caller's batch."""

    t: float
    y: np.ndarray
    p: np.ndarray
    index: np.ndarray
    h: float | None = None  # proposed next step (days); None: estimate afresh
    n_steps: int = 0
    n_rejected: int = 0
    failures: dict[int, str] = field(default_factory=dict)

    def drop(self, mask: np.ndarray, reason: str) -> None:
        """Remove the sets where ``mask`` (``(n_active,)`` bool) is true, recording ``reason``."""
        for i in self.index[mask]:
            self.failures[int(i)] = reason
        keep = ~mask
        self.y = self.y[:, keep]
        self.p = self.p[:, keep]
        self.index = self.index[keep]


def _rms(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.sqrt(np.mean(x * x, axis=0))
    return out


def _initial_step(model: CompiledModel, state: BatchState, f0: np.ndarray, span: float, rtol: float, atol: float) -> float:
    """Hairer & Wanner's starting step (Solving ODEs I, II.4), minimised over the batch."""
    scale = atol + rtol * np.abs(state.y)
    d0 = _rms(state.y / scale)
    d1 = _rms(f0 / scale)
    h0 = np.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / np.maximum(d1, 1e-300))
    h0_all = float(min(np.min(h0), span))
    y1 = state.y + h0_all * f0
    f1 = model.rhs(state.t + h0_all, y1, state.p)
    d2 = _rms((f1 - f0) / scale) / h0_all
    big = np.maximum(d1, d2)
    h1 = np.where(big <= 1e-15, np.maximum(1e-6, h0_all * 1e-3), (0.01 / np.maximum(big, 1e-300)) ** (1.0 / (ERROR_ORDER + 1)))
    h = np.minimum(100.0 * h0_all, h1)
    finite = np.isfinite(h)
    if not np.any(finite):
        return min(1e-6, span)
    return float(min(np.min(h[finite]), span))


def integrate_to(
    model: CompiledModel,
    state: BatchState,
    t_stop: float,
    *,
    rtol: float,
    atol: float,
    max_steps: int,
) -> None:
    """Advance every active set of ``state`` to exactly ``t_stop`` (days), in place.

    A step is accepted when, for every active set, the weighted RMS norm of the error estimate
    (weights ``atol + rtol * max(|y|, |y_new|)``) is at most 1, no value is non-finite, and no
    dynamic species falls below minus its weight. Dynamic species in ``(-weight, 0)`` after an accepted step
    are set to 0. A set whose state or derivative is non-finite at an accepted point, or that keeps
    a step rejected down to the minimum step size, is dropped with a message.
    """
    dynamic = model.dynamic
    while state.t < t_stop and state.index.size:
        t = state.t
        with np.errstate(all="ignore"):
            f0 = model.rhs(t, state.y, state.p)
            jac = model.jac(t, state.y, state.p)
        bad = ~np.all(np.isfinite(f0), axis=0) | ~np.all(np.isfinite(state.y), axis=0)
        if np.any(bad):
            state.drop(bad, f"non-finite state or derivative at t = {t:.6g} day")
            state.h = None
            continue
        bad = ~np.all(np.isfinite(jac), axis=(0, 1))
        if np.any(bad):
            state.drop(bad, f"non-finite Jacobian at t = {t:.6g} day")
            continue
        ft = model.dfdt(t, state.y, state.p) if model.dfdt is not None else None
        span = t_stop - t
        if state.h is None:
            state.h = _initial_step(model, state, f0, span, rtol, atol)
        h_min = 1e-12 * max(1.0, abs(t))
        while True:
            if state.n_steps + state.n_rejected >= max_steps:
                state.drop(np.ones(state.index.size, dtype=bool), f"more than {max_steps} steps before t = {t_stop:.6g} day")
                return
            proposed = state.h
            h = min(proposed, span)
            if span - h <= 1e-10 * span:
                h = span
            # overflow and NaN inside a trial step are expected for a failing set: detected below
            with np.errstate(all="ignore"):
                y_new, err = rodas4_step(model, t, h, state.y, state.p, f0, jac, ft)
                scale = atol + rtol * np.maximum(np.abs(state.y), np.abs(y_new))
                norm = _rms(err / scale)
            finite = np.all(np.isfinite(y_new), axis=0) & np.isfinite(norm)
            # a value below zero by less than the error-test scale is zero within tolerance: it is
            # clipped after the step; only a real undershoot rejects the step
            negative = np.any(y_new[dynamic] < -scale[dynamic], axis=0) if np.any(dynamic) else np.zeros_like(finite)
            norm = np.where(finite, norm, np.inf)
            norm = np.where(negative, np.maximum(norm, 2.0), norm)
            worst = float(np.max(norm))
            if worst <= 1.0:
                state.n_steps += 1
                state.t = t_stop if h == span else t + h
                y_new[dynamic] = np.where((y_new[dynamic] < 0.0), 0.0, y_new[dynamic])
                state.y = y_new
                factor = FAC_MAX if worst == 0.0 else min(FAC_MAX, max(FAC_MIN, SAFETY * worst ** (-1.0 / (ERROR_ORDER + 1))))
                # a step shortened to land on t_stop says nothing against the proposed size
                state.h = max(proposed, h * factor) if h < proposed else h * factor
                break
            state.n_rejected += 1
            if h <= h_min:
                failing = norm > 1.0
                reasons = np.where(
                    ~finite[failing],
                    "non-finite values",
                    np.where(negative[failing], "a species below zero beyond tolerance", "error test"),
                )
                # one message per failure kind keeps the reason specific
                for kind in np.unique(reasons):
                    mask = np.zeros(state.index.size, dtype=bool)
                    mask[np.flatnonzero(failing)[reasons == kind]] = True
                    state.drop(mask, f"step size underflow at t = {t:.6g} day ({kind})")
                state.h = None
                break
            factor = FAC_MIN if not np.isfinite(worst) else max(FAC_MIN, SAFETY * worst ** (-1.0 / (ERROR_ORDER + 1)))
            state.h = max(h * factor, h_min)
