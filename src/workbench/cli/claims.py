"""``workbench claims``: registered claims against a pilot or against arm-level counts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workbench.claims import claims_register, evaluate, load_register, longest_follow_up, subgroup_stats
from workbench.cli.app import app, fail, require_valid, write_doc
from workbench.defaults import DEFAULT_LEVEL, DEFAULT_SEED
from workbench.effects.analyze import Design, Settings, analyze_run, analyze_stats
from workbench.effects.summary import read_summary
from workbench.report.claims_text import claim_lines


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
    register: Annotated[
        list[Path] | None,
        typer.Option("--claims", help="a claims register YAML added to the shipped one (repeatable; docs/claims.md)"),
    ] = None,
    only: Annotated[bool, typer.Option("--only", help="judge only the --claims files, not the shipped register")] = False,
    out: Annotated[Path | None, typer.Option(help="claims JSON")] = None,
    seed: Annotated[int, typer.Option(help="random seed (the same for every verb)")] = DEFAULT_SEED,
    level: Annotated[float, typer.Option(min=0.5, max=0.999, help="interval level")] = DEFAULT_LEVEL,
    backend: Annotated[
        str, typer.Option("--backend", "--engine", help="duckdb | pyspark: the engine that computes the statistics")
    ] = "duckdb",
) -> None:
    """Judge the claims made for empathy-led collections: supported, contradicted or inconclusive."""

    if (pilot is None) == (summary is None):
        fail(["give either a PILOT or --summary FILE.csv (not both)"])
    if only and not register:
        fail(["--only needs at least one --claims FILE"])
    register_claims = load_register(register or None, only=only)
    settings = Settings(seed=seed, level=level)
    draws: dict = {}
    extra: dict = {}
    if summary is not None:
        if not control or not treatment:
            fail(["--summary needs --control and --treatment"])
        stats, hib, deff = read_summary(summary, control, treatment)
        doc = analyze_stats(
            stats, Design(control, [treatment], higher_is_better=hib, design_effect=deff), settings, draws_out=draws
        )
        windows = None
    else:
        p = require_valid(pilot, backend).pilot  # validated on the engine that then computes: one read
        cfg = p.config
        if not register:  # pilot.yml's own `claims:` when no --claims file is given (what `run` judges)
            register_claims = claims_register(pilot, cfg)
        control = cfg.control
        treatment = treatment or cfg.treatments[0]
        if treatment not in cfg.treatments:
            fail([f"--treatment: {treatment!r} is not a treatment arm of the pilot ({', '.join(cfg.treatments)})"])
        # the segment effects only of the metrics the heterogeneity claims read: the rest is never shown
        segments = {r.metric for c in register_claims for r in c.readings if r.scale == "between_segment_sd"}
        run = analyze_run(pilot, settings, backend, opened=p, segments=segments)
        draws, stats, doc = run.draws, run.stats, run.doc
        windows = cfg.windows.model_dump()
        extra = {"subgroups": subgroup_stats(p.tables, cfg, register_claims), "follow_up_days": longest_follow_up(p.tables, cfg)}
    results = evaluate(register_claims, draws, stats, control, treatment, level, windows, seed, doc=doc, **extra)
    for line in claim_lines(results, level):
        typer.echo(line)
    if out is not None:
        write_doc({"level": level, "control": control, "treatment": treatment, "claims": results}, out)
