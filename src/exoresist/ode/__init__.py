"""Stage 4: batched, stiff ODE simulation of a model spec (whole parameter batches in one call).

:func:`simulate` compiles a spec into data once (an instruction tape for rates, stoichiometry, a
sparse symbolic Jacobian and events, plus a sparse LU schedule; :mod:`exoresist.ode._codegen`) and
integrates every parameter set with one compiled, adaptive, L-stable Rosenbrock method (Rodas4,
:mod:`exoresist.ode._engine`): each set has its own step size, sets run in lock-step lanes on all
cores, and every set stops exactly at event and output times. No code is compiled per spec.
"""

from exoresist.ode._codegen import CompiledModel, compile_spec
from exoresist.ode._result import SimulationResult
from exoresist.ode._simulate import SimulationInputError, simulate

__all__ = ["CompiledModel", "SimulationInputError", "SimulationResult", "compile_spec", "simulate"]
