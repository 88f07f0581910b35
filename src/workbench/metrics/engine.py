"""The engines, by the name the metrics, checks, notebooks and benchmarks use.

Opening a pilot on DuckDB, Spark or an ibis URL lives in
:mod:`workbench.contract.engine` (the contract opens a pilot once, validates
it there, and hands the same opened tables to the metrics); this module
re-exports it so that ``from workbench.metrics.engine import open_pilot`` keeps
working.
"""

from __future__ import annotations

from workbench.contract.engine import EngineError, Pilot, _duckdb, locate, normalize, open_pilot, spark_session

__all__ = ["EngineError", "Pilot", "_duckdb", "locate", "normalize", "open_pilot", "spark_session"]
