from django.apps import AppConfig


class RegenerationConfig(AppConfig):
    name = "regeneration"
    verbose_name = "Default password regeneration"

    def ready(self) -> None:
        # Register, as Django's own apps register signal receivers: the tasks with Celery in
        # every process, the web app's included (the lifecycle dispatches them by name); what
        # requests did to a student with the student's history; the passwords outcomes keep
        # with key rotation.
        from . import history, key_rotation, tasks  # noqa: F401
