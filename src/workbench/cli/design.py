"""``workbench meta``, ``design`` and ``monitor``: pooling pilots, sizing a pilot, watching one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workbench.cli.app import app, fail, require_valid, write_doc
from workbench.contract.config import DEFAULT_GUARDRAILS, METRICS, load_config
from workbench.contract.plan import make_plan, plan_from_config, write_plan
from workbench.defaults import DEFAULT_SEED
from workbench.design.meta import meta_analysis
from workbench.design.monitor import monitor_pilot, tune_threshold
from workbench.design.sizing import DesignSpec, plan_pilot


def _write(doc: dict, out: Path | None) -> None:
    write_doc(doc, out, echo=False)


def _iv(d: dict) -> str:
    lo, hi = d["interval"]
    return f"{d['mean']:+.4g} [{lo:+.4g}, {hi:+.4g}]"


@app.command()
def meta(
    results: Annotated[list[Path], typer.Argument(help="two or more results JSON files (workbench analyze --out)")],
    metric: Annotated[str, typer.Option(help="metric to pool")] = "kept_ptp",
    level: Annotated[float, typer.Option(min=0.5, max=0.999, help="interval level")] = 0.95,
    tau_scale: Annotated[float | None, typer.Option(min=0.0, help="half-normal prior scale of tau (metric unit)")] = None,
    out: Annotated[Path | None, typer.Option(help="meta-analysis JSON")] = None,
) -> None:
    """Pool several pilots: population effect, between-pilot spread, the next pilot's effect."""

    doc = meta_analysis(results, metric, level, tau_scale)
    typer.echo(f"{metric}: {doc['pilots_pooled']} pilots, {doc['model']}")
    for p in doc["pilots"]:
        typer.echo(f"  {p['pilot']:30} observed {p['observed']:+.4g} (se {p['se']:.3g})  shrunken {_iv(p['shrunken'])}")
    typer.echo(f"population effect mu   {_iv(doc['mu'])}  P(better) {doc['mu']['prob_better']:.3f}")
    t = doc["tau"]
    typer.echo(
        f"between-pilot sd tau   {t['median']:.4g} [{t['interval'][0]:.4g}, {t['interval'][1]:.4g}]"
        f"  (half-normal prior, scale {t['prior']['scale']:.4g})"
    )
    typer.echo(f"next pilot theta_new   {_iv(doc['theta_new'])}  P(better) {doc['theta_new']['prob_better']:.3f}")
    _write(doc, out)


