"""Shared test helpers: hand-built pilots and one lazy Spark session per test run."""

from __future__ import annotations

import functools
import gc
import os

from numba_cache import numba_cache_is_empty

# The models' log densities are compiled by Numba (nutpie) once per structure: 15-45 s each with
# LLVM's full optimisation, which the suite's short fits (smoke draws, a few cells) never earn
# back. Unoptimised code (0) computes the same model and compiles fastest, but Numba refuses to
# cache it ("dynamic globals"): on a machine whose cache is empty (a fresh CI runner) every fit
# compiles every kernel, 100-140 s for the crossed structure. There the suite compiles at level 1,
# which Numba caches: the structures share their kernels and the next run reads them at level 0.
# Measured, the four model tests in one process: empty cache 253 s at 0, 201 s at 1; on the cache
# so written 69-77 s at 0, 90 s at 1. Set before anything imports Numba (it reads it once); users'
# runs keep Numba's default (3). Set NUMBA_OPT yourself to test with another level.
os.environ.setdefault("NUMBA_OPT", "1" if numba_cache_is_empty() else "0")

# One BLAS thread per process. The suite runs two workers on two cores, and OpenBLAS's idle threads
# spin while they wait for work: on a 600-account analysis they burned a third more CPU than the
# analysis itself (measured: 6.0 s of CPU for 4.5 s of wall, 4.1-4.5 s with one thread, the wall no
# longer), CPU the other worker was waiting for. Set before numpy loads (it reads it once); kernels
# and subprocesses inherit it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pandas as pd
import pytest
import typer.main
import typer.testing

from workbench.cli.main import without_iri_grammar
from workbench.contract.config import parse_config
from workbench.contract.tables import TABLES

# Older generations collected less often (Python's default: 700, 10, 10). A worker holds millions of
# long-lived objects (pandas, ibis, PyMC, Numba), and every full collection walks them all: measured,
# tests/effects and tests/contract in one process spent 11.8 s of 175 s CPU in the collector, 8.1 s
# of it in 18 full collections; with these thresholds 6.6 s of 168 s, six full collections. Young
# objects are collected as often as before; only the suite's processes are tuned, not the package.
gc.set_threshold(700, 50, 100)

# As the console entry point does, before any test module imports nbformat: 2.5 s in every worker.
without_iri_grammar()

# typer's test runner builds the click command tree from the app on every invoke (the signature and
# type hints of every verb read again: 30-55 ms), where the console entry point builds it once per
# process. The suite invokes the CLI in its processes about 1,100 times (tests/shared.py and tests of
# their own; counted: 298 + 790 on the two workers). Built once per app here, as a process running
# the CLI does; each invoke still gets its own context, streams and exit code. Measured, the whole
# suite back to back: 198.8 s (user CPU 306 s) against 228.1 s (357 s) rebuilding it every time.
assert typer.testing._get_command is typer.main.get_command, "typer's runner changed: see tests/conftest.py"
typer.testing._get_command = functools.cache(typer.main.get_command)

OBS = "2026-06-30T00:00:00Z"
_DTYPE = {"string": "object", "float": "float64", "int": "Int64", "bool": "boolean"}


def ts(s: str | None):
    """A UTC timestamp from 'YYYY-MM-DD[ HH:MM[:SS]]' (None stays missing)."""
    return pd.NaT if s is None else pd.Timestamp(s, tz="UTC")


def frames(**rows: list[dict]) -> dict[str, pd.DataFrame]:
    """Contract-typed frames from lists of row dicts (timestamps given as strings).

    Optional columns absent from every row of a table are left out, so a test can
    exercise 'column missing' paths; pass ``[]`` for an empty table with all columns.
    """
    out = {}
    for name, recs in rows.items():
        spec = TABLES[name].columns
        cols = [c for c in spec if spec[c].required or any(c in r for r in recs) or not recs]
        df = pd.DataFrame(recs, columns=cols)
        for c in cols:
            kind = spec[c].kind
            if kind == "timestamp":
                df[c] = pd.to_datetime(df[c], utc=True, format="ISO8601")
            else:
                df[c] = df[c].astype(_DTYPE[kind])
        out[name] = df
    return out


