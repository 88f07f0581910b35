"""``workbench run``: fit once, execute every notebook with papermill, render HTML.

A run is one immutable folder, ``<base>/<pilot name>/<run_id>/``::

    results.json, stats*.csv, ppc.csv   the analysis, fitted once, shared by the notebooks
    NN_name.ipynb                       every executed notebook (the permanent record)
    NN_name.html                        self-contained HTML (the executive summary without code)
    index.html, status.json             links; "complete" only when everything is whole

The folder is built as a hidden sibling (``.<run_id>.partial``) and renamed at
the end, so a run killed half-way never looks like a finished one; a failed
run is renamed too, with ``status.json`` saying ``failed`` and the partial
executed notebook kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import ibis
import numpy as np
import pandas as pd

from workbench.claims import claims_register, evaluate, longest_follow_up, subgroup_stats
from workbench.contract.config import load_config
from workbench.contract.validate import ValidationReport, validate_pilot
from workbench.defaults import DEFAULT_SEED
from workbench.design.monitor import monitor_pilot
from workbench.effects.analyze import Settings, analyze_run, to_json
from workbench.errors import RunError, WorkbenchError
from workbench.metrics.engine import locate, open_pilot
from workbench.metrics.stats import sufficient_stats
from workbench.report.outcomes import banner
from workbench.report.pages import CSP, render
from workbench.report.privacy import OTHER, suppress_small, write_csv
from workbench.report.quality import quality_doc
from workbench.report.views import use_theme
from workbench.runs.manifest import write_manifest

NOTEBOOKS = (
    "01_pilot_design",
    "02_data_quality",
    "03_metrics",
    "04_effects",
    "05_segments",
    "06_claims_monitoring",
    "07_executive_summary",
)
EXECUTIVE = "07_executive_summary"  # rendered without any code
TITLES = {
    "01_pilot_design": "Pilot design",
    "02_data_quality": "Data quality",
    "03_metrics": "Metrics by arm, segment, week",
    "04_effects": "Effects and diagnostics",
    "05_segments": "Segment effects",
    "06_claims_monitoring": "Claims, monitoring and pilot size",
    "07_executive_summary": "Executive summary",
}
BACKENDS = ("duckdb", "pyspark")  # the engines a run may open a folder or DuckDB pilot on


def check_pilot_valid(pilot: Path, backend: str = "duckdb") -> ValidationReport:
    """Fail before creating a run folder when the pilot breaks the data contract.

    Returns the validation report; its ``pilot`` is the pilot as validation
    opened it on ``backend``: the analysis, the weekly statistics, the claims
    and the data-quality page read those same tables (one read).
    """

    report = validate_pilot(pilot, backend)
    if not report.ok:
        raise RunError(f"pilot {pilot}: invalid ({len(report.errors)} problem(s)); run `workbench validate {pilot}`")
    return report


def check_params(
    pilot: str,
    level: float = 0.95,
    seed: int = DEFAULT_SEED,
    figure_dpi: int = 110,
    results: str = "",
    backend: str = "duckdb",
) -> None:
    """The notebooks' validation cell: fail fast on a value papermill would pass through."""
    problems = []
    if backend not in BACKENDS:
        problems.append(f"backend={backend!r}: must be one of {', '.join(BACKENDS)}")
    if not pilot or not Path(pilot).exists():
        problems.append(f"pilot={pilot!r}: no such pilot folder or file")
    if not 0.5 <= level < 1:
        problems.append(f"level={level}: must be at least 0.5 and below 1")
    if seed < 0:
        problems.append(f"seed={seed}: must be 0 or more")
    if not 50 <= figure_dpi <= 600:
        problems.append(f"figure_dpi={figure_dpi}: must be between 50 and 600")
    if results and not Path(results).is_file():
        problems.append(f"results={results!r}: not found")
    if problems:
        raise ValueError("invalid parameter(s): " + "; ".join(problems))