@app.command()
def design(
    metric: Annotated[str, typer.Option(help="binary metric to size the pilot for")],
    baseline: Annotated[float, typer.Option(help="control share (e.g. 0.10)")],
    effect: Annotated[float, typer.Option(help="treatment - control worth detecting (e.g. 0.02); 0 for equivalence")],
    unit: Annotated[str, typer.Option(help="randomization unit: account | agent")] = "account",
    icc: Annotated[float, typer.Option(help="intra-cluster correlation (unit agent)")] = 0.0,
    accounts_per_agent: Annotated[int, typer.Option(help="accounts each agent handles (unit agent)")] = 50,
    agent_size_cv: Annotated[
        float, typer.Option(help="coefficient of variation of agents' sizes (unit agent; 0: all the same size)")
    ] = 0.0,
    agents_per_arm: Annotated[
        int | None, typer.Option(help="agents the team can put in each arm (unit agent): its power, or why no verdict")
    ] = None,
    confirm_sims: Annotated[
        int, typer.Option(min=0, help="unit agent: pilots refitted with the hierarchical model analyze uses (0: none)")
    ] = 100,
    weekly_arrivals: Annotated[float | None, typer.Option(min=1, help="accounts entering the pilot per week")] = None,
    target: Annotated[float, typer.Option(help="probability of a correct decision")] = 0.8,
    sims: Annotated[int, typer.Option(min=20, help="simulated pilots per candidate size")] = 200,
    seed: Annotated[int, typer.Option(help="random seed (the same for every verb)")] = DEFAULT_SEED,
    rope: Annotated[float | None, typer.Option(help="region of practical equivalence (needed for effect 0)")] = None,
    lock: Annotated[Path | None, typer.Option(help="write the analysis plan (plan.lock) here")] = None,
    pilot: Annotated[Path | None, typer.Option(help="take primary, guardrails and rope for the lock from this pilot.yml")] = None,
    primary: Annotated[str | None, typer.Option(help="primary metric for the lock (default: --metric)")] = None,
    looks: Annotated[int, typer.Option(min=1, help="planned looks (weekly) for the lock")] = 1,
    guardrail: Annotated[
        list[str] | None,
        typer.Option(help="size a guardrail too: NAME=MARGIN,SD (harm margin and per-account sd, the metric's unit); repeatable"),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="design JSON")] = None,
) -> None:
    """Accounts, agents and weeks a pilot needs, by simulation through the engine (statsmodels beside it)."""

    guards = {}
    for g in guardrail or []:
        name, _, nums = g.partition("=")
        try:
            margin, sd = (float(x) for x in nums.split(","))
        except ValueError:
            fail([f"--guardrail {g!r}: expected NAME=MARGIN,SD (e.g. complaints=0.001,0.07)"])
        guards[name.strip()] = {"margin": margin, "sd": sd}
    spec = DesignSpec(
        metric,
        baseline,
        effect,
        unit,
        icc,
        accounts_per_agent,
        weekly_arrivals,
        target,
        sims,
        seed,
        rope,
        guardrails=guards or None,
        agent_size_cv=agent_size_cv,
        agents_per_arm=agents_per_arm,
        confirm_sims=confirm_sims,
    )
    problems = spec.check()
    if problems:
        fail(problems)
    try:
        doc = plan_pilot(spec)
    except ValueError as err:
        fail([str(err)])
    cf = doc["closed_form"]
    typer.echo(f"{metric}: baseline {baseline:.4g}, effect {effect:+.4g}, rule {doc['decision_rule']}, target {target}")
    if unit == "agent":
        _agent_lines(doc, sims)
    else:
        typer.echo(
            f"accounts per arm (simulated, {sims} pilots per size, model {doc['sized_with']['search']}):"
            f" {doc['accounts_per_arm']:,}"
            f"  (bisection {doc['search']['n']:,}, power {doc['search']['power']:.3f} +- {doc['search']['power_mc_error']:.3f})"
        )
    if cf["accounts_per_arm"]:
        typer.echo(f"accounts per arm (statsmodels, design effect {cf['design_effect']:.3g}): {cf['accounts_per_arm']:,}")
    for name, g in (doc.get("guardrails") or {}).items():
        size = f"{g['accounts_per_arm']:,}" if g.get("accounts_per_arm") else g.get("note", "n/a")
        typer.echo(f"guardrail {name}: accounts per arm to show no harm beyond {g.get('margin', 0):g}: {size}")
    if doc.get("driven_by"):
        typer.echo(
            f"accounts per arm for every question: {doc['accounts_per_arm_all_questions']:,} (driven by {doc['driven_by']})"
        )
    if unit == "agent":
        typer.echo(
            f"agents: {doc['agents_per_arm']} per arm, {doc['agents_total']} in all"
            f" ({doc['accounts_per_arm']:,} accounts per arm; never fewer than {doc['minimum_agents_per_arm']} per arm)"
        )
        req = doc.get("requested")
        if req and not req["verdict_possible"]:
            typer.echo(f"requested pilot, {req['agents_per_arm']} agents per arm: too small for any verdict: {req['reason']}")
        elif req:
            typer.echo(
                f"requested pilot, {req['agents_per_arm']} agents per arm: power {req['power']:.3f}"
                f" +- {req['power_mc_error']:.3f} ({req['model']})"
            )
    if "weeks" in doc:
        typer.echo(f"weeks: {doc['intake_weeks']} of intake + {doc['outcome_window_weeks']} of outcome window = {doc['weeks']}")
    if lock is not None:
        _lock(lock, pilot, primary or metric, rope, looks, doc)
    _write(doc, out)


def _agent_lines(doc: dict, sims: int) -> None:
    """Which model sized the agent-randomized pilot, and the hierarchical confirmation's figure."""
    s = doc["search"]
    typer.echo(
        f"agents per arm (searched with {s['model']}, {sims} pilots per size): {s['agents']}"
        f"  (power {s['power']:.3f} +- {s['power_mc_error']:.3f})"
    )
    c = doc.get("confirmation")
    if c is None:
        typer.echo("not confirmed with the hierarchical logistic model analyze fits on binary metrics (--confirm-sims 0)")
        return
    state = "confirmed" if c["passed"] else "NOT confirmed after stepping up"
    typer.echo(
        f"{state} with {c['model']} ({c['sims']} new pilots, {c['mcmc']}): {c['agents_per_arm']} agents per arm,"
        f" power {c['power']:.3f} +- {c['power_mc_error']:.3f}; {c['criterion']}; fits failing the gate {c['gate_failed']:.0%}"
    )


