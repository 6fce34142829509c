from django.urls import path

from bontrack.claims.views import batches, queue, reports, setup

app_name = "claims"
urlpatterns = [
    path("", queue.queue, name="queue"),
    path("<int:pk>/", queue.claim_detail, name="claim"),
    path("<int:pk>/lines/<int:line_id>/", queue.edit_line, name="edit_line"),
    path("<int:pk>/refresh/", queue.refresh, name="refresh"),
    path("<int:pk>/accept/", queue.accept, name="accept"),
    path("<int:pk>/coverage/", queue.coverage, name="coverage"),
    # One view records the payer's answer; the URL fixes which (its form and action).
    path("<int:pk>/paid/", queue.payer_answer, {"answer": "paid"}, name="paid"),
    path("<int:pk>/denied/", queue.payer_answer, {"answer": "denied"}, name="denied"),
    path("export/", batches.export, name="export"),
    path("batches/", batches.batch_list, name="batches"),
    path("batches/<int:pk>/", batches.batch_detail, name="batch"),
    path("batches/<int:pk>/claims.csv", batches.batch_csv, name="batch_csv"),
    path("batches/<int:pk>/837p.x12", batches.batch_x12, name="batch_x12"),
    path("batches/<int:pk>/superbill.pdf", batches.batch_pdf, name="batch_pdf"),
    path("setup/", setup.billing_profile, name="setup"),
    path("reports/", reports.reports, name="reports"),
    path("reports/<slug:slug>.csv", reports.report_csv, name="report_csv"),
]
