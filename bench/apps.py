from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "bench"

    def ready(self):
        from celery.signals import before_task_publish

        from .tasks import count_broker_message

        # Every process running the bench settings (web, worker, runner) counts what it sends to the broker.
        before_task_publish.connect(count_broker_message, weak=False, dispatch_uid="bench_count_published")
