"""A register opened before someone else saved it: the marks left as the page showed them are
not applied (the other save stands), and a mark changed on a record that changed since the
page was opened is refused, naming the learner."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from delivery.models import AttendanceRecord
from delivery.services.attendance import Mark, register_correct, register_save, register_sign_off
from tests.delivery.attendance.support import all_marked
from tests.delivery.page_forms import form_as_posted

pytestmark = pytest.mark.django_db


def statuses(session) -> dict[int, str]:
    return dict(
        AttendanceRecord.objects.filter(session=session).values_list("enrolment_id", "status")
    )


def test_a_stale_register_page_leaves_another_save_alone(client_of, trainer, session, learners):
    client = client_of(trainer.user)
    url = reverse("delivery:register", args=[session.pk])
    opened = form_as_posted(client.get(url).content.decode())
    first, second = learners[0], learners[1]
    assert opened[f"was-{first.pk}"] == "unknown"
    register_save(session=session, actor=trainer.user, marks={first.pk: Mark("absent", "Ill")})

    response = client.post(url, {**opened, f"status-{second.pk}": "late", "action": "save"})
    assert response.status_code == 302
    assert statuses(session) == {first.pk: "absent", second.pk: "late"}

    refused = client.post(url, {**opened, f"status-{first.pk}": "present", "action": "save"})
    assert refused.status_code == 400
    assert "mark changed since you opened the register: reload it" in refused.content.decode()
    assert statuses(session)[first.pk] == "absent"


def test_a_stale_correction_is_refused_and_nothing_written(trainer, session, learners):
    register_save(session=session, actor=trainer.user, marks=all_marked(learners))
    register_sign_off(session=session, actor=trainer.user)
    first, second = learners[0], learners[1]
    register_correct(
        session=session,
        actor=trainer.user,
        marks={first.pk: Mark("late")},
        change_reason="Came in at ten",
    )
    with pytest.raises(ValidationError, match="mark changed since you opened the register"):
        register_correct(
            session=session,
            actor=trainer.user,
            marks={
                first.pk: Mark("absent", seen=("present", "")),
                second.pk: Mark("absent", seen=("present", "")),
            },
            change_reason="Left early",
        )
    assert statuses(session)[first.pk] == "late"
    assert statuses(session)[second.pk] == "present"
