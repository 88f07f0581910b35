"""Reading and writing pilots: a folder of Parquet or CSV files, or a DuckDB file.

Reading never writes: folders are read file by file, DuckDB files are opened
read-only. Timestamps are parsed and compared in UTC; naive values are read as
UTC.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd

from workbench.contract.config import PilotConfig, dump_config
from workbench.contract.tables import TABLES

Format = Literal["parquet", "csv", "duckdb"]


def write_pilot(
    out: str | Path,
    config: PilotConfig,
    tables: dict[str, pd.DataFrame],
    fmt: Format = "parquet",
) -> Path:
    """Write a pilot: ``pilot.yml`` plus one file per table (or one DuckDB file).

    Parameters
    ----------
    out : folder to create (may exist; files of the same name are replaced).
    config : the pilot's configuration; for ``fmt="duckdb"`` its ``source`` is
        rewritten to point at ``pilot.duckdb`` in the same folder.
    tables : table name -> frame, columns as in the contract.
    fmt : ``parquet`` (default), ``csv`` or ``duckdb``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "duckdb":
        config = config.model_copy(update={"source": config.source.model_copy(update={"kind": "duckdb", "path": "pilot.duckdb"})})
        db = out / "pilot.duckdb"
        db.unlink(missing_ok=True)
        con = duckdb.connect(str(db))
        try:
            con.execute("SET TimeZone='UTC'")
            for name, df in tables.items():
                con.register("_frame", df)
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _frame')
                con.unregister("_frame")
        finally:
            con.close()
    else:
        for name, df in tables.items():
            if name not in TABLES:
                raise ValueError(f"unknown table {name!r}")
            if fmt == "parquet":
                df.to_parquet(out / f"{name}.parquet", index=False)
            elif fmt == "csv":
                df.to_csv(out / f"{name}.csv", index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
            else:
                raise ValueError(f"unknown format {fmt!r}")
    (out / "pilot.yml").write_text(dump_config(config), encoding="utf-8")
    return out
