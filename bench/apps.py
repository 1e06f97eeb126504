from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "bench"

    def ready(self):
        from celery.signals import task_received

        from .tasks import count_broker_message

        # Counted where every message ends up, the worker's consumer, as it takes it from Redis: counting in
        # the publishers (before_task_publish) put a Redis INCR into every share POST figure 6 measures.
        task_received.connect(count_broker_message, weak=False, dispatch_uid="bench_count_published")
