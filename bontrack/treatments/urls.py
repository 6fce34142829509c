"""Mounted at the site root: staff screens under treatments/, the check-in under portal/checkins/."""

from django.urls import path

from bontrack.treatments import portal_views, scale_portal
from bontrack.treatments.views import adverse_effects, clinic_protocols
from bontrack.treatments.views import cosign as cosign_views
from bontrack.treatments.views import lots as lot_views
from bontrack.treatments.views import note as note_views
from bontrack.treatments.views import panel as panel_views
from bontrack.treatments.views import scales as scale_views
from bontrack.treatments.views import session as session_views
from bontrack.treatments.views import templates as template_views

app_name = "treatments"
urlpatterns = [
    path("treatments/patients/<int:pk>/panel/", panel_views.panel, name="panel"),
    path(
        "treatments/patients/<int:pk>/sessions/new/", session_views.session_new, name="session_new"
    ),
    path("treatments/patients/<int:pk>/review/", panel_views.review, name="review"),
    path("treatments/patients/<int:pk>/plans/new/", panel_views.plan_new, name="plan_new"),
    path("treatments/patients/<int:pk>/plans/start/", template_views.plan_page, name="plan_page"),
    path("treatments/templates/", template_views.template_list, name="templates"),
    path("treatments/templates/<int:tid>/", template_views.template_edit, name="template_edit"),
    path(
        "treatments/templates/<int:tid>/retire/",
        template_views.template_retire,
        name="template_retire",
    ),
    path("treatments/sessions/<int:sid>/weight/", session_views.weight_add, name="weight_add"),
    path("treatments/patients/<int:pk>/sessions/older/", panel_views.older_sessions, name="older"),
    path("treatments/sessions/<int:sid>/", session_views.session_detail, name="session"),
    path("treatments/sessions/<int:sid>/sites/<int:iid>/", session_views.site_editor, name="site"),
    path(
        "treatments/sessions/<int:sid>/sites/<int:iid>/save/",
        session_views.site_update,
        name="site_update",
    ),
    path("treatments/sessions/<int:sid>/sites/add/", session_views.site_add, name="site_add"),
    path(
        "treatments/sessions/<int:sid>/sites/<int:iid>/remove/",
        session_views.site_remove,
        name="site_remove",
    ),
    path("treatments/sessions/<int:sid>/details/", session_views.details_update, name="details"),
    path("treatments/sessions/<int:sid>/vials/", session_views.vial_open, name="vial_open"),
    path(
        "treatments/sessions/<int:sid>/vials/<int:vial_id>/waste/",
        session_views.vial_waste,
        name="vial_waste",
    ),
    path("treatments/sessions/<int:sid>/decisions/", session_views.decide, name="decide"),
    path("treatments/sessions/<int:sid>/sign/", session_views.sign, name="sign"),
    path("treatments/sessions/<int:sid>/amend/", session_views.amend, name="amend"),
    path("treatments/sessions/<int:sid>/cosign/", cosign_views.cosign, name="cosign"),
    path("treatments/cosign/", cosign_views.worklist, name="worklist"),
    path("treatments/lots/<int:lot_id>/trace/", lot_views.trace, name="lot_trace"),
    path("treatments/lots/<int:lot_id>/trace.csv", lot_views.export, name="lot_trace_csv"),
    path("treatments/lots/<int:lot_id>/recall/", lot_views.recall, name="lot_recall"),
    path("treatments/lots/<int:lot_id>/contacts/", lot_views.contact, name="lot_contact"),
    path("treatments/cosign/count/", cosign_views.worklist_count, name="worklist_count"),
    path("treatments/plans/<int:pid>/sign/", cosign_views.plan_sign, name="plan_sign"),
    path("treatments/sessions/<int:sid>/note/", note_views.note_html, name="note"),
    path("treatments/sessions/<int:sid>/note.pdf", note_views.note_pdf, name="note_pdf"),
    path(
        "treatments/sessions/<int:sid>/adverse-effects/",
        adverse_effects.effect_add,
        name="effect_add",
    ),
    path(
        "treatments/adverse-effects/<int:eid>/resolve/",
        adverse_effects.effect_resolve,
        name="effect_resolve",
    ),
    path("treatments/adverse-effects/urgent/", adverse_effects.urgent_list, name="urgent_effects"),
    path(
        "treatments/adverse-effects/<int:eid>/",
        adverse_effects.effect_recorded,
        name="effect_recorded",
    ),
    path(
        "treatments/adverse-effects/<int:eid>/urgent-review/",
        adverse_effects.urgent_review,
        name="urgent_review",
    ),
    path("treatments/clinic-protocols/", clinic_protocols.protocol_list, name="clinic_protocols"),
    path(
        "treatments/clinic-protocols/new/",
        clinic_protocols.protocol_edit,
        name="clinic_protocol_new",
    ),
    path(
        "treatments/clinic-protocols/<int:cpid>/",
        clinic_protocols.protocol_edit,
        name="clinic_protocol_edit",
    ),
    path(
        "treatments/clinic-protocols/<int:cpid>/retire/",
        clinic_protocols.protocol_retire,
        name="clinic_protocol_retire",
    ),
    path(
        "treatments/patients/<int:pk>/off-label-plan/",
        clinic_protocols.patient_plan,
        name="off_label_plan",
    ),
    path(
        "treatments/patients/<int:pk>/scales/<str:indication>/",
        scale_views.scales,
        name="scales",
    ),
    path(
        "treatments/patients/<int:pk>/scales/<str:indication>/review/",
        scale_views.cycle_review,
        name="cycle_review",
    ),
    path(
        "treatments/patients/<int:pk>/scales/<str:indication>/enter/<str:instrument>/",
        scale_views.scale_enter,
        name="scale_enter",
    ),
    path(
        "treatments/patients/<int:pk>/scales/<str:indication>/suggestions/recalculate/",
        scale_views.suggestions_refresh,
        name="suggestions_refresh",
    ),
    path("treatments/sessions/<int:sid>/wearing-off/", scale_views.wearing_off, name="wearing_off"),
    path(
        "treatments/suggestions/<int:sug>/decide/",
        scale_views.suggestion_decide,
        name="suggestion_decide",
    ),
    path("portal/scales/", scale_portal.scale_list, name="portal_scales"),
    path(
        "portal/scales/<str:indication>/<str:instrument>/",
        scale_portal.scale_form,
        name="portal_scale",
    ),
    path(
        "portal/scales/sessions/<int:sid>/wearing-off/",
        scale_portal.wearing_off,
        name="portal_wearing_off",
    ),
    path("portal/side-effects/", portal_views.report_form, name="report"),
    path("portal/side-effects/<int:eid>/reported/", portal_views.report_done, name="report_done"),
    path("portal/checkins/", portal_views.checkin_list, name="checkins"),
    path("portal/checkins/<int:sid>/", portal_views.checkin_form, name="checkin"),
    path("portal/checkins/<int:sid>/thanks/", portal_views.checkin_done, name="checkin_done"),
]
