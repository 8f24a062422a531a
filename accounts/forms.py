from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.urls import reverse

from accounts.lists import FilterForm
from accounts.models import Role, User
from accounts.roles import catalogue_by_area


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="E-mail address",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": "That e-mail address and password do not match an account here.",
        "inactive": "This account has been deactivated.",
    }


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, sending through our outbox instead of directly; a deleted account
    gets no link (it stays active, so Django's own filter lets it through)."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if user.deleted_at is None)

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ) -> None:
        from notifications.services import email_enqueue

        email_enqueue(
            recipient=to_email,
            template="password_reset",
            context={
                "reset_url": "{}://{}{}".format(
                    context["protocol"],
                    context["domain"],
                    reverse(
                        "accounts:password_reset_confirm",
                        kwargs={"uidb64": context["uid"], "token": context["token"]},
                    ),
                ),
                "full_name": context["user"].full_name,
            },
        )


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(max_length=200, label="Your full name")
    password1 = forms.CharField(
        label="Choose a password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Repeat the password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["full_name"].initial = user.full_name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords differ.")
        elif password1:
            try:
                password_validation.validate_password(password1, self.user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class RolesField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs) -> None:
        super().__init__(queryset=Role.objects.order_by("-system_role", "name"), **kwargs)

    def label_from_instance(self, obj: Role) -> str:
        return obj.name


class UserInviteForm(forms.Form):
    full_name = forms.CharField(max_length=200, label="Full name")
    email = forms.EmailField(label="E-mail address")
    roles = RolesField(help_text="A person may hold several roles.")


class UserRolesForm(forms.Form):
    roles = RolesField()


class PeopleFilterForm(FilterForm):
    q = forms.CharField(
        required=False,
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Name or e-mail"}),
    )
    role = forms.ChoiceField(required=False)
    status = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Any status"),
            ("active", "Active"),
            ("invited", "Invited"),
            ("inactive", "Deactivated"),
            ("deleted", "Deleted"),
        ],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A system role by its key (links that name "auditor" keep working), a custom one by id.
        self.fields["role"].choices = [  # type: ignore[attr-defined]
            ("", "Any role"),
            *((role.key or str(role.pk), role.name) for role in Role.objects.order_by("name")),
        ]


class RoleForm(forms.Form):
    """A role's name, description and permissions, chosen from the catalogue by area. A system
    role's name stays; the permissions it needs are shown ticked and cannot be unticked."""

    name = forms.CharField(max_length=100, label="Name")
    description = forms.CharField(
        required=False,
        label="Description",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What people with this role do, in a sentence.",
    )
    permissions = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="What the role may do"
    )

    def __init__(self, *args, role: Role | None = None, required: frozenset[str] = frozenset(),
                 **kwargs) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.areas = catalogue_by_area()
        self.required = required
        self.fields["permissions"].choices = [  # type: ignore[attr-defined]
            (entry.code, entry.sentence) for _area, entries in self.areas for entry in entries
        ]
        if role is not None and role.system_role:
            self.fields["name"].disabled = True

    def clean_permissions(self) -> list[str]:
        return sorted(set(self.cleaned_data["permissions"]) | self.required)

    def area_choices(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """The permission checkboxes grouped by area, for the template."""
        chosen = set(self["permissions"].value() or []) | self.required
        return [
            (
                area,
                [
                    {
                        "code": entry.code,
                        "sentence": entry.sentence,
                        "checked": entry.code in chosen,
                        "required": entry.code in self.required,
                        "id": "perm-" + entry.code.replace(".", "-"),
                    }
                    for entry in entries
                ],
            )
            for area, entries in self.areas
        ]
