"""Admin: COSD submissions (read-only), the export page with its checks, the patient timeline.

The export page checks a period for anyone who may view submissions (doctors, records) and
creates and downloads submissions for `oncology.export_cosd` (records role, superusers).
The timeline page lives at `patient_timeline` (routed from clinic/urls.py).
"""

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from clinic.admin import ReadOnlyAdminMixin
from oncology.cosd import CosdChecksFailed, cosd_prepare, cosd_submit, filename, submission_path
from oncology.models import CosdSubmission
from oncology.timeline import patient_timeline
from patients.models import Patient

EXPORT = "oncology.export_cosd"


class PeriodForm(forms.Form):
    period_start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("period_start") and data.get("period_end"):
            if data["period_end"] < data["period_start"]:
                raise forms.ValidationError("The period must end on or after its start.")
        return data


def _last_month() -> dict:
    first_of_this = timezone.localdate().replace(day=1)
    end = first_of_this.fromordinal(first_of_this.toordinal() - 1)
    return {"period_start": date(end.year, end.month, 1), "period_end": end}


@admin.register(CosdSubmission)
class CosdSubmissionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "period_start",
        "period_end",
        "record_count",
        "created_at",
        "created_by",
        "download",
    ]
    list_filter = ["period_start"]
    readonly_fields = [
        "number",
        "period_start",
        "period_end",
        "created_at",
        "created_by",
        "record_count",
        "filename",
    ]
    change_list_template = "admin/oncology/cosdsubmission/change_list.html"

    @admin.display(description="XML")
    def download(self, submission):
        if not submission.filename:
            return "-"
        url = reverse("admin:oncology_cosdsubmission_download", args=[submission.number])
        return format_html('<a href="{}">{}</a>', url, submission.filename)

    def get_urls(self):
        own = [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="oncology_cosdsubmission_export",
            ),
            path(
                "<int:number>/download/",
                self.admin_site.admin_view(self.download_view),
                name="oncology_cosdsubmission_download",
            ),
        ]
        return own + super().get_urls()

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        can_submit = request.user.has_perm(EXPORT)
        form = PeriodForm(request.POST or None, initial=_last_month())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "COSD colorectal export",
            "form": form,
            "can_submit": can_submit,
        }
        if request.method == "POST" and form.is_valid():
            period = form.cleaned_data
            if "submit" in request.POST:
                if not can_submit:
                    raise PermissionDenied
                try:
                    submission, export = cosd_submit(**period, by=request.user)
                except CosdChecksFailed as failed:
                    export, submission = failed.export, None
                    messages.error(request, str(failed))
                if submission:
                    messages.success(
                        request,
                        f"Submission {submission.number} created with "
                        f"{submission.record_count} record(s).",
                    )
                    context["submission"] = submission
            else:
                export = cosd_prepare(**period)
            context.update(export=export, checks=export.report, preview=filename(export.header))
        return TemplateResponse(request, "admin/oncology/cosd_export.html", context)

    def download_view(self, request, number: int):
        if not request.user.has_perm(EXPORT):
            raise PermissionDenied
        submission = get_object_or_404(CosdSubmission, pk=number)
        path_ = submission_path(submission)
        if path_ is None:
            raise Http404("The XML file of this submission is no longer on disk.")
        return FileResponse(
            open(path_, "rb"),
            as_attachment=True,
            filename=submission.filename,
            content_type="application/xml",
        )


def _admin_link(entry) -> str:
    app_label, model = entry.source.split(".")
    try:
        # quote(): the admin unquotes "_XX" in IDs (DOC_0FDB2A62 would lose its "_0F").
        return reverse(f"admin:{app_label}_{model}_change", args=[quote(entry.object_id)])
    except NoReverseMatch:
        return ""


@admin.site.admin_view
def patient_timeline_view(request, patient_id: str):
    """A visual timeline of one patient: what the user's role may see, oldest first."""
    if not request.user.has_perm("patients.view_patient"):
        raise PermissionDenied
    patient = get_object_or_404(Patient, pk=patient_id)
    entries = [
        {
            "entry": e,
            "link": _admin_link(e)
            if request.user.has_perm(f"{e.source.split('.')[0]}.view_{e.source.split('.')[1]}")
            else "",
        }
        for e in patient_timeline(patient_id=patient.pk, user=request.user)
    ]
    context = {
        **admin.site.each_context(request),
        "title": f"Timeline: {patient}",
        "patient": patient,
        "entries": entries,
        "opts": Patient._meta,
        "export_url": _export_url(request),
    }
    return TemplateResponse(request, "admin/oncology/patient_timeline.html", context)


def _export_url(request) -> str:
    if not request.user.has_perm("oncology.view_cosdsubmission"):
        return ""
    return reverse("admin:oncology_cosdsubmission_export")
