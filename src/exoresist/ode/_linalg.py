"""Batched LU factorisation and solves for many small dense systems (numba).

``np.linalg.inv`` on a stack of small matrices pays a LAPACK call per matrix; compiled loops over
the batch are about ten times faster for the 10-50 species of the models here.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def lu_factor(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LU with partial pivoting of each ``matrix[:, :, b]``; ``matrix`` ``(n, n, n_sets)``.

    Returns ``(lu (n_sets, n, n), pivots (n_sets, n))``. A singular block gives inf/NaN in its
    solves, which the integrator treats as a failed step for that set.
    """
    n = matrix.shape[0]
    nb = matrix.shape[2]
    lu = np.empty((nb, n, n))
    piv = np.empty((nb, n), dtype=np.int64)
    for b in range(nb):
        a = lu[b]
        for i in range(n):
            for j in range(n):
                a[i, j] = matrix[i, j, b]
        for k in range(n):
            p = k
            best = abs(a[k, k])
            for i in range(k + 1, n):
                v = abs(a[i, k])
                if v > best:
                    best = v
                    p = i
            piv[b, k] = p
            if p != k:
                for j in range(n):
                    tmp = a[k, j]
                    a[k, j] = a[p, j]
                    a[p, j] = tmp
            pivot = a[k, k]
            for i in range(k + 1, n):
                f = a[i, k] / pivot
                a[i, k] = f
                if f != 0.0:
                    for j in range(k + 1, n):
                        a[i, j] -= f * a[k, j]
    return lu, piv


@numba.njit(cache=True)
def lu_solve(lu: np.ndarray, piv: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve each system factorised by :func:`lu_factor`; ``rhs`` and result ``(n, n_sets)``."""
    nb, n, _ = lu.shape
    out = np.empty((n, nb))
    x = np.empty(n)
    for b in range(nb):
        a = lu[b]
        for i in range(n):
            x[i] = rhs[i, b]
        for k in range(n):
            p = piv[b, k]
            if p != k:
                tmp = x[k]
                x[k] = x[p]
                x[p] = tmp
        for i in range(n):
            s = x[i]
            for j in range(i):
                s -= a[i, j] * x[j]
            x[i] = s
        for i in range(n - 1, -1, -1):
            s = x[i]
            for j in range(i + 1, n):
                s -= a[i, j] * x[j]
            x[i] = s / a[i, i]
        for i in range(n):
            out[i, b] = x[i]
    return out
