"""The result of one batched simulation, and everything needed to say where it came from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SimulationResult:
    """Trajectories of a batch of parameter sets, with the inputs and the model they came from.

    Shapes: ``times_day (n_t,)``; ``states (n_sets, n_t, n_species)`` in the units each species
    names; ``derived (n_sets, n_t, n_assignments)``; ``params (n_sets, n_params)``; ``ok
    (n_sets,)``. A set that failed (``ok`` false, reason in ``messages``) holds NaN from the first
    output time it did not reach; a set that succeeded never holds NaN. Values at an event time are
    those just *after* the event(s) at that time.
    """

    times_day: np.ndarray
    states: np.ndarray
    species_names: tuple[str, ...]
    derived: np.ndarray
    derived_names: tuple[str, ...]
    params: np.ndarray
    param_names: tuple[str, ...]
    ok: np.ndarray
    messages: tuple[str, ...]
    seed: int | None
    model_name: str
    model_version: str
    spec_hash: str
    rtol: float
    atol: float
    n_steps: int
    n_rejected: int
    wall_time_s: float

    @property
    def n_sets(self) -> int:
        return int(self.states.shape[0])

    def species(self, name: str) -> np.ndarray:
        """Trajectory of one species, shape ``(n_sets, n_t)``."""
        try:
            i = self.species_names.index(name)
        except ValueError:
            raise KeyError(f"no species '{name}' (have {list(self.species_names)})") from None
        out: np.ndarray = self.states[:, :, i]
        return out

    def derived_value(self, name: str) -> np.ndarray:
        """Trajectory of one derived quantity (assignment), shape ``(n_sets, n_t)``."""
        try:
            i = self.derived_names.index(name)
        except ValueError:
            raise KeyError(f"no derived quantity '{name}' (have {list(self.derived_names)})") from None
        out: np.ndarray = self.derived[:, :, i]
        return out

    def to_dataframe(self) -> pd.DataFrame:
        """Long format: one row per (set, time, variable) with columns ``set`` (int, row of
        ``params``), ``time_day``, ``variable`` (species or derived name), ``kind``
        (``"species"`` or ``"derived"``), ``value``; ``n_sets * n_t * (n_species + n_assignments)``
        rows, sets in order, then times, then species before derived quantities in spec order.
        """
        n_sets, n_t, n_sp = self.states.shape
        n_der = self.derived.shape[2]
        values = np.concatenate([self.states, self.derived], axis=2)
        n_var = n_sp + n_der
        names = np.array([*self.species_names, *self.derived_names], dtype=object)
        kinds = np.array(["species"] * n_sp + ["derived"] * n_der, dtype=object)
        return pd.DataFrame(
            {
                "set": np.repeat(np.arange(n_sets), n_t * n_var),
                "time_day": np.tile(np.repeat(self.times_day, n_var), n_sets),
                "variable": np.tile(names, n_sets * n_t),
                "kind": np.tile(kinds, n_sets * n_t),
                "value": values.reshape(-1),
            }
        )
