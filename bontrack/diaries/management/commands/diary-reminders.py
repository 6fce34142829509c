from bontrack.diaries.management.commands.diary_reminders import Command  # noqa: F401
