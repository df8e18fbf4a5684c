from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs):
    from clinic.permissions import sync_roles

    # auth's own post_migrate handler has created every app's permissions by now (clinic is the
    # last installed app), so only the groups need setting.
    sync_roles(create_missing_permissions=False)


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self):
        from clinic.api.serializers import bound_model_serializer_dates

        # DRF maps model fields to serializer fields through one class-level table meant for
        # extending; ours adds the date range check to every app's ModelSerializer at once.
        bound_model_serializer_dates()
        from clinic.auth import connect_signals

        connect_signals()
        from django.contrib.auth.signals import user_logged_in

        from clinic.otp import otp_login_on_admin_login

        user_logged_in.connect(otp_login_on_admin_login, dispatch_uid="clinic.otp.login")
        # The data migration creates the roles; this keeps them in step with
        # clinic.permissions.ROLE_PERMISSIONS whenever models or roles change later.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="clinic.sync_roles")
