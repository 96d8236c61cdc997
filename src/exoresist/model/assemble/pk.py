"""Pharmacokinetics and exposure, one builder per route of administration (:data:`ROUTE_BUILDERS`).

In culture and in the mouse, the experiment sets each drug's exposure (a multiple of its half-effect
concentration) while the drug is on; in the patient, doses follow the drug's standard schedule and
the concentration follows its route's compartments. Every drug then gets ``H_<drug>``, its
fractional effect ``c / (c + half-effect)``.
"""

from __future__ import annotations

from collections.abc import Callable

from exoresist.model.assemble._builder import Builder
from exoresist.model.drugs import PK, AntibodyPK, DrugModel, IntravenousPK, OralPK, RadiationPK
from exoresist.model.spec import Event

RouteBuilder = Callable[[Builder, DrugModel], None]


def _dose_times(d: DrugModel, start: float, end: float) -> list[float]:
    out = []
    cycle = 0
    while d.schedule.n_cycles is None or cycle < d.schedule.n_cycles:
        base = start + cycle * d.schedule.cycle_day
        if base >= end:
            break
        out += [base + x for x in d.schedule.dose_days if base + x < end]
        cycle += 1
    return out


def _on_windows(d: DrugModel, start: float, end: float) -> list[tuple[float, float]]:
    on, off = d.schedule.on_off_day or (0.0, 1e9)
    out = []
    cycle = 0
    while start + cycle * d.schedule.cycle_day < end:
        base = start + cycle * d.schedule.cycle_day
        out.append((base + on, base + off))
        cycle += 1
    return out


def _window(b: Builder) -> tuple[float, float]:
    return b.scenario.treatment_start_day, b.scenario.days


def _oral(b: Builder, d: DrugModel) -> None:
    assert isinstance(d.pk, OralPK)
    rec, s = (d.therapy_id,), d.slug
    start, end = _window(b)
    on = b.sp(f"on_{s}", "0", "1", f"{s} given (1) or not (0)", rec, kind="discrete")
    amount = b.sp(f"A_{s}", "0", "mg", f"{s} in the body (apparent)", rec)
    b.rx(
        f"input_{s}",
        f"{on} * {d.pk.dose_param} * {d.pk.bioavailability_param}",
        [],
        [amount],
        f"{s} absorbed (daily average)",
        rec,
    )
    b.rx(f"elim_{s}", f"{d.pk.k_el_param} * {amount}", [amount], [], f"{s} eliminated", rec)
    for k, (t_on, t_off) in enumerate(_on_windows(d, start, end)):
        b.events.append(Event(f"start_{s}_{k + 1}", t_on, ((on, "1"),), f"{s} cycle {k + 1} on", rec))
        if t_off < end:
            b.events.append(Event(f"stop_{s}_{k + 1}", t_off, ((on, "0"),), f"{s} cycle {k + 1} off", rec))
    b.assign(f"conc_{s}", f"{amount} / {d.pk.volume_expr}", "mg/L", f"{s} plasma concentration", rec)


def _intravenous(b: Builder, d: DrugModel) -> None:
    assert isinstance(d.pk, IntravenousPK)
    rec, s = (d.therapy_id,), d.slug
    start, end = _window(b)
    amount = b.sp(f"A_{s}", "0", "mg", f"{s} in the body", rec)
    b.rx(f"elim_{s}", f"{d.pk.k_el_param} * {amount}", [amount], [], f"{s} eliminated", rec)
    for k, day in enumerate(_dose_times(d, start, end)):
        b.events.append(
            Event(f"dose_{s}_{k + 1}", day, ((amount, f"{amount} + {d.pk.dose_param} * body_surface_m2"),), f"{s} dose", rec)
        )
    b.assign(f"conc_{s}", f"{amount} / {d.pk.volume_expr}", "mg/L", f"{s} plasma concentration", rec)


