"""What the data protection jobs do to placements' records of a learner when the learner is
anonymised: the free text written about their placements and vetting (which may tell of a
conviction or an illness), the certificates' numbers, the vetting evidence (files deleted from
storage) and where they live. Statuses, dates and organisations stay, for the counts. Composed
inside the job's transaction (not durable); the job checks the permission and records the run."""

from audit.services import CHANGED, audit_record
from learners.models import Learner
from placements.models import LearnerLocation, Placement, VettingEvidence, VettingRecord
from signing.services.retention import ERASED
from tenants.storage import file_delete_on_commit


def learner_placements_erase(*, learner: Learner) -> None:
    """Erase what placements hold about `learner`. A reason some state requires (a failed
    check, a terminated placement) becomes ERASED, so that the row still says one was given."""
    placements = Placement.objects.filter(learner=learner)
    placements.update(outcome_notes="")
    placements.exclude(end_reason="").update(end_reason=ERASED)
    records = VettingRecord.objects.filter(learner=learner)
    records.update(reference="")
    records.exclude(reason="").update(reason=ERASED)
    evidence = VettingEvidence.objects.filter(record__in=records)
    for item in evidence.exclude(file=""):
        file_delete_on_commit(item.file.storage, item.file.name or "")
    evidence_count, _by_model = evidence.delete()
    LearnerLocation.objects.filter(learner=learner).delete()
    audit_record(
        action="placements.personal_data_erased",
        entity=learner,
        new_values={
            "placements": placements.count(),
            "vetting_records": records.count(),
            "vetting_evidence": evidence_count,
            "notes": CHANGED,
        },
    )
