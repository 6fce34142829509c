"""Every change to the schedule, one module per use case.

Each action is one durable transaction with its audit row and its outbox rows inside. Double
booking is refused by the database (exclusion constraints / triggers, migration 0002); the
actions translate the violation into `Conflict` (HTTP 409).
"""
