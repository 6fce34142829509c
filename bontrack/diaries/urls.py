from django.urls import path

from bontrack.diaries import portal, views

app_name = "diaries"
urlpatterns = [
    # Staff
    path("diaries/patients/<int:pk>/", views.diary_page, name="diary"),
    path("diaries/patients/<int:pk>/panel/", views.panel, name="panel"),
    path("diaries/patients/<int:pk>/eligibility/", views.decide, name="decide"),
    path("diaries/patients/<int:pk>/day/<str:day>/", views.transcribe_day, name="transcribe"),
    path("diaries/patients/<int:pk>/export.csv", views.export_csv, name="export"),
    path("diaries/patients/<int:pk>/import/", views.import_csv, name="import"),
    path("diaries/imports/<int:job_id>/", views.import_status, name="import_status"),
    path("diaries/patients/<int:pk>/consultation/", views.consultation, name="consultation"),
    path("diaries/policy/", views.program_policy, name="policy"),
    path(
        "diaries/patients/<int:pk>/questionnaires/<int:qid>/",
        views.enter_questionnaire,
        name="enter_questionnaire",
    ),
    path(
        "diaries/patients/<int:pk>/questionnaires/assign/",
        views.assign_questionnaires,
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