def prepare(
    pilot: Path | str,
    out: Path,
    level: float = 0.95,
    seed: int = DEFAULT_SEED,
    smoke: bool = False,
    stage: Callable[[str], None] | None = None,
    backend: str = "duckdb",
    opened=None,
    validation: ValidationReport | None = None,
) -> dict[str, Path]:
    """Fit every model once and write what the notebooks share into ``out``.

    ``stage(name)`` is told each long step as it starts (the progress display names it).
    ``opened`` is the pilot already opened on ``backend``; None opens it here (or takes
    ``validation.pilot``), once, for the analysis, the weekly statistics, the claims and the replay.
    Writes ``results.json`` (the analysis), ``stats.csv`` / ``stats_segment.csv``
    / ``stats_week.csv`` (sufficient statistics; cells under ``min_cell_size``
    suppressed, undeclared segment values grouped as ``other``) and ``ppc.csv``
    (observed arm means against the posterior). Every CSV is written by
    :func:`workbench.report.privacy.write_csv` (formulas neutralized, fixed digits).
    Given ``validation`` (the run's validation report, whose ``pilot`` is read), also
    ``data_quality.json``: its lines and the checks the analysis ran, for
    notebook 02 (:mod:`workbench.report.quality`).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stage = stage or (lambda name: None)
    mc = {"mcmc_draws": 200, "mcmc_tune": 200} if smoke else {}
    stage("reading the pilot and fitting every model")
    with warnings.catch_warnings():  # the cross-check divides by zero rates in empty cells: noise, not news
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="statsmodels")
        if opened is None and validation is not None:
            opened = validation.pilot  # the tables validation opened: one read
        p = opened if opened is not None else open_pilot(pilot, backend)
        run = analyze_run(pilot, Settings(level=level, seed=seed, smoke=smoke, **mc), backend, opened=p)
    doc, draws, stats = run.doc, run.draws, run.stats
    stage("weekly and segment statistics")
    hide_undeclared_segments(doc, p.config.segments)
    paths = {"results": out / "results.json", "stats": out / "stats.csv", "ppc": out / "ppc.csv"}
    write_csv(stats, paths["stats"])
    tables, late = reportable_tables(p.tables, p.config)
    if late:
        doc.setdefault("notes", []).append(
            f"{late} account(s) assigned after observed_until left out of the weekly statistics (a validate warning)"
        )
    paths["results"].write_text(to_json(doc), encoding="utf-8")
    if validation is not None:
        paths["data_quality"] = out / "data_quality.json"
        paths["data_quality"].write_text(to_json(quality_doc(validation, run.checks, p.config.segments)), encoding="utf-8")
    for by in ("segment", "week"):
        if by == "segment" and run.segment_stats is None:
            continue
        s = sufficient_stats(tables, p.config, by=[by])
        # aggregates only: cells under the minimum size are blanked
        s = suppress_small(s, "accounts", p.config.min_cell_size, keep=("metric", "family", "arm", by))
        paths[f"stats_{by}"] = write_csv(s, out / f"stats_{by}.csv")
    stage("posterior predictive check")
    write_csv(ppc_table(draws, stats, level, seed), paths["ppc"])
    stage("claims and the monitoring replay")
    paths.update(prepare_claims_monitor(pilot, out, doc, draws, stats, p.config, level, seed, smoke, opened=p))
    return paths


def reportable_tables(tables: dict, cfg) -> tuple[dict, int]:
    """The pilot's ibis tables as the reports show them, and the number of late accounts left out.

    Segment values pilot.yml does not declare become ``other`` (free text
    there never reaches a report); accounts assigned after ``observed_until``
    (a validate warning) are left out, as the analysis leaves them out of
    every outcome window.
    """
    acc = tables["accounts"]
    cutoff = ibis.literal(cfg.observed_until)
    late = int(acc.filter(acc.assigned_at > cutoff).count().execute())
    acc = acc.filter(acc.assigned_at <= cutoff)
    if cfg.segments is not None and "segment" in acc.columns:
        known = acc.segment.isin(list(cfg.segments)) | acc.segment.isnull()
        acc = acc.mutate(segment=ibis.ifelse(known, acc.segment, ibis.literal(OTHER)))
    return {**tables, "accounts": acc}, late


def hide_undeclared_segments(doc: dict, declared: list[str] | None) -> None:
    """Drop the effects of segment values pilot.yml does not declare from ``doc`` and say how many.

    Their labels are free text from the data (a name, a phone number): the
    report shows them only grouped as ``other`` in ``stats_segment.csv``.
    """
    if declared is None:
        return
    hidden: set[str] = set()
    for m in doc.get("metrics", {}).values():
        for comp in [m, *(m.get("comparisons") or {}).values()]:
            segs = comp.get("segments") if isinstance(comp, dict) else None
            if isinstance(segs, dict):
                hidden |= {k for k in segs if k not in declared}
                for k in [k for k in segs if k not in declared]:
                    del segs[k]
    if hidden:
        doc.setdefault("notes", []).append(
            f"{len(hidden)} segment value(s) not declared in pilot.yml: not analysed per segment, grouped as {OTHER!r}"
        )


def prepare_claims_monitor(
    pilot, out: Path, doc: dict, draws: dict, stats, cfg, level: float, seed: int, smoke: bool, opened=None
) -> dict[str, Path]:
    """The claims verdicts (``claims.json``) and the week-by-week replay (``monitor.json``) for the report.

    ``opened``: the pilot already opened on its engine (None opens it on DuckDB).
    """

    treatment = doc["treatments"][0]
    register, p = claims_register(pilot, cfg), opened if opened is not None else open_pilot(pilot)
    claims = evaluate(
        register,
        draws,
        stats,
        doc["control"],
        treatment,
        level,
        cfg.windows.model_dump(),
        seed,
        doc=doc,
        subgroups=subgroup_stats(p.tables, cfg, register),
        follow_up_days=longest_follow_up(p.tables, cfg),
    )
    paths = {"claims": out / "claims.json", "monitor": out / "monitor.json"}
    paths["claims"].write_text(
        to_json({"level": level, "control": doc["control"], "treatment": treatment, "claims": claims}), encoding="utf-8"
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        mon = monitor_pilot(pilot, sims=300 if smoke else 2000, seed=seed, opened=p)
    paths["monitor"].write_text(to_json(mon), encoding="utf-8")
    return paths


def ppc_table(draws: dict, stats, level: float, seed: int):
    """Posterior predictive check of each arm's mean.

    For each metric and arm, replicate the observed mean from the posterior:
    binary y_rep = Binomial(n, p) / n; count, continuous and csat
    y_rep = mu + Normal(0, s / sqrt(n)) with s the observed standard deviation;
    ratio and nps use the posterior of the mean alone. ``tail`` is the two-sided
    predictive tail probability of the observed mean (small = misfit).
    """

    rng, a = np.random.default_rng(seed), (1 - level) / 2
    rows = []
    for r in stats.to_dict("records"):
        mu = draws.get(r["metric"], {}).get(r["arm"])
        if mu is None or r.get("n") in (None, 0) or pd.isna(r.get("mean")):
            continue
        n, fam = int(r["n"]), r["family"]
        if fam in ("binary", "time-to-event"):
            rep = rng.binomial(n, np.clip(mu, 0, 1)) / n
        elif fam in ("count", "continuous") or r["metric"] == "csat":
            var = (r["sum_sq"] - r["sum"] ** 2 / n) / max(n - 1, 1)
            rep = mu + rng.normal(0, np.sqrt(max(var, 0) / n), size=len(mu))
        else:
            rep = mu
        obs = float(r["mean"])
        tail = 2 * min(np.mean(rep <= obs), np.mean(rep >= obs))
        lo, hi = np.quantile(rep, [a, 1 - a])
        rows.append(
            {
                "metric": r["metric"],
                "arm": r["arm"],
                "observed": obs,
                "posterior_mean": float(np.mean(mu)),
                "predictive_lo": float(lo),
                "predictive_hi": float(hi),
                "tail": float(min(tail, 1.0)),
                "inside": bool(lo <= obs <= hi),
            }
        )
    return pd.DataFrame(rows)


def repo_root() -> Path:
    """The root of the checkout (the folder holding ``notebooks/`` and ``reports/``)."""
    return Path(__file__).resolve().parents[3]


def resolve_pilot(pilot: str) -> str:
    """A notebook's ``pilot`` parameter as a path that exists: as given (relative to the
    working directory), else relative to the repository root, so a template opened from
    ``notebooks/`` or run from the root finds the default ``data/demo/pilot``.

    Raises :class:`RunError` saying how to set it when neither exists.
    """
    if pilot and Path(pilot).exists():
        return pilot
    at_root = repo_root() / pilot if pilot else None
    if at_root is not None and at_root.exists():
        return str(at_root)
    raise RunError(
        f"pilot={pilot!r}: no such pilot folder or file here or under the repository root; "
        "create the demo with `workbench demo`, or set the parameter (papermill -p pilot PATH, workbench run PATH)"
    )


def ensure_results(pilot: str, results: str, level: float, seed: int, smoke: bool) -> Path:
    """``results.json`` with the CSVs of :func:`prepare` beside it.

    A notebook opened by hand (no ``results``, or a results file from
    ``workbench analyze`` without the CSVs) fits once into
    ``reports/<pilot name>/by-hand/`` under the repository root (replaced on
    each fit), so nothing is left behind in a temporary folder.
    """
    if results and all((Path(results).parent / f).is_file() for f in ("stats.csv", "ppc.csv", "claims.json", "monitor.json")):
        return Path(results)
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", load_config(locate(pilot)[0]).name).strip("-") or "pilot"
    return prepare(pilot, repo_root() / "reports" / name / "by-hand", level=level, seed=seed, smoke=smoke)["results"]


def open_results(pilot: str, results: str, level: float, seed: int, smoke: bool, figure_dpi: int) -> tuple[Path, dict]:
    """The first cell of the results notebooks: check the parameters, set the
    figure theme, and return the folder of the shared run files (``results.json``,
    the CSVs of :func:`prepare`, ``claims.json``, ``monitor.json``) with
    ``results.json`` parsed.

    Read every shared file from that folder: a notebook opened by hand fits
    into ``reports/<pilot>/by-hand/`` (:func:`ensure_results`).
    """

    check_params(pilot=pilot, results=results, level=level, seed=seed, figure_dpi=figure_dpi)
    use_theme(figure_dpi)
    path = ensure_results(pilot, results, level, seed, smoke)
    return path.parent, json.loads(path.read_text())


def notebooks_dir() -> Path:
    """The notebook templates, ``notebooks/`` at the root of the checkout."""
    return repo_root() / "notebooks"


def declared_parameters(folder: Path | None = None) -> dict[str, dict[str, str]]:
    """Parameter name -> {notebook: type name}, from each template's ``parameters`` cell."""
    # papermill and nbconvert only for the run itself: every notebook kernel imports this module
    from workbench.runs import notebooks

    return notebooks.declared_parameters(folder or notebooks_dir(), NOTEBOOKS)


