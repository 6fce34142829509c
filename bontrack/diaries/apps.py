from django.apps import AppConfig


class DiariesConfig(AppConfig):
    name = "bontrack.diaries"
    label = "diaries"
    verbose_name = "Headache diaries and questionnaires"
