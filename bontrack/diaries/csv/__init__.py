"""Diary CSV export and import (columns documented in docs/diaries.md).

An import is a job row (`DiaryImport`): small files run in the request, larger ones are queued
and run by the worker process (`bontrack worker`, registered in `bontrack.core.jobs`). The file
is validated in chunks (progress is written to the job row and polled by the page), then written
all or nothing in one transaction. On PostgreSQL the rows go through ``COPY`` into a temporary
table and one set-based upsert; elsewhere through ``bulk_create``/``bulk_update``. Existing days
that change keep their previous state as a ``DiaryDayRevision``; audit rows (one per patient
touched and one for the job) are appended to the practice's chain through the audit app.
"""
