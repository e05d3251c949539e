from django.apps import AppConfig


class RegenerationConfig(AppConfig):
    name = "regeneration"
    verbose_name = "Default password regeneration"

    def ready(self) -> None:
        # Register the tasks with Celery in every process, the web app's included (the
        # lifecycle dispatches them by name), and what requests did to a student with the
        # student's history, as Django's own apps register signal receivers.
        from . import history, tasks  # noqa: F401
