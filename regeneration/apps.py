from django.apps import AppConfig


class RegenerationConfig(AppConfig):
    name = "regeneration"
    verbose_name = "Default password regeneration"
