from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Roles and request catalog"

    def ready(self) -> None:
        # Register the expiry sweep with Celery in every process, as regeneration does.
        from . import tasks  # noqa: F401
