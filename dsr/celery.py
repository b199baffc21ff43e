"""The Celery application. Configuration lives in settings under the CELERY_ namespace."""

import os
from pathlib import Path

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsr.settings")

app = Celery("dsr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _ensure_filesystem_queue() -> None:
    """The embedded run's filesystem transport needs its folders before the first message."""
    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@app.on_after_configure.connect
def _prepare_transport(sender, **kwargs) -> None:
    if str(app.conf.broker_url).startswith("filesystem"):
        _ensure_filesystem_queue()


# Workers never pass through Django's request signals, so a connection the database dropped
# would otherwise stay in use ("connection already closed"). Close stale ones around each task.
@task_prerun.connect
def _close_stale_connections_before(**kwargs) -> None:
    from django.db import close_old_connections

    close_old_connections()


@task_postrun.connect
def _close_stale_connections_after(**kwargs) -> None:
    from django.db import close_old_connections

    close_old_connections()
