import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "video_platform.settings")

app = Celery("shareloop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def make_filesystem_broker_folders(sender, **kwargs):
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if key in options:
            os.makedirs(options[key], exist_ok=True)


@worker_init.connect
def keep_worker_database_connections(**kwargs):
    """A worker process runs one task at a time, so its one connection is kept between tasks (the web, under
    ASGI, closes its connections after each request: settings.py). Set before the pool processes fork."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith("sqlite3"):
        database["CONN_MAX_AGE"] = settings.CELERY_WORKER_CONN_MAX_AGE


@task_prerun.connect
@task_postrun.connect
def close_old_database_connections(**kwargs):
    """Per task, what Django does per request: keep the connection for CONN_MAX_AGE, drop it when broken.

    Celery's own Django fixup would close it around every task (CELERY_DB_REUSE_MAX unset), and opening
    a PostgreSQL connection costs more than a whole fan-out task.
    """
    from django.db import close_old_connections

    close_old_connections()
