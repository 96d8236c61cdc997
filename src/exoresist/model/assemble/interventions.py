"""Interventions as switches: secretion blockade, neutralising antibodies and engineered vesicles
dosed every few days, and the isolated-vesicle doses of the culture experiments."""

from __future__ import annotations

from exoresist.kb.vocab import ModelProcess
from exoresist.model.assemble._builder import Builder
from exoresist.model.assemble.scenario import apply_param, switch_name
from exoresist.model.parameters import P
from exoresist.model.spec import Event

ENGINEERED_INTERVAL_DAY = 3.0


def build_interventions(b: Builder) -> None:
    start, end = b.scenario.treatment_start_day, b.scenario.days
    for i in b.interventions:
        rec = (i.id,)
        on = b.sp(switch_name(i.id), "0", "1", f"{i.name} applied (1) or not (0)", rec, kind="discrete")
        apply = b.par(
            P(apply_param(i.id), 1.0, 0.0, 1.0, "1", "set by the scenario", f"1 to apply {i.name}, 0 to leave it out", "linear")
        )
        b.events.append(Event(f"start_{on}", start, ((on, apply),), f"{i.name} starts", rec))
        if i.process is ModelProcess.NEUTRALISE_CARGO:
            targets = [p for p in b.pools.values() if p.cargo.casefold() in {t.casefold() for t in i.target_entities}]
            for pool in targets:
                prods = [f"{pool.name}_cleared"] if f"{pool.name}_cleared" in b.species else []
                b.rx(
                    f"neutralise_{pool.name}",
                    f"k_neutralise_per_day * {on} * {pool.name}",
                    [pool.name],
                    prods,
                    f"{i.name} clears {pool.cargo}",
                    rec,
                )
        if i.payload is not None:
            pool_name = b.pools[b.kb.entity(i.payload).id].name
            day = start
            k = 0
            while day < end:
                k += 1
                assigns = [(pool_name, f"{pool_name} + {apply} * engineered_dose_cu * tumour_Mcells")]
                if f"{pool_name}_dosed" in b.species:
                    assigns.append((f"{pool_name}_dosed", f"{pool_name}_dosed + {apply} * engineered_dose_cu * tumour_Mcells"))
                b.events.append(Event(f"dose_{on}_{k}", day, tuple(assigns), f"{i.name} administered", rec))
                day += ENGINEERED_INTERVAL_DAY


def build_experiment_doses(b: Builder) -> None:
    """Experiments that treat recipient cells with isolated vesicles: a daily dose of each pool,
    ``experiment_dose_<pool>`` vesicles per tumour cell (0 unless the experiment sets it), so one
    model serves every cargo's experiment."""
    if not b.scenario.dose_pools:
        return
    names = []
    for pool in b.pools.values():
        names.append(
            b.par(
                P(
                    f"experiment_dose_{pool.name}",
                    0.0,
                    0.0,
                    10.0,
                    "cu/Mcell",
                    "set by the experiment",
                    f"{pool.cargo} vesicles added per tumour cell per day",
                    "linear",
                )
            )
        )
    day, k = 0.0, 0
    while day < b.scenario.days:
        k += 1
        assigns = tuple(
            (pool.name, f"{pool.name} + {dose} * tumour_Mcells") for pool, dose in zip(b.pools.values(), names, strict=True)
        )
        b.events.append(Event(f"add_vesicles_{k}", day, assigns, "vesicles added to the dish"))
        day += 1.0
