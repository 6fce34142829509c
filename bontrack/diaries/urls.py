from django.urls import path

from bontrack.diaries import portal
from bontrack.diaries.views import consultation, diary, imports, panel, policy, questionnaires

app_name = "diaries"
urlpatterns = [
    # Staff
    path("diaries/patients/<int:pk>/", diary.diary_page, name="diary"),
    path("diaries/patients/<int:pk>/panel/", panel.panel, name="panel"),
    path("diaries/patients/<int:pk>/eligibility/", panel.decide, name="decide"),
    path("diaries/patients/<int:pk>/day/<str:day>/", diary.transcribe_day, name="transcribe"),
    path("diaries/patients/<int:pk>/export.csv", imports.export_csv, name="export"),
    path("diaries/patients/<int:pk>/import/", imports.import_csv, name="import"),
    path("diaries/imports/<int:job_id>/", imports.import_status, name="import_status"),
    path("diaries/patients/<int:pk>/consultation/", consultation.consultation, name="consultation"),
    path(
        "diaries/patients/<int:pk>/consultation/<str:indication>/",
        consultation.consultation,
        name="consultation_for",
    ),
    path("diaries/policy/", policy.program_policy, name="policy"),
    path(
        "diaries/patients/<int:pk>/questionnaires/<int:qid>/",
        questionnaires.enter_questionnaire,
        name="enter_questionnaire",
    ),
    path(
        "diaries/patients/<int:pk>/questionnaires/assign/",
        questionnaires.assign_questionnaires,
        name="assign_questionnaires",
    ),
    # Patient portal
    path("portal/diary/", portal.diary_home, name="portal_home"),
    path("portal/diary/day/<str:day>/", portal.diary_day, name="portal_day"),
    path("portal/diary/week/", portal.diary_week, name="portal_week"),
    path(
        "portal/diary/questionnaires/<int:qid>/",
        portal.questionnaire,
        name="portal_questionnaire",
    ),
    path("portal/diary/before-your-visit/", portal.pre_visit, name="portal_pre_visit"),
]
