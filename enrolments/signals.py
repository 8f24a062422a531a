"""What an enrolment's life tells the apps built on enrolments (delivery), which connect their
receivers in their AppConfig.ready: enrolments sits below them and never imports them. Each
signal is sent inside the transaction of the change, so a receiver's writes commit or roll
back with it."""

from django.dispatch import Signal

# A learner has just been withdrawn from their cohort (kwargs: enrollment, actor).
enrollment_withdrawn = Signal()