def _antibody(b: Builder, d: DrugModel) -> None:
    pk = d.pk
    assert isinstance(pk, AntibodyPK)
    rec, s = (d.therapy_id,), d.slug
    start, end = _window(b)
    amount = b.sp(f"A_{s}", "0", "mg", f"{s} in the central compartment", rec)
    dose = f"{pk.dose_param} * body_weight_kg" if pk.dose_scaling == "per_kg" else pk.dose_param
    if pk.vp_param is None:
        b.rx(f"elim_{s}", f"{pk.cl_param} / {pk.vc_param} * {amount}", [amount], [], f"{s} cleared", rec)
        b.assign(f"conc_{s}", f"{amount} / {pk.vc_param}", "mg/L", f"{s} serum concentration", rec)
    else:
        peri = b.sp(f"Ap_{s}", "0", "mg", f"{s} in the peripheral compartment", rec)
        b.rx(f"elim_{s}", f"{pk.cl_param} / {pk.vc_param} * {amount}", [amount], [], f"{s} cleared", rec)
        b.rx(f"distribute_{s}", f"{pk.q_param} / {pk.vc_param} * {amount}", [amount], [peri], f"{s} distributes", rec)
        b.rx(f"return_{s}", f"{pk.q_param} / {pk.vp_param} * {peri}", [peri], [amount], f"{s} returns", rec)
        b.assign(f"conc_{s}", f"{amount} / {pk.vc_param}", "mg/L", f"{s} serum concentration", rec)
    for k, day in enumerate(_dose_times(d, start, end)):
        b.events.append(Event(f"dose_{s}_{k + 1}", day, ((amount, f"{amount} + {dose}"),), f"{s} infusion", rec))


def _radiation(b: Builder, d: DrugModel) -> None:
    assert isinstance(d.pk, RadiationPK)
    rec = (d.therapy_id,)
    start, end = _window(b)
    dose = d.pk.fraction_param
    b.sp("rt_stress", "0", "Gy", "recent irradiation (drives stress-induced secretion)", rec)
    b.rx("rt_stress_decay", "rt_signal_decay_per_day * rt_stress", ["rt_stress"], [], "irradiation stress fades", rec)
    surv = f"exp(-(rt_alpha_per_Gy * {dose} + rt_beta_per_Gy2 * {dose} * {dose}) * rt_protection)"
    for k, day in enumerate(_dose_times(d, start, end)):
        assigns = [(x, f"{x} * {surv}") for x in ("S", "C")] + [("rt_stress", f"rt_stress + {dose}")]
        b.events.append(Event(f"rt_fraction_{k + 1}", day, tuple(assigns), "radiotherapy fraction (linear-quadratic)", rec))


ROUTE_BUILDERS: dict[type[PK], RouteBuilder] = {
    OralPK: _oral,
    IntravenousPK: _intravenous,
    AntibodyPK: _antibody,
    RadiationPK: _radiation,
}
"""The patient pharmacokinetics of each route. A new route is a :data:`~exoresist.model.drugs.PK`
type plus one entry here (a test checks every route has a builder)."""


def _experimental_exposure(b: Builder, d: DrugModel) -> None:
    """Culture and mouse: the experiment sets the exposure (a multiple of the half-effect
    concentration) while the drug is on."""
    rec, s = (d.therapy_id,), d.slug
    on = b.sp(f"on_{s}", "0", "1", f"{s} given (1) or not (0)", rec, kind="discrete")
    b.events.append(Event(f"start_{s}", b.scenario.treatment_start_day, ((on, "1"),), f"{s} starts", rec))
    ratio = "mouse_exposure_ratio" if b.context == "mouse" else "drug_exposure_ratio_fixed"
    b.assign(f"conc_{s}", f"{on} * {ratio} * {d.half_effect_param}", "mg/L", f"{s} exposure set by the experiment", rec)


def build_drugs(b: Builder) -> None:
    """Exposure and fractional effect ``H_<drug>`` of every drug in the scenario."""
    for d in b.drugs:
        if isinstance(d.pk, RadiationPK):
            ROUTE_BUILDERS[RadiationPK](b, d)
            continue
        if b.context != "patient":
            _experimental_exposure(b, d)
        else:
            ROUTE_BUILDERS[type(d.pk)](b, d)
        # in the patient a small molecule's potency is stated against its plasma level (the standard
        # dose gives half its effect in a typical patient); culture and mouse use the in-vitro EC50
        half = d.patient_ec50_param if b.context == "patient" and d.patient_ec50_param else d.half_effect_param
        c = f"conc_{d.slug}"
        what = (
            "fractional effect on tumour cells"
            if d.kills_tumour
            else "fractional anti-angiogenic effect"
            if d.antiangiogenic
            else "receptor occupancy (unadjusted)"
        )
        b.assign(f"H_{d.slug}", f"{c} / ({c} + {half})", "1", f"{d.slug} {what}", (d.therapy_id,))
