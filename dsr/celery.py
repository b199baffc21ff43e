"""The Celery application. Configuration lives in settings under the CELERY_ namespace."""

import logging
import os
import time
from pathlib import Path

from celery import Celery, bootsteps
from celery.beat import PersistentScheduler
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsr.settings")

logger = logging.getLogger(__name__)

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


class StampingScheduler(PersistentScheduler):
    """Celery beat's own scheduler, which also records that beat is alive each time it sends a
    scheduled task (at most once every STAMP_SECONDS), so a stopped scheduler shows on the
    service status page and to a monitoring probe whether or not a worker is running."""

    STAMP_SECONDS = 30
    _stamped_at = 0.0

    def apply_entry(self, entry, producer=None):
        super().apply_entry(entry, producer=producer)
        if time.monotonic() - self._stamped_at < self.STAMP_SECONDS:
            return
        try:
            from dsr.services import heartbeat_record

            heartbeat_record(name="scheduler")
            self._stamped_at = time.monotonic()
        except Exception as exc:  # noqa: BLE001  (a database outage must not stop the scheduler)
            logger.warning("scheduler heartbeat not recorded (%s)", type(exc).__name__)


class WorkerHeartbeat(bootsteps.StartStopStep):
    """A worker records that it is alive when it starts and every minute after, on its own
    timer, so the service status page tells a stopped worker from a stopped scheduler. The
    database connection is closed after each stamp: the pool's processes are forked from this
    one and must never share its connection."""

    requires = {"celery.worker.components:Timer"}
    INTERVAL_SECONDS = 60

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None

    def start(self, worker):
        self.stamp()
        self.tref = worker.timer.call_repeatedly(self.INTERVAL_SECONDS, self.stamp)

    def stop(self, worker):
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    @staticmethod
    def stamp() -> None:
        from django.db import connection

        try:
            from dsr.services import heartbeat_record

            heartbeat_record(name="worker")
        except Exception as exc:  # noqa: BLE001  (a database outage must not stop the worker)
            logger.warning("worker heartbeat not recorded (%s)", type(exc).__name__)
        finally:
            connection.close()


app.steps["worker"].add(WorkerHeartbeat)
