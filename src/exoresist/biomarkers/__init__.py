"""Stage: plasma exosomal cargo as biomarkers, in virtual patients and in a user's own cohort.

- :mod:`~exoresist.biomarkers.markers`: which cargos can be measured (dynamic pools, static
  expression draws) and the one adapter to the KB's name look-up (:func:`resolve_cargo`).
- :mod:`~exoresist.biomarkers.parameters` and :mod:`~exoresist.biomarkers.observation`: the
  observation model (release into plasma, clearance, non-tumour background, assay and
  pre-analytical noise, LLOQ), sampled at baseline, week 4 and every scan.
- :mod:`~exoresist.biomarkers.metrics`, :mod:`~exoresist.biomarkers.cutpoints`,
  :mod:`~exoresist.biomarkers.panels`: statistics on plain arrays (scikit-survival, scikit-learn,
  lifelines).
- :mod:`~exoresist.biomarkers.evaluate` and :mod:`~exoresist.biomarkers.run`: prognostic and
  predictive evaluation of markers in a trial.
- :mod:`~exoresist.biomarkers.score`: a user's CSV of measured cargos, a KB-derived resistance score.
- :mod:`~exoresist.biomarkers.design`: biomarker-stratified trial designs.
"""

from exoresist.biomarkers.errors import BiomarkerError
from exoresist.biomarkers.markers import MarkerSpec, default_markers, markers_by_name, resolve_cargo
from exoresist.biomarkers.parameters import OBSERVATION_PARAMETERS, ObservationParameters

__all__ = [
    "OBSERVATION_PARAMETERS",
    "BiomarkerError",
    "MarkerSpec",
    "ObservationParameters",
    "default_markers",
    "markers_by_name",
    "resolve_cargo",
]
