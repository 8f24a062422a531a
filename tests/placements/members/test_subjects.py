"""The subject tree: a parent that would make a cycle is refused with the cycle's path (itself,
two subjects, a longer chain), so is a parent of the other phase; deactivating is refused while
subjects sit within it or placements in it are open; a subject that preferences or placements
refer to keeps its code and phase."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from academics.prerequisites import cycle_message
from accounts.models import SystemRole
from audit.models import AuditEvent
from learners.models import Learner
from placements.models import Placement, PlacementSubject
from placements.services.subjects import subject_create, subject_deactivate, subject_update
from tests.factories import UserFactory
from tests.placements.factories import OrganisationFactory, academic_year, preference, subject
from tests.placements.members.calendar_years import NEXT

pytestmark = pytest.mark.django_db


def _move(actor, code: str, parent_code: str | None) -> PlacementSubject:
    moved = subject(code)
    return subject_update(
        actor=actor,
        subject=moved,
        name=moved.name,
        code=moved.code,
        phase=moved.phase,
        parent=subject(parent_code) if parent_code else None,
    )


def _refusal(actor, code: str, parent_code: str) -> str:
    with pytest.raises(ValidationError) as refused:
        _move(actor, code, parent_code)
    return refused.value.message_dict["parent"][0]


def test_a_subject_cannot_be_within_itself(admin):
    assert _refusal(admin, "LANG", "LANG") == "Languages cannot be within itself."
    assert subject("LANG").parent is None


def test_a_two_subject_cycle_is_refused_with_its_path(admin):
    # Modern foreign languages sits within Languages.
    assert _refusal(admin, "LANG", "MFL") == (
        "That would make a cycle: Languages is within Modern foreign languages, "
        "which is within Languages."
    )
    assert subject("LANG").parent is None


def test_a_long_cycle_is_refused_with_its_whole_path(admin):
    # French within Modern foreign languages within Languages.
    assert _refusal(admin, "LANG", "FRE") == (
        "That would make a cycle: Languages is within French, which is within Modern foreign "
        "languages, which is within Languages."
    )
    assert not AuditEvent.objects.filter(action="placement_subject.updated").exists()


def test_a_parent_of_the_other_phase_is_refused(admin):
    message = _refusal(admin, "MATH", "PRI-GEN")
    assert message == (
        "Primary general is a primary subject; Mathematics is secondary: a subject sits within "
        "one of its own phase."
    )


def test_a_subject_moves_to_a_parent_that_closes_no_cycle(admin):
    moved = _move(admin, "FRE", "LANG")

    assert moved.parent == subject("LANG")
    event = AuditEvent.objects.get(action="placement_subject.updated")
    assert event.old_values["parent_id"] == subject("MFL").pk
    assert event.new_values["parent_id"] == subject("LANG").pk


def test_cycle_message_still_reads_as_prerequisites_by_default():
    assert (
        cycle_message(["A", "B", "A"]) == "That would make a cycle: A requires B, which requires A."
    )


def test_a_new_subject_gets_an_upper_case_unique_code(admin):
    made = subject_create(
        actor=admin, name="Portuguese", code=" por ", phase="secondary", parent=subject("MFL")
    )
    assert made.code == "POR"
    assert AuditEvent.objects.get(action="placement_subject.created").new_values["code"] == "POR"

    with pytest.raises(ValidationError) as refused:
        subject_create(actor=admin, name="Portuguese again", code="Por", phase="secondary")
    assert "code" in refused.value.message_dict


def test_a_subject_under_an_inactive_parent_is_refused(admin):
    subject_deactivate(actor=admin, subject=subject("FRE"))

    with pytest.raises(ValidationError, match="no longer in use"):
        subject_create(
            actor=admin, name="Creole", code="CRE", phase="secondary", parent=subject("FRE")
        )


def test_changing_the_phase_of_a_subject_with_subjects_within_is_refused(admin):
    lang = subject("LANG")
    with pytest.raises(ValidationError) as refused:
        subject_update(
            actor=admin, subject=lang, name=lang.name, code=lang.code, phase="primary", parent=None
        )
    assert "other phase" in refused.value.message_dict["phase"][0]


def test_deactivating_a_subject_with_active_subjects_within_is_refused(admin):
    with pytest.raises(ValidationError) as refused:
        subject_deactivate(actor=admin, subject=subject("MFL"))

    assert refused.value.messages == [
        "Modern foreign languages has subjects within it (French): deactivate or move them first."
    ]
    assert subject("MFL").is_active


def test_deactivating_a_subject_with_an_open_placement_is_refused(admin):
    year = academic_year(str(NEXT))
    Placement.objects.create(
        learner=Learner.objects.create(first_name="Sipho"),
        organisation=OrganisationFactory(),
        academic_year=year,
        subject=subject("FRE"),
        starts_on=datetime.date(NEXT, 2, 1),
        ends_on=datetime.date(NEXT, 3, 1),
    )

    with pytest.raises(ValidationError, match="French has 1 open placement"):
        subject_deactivate(actor=admin, subject=subject("FRE"))


def test_a_leaf_subject_is_deactivated_and_audited(admin):
    subject_deactivate(actor=admin, subject=subject("FRE"))

    assert not subject("FRE").is_active
    assert (
        AuditEvent.objects.get(action="placement_subject.deactivated").new_values["is_active"]
        is False
    )


def test_only_those_who_manage_organisations_change_subjects(institution):
    member = UserFactory(roles=[SystemRole.ORGANISATION_MEMBER])

    with pytest.raises(PermissionDenied):
        subject_deactivate(actor=member, subject=subject("FRE"))
    assert subject("FRE").is_active


def _change(actor, of: str, **changes) -> PlacementSubject:
    changed = subject(of)
    fields = {
        "name": changed.name,
        "code": changed.code,
        "phase": changed.phase,
        "parent": changed.parent,
        **changes,
    }
    return subject_update(actor=actor, subject=changed, **fields)


def test_the_code_of_a_subject_offered_in_a_preference_stays(admin):
    preference(OrganisationFactory(), academic_year(str(NEXT)), places={("MATH", "secondary"): 3})

    with pytest.raises(ValidationError) as refused:
        _change(admin, "MATH", code="MATHS")

    assert refused.value.message_dict == {
        "code": [
            "Mathematics is in use (1 preference): its code and phase stay MATH and secondary, "
            "as organisations' preferences record them. Change its name or parent, or add a new "
            "subject and deactivate this one."
        ]
    }
    assert subject("MATH").name == "Mathematics"
    renamed = _change(admin, "MATH", name="Maths")
    assert renamed.name == "Maths"
    assert not AuditEvent.objects.filter(new_values__code="MATHS").exists()


def test_the_phase_of_a_subject_with_placements_stays(admin):
    Placement.objects.create(
        learner=Learner.objects.create(first_name="Sipho"),
        organisation=OrganisationFactory(),
        academic_year=academic_year(str(NEXT)),
        subject=subject("FRE"),
        starts_on=datetime.date(NEXT, 2, 1),
        ends_on=datetime.date(NEXT, 3, 1),
    )

    with pytest.raises(ValidationError) as refused:
        _change(admin, "FRE", code="fr", phase="primary", parent=None)

    assert set(refused.value.message_dict) == {"code", "phase"}
    assert "French is in use (1 placement)" in refused.value.message_dict["phase"][0]
    assert subject("FRE").phase == "secondary"


def test_an_unused_subject_changes_code_and_phase(admin):
    changed = _change(admin, "FRE", code="fr", phase="primary", parent=None)

    assert (changed.code, changed.phase) == ("FR", "primary")
