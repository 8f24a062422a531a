from django.apps import AppConfig


class EnrolmentsConfig(AppConfig):
    name = "enrolments"
    verbose_name = "Enrolments"
