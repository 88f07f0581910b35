"""Scale: every step of the pipeline as a whole process on pilots of 1M to 10M accounts.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_scale.py \\
        [--accounts 1000000 2000000 5000000 10000000] [--run-sizes 1150000] \\
        [--reference-size 2000000] [--workdir /tmp/bench-scale] [--keep] [--json out.json]
    # a quick try: --accounts 20000 50000 --run-sizes 20000 --reference-size 50000

For each size a simulated pilot (preset realistic, :mod:`pilots`) is written
under ``--workdir`` and each step runs as its own process, as a user types it:

- ``validate``: ``python -m workbench validate PILOT`` (``--profile-validate``: with each
  DuckDB query it sends timed, the slowest printed)
- ``metrics``: ``python -m workbench metrics PILOT`` (the verb: it validates
  the pilot first, then computes every metric on DuckDB)
- ``metrics-engine``: a fresh process running only
  ``workbench.metrics.stats.compute_metrics`` (bench_metrics' DuckDB child):
  the metrics step without validation
- ``analyze``: ``python -m workbench analyze PILOT --out results.json``
- ``reference``: a fresh process reading the tables with pandas and running
  ``workbench.metrics.reference.reference_metrics`` (only at ``--reference-size``)
- ``run``: ``python -m workbench run PILOT`` (papermill: every notebook and its
  HTML; only at ``--run-sizes``, default 1.15M accounts, about 10M contacts)

Measured per step, for the whole process tree (the papermill kernels
included): wall time (imports included), CPU time (user + system of the
process and every descendant it waited for, from ``wait4``), peak memory as
the largest sum of RSS over the tree (psutil, sampled every 0.1 s) and as the
largest single process (``ru_maxrss``), and the 1-minute load average at the
start and end (the machine is shared: a high load stretches wall time, not
CPU time). Then time per million contacts and the growth between sizes, the
log-log slope ``log(t2 / t1) / log(c2 / c1)`` of wall time and of peak memory
against contacts (1 = linear). The targets of issue 19 are printed as ratios
of figures from this one run.

Guards: the free disk is checked before a pilot is written (about
``PARQUET_BYTES_PER_ACCOUNT`` bytes per account, twice over); a step whose
memory, extrapolated from the smaller sizes, would pass ``--max-rss-gib`` is
skipped, and a step whose tree passes it is killed (reported as such). Pilots
and runs are removed at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from pilots import METRICS_CHILD, PARQUET_BYTES_PER_ACCOUNT, REFERENCE_CHILD, WRAP, ensure_pilot, table_rows

GIB = 2**30
STEPS = ("validate", "metrics", "metrics-engine", "analyze", "reference", "run")


def command(step: str, pilot: Path, scratch: Path, profile: Path | None = None, queries: Path | None = None) -> list[str]:
    """The command line of one step (a fresh interpreter each time)."""
    wb = [sys.executable, "-m", "workbench"]
    if profile is not None:  # cProfile of the parent process (the kernels run apart)
        wb = [sys.executable, "-c", PROFILE_CODE, str(profile)]
    if queries is not None:  # each DuckDB query timed
        wb = [sys.executable, "-c", QUERIES_CODE, str(queries)]
    if step == "validate":
        return [*wb, "validate", str(pilot)]
    if step == "metrics":
        return [*wb, "metrics", str(pilot)]
    if step == "analyze":
        return [*wb, "analyze", str(pilot), "--out", str(scratch / "results.json")]
    if step == "run":
        return [*wb, "run", str(pilot), "--out", str(scratch / "reports")]
    body = {"metrics-engine": METRICS_CHILD, "reference": REFERENCE_CHILD}[step]
    return [sys.executable, "-c", WRAP.format(body=body.format(path=str(pilot)))]


# ``python -m workbench ...`` under cProfile (its default wall-clock timer: a Python-level timer
# such as process_time made the parent several times slower, which would distort the breakdown).
PROFILE_CODE = """
import cProfile, runpy, sys
out = sys.argv[1]
sys.argv = ["workbench", *sys.argv[2:]]
prof = cProfile.Profile()
prof.enable()
try:
    runpy.run_module("workbench", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    code = exc.code
else:
    code = 0
finally:
    prof.disable()
    prof.dump_stats(out)
sys.exit(code)
"""


# ``python -m workbench ...`` with every DuckDB query it sends timed (wall, and CPU of the whole
# process while it ran: DuckDB's threads are the process's), written as JSON to argv[1].
QUERIES_CODE = """
import json, resource, runpy, sys, time
from ibis.backends.duckdb import Backend
out = sys.argv[1]
sys.argv = ["workbench", *sys.argv[2:]]
log = []
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
def timed(fn):
    def run(self, expr, *args, **kwargs):
        t0, c0 = time.perf_counter(), cpu()
        try:
            return fn(self, expr, *args, **kwargs)
        finally:
            wall, used = time.perf_counter() - t0, cpu() - c0
            try:
                sql = expr if isinstance(expr, str) else self.compile(expr)
            except Exception:
                sql = type(expr).__name__
            log.append({"wall": wall, "cpu": used, "sql": " ".join(str(sql).split())})
    return run
Backend.to_pyarrow = timed(Backend.to_pyarrow)
Backend.raw_sql = timed(Backend.raw_sql)
try:
    runpy.run_module("workbench", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    code = exc.code
else:
    code = 0
finally:
    with open(out, "w") as f:
        json.dump(log, f)
sys.exit(code)
"""


def query_lines(path: Path, top: int = 8) -> list[str]:
    """The slowest queries of a step run with QUERIES_CODE: wall and CPU seconds, the SQL's start."""
    log = json.loads(path.read_text(encoding="utf-8"))
    lines = [f"    {len(log)} queries: {sum(q['wall'] for q in log):.1f} s wall, {sum(q['cpu'] for q in log):.1f} s CPU"]
    for q in sorted(log, key=lambda q: -q["wall"])[:top]:
        lines.append(f"    {q['wall']:7.2f} s {q['cpu']:7.2f} s CPU  {q['sql'][:110]}")
    return lines


def tree_rss(proc: psutil.Process) -> int:
    """Bytes of RSS summed over a process and its live descendants (0 once it is gone)."""
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


def kill_tree(proc: psutil.Process) -> None:
    """SIGKILL a step's process group (it was started in its own session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def measure(cmd: list[str], limit: int, timeout: float, log: Path) -> dict:
    """Run ``cmd`` and measure it as a whole process tree.

    Returns wall and CPU seconds, ``peak_tree_mib`` (largest sampled sum of
    RSS over the tree), ``max_proc_mib`` (``ru_maxrss``: the largest single
    process among the child and its reaped descendants), the load average at
    start and end, the return code and the last lines of output.
    """
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    with open(log, "w") as out:
        child = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    proc = psutil.Process(child.pid)
    peak, status, ru = 0, "ok", None
    while True:
        pid, code, ru = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, tree_rss(proc))
        if peak > limit or time.perf_counter() - t0 > timeout:
            status = f"killed: tree RSS {peak / GIB:.1f} GiB > limit" if peak > limit else f"killed: over {timeout:.0f} s"
            kill_tree(proc)
            _, code, ru = os.wait4(child.pid, 0)
            break
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    child.returncode = os.waitstatus_to_exitcode(code)  # reaped by wait4: keep Popen from waiting again
    text = log.read_text(errors="replace").strip().splitlines()
    if status == "ok" and child.returncode != 0:
        status = f"exit {child.returncode}: {text[-1][:120] if text else ''}"
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(ru.ru_utime + ru.ru_stime, 2),
        "peak_tree_mib": round(peak / 2**20),
        "max_proc_mib": round(ru.ru_maxrss / 1024),
        "load_start": round(load0, 2),
        "load_end": round(os.getloadavg()[0], 2),
        "status": status,
        "tail": text[-3:],
    }


def slope(x1: float, y1: float, x2: float, y2: float) -> float | None:
    """Log-log slope between two points (1 = grows linearly)."""
    if min(x1, y1, x2, y2) <= 0 or x1 == x2:
        return None
    return math.log(y2 / y1) / math.log(x2 / x1)


def predicted_peak(history: list[dict], contacts: int) -> float | None:
    """Peak memory (MiB) of a step at ``contacts``, extrapolated from its smaller sizes (at least linear)."""
    done = [h for h in history if h["status"] == "ok"]
    if not done:
        return None
    last = done[-1]
    s = 1.0
    if len(done) >= 2:
        s = max(1.0, slope(done[-2]["contacts"], done[-2]["peak_tree_mib"], last["contacts"], last["peak_tree_mib"]) or 1.0)
    return last["peak_tree_mib"] * (contacts / last["contacts"]) ** s


def notebook_times(reports: Path) -> list[tuple[str, float, float, str]]:
    """Per executed notebook of the (only) run under ``reports``, from papermill's metadata:
    (name, seconds, seconds of its slowest cell, that cell's first code line)."""
    out = []
    for nb in sorted(reports.glob("*/*/[0-9][0-9]_*.ipynb")):
        doc = json.loads(nb.read_text(encoding="utf-8"))
        cells = [
            (float(c.get("metadata", {}).get("papermill", {}).get("duration") or 0.0), "".join(c.get("source", "")))
            for c in doc.get("cells", [])
            if c.get("cell_type") == "code"
        ]
        slow, src = max(cells, default=(0.0, ""))
        line = next((x for x in src.splitlines() if x.strip() and not x.startswith("#")), "")
        out.append((nb.stem, float(doc.get("metadata", {}).get("papermill", {}).get("duration") or 0.0), slow, line[:60]))
    return out


PROFILED = (  # the parent's stages worth naming (cumulative seconds), by function name
    ("validate_pilot", "validate (check_pilot_valid)"),
    ("analyze_run", "analyze_run: read, statistics, every model"),
    ("sufficient_stats", "sufficient_stats (all calls)"),
    ("subgroup_stats", "claims: subgroup statistics"),
    ("longest_follow_up", "claims: longest follow-up"),
    ("evaluate", "claims: evaluate"),
    ("monitor_pilot", "monitor: weekly replay"),
    ("stats_by_look", "monitor: every look's statistics"),
    ("ppc_table", "posterior predictive check"),
    ("prepare", "prepare (everything before the notebooks)"),
    ("execute_notebook", "papermill: the notebooks"),
    ("render_html", "nbconvert: HTML"),
    ("write_manifest", "manifest (input hashes)"),
    ("run_pilot", "run_pilot (all)"),
)


def profile_lines(prof: Path) -> list[str]:
    """Cumulative wall seconds of the named stages in a cProfile dump of ``workbench run``."""
    st = pstats.Stats(str(prof))
    found: dict[str, float] = {}
    for (_file, _line, name), (_cc, _nc, _tt, ct, _callers) in st.stats.items():
        for fn, _label in PROFILED:
            if name == fn and ("workbench" in _file or "papermill" in _file):
                found[fn] = max(found.get(fn, 0.0), ct)
    return [f"    {label:45} {found[fn]:8.1f} s" for fn, label in PROFILED if fn in found]


def fmt_row(r: dict) -> str:
    per = f"{r['s_per_m_contacts']:.2f}" if r.get("s_per_m_contacts") is not None else "-"
    return (
        f"{r['accounts']:>11,} {r['contacts']:>11,} {r['step']:15} {r['wall_s']:8.1f} {r['cpu_s']:8.1f} "
        f"{r['peak_tree_mib']:>9,} {r['max_proc_mib']:>9,} {per:>9} {r['load_start']:5.2f}->{r['load_end']:<5.2f} {r['status']}"
    )


HEADER = (
    f"{'accounts':>11} {'contacts':>11} {'step':15} {'wall s':>8} {'cpu s':>8} {'tree MiB':>9} "
    f"{'proc MiB':>9} {'s/M cont':>9} {'load 1-min':11} status"
)


def ratio(num: float | None, den: float | None) -> str:
    return f"{num / den:.2f}x" if num and den else "n/a"


def targets(rows: list[dict], first: int, ref_size: int) -> list[str]:
    """The issue's targets as ratios of this run's figures."""
    get = {(r["accounts"], r["step"]): r for r in rows if r["status"] == "ok"}
    out = []
    v, m, me = (get.get((first, s)) for s in ("validate", "metrics", "metrics-engine"))
    if v and me:
        out.append(
            f"validate at {first:,} accounts: {v['wall_s']:.1f} s = {ratio(v['wall_s'], me['wall_s'])} the metrics step "
            f"(engine only, {me['wall_s']:.1f} s; target <= 1.5x), peak {v['peak_tree_mib'] / 1024:.2f} GiB (target <= 1.5 GiB)"
        )
    if v and m:
        out.append(f"validate at {first:,} accounts against the `workbench metrics` verb: {ratio(v['wall_s'], m['wall_s'])}")
    ref, m2, me2 = (get.get((ref_size, s)) for s in ("reference", "metrics", "metrics-engine"))
    if ref and m2:
        out.append(
            f"pandas reference / `workbench metrics` whole process at {ref_size:,} accounts: "
            f"{ratio(ref['wall_s'], m2['wall_s'])} wall, {ratio(ref['cpu_s'], m2['cpu_s'])} CPU (target >= 5x)"
        )
    if ref and me2:
        out.append(
            f"pandas reference / metrics engine only (no validation) at {ref_size:,} accounts: "
            f"{ratio(ref['wall_s'], me2['wall_s'])} wall, {ratio(ref['cpu_s'], me2['cpu_s'])} CPU"
        )
    for r in rows:
        if r["step"] == "run":
            out.append(
                f"`workbench run` at {r['accounts']:,} accounts / {r['contacts']:,} contacts: {r['wall_s']:.1f} s "
                f"(target <= 120 s), peak {r['peak_tree_mib'] / 1024:.2f} GiB over the process tree, "
                f"{r['max_proc_mib'] / 1024:.2f} GiB largest process (target < 3 GiB) [{r['status']}]"
            )
    return out


def growth(rows: list[dict]) -> list[str]:
    """Log-log slopes of wall time, CPU time and peak memory against contacts, between consecutive sizes, per step."""
    out = []
    for step in STEPS:
        pts = [r for r in rows if r["step"] == step and r["status"] == "ok"]
        for a, b in itertools.pairwise(pts):
            st = slope(a["contacts"], a["wall_s"], b["contacts"], b["wall_s"])
            sc = slope(a["contacts"], a["cpu_s"], b["contacts"], b["cpu_s"])
            sm = slope(a["contacts"], a["peak_tree_mib"], b["contacts"], b["peak_tree_mib"])
            out.append(
                f"  {step:15} {a['accounts']:>11,} -> {b['accounts']:<11,} "
                f"wall slope {st:5.2f}   CPU slope {sc:5.2f}   memory slope {sm:5.2f}"
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, nargs="+", default=[1_000_000, 2_000_000, 5_000_000, 10_000_000])
    ap.add_argument("--run-sizes", type=int, nargs="*", default=[1_150_000], help="sizes at which `workbench run` is timed")
    ap.add_argument("--reference-size", type=int, default=2_000_000, help="size at which the pandas reference runs")
    ap.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS))
    ap.add_argument("--profile-run", action="store_true", help="run `workbench run` under cProfile and print its stages")
    ap.add_argument(
        "--profile-validate", action="store_true", help="time each DuckDB query of `workbench validate` and print the slowest"
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "bench-scale")
    ap.add_argument("--keep", action="store_true", help="keep the pilots and runs in --workdir")
    ap.add_argument("--max-rss-gib", type=float, default=12.0, help="kill (or skip) a step whose tree passes this")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds before a step is killed")
    ap.add_argument("--json", type=Path, help="also write every figure as JSON here")
    a = ap.parse_args()

    limit = int(a.max_rss_gib * GIB)
    a.workdir.mkdir(parents=True, exist_ok=True)
    vm = psutil.virtual_memory()
    print(
        f"machine: {os.cpu_count()} cores, {vm.total / GIB:.1f} GiB ({vm.available / GIB:.1f} available), "
        f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}; python {sys.version.split()[0]}; workdir {a.workdir}"
    )
    sizes = sorted(set(a.accounts) | set(a.run_sizes if "run" in a.steps else []) | {a.reference_size} & set(a.accounts))
    rows: list[dict] = []
    history: dict[str, list[dict]] = {s: [] for s in STEPS}
    extras: dict[str, object] = {}
    try:
        for n in sizes:
            pilot = a.workdir / f"pilot-{n}-{a.seed}"
            need = n * PARQUET_BYTES_PER_ACCOUNT * 2
            free = shutil.disk_usage(a.workdir).free
            if not (pilot / "pilot.yml").exists() and free < need:
                print(f"{n:,} accounts: skipped, {free / GIB:.1f} GiB free on disk < {need / GIB:.1f} GiB needed")
                continue
            t0 = time.perf_counter()
            if ensure_pilot(pilot, n, a.seed):
                print(f"{n:,} accounts: pilot written in {time.perf_counter() - t0:.1f} s -> {pilot}")
            counts = table_rows(pilot)
            contacts = counts.get("contacts", 0)
            mib = sum(f.stat().st_size for f in pilot.glob("*.parquet")) / 2**20
            print(f"{n:,} accounts: {contacts:,} contacts, {mib:,.0f} MiB of Parquet; rows {counts}")
            steps = [
                s
                for s in a.steps
                if (s == "run" and n in a.run_sizes)
                or (s == "reference" and n == a.reference_size)
                or (s not in ("run", "reference") and n in a.accounts)
            ]
            for step in steps:
                scratch = Path(tempfile.mkdtemp(prefix=f"{step}-", dir=a.workdir))
                guess = predicted_peak(history[step], contacts)
                base = {"accounts": n, "contacts": contacts, "step": step}
                if guess is not None and guess * 2**20 > limit:
                    print(
                        f"  {step}: skipped, memory extrapolated from smaller sizes {guess / 1024:.1f} GiB > {a.max_rss_gib} GiB"
                    )
                    rows.append({**base, "status": f"skipped: predicted {guess / 1024:.1f} GiB"})
                    continue
                prof = scratch / "run.prof" if step == "run" and a.profile_run else None
                queries = scratch / "queries.json" if step == "validate" and a.profile_validate else None
                r = {**base, **measure(command(step, pilot, scratch, prof, queries), limit, a.timeout, scratch / "log.txt")}
                if queries is not None and queries.exists():
                    r["queries"] = query_lines(queries)
                r["s_per_m_contacts"] = round(r["wall_s"] / (contacts / 1e6), 3) if contacts else None
                if step == "run" and r["status"] == "ok":
                    r["notebooks"] = notebook_times(scratch / "reports")
                    if prof is not None:
                        r["profile"] = profile_lines(prof)
                if step in ("metrics-engine", "reference") and r["status"] == "ok":
                    inner = json.loads(r["tail"][-1])
                    r["inner_wall_s"], r["inner_cpu_s"] = round(inner["wall"], 2), round(inner["cpu"], 2)
                    extras[f"{step}-{n}"] = {(x["metric"], x["arm"]): (x["n"], x["mean"]) for x in inner["rows"]}
                    r["tail"] = []
                rows.append(r)
                history[step].append(r)
                print(fmt_row(r), flush=True)
                for nb, secs, slow, line in r.get("notebooks", []):
                    print(f"    {nb:28} {secs:7.1f} s   slowest cell {slow:6.1f} s: {line}")
                if r.get("profile"):
                    print("    the parent process's stages (cProfile, cumulative wall seconds):")
                for line in r.get("profile", []):
                    print(line)
                if r.get("queries"):
                    print("    its DuckDB queries, slowest first (wall, CPU of the process while each ran, SQL):")
                for line in r.get("queries", []):
                    print(line)
                if not a.keep:
                    shutil.rmtree(scratch, ignore_errors=True)
    finally:
        if not a.keep:
            for p in a.workdir.glob("pilot-*"):
                shutil.rmtree(p, ignore_errors=True)

    done = [r for r in rows if "wall_s" in r]
    print()
    print(HEADER)
    for r in done:
        print(fmt_row(r))
    for r in rows:
        if "wall_s" not in r:
            print(f"{r['accounts']:>11,} {r['contacts']:>11,} {r['step']:15} {r['status']}")
    print("\ngrowth against contacts (log-log slope; 1 = linear):")
    print("\n".join(growth(done)) or "  (one size only)")
    ref, eng = extras.get(f"reference-{a.reference_size}"), extras.get(f"metrics-engine-{a.reference_size}")
    if ref and eng:
        agree = all(
            eng.get(k, (None,))[0] == v[0] and (v[1] != v[1] or abs(eng[k][1] - v[1]) <= 1e-9 * max(1, abs(v[1])))
            for k, v in ref.items()
        )
        print(f"\npandas reference and DuckDB agree on n and mean at {a.reference_size:,} accounts: {agree}")
    print("\ntargets (issue 19), ratios within this run:")
    for line in targets(done, min(a.accounts), a.reference_size):
        print("  " + line)
    print(f"machine load at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if a.json:
        a.json.write_text(json.dumps({"rows": rows}, indent=2, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