def config(**over):
    """A PilotConfig for hand-built pilots (control pressure, treatment empathy)."""
    data = {"name": "t", "arms": {"control": "pressure", "treatment": "empathy"}, "observed_until": OBS}
    data.update(over)
    return parse_config(data)


@pytest.fixture
def build(tmp_path):
    """``build(cfg, tables, fmt="parquet") -> pilot path`` written with workbench.contract.io.write_pilot."""
    from workbench.contract.io import write_pilot

    counter = iter(range(10**6))

    def _build(cfg, tables, fmt="parquet"):
        out = write_pilot(tmp_path / f"p{next(counter)}_{fmt}", cfg, tables, fmt)
        return out / "pilot.duckdb" if fmt == "duckdb" else out

    return _build


# The tests that compile a model structure with Numba (nutpie) carry ``xdist_group("numba")``:
# one worker compiles them all, and Numba's own first-use compilations (its typing of numpy and of
# nutpie's wrappers, about 6 s of the first structure a process compiles) are paid once. Measured:
# the three fits 86 s as separate processes, 67 s in one.

# Expensive fixtures, by the xdist group whose worker builds them once (``--dist loadgroup``).
_ONE_WORKER = {
    "spark": "spark",  # a local Spark session takes 15-18 s to start
    "demo_claims": "claims-demo",  # a 3,000-account pilot and a claims run, ~16 s
    "postgres": "postgres",  # a PostgreSQL cluster (initdb, start) and the pilots loaded into it, ~5 s a worker
}


@pytest.hookimpl(wrapper=True)  # around xdist's own hook, which reads the groups
def pytest_collection_modifyitems(config, items):
    """Every test using one of the expensive fixtures above runs on the same xdist worker.

    Spread over both workers, the suite paid for each of them twice (measured:
    the claims pilot built by both workers). xdist 3.8 groups by a ``@group``
    suffix it writes into ``item._nodeid``, which pytest 9.2 no longer reads
    (the id is ``item._id``): measured, the groups were ignored. The suffix is
    written where pytest 9.2 reads it, exactly as xdist spells it.
    """
    for item in items:
        names = getattr(item, "fixturenames", ())
        group = next((g for f, g in _ONE_WORKER.items() if f in names), None)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
    result = yield
    if config.getoption("dist", "no") == "loadgroup" or getattr(config.option, "loadgroup", False):
        from _pytest.nodeid import coerce_node_id

        for item in items:
            groups = sorted(
                {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
            )
            if groups and "@" not in item.nodeid:
                item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(groups)}")
    return result


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession per test run (UTC, small driver), started on first use."""
    pytest.importorskip("pyspark")
    from workbench.metrics.engine import spark_session

    s = spark_session(memory="512m")
    yield s
    s.stop()


# Modules whose tests read the suite's one whole run (tests/runs/whole_run.py).
_RUN_READERS = ("test_run", "test_notebooks", "test_trust", "test_hostile_run", "test_browser")


@pytest.fixture(scope="session", autouse=True)
def _shared_truth():
    """The simulator's truth (2 x 200,000 simulated accounts per preset, ~10 s) computed once per session.

    Every worker, and every CLI process a test starts, reads it from one folder
    (``workbench.simulate.truth``: files named for the preset, windows and code digest).
    """
    from shared import session_root

    os.environ.setdefault("WORKBENCH_TRUTH_CACHE", str(session_root() / "truth"))


@pytest.fixture(scope="session", autouse=True)
def _whole_run_first(request, _shared_truth):
    """Under xdist, worker gw0 builds the suite's one whole run before its first test.

    Built lazily, the worker whose first test needs the run builds it then while
    the other meets a reader sooner or later and waits on the lock with a core
    idle; built first on gw0 (only when a selected test reads it), it is ready
    long before gw1 reaches the run's readers (tests/report and tests/runs, near
    the end of the collection order).
    """
    if os.environ.get("PYTEST_XDIST_WORKER") != "gw0":
        return  # without xdist the first reader builds it
    selected = {item.module.__name__.rpartition(".")[2] for item in request.session.items}
    if selected & set(_RUN_READERS):
        from whole_run import whole_run

        whole_run()
