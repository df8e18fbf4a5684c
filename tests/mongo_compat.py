"""Joined-field pipeline stages that every MongoDB wire-compatible server reads the same way.

django-mongodb-backend 5.2 writes a joined collection's fields as nested documents:
`$project: {"alias": {"field": 1}}` (MongoDB: include alias.field) and, for ordering,
`$addFields: {"alias": {"field": "$alias.field"}}` (MongoDB: merge into alias). secantusdb,
the MongoDB server our test leg runs on, reads the first as the literal 1 and the second as
"replace alias", which broke select_related and permission checks there. We send forms that
mean the same to both: projections as expressions, and no identity $addFields entries.
"""

from django_mongodb_backend.compiler import SQLCompiler

_original_get_project_fields = SQLCompiler.get_project_fields
_original_build_query = SQLCompiler.build_query


def _get_project_fields(self, columns=None, ordering=None, force_expression=False):
    fields = _original_get_project_fields(self, columns, ordering, force_expression)
    for alias, value in fields.items():
        if isinstance(value, dict):
            fields[alias] = {
                name: f"${alias}.{name}" if spec == 1 else spec for name, spec in value.items()
            }
    return fields


def _build_query(self, columns=None):
    query = _original_build_query(self, columns)
    if query.extra_fields:
        kept = {}
        for alias, value in query.extra_fields.items():
            if isinstance(value, dict):
                value = {name: spec for name, spec in value.items() if spec != f"${alias}.{name}"}
                if not value:
                    continue
            kept[alias] = value
        query.extra_fields = kept or None
    return query


def install() -> None:
    SQLCompiler.get_project_fields = _get_project_fields
    SQLCompiler.build_query = _build_query
