"""Shared by the benchmark scripts: large simulated pilots on disk and the plain pandas reference child.

    from pilots import METRICS_CHILD, REFERENCE_CHILD, WRAP, ensure_pilot, table_rows

``ensure_pilot`` writes a simulated pilot (preset ``realistic``) once and
reuses it. Up to ``chunk`` accounts it is exactly
``workbench.simulate.pilot.simulate_pilot`` (in a child process, so the
simulator's peak memory is not the caller's: on Linux a process's peak RSS
survives exec). Above that the simulator's peak (about 2 GiB per million
accounts) would not fit one machine at 10M accounts, so the pilot is written
in chunks of ``chunk`` accounts, each simulated by ``simulate_tables`` with its
own seed and appended to one Parquet file per table; ids are renumbered so
they stay unique. Each chunk is complete randomization (exactly half per arm)
over the same ten weeks of intake, so the whole is one pilot of that size;
only the 40 agents' skills differ between chunks (an agent's effect is a
mixture), which changes no cost measured here. ``truth.json`` is not
written above one chunk.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

# Every metric on DuckDB through the package (``compute_metrics``), as a child's body like
# REFERENCE_CHILD: ibis's DuckDB backend is imported before the clock starts (it loads lazily).
METRICS_CHILD = """
from workbench.metrics.stats import compute_metrics
import duckdb, ibis, pandas
import ibis.backends.duckdb  # ibis imports a backend (and sqlglot's compilers) on first use: an import, not work
t0, c0 = time.perf_counter(), cpu()
s = compute_metrics({path!r})
out = s[["metric", "arm", "n", "mean"]]
"""

# The plain pandas reference, as a child's body: reads every table whole with pandas and runs
# workbench.metrics.reference.reference_metrics. ``{path}`` is the pilot folder; the body sets
# ``t0``/``c0`` after its imports and leaves the result frame in ``out`` (metric, arm, n, mean).
REFERENCE_CHILD = """
import pandas as pd
import pyarrow.parquet
from workbench.contract.config import load_config
from workbench.metrics.reference import reference_metrics
from workbench.contract.tables import TABLES
t0, c0 = time.perf_counter(), cpu()
p = {path!r}
cfg = load_config(p + "/pilot.yml")
tables = {{n: pd.read_parquet(f"{{p}}/{{n}}.parquet") for n in TABLES if __import__("os").path.exists(f"{{p}}/{{n}}.parquet")}}
out = reference_metrics(cfg, tables)[["metric", "arm", "n", "mean"]]
"""

# A child's frame around a body such as REFERENCE_CHILD: ``cpu()`` is this process's CPU time;
# the last line printed is JSON with the body's wall and CPU time (after its imports), its peak
# RSS and the result rows.
WRAP = """
import json, resource, sys, time
cpu = lambda: (lambda r: r.ru_utime + r.ru_stime)(resource.getrusage(resource.RUSAGE_SELF))
{body}
wall, cpu_s = time.perf_counter() - t0, cpu() - c0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"wall": wall, "cpu": cpu_s, "rss_mb": rss, "rows": out.to_dict("records")}}))
"""

# Bytes of Parquet per simulated account (all six tables, realistic preset), measured at
# 1M accounts with some margin: the disk guard's estimate before writing.
PARQUET_BYTES_PER_ACCOUNT = 400

CHUNK_CODE = """
import sys
from pilots import write_chunked
write_chunked({path!r}, {accounts}, {seed}, {chunk})
"""


def ensure_pilot(path: Path, accounts: int, seed: int = 1, chunk: int = 1_000_000, quiet: bool = True) -> bool:
    """Write the pilot at ``path`` unless it is already there; True when it was written now.

    The writing happens in a child process (its memory is not the caller's).
    """
    path = Path(path)
    if (path / "pilot.yml").exists():
        return False
    if accounts <= chunk:
        code = f"from workbench.simulate.pilot import simulate_pilot; simulate_pilot({str(path)!r}, accounts={accounts}, seed={seed})"
    else:
        code = CHUNK_CODE.format(path=str(path), accounts=accounts, seed=seed, chunk=chunk)
    env_path = str(Path(__file__).parent)
    r = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {env_path!r})\n{code}"],
        capture_output=quiet,
        text=True,
        check=False,
    )
    if r.returncode != 0:
        shutil.rmtree(path, ignore_errors=True)
        raise SystemExit(f"writing the pilot failed:\n{(r.stderr or '')[-2000:]}")
    return True


def _renumber(col, prefix: str, offset: int, width: int):
    """``A0000001`` -> ``A{n + offset:0{width}}`` on an arrow string column (nulls stay null)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from workbench.simulate.population import make_ids

    arr = pa.chunked_array(col).combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    valid = pc.is_valid(arr).to_numpy(zero_copy_only=False)
    nums = pc.cast(pc.utf8_slice_codeunits(arr.fill_null(prefix + "0"), len(prefix)), pa.int64()).to_numpy()
    ids = pa.array(make_ids(prefix, nums + offset, width).array)
    return ids if valid.all() else pc.if_else(pa.array(valid), ids, pa.nulls(len(ids), ids.type))


def write_chunked(path: str, accounts: int, seed: int, chunk: int) -> None:
    """Simulate ``accounts`` in chunks of ``chunk`` and append each table to one Parquet file.

    Chunk ``i`` uses seed ``seed * 1000 + i``. Account ids are ``A`` + the
    global account number; event ids (contacts ``C``, promises ``P``,
    payments ``Y``, complaints ``K``) are numbered across chunks.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from workbench.contract.config import dump_config
    from workbench.simulate.pilot import simulate_tables
    from workbench.simulate.population import pilot_config

    out = Path(path)
    part = out.with_name(out.name + ".partial")
    shutil.rmtree(part, ignore_errors=True)
    part.mkdir(parents=True)
    acc_width, ev_width = max(7, len(str(accounts))), 11
    prefixes = {"contacts": "C", "promises": "P", "payments": "Y", "complaints": "K"}
    writers: dict[str, pq.ParquetWriter] = {}
    offsets = dict.fromkeys(prefixes, 0)
    done = 0
    try:
        for i in range((accounts + chunk - 1) // chunk):
            n = min(chunk, accounts - done)
            _, tables, _ = simulate_tables(n, seed=seed * 1000 + i, with_truth=False)
            for name, df in tables.items():
                t = pa.Table.from_pandas(df, preserve_index=False)
                cols = {"account_id": _renumber(t["account_id"], "A", done, acc_width)}
                if name in prefixes:
                    key = f"{name[:-1]}_id"
                    cols[key] = _renumber(t[key], prefixes[name], offsets[name], ev_width)
                    offsets[name] += len(t)
                for k, v in cols.items():
                    t = t.set_column(t.schema.get_field_index(k), k, v.cast(t.schema.field(k).type))
                if name not in writers:
                    writers[name] = pq.ParquetWriter(part / f"{name}.parquet", t.schema)
                writers[name].write_table(t.cast(writers[name].schema))
            done += n
            del tables
    finally:
        for w in writers.values():
            w.close()
    (part / "pilot.yml").write_text(dump_config(pilot_config(accounts, seed, "realistic", "account")), encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    part.rename(out)


def table_rows(path: Path) -> dict[str, int]:
    """Rows per table of a Parquet pilot (from the files' metadata: nothing is read)."""
    import pyarrow.parquet as pq

    return {f.stem: pq.ParquetFile(f).metadata.num_rows for f in sorted(Path(path).glob("*.parquet"))}
