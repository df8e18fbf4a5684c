"""Roles: which Django permissions each staff group holds, and the API permission check."""

from rest_framework.permissions import DjangoModelPermissions

NURSE, DOCTOR, RECORDS = "nurse", "doctor", "records"

VIEW, ADD, CHANGE = ("view",), ("add",), ("change",)
CLINICAL_MODELS = [
    "patients.patient",
    "patients.note",
    "patients.historyentry",
    "queue_app.queueentry",
    "oncology.episode",
    "oncology.treatment",
    "oncology.tumour",
    "patients.allergy",
    "queue_app.vitals",
]
DOCUMENT_MODELS = ["documents.document", "documents.documentbatch", "documents.medicaltimeline"]
# Nurses and doctors upload documents (a batch per upload) and confirm what was read from them.
DOCUMENT_STAFF = {
    "documents.document": VIEW + ADD,
    "documents.documentbatch": VIEW + ADD,
    "documents.medicaltimeline": VIEW,
}

# role -> {"app_label.model": actions}; custom permissions as "app_label.codename".
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    NURSE: {
        "patients.patient": VIEW + ADD + CHANGE,
        "patients.note": VIEW + ADD + CHANGE,
        "patients.historyentry": VIEW,
        "patients.allergy": VIEW + ADD + CHANGE,
        "patients.noteamendment": VIEW,
        "queue_app.queueentry": VIEW + ADD + CHANGE,
        "queue_app.queueevent": VIEW,
        **DOCUMENT_STAFF,
        "queue_app.vitals": VIEW + ADD + CHANGE,
    },
    DOCTOR: {
        **{model: VIEW + ADD + CHANGE for model in CLINICAL_MODELS},
        "queue_app.queueentry": VIEW + ADD + CHANGE + ("consult",),  # call-next, complete
        "queue_app.queueevent": VIEW,
        "patients.noteamendment": VIEW,
        "oncology.cosdsubmission": VIEW,
        **DOCUMENT_STAFF,
    },
    RECORDS: {
        **{model: VIEW for model in CLINICAL_MODELS},
        "queue_app.queueevent": VIEW,
        **{model: VIEW for model in DOCUMENT_MODELS},
        "patients.noteamendment": VIEW,
        "auditlog.logentry": VIEW,
        "oncology.cosdsubmission": VIEW + ADD,
        # Login attempts, lock-outs, logins and failed logins (django-axes).
        "axes.accessattempt": VIEW,
        "axes.accessfailurelog": VIEW,
        "axes.accesslog": VIEW,
    },
}
ROLE_CUSTOM_PERMISSIONS: dict[str, list[str]] = {
    NURSE: ["documents.review_document"],
    DOCTOR: ["documents.review_document", "patients.merge_patient"],
    RECORDS: [
        "patients.import_legacy",
        "patients.export_legacy",
        "oncology.export_cosd",
        "patients.merge_patient",
    ],
}


def role_codenames(role: str) -> list[tuple[str, str]]:
    """(app_label, codename) pairs the role holds."""
    pairs = [
        (model.split(".")[0], f"{action}_{model.split('.')[1]}")
        for model, actions in ROLE_PERMISSIONS[role].items()
        for action in actions
    ]
    pairs += [tuple(perm.split(".")) for perm in ROLE_CUSTOM_PERMISSIONS[role]]
    return pairs


def sync_roles(
    apps=None, *, create_missing_permissions: bool = True, skip_unknown: bool = False
) -> None:
    """Create the role groups and set exactly their permissions (migration, post_migrate, tests)."""
    if apps is None:
        from django.apps import apps
    if create_missing_permissions:
        from django.contrib.auth.management import create_permissions

        # In a data migration on a fresh database, permissions only appear after post_migrate.
        for app_config in apps.get_app_configs():
            app_config.models_module = True
            create_permissions(app_config, verbosity=0, apps=apps)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    wanted = {role: set(role_codenames(role)) for role in ROLE_PERMISSIONS}
    all_wanted = set().union(*wanted.values())
    ids = {
        (app_label, codename): pk
        for pk, app_label, codename in permission_model.objects.filter(
            codename__in={codename for _, codename in all_wanted}
        ).values_list("pk", "content_type__app_label", "codename")
    }
    missing = all_wanted - ids.keys()
    if skip_unknown:
        wanted = {role: pairs & ids.keys() for role, pairs in wanted.items()}
    elif missing:
        raise LookupError(f"Role permissions not found: {sorted(missing)}")
    for role, pairs in wanted.items():
        group, _ = group_model.objects.get_or_create(name=role)
        group.permissions.set([ids[pair] for pair in pairs])


class RolePermission(DjangoModelPermissions):
    """Model permissions for every method, reads included: a role must hold `view_<model>`."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }
