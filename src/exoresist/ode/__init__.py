"""Stage 4: batched, stiff ODE simulation of a model spec (whole parameter batches in one call).

:func:`simulate` generates vectorised numpy code (rates, stoichiometry and a symbolic Jacobian)
once per spec, and integrates every parameter set together with an adaptive, L-stable Rosenbrock
method (Rodas4), stopping exactly at event and output times.
"""

from exoresist.ode._codegen import CompiledModel, compile_spec
from exoresist.ode._result import SimulationResult
from exoresist.ode._simulate import SimulationInputError, simulate

__all__ = ["CompiledModel", "SimulationInputError", "SimulationResult", "compile_spec", "simulate"]
