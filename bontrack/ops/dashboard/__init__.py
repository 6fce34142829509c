"""The program dashboard: figures from the ``bontrack.outcomes`` rollup, the job that keeps the
rollup current (``outcomes.refresh``), its views, CSV exports and click-through lists."""
