from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "people"
    verbose_name = "Directory"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .student_auth import student_session_drop_on_staff_sign_in

        user_logged_in.connect(
            student_session_drop_on_staff_sign_in, dispatch_uid="people.student_session_drop"
        )
