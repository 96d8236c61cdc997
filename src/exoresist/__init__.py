"""exoresist: exosome-mediated therapy resistance in hepatocellular carcinoma, as knowledge and models.

Stages live in subpackages: :mod:`exoresist.kb` (curated knowledge base), then graph, model,
ode, experiments, cohort and report as they land. The CLI in :mod:`exoresist.cli` is a thin layer.
"""

__version__ = "0.1.0"