def parse_params(pairs: list[str], declared: dict[str, dict[str, str]]) -> dict:
    """``["level=0.9", "smoke=true"]`` -> typed values; an unknown name or a bad value is a RunError.

    papermill would only warn about a parameter no notebook declares: fail fast instead.
    """
    out: dict = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise RunError(f"-p {pair!r}: expected key=value")
        if key not in declared:
            raise RunError(f"-p {key}: unknown parameter (the notebooks take: {', '.join(sorted(declared))})")
        kind = next(iter(declared[key].values()))
        try:
            if kind == "bool":
                if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                out[key] = raw.lower() in ("true", "1", "yes")
            else:
                out[key] = {"int": int, "float": float}.get(kind, str)(raw)
        except ValueError:
            raise RunError(f"-p {key}={raw}: not a valid {kind}") from None
    return out


def scrub_paths(nb_path: Path, replacements: dict[str, str]) -> None:
    """Replace the machine's absolute paths in an executed notebook (papermill's metadata, outputs)
    by the names a reader knows (``<pilot>``, ``notebooks``, ``.``): a report never shows where it ran."""
    text = nb_path.read_text(encoding="utf-8")
    for old, new in sorted(replacements.items(), key=lambda kv: -len(kv[0])):
        if old:
            text = text.replace(json.dumps(old)[1:-1], new)
    nb_path.write_text(text, encoding="utf-8")


