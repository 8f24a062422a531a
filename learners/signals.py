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
