from django.apps import AppConfig


class DiariesConfig(AppConfig):
    name = "bontrack.diaries"
    label = "diaries"
    verbose_name = "Headache diaries and questionnaires"

    def ready(self) -> None:
        from bontrack.core import jobs
        from bontrack.diaries.csv.jobs import run_queued

        jobs.register("diaries.import", run_queued)
