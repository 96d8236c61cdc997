"""Stage: the report of a virtual clinical trial, as one self-contained HTML file.

The trial code hands over plain tables; this package draws the figures (matplotlib, Agg canvas,
no pyplot state) and renders them with their tables into a single HTML page (figures embedded as
base64 PNG, inline style sheet, no script)::

    from exoresist.report import render_report, km_figure

    render_report(
        title="Secretion blockade on top of sorafenib",
        meta={"population": "BCLC-C", "patients_per_arm": 1000, "seed": 7, "limitations": [...]},
        patients=patients, arms=arms, comparisons=comparisons, attribution=attribution,
        calibration=calibration, sensitivity=None, out_path=Path("trial.html"),
    )
    fig = km_figure(patients, "os")   # a matplotlib Figure, for notebooks or save_figure

Data contract (column and key names are fixed; times in months, fractions in 0..1):

- ``patients``: one row per virtual patient: ``arm`` (str), ``patient`` (int),
  ``baseline_sld_mm``, ``best_change_pct`` (NaN without a post-baseline measurement),
  ``bor`` (one of CR, PR, SD, PD, NE), ``pfs_month``, ``pfs_event`` (bool), ``os_month``,
  ``os_event`` (bool).
- ``arms``: one dict per arm: ``arm``, ``n``; ``orr`` and ``dcr`` as ``{estimate, ci_low, ci_high}``;
  ``cr``, ``pr``, ``sd``, ``pd``, ``ne``; ``pfs_median_month`` and ``os_median_month`` as
  ``{median, ci_low, ci_high}`` (NaN or inf when not reached).
- ``comparisons``: one dict per arm against the reference: ``arm``, ``reference``, ``os_hr`` and
  ``pfs_hr`` as ``{hr, ci_low, ci_high, p}``, ``os_logrank_p``, ``pfs_logrank_p``.
- ``attribution``: one row per (arm, mechanism record): ``arm``, ``record_id``, ``label``,
  ``n_progressing`` (progressing patients in the arm), ``share`` (of them, whose progression the
  record carried), ``mean_contribution``.
- ``calibration``: ``trial``, ``arm``, ``endpoint``, ``unit`` (months, percent or ratio),
  ``published``, ``simulated``, ``error``.
- ``sensitivity``: Sobol indices: ``output``, ``parameter``, ``label``, ``S1``, ``S1_conf``, ``ST``,
  ``ST_conf``.

A missing column or key raises :class:`ReportInputError`, a ``ValueError`` that names it.
"""

from exoresist.report._validate import ReportInputError
from exoresist.report.figures import attribution_figure, calibration_figure, km_figure, sensitivity_figure, waterfall_figure
from exoresist.report.html import render_report

__all__ = [
    "ReportInputError",
    "attribution_figure",
    "calibration_figure",
    "km_figure",
    "render_report",
    "sensitivity_figure",
    "waterfall_figure",
]
