"""``workbench claims``: registered claims against a pilot or against arm-level counts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workbench.claims import evaluate, load_register
from workbench.cli.app import app, fail, require_valid, write_doc
from workbench.defaults import DEFAULT_SEED
from workbench.effects.analyze import Design, Settings, analyze_run, analyze_stats
from workbench.effects.summary import read_summary


@app.command()
def claims(
    pilot: Annotated[Path | None, typer.Argument(help="pilot folder, its pilot.yml, or a DuckDB file")] = None,
    summary: Annotated[
        Path | None, typer.Option(help="arm-level counts CSV (the analyze-summary format) instead of a pilot")
    ] = None,
    control: Annotated[str | None, typer.Option(help="control arm (with --summary)")] = None,
    treatment: Annotated[
        str | None, typer.Option(help="treatment arm (with --summary; default: the pilot's first treatment)")
    ] = None,
    register: Annotated[Path | None, typer.Option("--claims", help="a claims register YAML (default: the shipped one)")] = None,
    out: Annotated[Path | None, typer.Option(help="claims JSON")] = None,
    seed: Annotated[int, typer.Option(help="random seed (the same for every verb)")] = DEFAULT_SEED,
    level: Annotated[float, typer.Option(min=0.5, max=0.999, help="interval level")] = 0.95,
) -> None:
    """Judge the claims made for empathy-led collections: supported, contradicted or inconclusive."""

    if (pilot is None) == (summary is None):
        fail(["give either a PILOT or --summary FILE.csv (not both)"])
    register_claims = load_register(register)
    settings = Settings(seed=seed, level=level)
    draws: dict = {}
    if summary is not None:
        if not control or not treatment:
            fail(["--summary needs --control and --treatment"])
        stats, hib, deff = read_summary(summary, control, treatment)
        analyze_stats(stats, Design(control, [treatment], higher_is_better=hib, design_effect=deff), settings, draws_out=draws)
        windows = None
    else:
        report = require_valid(pilot)
        cfg = report.pilot.config
        control = cfg.control
        treatment = treatment or cfg.treatments[0]
        if treatment not in cfg.treatments:
            fail([f"--treatment: {treatment!r} is not a treatment arm of the pilot ({', '.join(cfg.treatments)})"])
        run = analyze_run(pilot, settings)
        draws, stats = run.draws, run.stats
        windows = cfg.windows.model_dump()
    results = evaluate(register_claims, draws, stats, control, treatment, level, windows, seed)
    for r in results:
        if r["probability"] is None:
            typer.echo(f"{r['verdict']:13} {r['id']:34} {r.get('reason', '')}")
            continue
        lo, hi = r["interval"]
        extra = ""
        if not r.get("arithmetic", {}).get("feasible", True):
            extra = "  [" + r["arithmetic"]["note"] + "]"
        elif r["verdict"] == "inconclusive" and r.get("to_settle", {}).get("accounts_per_arm"):
            extra = f"  [to settle: {r['to_settle']['note']}]"
        typer.echo(
            f"{r['verdict']:13} {r['id']:34} P={r['probability']:.3f}  {r['scale']} {r['mean']:.3g} [{lo:.3g}, {hi:.3g}]{extra}"
        )
    if out is not None:
        doc = {"level": level, "control": control, "treatment": treatment, "claims": results}
        write_doc(doc, out)
