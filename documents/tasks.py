"""Background work, run by django-tasks (`manage.py db_worker`, or in the request on MongoDB)."""

from django_tasks import task

from documents import services


@task()
def process_batch(batch_id: str) -> str:
    """Read every document of a batch with the configured extractor; returns the batch status."""
    return services.batch_process(batch_id=batch_id).status
