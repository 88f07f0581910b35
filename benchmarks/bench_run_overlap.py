"""``workbench run`` end to end, the code of a git ref (sequential: kernel after the analysis, each
page rendered before the next notebook) against this checkout (overlapped), run alternately.

The pilot is simulated once (1,500 accounts, 10 agents, seed 3, preset ``realistic``: the
suite's tiny pilot without its planted personal data). Each run is a fresh process
(``python -m workbench run PILOT -p smoke=true -p figure_dpi=60``) with ``PYTHONPATH``
pointing at one of the two source trees; the old tree is ``git archive REF src notebooks``.
Runs alternate old, new, new, old, ... so that a machine getting busier or quieter weighs on
both alike. Wall time is the parent's clock; CPU is the user + system time of the
process and its children (the notebook kernel included, reaped by the run). The load
average is printed before each run: this project's machines are shared.

Then the two last runs' files are compared: results.json, the JSON and CSV files byte for
byte, the HTML pages and index.html after replacing what differs between any two runs
(the run id, and the random id papermill gives its injected-parameters cell).

    .venv/bin/python benchmarks/bench_run_overlap.py [--old REF] [--repeat 2] [--pilot DIR]

``--old`` must name code from before the overlap; by default, where the checkout's branch
leaves ``main`` (once merged, pass the commit before it: the script warns when the two trees
hold the same ``runs/pipeline.py``).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ["-p", "smoke=true", "-p", "figure_dpi=60"]


def old_tree(ref: str, into: Path) -> Path:
    """``src`` and ``notebooks`` of ``ref`` extracted under ``into`` (the root ``repo_root()`` finds)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "src", "notebooks"], check=True, capture_output=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


def simulate(pilot: Path, accounts: int) -> Path:
    code = (
        "import sys; from workbench.simulate.pilot import simulate_pilot; "
        f"simulate_pilot(sys.argv[1], accounts={accounts}, seed=3, preset='realistic', agents=10)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    subprocess.run([sys.executable, "-c", code, str(pilot)], check=True, env=env)
    return pilot


def timed_run(tree: Path, pilot: Path, out: Path) -> tuple[float, float, Path]:
    """One ``workbench run`` of ``tree``'s code in a fresh process: (wall s, CPU s, run folder)."""
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "run", str(pilot), "--out", str(out), *SMOKE],
        check=False,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"run of {tree} failed ({proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    folder = Path(re.search(r"run complete: (\S+)index\.html", proc.stdout).group(1))
    return wall, cpu, folder


def normalized(page: Path) -> str:
    """A page without what differs between any two runs of the same code: the run id, papermill's random cell id."""
    text = page.read_text(encoding="utf-8").replace(page.parent.name, "<run>")
    return re.sub(r"cell-id=[0-9a-f]{8}", "cell-id=<id>", text)


def compare(old: Path, new: Path) -> list[str]:
    """The files of two run folders that differ (manifest.json and status.json left out: commit, times, pid)."""
    names = sorted({p.name for p in old.iterdir()} | {p.name for p in new.iterdir()})
    differ = []
    for name in names:
        a, b = old / name, new / name
        if name in ("manifest.json", "status.json") or a.suffix == ".ipynb":
            continue  # the executed notebooks carry papermill's start and end times; their pages are compared
        if not (a.is_file() and b.is_file()):
            differ.append(f"{name} (only in one)")
        elif a.suffix == ".html":
            if normalized(a) != normalized(b):
                differ.append(name)
        elif a.read_bytes() != b.read_bytes():
            differ.append(name)
    return differ


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", help="git ref of the sequential code (default: where this branch leaves main)")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each (alternated; default 2)")
    ap.add_argument("--accounts", type=int, default=1500)
    ap.add_argument("--pilot", type=Path, help="a pilot already simulated (default: simulate one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-run-overlap-") as tmp:
        root = Path(tmp)
        if args.old is None:
            base = subprocess.run(["git", "-C", str(ROOT), "merge-base", "HEAD", "main"], capture_output=True, text=True)
            args.old = base.stdout.strip()
        old = old_tree(args.old, root / "old")
        new = ROOT
        if (old / "src/workbench/runs/pipeline.py").read_bytes() == (new / "src/workbench/runs/pipeline.py").read_bytes():
            print(
                f"warning: {args.old} and this checkout hold the same runs/pipeline.py: pass --old <a commit before the overlap>"
            )
        pilot = args.pilot or simulate(root / "pilot", args.accounts)
        print(f"workbench run, {args.accounts:,} accounts, smoke, figure_dpi=60; {os.cpu_count()} cores")
        sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.old], capture_output=True, text=True)
        print(f"old: {args.old} ({sha.stdout.strip()}), new: this checkout ({ROOT})")
        timed_run(new, pilot, root / "warm-up")  # compiled models and OS caches filled before the clock matters
        order = [("old", old), ("new", new), ("new", new), ("old", old)] * ((args.repeat + 1) // 2)
        times: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
        last: dict[str, Path] = {}
        for k, (label, tree) in enumerate(order):
            if len(times[label]) >= args.repeat:
                continue
            load = loadavg()
            wall, cpu, folder = timed_run(tree, pilot, root / f"{label}-{k}")
            times[label].append((wall, cpu))
            last[label] = folder
            print(f"  {label}: wall {wall:6.1f} s  CPU {cpu:6.1f} s  (load before: {load})")
        wall = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
        cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
        print(f"median wall: old {wall['old']:.1f} s, new {wall['new']:.1f} s, new/old {wall['new'] / wall['old']:.2f}")
        print(f"median CPU:  old {cpu['old']:.1f} s, new {cpu['new']:.1f} s, new/old {cpu['new'] / cpu['old']:.2f}")
        differ = compare(last["old"], last["new"])
        print("files: " + ("identical (results, JSON, CSVs, pages)" if not differ else "DIFFER: " + ", ".join(differ)))
        print(f"load after: {loadavg()}")


if __name__ == "__main__":
    main()
