"""The program-outcome rollup: small tables the dashboard reads instead of raw rows.

This app sits just above ``patients`` so that the diaries, treatments and scheduling actions can
mark a patient whose figures changed (``services.mark``) inside their own transaction. The rows
themselves are recomputed by the ``outcomes.refresh`` background job, registered by
``bontrack.ops.dashboard`` (it reads every app and clinic_rules), and by the backfill command.
"""