@dataclass
class Run:
    """Where a run is, what it ran with, and how it ended."""

    pilot: Path
    run_id: str
    final: Path
    work: Path
    params: dict = field(default_factory=dict)
    status: dict = field(default_factory=dict)

    def write_status(self, status: str, **extra) -> None:
        self.status.update(
            status=status, run_id=self.run_id, pilot=str(self.pilot), parameters=self.params, pid=os.getpid(), **extra
        )
        (self.work / "status.json").write_text(json.dumps(self.status, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    def close(self) -> Path:
        """Move the finished (or failed) run to its final name."""
        self.work.rename(self.final)
        return self.final


def run_folder_name(name: str) -> str:
    """A pilot name as one safe folder name: letters, digits, ``._-`` only, never ``.``, ``..`` or hidden."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return safe[:80] or "pilot"


def clean_stale(folder: Path) -> list[str]:
    """Mark the ``.partial`` folders of runs whose process is gone as ``abandoned`` (renamed to their run id).

    A run killed with ``-9`` cannot clean up after itself; the next run does.
    A partial folder whose process is alive (a concurrent run) is left alone.
    """
    done = []
    for part in sorted(folder.glob(".*.partial")) if folder.is_dir() else []:
        try:
            status = json.loads((part / "status.json").read_text(encoding="utf-8"))
            pid = int(status.get("pid", 0))
        except (OSError, ValueError, TypeError):
            continue
        if pid and _alive(pid):
            continue
        final = folder / part.name.removeprefix(".").removesuffix(".partial")
        if final.exists():
            continue
        status.update(status="abandoned", note="the run's process ended before it finished; cleaned by a later run")
        (part / "status.json").write_text(json.dumps(status, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        part.rename(final)
        done.append(final.name)
    return done


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def new_run(pilot: Path, base: Path, params: dict) -> Run:
    """A fresh run folder: run_id = UTC timestamp + a short hash of pilot.yml and the parameters.

    The folder is ``base/<sanitized pilot name>/<run_id>``; it cannot leave ``base``.
    """

    yml, _ = locate(pilot)
    name = run_folder_name(load_config(yml).name)
    if not (base / name).resolve().is_relative_to(base.resolve()):
        raise RunError(f"pilot name {name!r}: the run folder would leave --out")
    cleaned = clean_stale(base / name)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    digest = hashlib.sha256(yml.read_bytes() + json.dumps(params, sort_keys=True).encode()).hexdigest()[:7]
    run_id, k = f"{stamp}-{digest}", 1
    while (base / name / run_id).exists() or (base / name / f".{run_id}.partial").exists():
        k += 1
        run_id = f"{stamp}-{digest}-{k}"
    work = base / name / f".{run_id}.partial"
    work.mkdir(parents=True)
    run = Run(pilot=pilot, run_id=run_id, final=base / name / run_id, work=work, params=params)
    if cleaned:
        run.status["cleaned"] = cleaned
    return run


def run_pilot(
    pilot: Path,
    base: Path = Path("reports"),
    pairs: list[str] | None = None,
    progress: Callable | None = None,
    folder: Path | None = None,
    backend: str = "duckdb",
) -> Path:
    """Fit once, execute and render every notebook; return the run folder.

    The pilot is opened once on ``backend`` (duckdb or pyspark), validated
    there, and the same opened tables feed the analysis, the weekly statistics,
    the claims and the replay; notebooks that open the pilot themselves get
    ``backend`` as a parameter.

    Two processes share the work, so that on two cores neither waits for the
    other: the notebook kernel starts, and imports what the notebooks import,
    while this process fits (:func:`workbench.runs.notebooks.warming`); and
    notebook *i*'s HTML page renders in a thread of this process while notebook
    *i + 1* executes in the kernel (:func:`execute_notebooks`). Every file is the
    same as when each step waits for the one before.

    ``progress(event, **info)`` is told ``analysis``, each ``stage`` (name) of
    the analysis, ``notebook`` (index, name), ``cell`` (index, total) and, once
    the last notebook has run, ``rendering`` (the pages still rendering). Raises
    :class:`RunError` (one line; the run is kept and marked failed) when the
    analysis, the kernel, a notebook or its page fails.
    """
    # papermill and nbconvert only for the run itself: every notebook kernel imports this module
    from workbench.runs import notebooks

    folder = folder or notebooks_dir()
    declared = declared_parameters(folder)
    params = parse_params(pairs or [], declared)
    backend = params.get("backend", backend)  # --param backend=... and --backend say the same thing
    if backend != "duckdb":
        params["backend"] = backend  # recorded in the manifest with the other parameters
    validation = check_pilot_valid(pilot, backend)
    run = new_run(pilot, base, params)
    t0 = time.perf_counter()
    run.write_status("running", started=datetime.now(UTC).isoformat(timespec="seconds"), notebooks=[])
    notify = progress or (lambda *a, **k: None)
    notify("analysis")
    with ExitStack() as stack:
        try:
            km = stack.enter_context(notebooks.shared_kernel(run.work))
        except Exception as exc:  # no Jupyter kernel on this machine (or it died starting): the run fails in one line
            line = f"the notebook kernel did not start: {exc.__class__.__name__}: {exc}".splitlines()[0]
            run.write_status("failed", error={"notebook": NOTEBOOKS[0], "cell": None, "error": line}, notebooks=[])
            write_index(run, [], failed=NOTEBOOKS[0])
            final = run.close()
            raise RunError(f"{line} (run kept in {final})") from None
        warmed = stack.enter_context(notebooks.warming(km, notebooks.template_imports(folder, NOTEBOOKS)))
        try:
            paths = prepare(
                pilot,
                run.work,
                level=params.get("level", 0.95),
                seed=params.get("seed", 1),
                smoke=params.get("smoke", False),
                stage=lambda name: notify("stage", name=name),
                backend=backend,
                validation=validation,
            )
        except Exception as exc:
            line = f"analysis failed: {exc.__class__.__name__}: {exc}".splitlines()[0]
            stack.close()  # the kernel shut down before its folder moves
            run.write_status("failed", error={"notebook": None, "error": line})
            run.close()
            raise RunError(line + f" (run kept in {run.final})") from None

        write_manifest(run.work, Path(pilot), params)
        # results.json relative to the kernel's working directory (the run folder), so the
        # parameters recorded in each executed notebook stay true after the final rename.
        # The pilot relative to the run folder too: no absolute path of the machine in any notebook
        # (work and final folders are siblings, so the relative path holds after the rename).
        shared = {
            "pilot": os.path.relpath(Path(pilot).resolve(), run.work.resolve()),
            "results": paths["results"].name,
            "backend": backend,
        }
        parameters = {nb: {k: v for k, v in {**shared, **params}.items() if nb in declared.get(k, {})} for nb in NOTEBOOKS}
        warmed()  # the kernel has the notebooks' imports: the first notebook's requests do not queue behind them
        done, failed = execute_notebooks(run, folder, parameters, scrub_replacements(run, pilot, folder), km, notify)
    if failed is not None:
        nb, exc = failed
        line, rec = notebooks.error_line(nb, exc)
        run.write_status("failed", error=rec, notebooks=done, seconds=round(time.perf_counter() - t0, 1))
        write_index(run, done, failed=nb)
        final = run.close()
        raise RunError(f"{line} (partial notebook kept: {final / f'{nb}.ipynb'})") from None
    write_index(run, done)
    run.write_status(
        "complete",
        notebooks=done,
        seconds=round(time.perf_counter() - t0, 1),
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    return run.close()


def scrub_replacements(run: Run, pilot: Path, folder: Path) -> dict[str, str]:
    """The machine's paths an executed notebook may show, and the names :func:`scrub_paths` puts in their place."""
    return {
        str(run.work.resolve()): ".",
        str(run.work): ".",
        str(Path(pilot).resolve()): "<pilot>",
        str(folder.resolve()): "notebooks",
        str(Path(sys.prefix).resolve()): "<python>",
        sys.prefix: "<python>",
        str(notebooks_dir().parent): "<workbench>",
        str(Path.home()): "~",
        str(Path(tempfile.gettempdir()).resolve()): "<tmp>",  # the kernel's cell files in warnings
        tempfile.gettempdir(): "<tmp>",
    }


def execute_notebooks(
    run: Run, folder: Path, parameters: dict[str, dict], scrub: dict[str, str], km, notify: Callable
) -> tuple[list[str], tuple[str, Exception] | None]:
    """Execute every notebook in the kernel ``km`` and render its HTML page; (notebooks done, first failure).

    A notebook is done once executed, scrubbed (:func:`scrub_paths`) and
    rendered. Its page renders in a background thread while the next notebook
    executes (the kernel is another process; rendering is this one's CPU), one
    page at a time, in order. The failure returned is that of the first
    notebook, in the order of :data:`NOTEBOOKS`, whose execution or page failed
    (notebook, exception): no notebook starts once a page has failed, and
    whatever a later notebook left is removed, so the folder holds what the
    run would hold had each step waited for the one before.
    """
    from workbench.runs import notebooks  # papermill and nbconvert only for the run itself (see run_pilot)

    # Absolute paths only from here: papermill moves the whole process into the kernel's directory
    # while a notebook executes, and the page of the one before renders meanwhile in another thread
    # (a relative run folder, `--out data/demo`, made that page read a path under the run folder).
    folder, work = folder.resolve(), run.work.resolve()
    pages: dict[str, Future] = {}
    failed: tuple[str, Exception] | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="render-html") as renders:
        for i, nb in enumerate(NOTEBOOKS):
            if any(page.done() and page.exception() is not None for page in pages.values()):
                break  # reported below, as the failure of its own notebook
            notify("notebook", index=i, name=nb, total=len(NOTEBOOKS))
            out = work / f"{nb}.ipynb"
            try:
                notebooks.execute(
                    folder / f"{nb}.ipynb",
                    out,
                    parameters[nb],
                    work,
                    lambda idx, total: notify("cell", index=idx, total=total),
                    km,
                )
                scrub_paths(out, scrub)
            except Exception as exc:
                failed = (nb, exc)
                break
            pages[nb] = renders.submit(notebooks.render_html, out, out.with_suffix(".html"), no_input=nb == EXECUTIVE)
        else:  # every notebook executed: only pages are left
            notify("rendering", pending=sum(not page.done() for page in pages.values()))
    done: list[str] = []
    for nb, page in pages.items():
        if page.exception() is not None:  # an earlier notebook than any execution failure
            failed = (nb, page.exception())
            break
        done.append(nb)
    if failed is not None:
        for later in NOTEBOOKS[NOTEBOOKS.index(failed[0]) + 1 :]:
            for suffix in (".ipynb", ".html"):
                (work / f"{later}{suffix}").unlink(missing_ok=True)
    return done, failed


def index_summary(run: Run) -> dict | None:
    """The headline verdict and dates for index.html (the banner of :mod:`workbench.report.outcomes`); None without results."""
    results = run.work / "results.json"
    if not results.exists():
        return None
    b = banner(json.loads(results.read_text(encoding="utf-8")))
    try:
        dates = f"data until {load_config(locate(run.pilot)[0]).observed_until:%d %B %Y}"
    except WorkbenchError:  # the pilot moved since the run: the verdict still stands
        dates = ""
    return {"banner": b, "dates": dates}


def write_index(run: Run, done: list[str], failed: str | None = None) -> None:
    """``index.html``: one link per report and notebook, from a template with autoescape, under the CSP."""

    rows = [
        {
            "number": nb[:2],
            "name": nb,
            "title": TITLES[nb],
            "state": "done" if nb in done else "FAILED" if nb == failed else "not run",
        }
        for nb in NOTEBOOKS
    ]
    page = render(
        "index.html.j2",
        csp=CSP,
        pilot=run.final.parent.name,
        run_id=run.run_id,
        failed=failed,
        executive=EXECUTIVE,
        rows=rows,
        summary=index_summary(run),
    )
    run.work.joinpath("index.html").write_text(page, encoding="utf-8")
