"""The biomarker stage's user-facing error."""

from __future__ import annotations


class BiomarkerError(ValueError):
    """Bad input to the biomarker stage: an unmeasurable marker, a bad table, impossible parameters, ..."""
