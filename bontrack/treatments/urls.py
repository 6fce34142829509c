"""Mounted at the site root: staff screens under treatments/, the check-in under portal/checkins/."""

from django.urls import path

from bontrack.treatments import portal_views, views

app_name = "treatments"
urlpatterns = [
    path("treatments/patients/<int:pk>/panel/", views.panel, name="panel"),
    path("treatments/patients/<int:pk>/sessions/new/", views.session_new, name="session_new"),
    path("treatments/patients/<int:pk>/review/", views.review, name="review"),
    path("treatments/patients/<int:pk>/plans/new/", views.plan_new, name="plan_new"),
    path("treatments/patients/<int:pk>/sessions/older/", views.older_sessions, name="older"),
    path("treatments/sessions/<int:sid>/", views.session_detail, name="session"),
    path("treatments/sessions/<int:sid>/sites/<int:iid>/", views.site_editor, name="site"),
    path(
        "treatments/sessions/<int:sid>/sites/<int:iid>/save/", views.site_update, name="site_update"
    ),
    path("treatments/sessions/<int:sid>/sites/add/", views.site_add, name="site_add"),
    path(
        "treatments/sessions/<int:sid>/sites/<int:iid>/remove/",
        views.site_remove,
        name="site_remove",
    ),
    path("treatments/sessions/<int:sid>/details/", views.details_update, name="details"),
    path("treatments/sessions/<int:sid>/vials/", views.vial_open, name="vial_open"),
    path("treatments/sessions/<int:sid>/decisions/", views.decide, name="decide"),
    path("treatments/sessions/<int:sid>/sign/", views.sign, name="sign"),
    path("treatments/sessions/<int:sid>/amend/", views.amend, name="amend"),
    path("treatments/sessions/<int:sid>/note/", views.note_html, name="note"),
    path("treatments/sessions/<int:sid>/note.pdf", views.note_pdf, name="note_pdf"),
    path("treatments/sessions/<int:sid>/adverse-effects/", views.effect_add, name="effect_add"),
    path(
        "treatments/adverse-effects/<int:eid>/resolve/", views.effect_resolve, name="effect_resolve"
    ),
    path("portal/checkins/", portal_views.checkin_list, name="checkins"),
    path("portal/checkins/<int:sid>/", portal_views.checkin_form, name="checkin"),
    path("portal/checkins/<int:sid>/thanks/", portal_views.checkin_done, name="checkin_done"),
]
