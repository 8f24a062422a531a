"""What learners tells the apps above it, which it may not import (enrolments, sponsors):
they connect receivers in their AppConfig.ready."""

from django.dispatch import Signal

# A learner gave or withdrew a consent (learners.services.consent_record), inside its
# transaction. Arguments: learner, kind, given, actor.
learner_consent_changed = Signal()

# A learner changed facts a verified identity document vouches for (their ID or passport
# number, date of birth, gender), inside the change's transaction. Arguments: learner, fields,
# actor. A receiver returns how many documents it sent back for review.
learner_verified_facts_changed = Signal()

# Another record of the same person was merged into `learner` (learners.services.learner_merge):
# its enrolments and documents are the learner's now, inside the merge's transaction.
# Arguments: learner, actor.
learner_merged = Signal()

# A learner's ID or passport number changed (learners.services.learner_details_save), inside
# the change's transaction: what was sent, or waits to be sent, with the old one is built
# again. Arguments: learner, actor.
learner_national_id_changed = Signal()
