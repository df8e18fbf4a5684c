"""Primary keys stored as MongoDB's `_id`, and the migration that moves existing documents there.

django-mongodb-backend 5.2 gives a unique field a *partial* index
(`partialFilterExpression: {field: {$type: …}}`) that MongoDB's planner does not pick for a
plain equality query, so a domain ID kept in an ordinary `id` field beside `_id` made every
lookup by primary key, every join and every upsert a collection scan (the backend's PR #543,
INTPYTHON-855, released after 5.2.4, the last 5.2 release). `_id` always has its own index;
on SQLite the column is simply named `_id`.
"""

from __future__ import annotations

from django.db import migrations

PK_COLUMN = "_id"
BATCH = 1000


class PrimaryKeyAsMongoId(migrations.AlterField):
    """Renames a model's primary-key column to `_id`.

    SQL databases rename the column. On MongoDB `_id` cannot be renamed into, so each document
    is written again under `_id = <old id>` and the old one (with its ObjectId) deleted, in
    batches; documents already moved are skipped, so a run interrupted half-way completes when
    the migration runs again.
    """

    def __init__(self, model_name: str, name: str, field, old_column: str):
        self.old_column = old_column
        super().__init__(model_name, name, field)

    def deconstruct(self):
        name, args, kwargs = super().deconstruct()
        kwargs["old_column"] = self.old_column
        return name, args, kwargs

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "mongodb":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        _move_to_id(schema_editor, model._meta.db_table, self.old_column)
        for index in model._meta.indexes:  # the compound ones that held the old column
            if self.name in (name.lstrip("-") for name in index.fields):
                schema_editor.add_index(model, index)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "mongodb":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        raise migrations.exceptions.IrreversibleError(
            "Domain IDs stay in _id on MongoDB; restore a backup to go back."
        )

    def describe(self):
        return f"Store the primary key of {self.model_name} as _id"


def _move_to_id(schema_editor, table: str, old_column: str) -> None:
    collection = schema_editor.get_collection(table)
    for index in collection.list_indexes():
        if old_column in index["key"] and index["name"] != "_id_":
            collection.drop_index(index["name"])  # rebuilt on `_id` by the caller
    while True:
        docs = list(collection.find({old_column: {"$exists": True}}).limit(BATCH))
        if not docs:
            return
        moved = [{**_without(doc, old_column), "_id": doc[old_column]} for doc in docs]
        existing = {
            d["_id"]
            for d in collection.find({"_id": {"$in": [m["_id"] for m in moved]}}, {"_id": 1})
        }
        fresh = [m for m in moved if m["_id"] not in existing]
        if fresh:
            collection.insert_many(fresh)
        collection.delete_many({"_id": {"$in": [doc["_id"] for doc in docs]}})


def _without(doc: dict, column: str) -> dict:
    return {k: v for k, v in doc.items() if k not in (column, "_id")}