def _lock(path: Path, pilot: Path | None, primary: str, rope: float | None, looks: int, doc: dict) -> None:

    summary = {k: doc[k] for k in ("metric", "baseline", "effect", "target", "accounts_per_arm") if k in doc}
    if pilot is not None:
        cfg = load_config(pilot / "pilot.yml" if pilot.is_dir() else pilot)
        plan = plan_from_config(cfg, looks=looks, design=summary)
    else:
        plan = make_plan(primary, dict(DEFAULT_GUARDRAILS), {primary: rope} if rope else {}, looks=looks, design=summary)
    if looks > 1:
        per_look = max(round(doc["accounts_per_arm"] / looks), 1)
        plan["looks"]["threshold"] = tune_threshold(looks, doc["baseline"], per_look, 10_000, doc.get("seed", DEFAULT_SEED))
    try:
        write_plan(plan, path)
    except OSError as exc:
        fail([f"--lock {path}: cannot write ({exc.strerror or exc})"])
    typer.echo(f"plan locked in {path}")


@app.command()
def monitor(
    pilot: Annotated[Path, typer.Argument(help="pilot folder, its pilot.yml, or a DuckDB file")],
    metric: Annotated[str | None, typer.Option(help="metric to monitor (default: the primary)")] = None,
    looks: Annotated[str, typer.Option(help="look cadence (weekly only)")] = "weekly",
    sims: Annotated[int, typer.Option(min=100, help="simulated sequences for the operating characteristics")] = 2000,
    effect: Annotated[float | None, typer.Option(help="effect for the power figure (default: 10% of the control rate)")] = None,
    seed: Annotated[int, typer.Option(help="random seed (the same for every verb)")] = DEFAULT_SEED,
    out: Annotated[Path | None, typer.Option(help="monitor JSON")] = None,
    backend: Annotated[
        str, typer.Option("--backend", "--engine", help="duckdb | pyspark: the engine that computes the statistics")
    ] = "duckdb",
) -> None:
    """Replay the pilot week by week under a tuned Bayesian stopping rule; show where it would have stopped."""

    if looks != "weekly":
        fail([f"--looks: only weekly looks are supported, not {looks!r}"])
    if metric is not None and metric not in METRICS:
        fail([f"--metric: unknown metric {metric!r}; known: {', '.join(METRICS)}"])
    opened = require_valid(pilot, backend).pilot  # validated on the engine that then replays: one read
    doc = monitor_pilot(pilot, metric, sims=sims, seed=seed, effect=effect, backend=backend, opened=opened)
    for note in doc["notes"]:
        typer.echo(f"note: {note}")
    for x in doc["looks"]:
        if x.get("status") != "analysed":
            continue
        typer.echo(
            f"look {x['look']:3} {x['date'][:10]}  n {x['n_control']:>6}/{x['n_treatment']:<6}"
            f" diff {x['difference']:+.4g}  P(better) {x['prob_better']:.3f}{'' if x['new_data'] else '  (no new data)'}"
        )
    if "rule" in doc and "u" in doc["rule"]:
        r, s = doc["rule"], doc["stop"]
        typer.echo(
            f"rule: benefit P(better) > {r['u']:.4f}, harm < {1 - r['u']:.4f} (tuned for {r['max_looks']} looks);"
            f" futility {r['futility']}"
        )
        typer.echo(f"stop: {s['reason']}" + (f" at look {s['look']} ({s['date'][:10]})" if s["stopped"] else ""))
        for name, oc in doc["operating_characteristics"].items():
            typer.echo(
                f"OC {name:9} u={oc['threshold']:.4f}: false win {oc['false_win']['rate']:.3f} +- "
                f"{oc['false_win']['mc_error']:.3f}, power {oc['power']['rate']:.3f} +- {oc['power']['mc_error']:.3f}"
                f" (effect {oc['effect_size']:.3g}), looks {oc['aa']['looks']['mean']:.2f} (A/A)"
            )
    _write(doc, out)
