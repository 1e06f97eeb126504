import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

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


@task_prerun.connect
@task_postrun.connect
def close_old_database_connections(**kwargs):
    """Per task, what Django does per request: keep the connection for CONN_MAX_AGE, drop it when broken.

    Celery's own Django fixup would close it around every task (CELERY_DB_REUSE_MAX unset), and opening
    a PostgreSQL connection costs more than a whole fan-out task.
    """
    from django.db import close_old_connections

    close_old_connections()
