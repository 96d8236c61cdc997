"""In-silico replays of the review's experiments, on the one shared parameter set.

Each experimental claim in the KB becomes a protocol run on the assembled model:

- ``culture_ic50``: recipient HCC cells treated daily with vesicles carrying the cargo (or, in the
  control arm, with the cargo switched off, as when it is knocked down in the donor), then a
  three-day drug dose-response; the effect is the change in viability AUC over the dose range
  (positive = resistance) and the IC50 shift where both IC50s fall inside the tested range;
- ``xenograft``: nude-mouse xenograft with and without the drug, with the record on or off; the
  effect is the drug's benefit lost to the mechanism, ln(V_untreated/V_treated) off minus on;
- ``immune``: an immunocompetent host (the patient context) under a checkpoint antibody, same
  contrast; claims without a therapy compare tumour size with the record on and off;
- ``phenotype``: claims with no therapy read out their phenotype (stem-like share, vascular support);
- ``intervention``: the drug with and without the intervention; the effect is the extra control.

Where a record's primary study states a magnitude (``effect_sizes`` in the KB), :func:`magnitude_checks`
compares the replay with it (``within a factor of 2``, see :mod:`exoresist.experiments._magnitudes`).

A record is switched off by setting its strength to zero, which removes exactly its terms (the
assembly test checks that knocking a record out and zeroing its strength agree). Nothing is tuned
per experiment.
"""

from exoresist.experiments._magnitudes import TOLERANCE, MagnitudeCheck, check_magnitude, magnitude_checks
from exoresist.experiments._protocols import Claim, Outcome, claims, run_claims, specificity_checks

__all__ = [
    "TOLERANCE",
    "Claim",
    "MagnitudeCheck",
    "Outcome",
    "check_magnitude",
    "claims",
    "magnitude_checks",
    "run_claims",
    "specificity_checks",
]
