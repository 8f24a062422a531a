"""What an enrolment's life tells the apps built on enrolments (delivery, finance), which
connect their receivers in their AppConfig.ready: enrolments sits below them and never imports
them. Each signal is sent inside the transaction of the change, so a receiver's writes commit
or roll back with it."""

from django.dispatch import Signal

# A learner has just been withdrawn from their cohort (kwargs: enrollment, actor).
enrollment_withdrawn = Signal()

# A student's first step started their enrolment: it is now in progress (kwargs: enrollment,
# actor, the student). Finance accrues the commission of the partner who brought them.
enrollment_started = Signal()
