"""Password rules as Django checks them, worded for the forms: the help under a password field
lists every rule, so an error says only which one the password breaks."""

from django.contrib.auth import password_validation


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_error_message(self) -> str:
        # The help says how long it must be ("at least 10 characters"); not said twice.
        return "This password is too short."
