"""What a cohort's life tells the apps built on cohorts (enrolments, sponsors), which connect
their receivers in their AppConfig.ready: cohorts sits below them and never imports them.
Every signal is sent inside the transaction of the change, so a receiver's writes commit or
roll back with it; a receiver schedules its side effects after commit."""

from django.dispatch import Signal

# The cohort has just been activated (kwargs: cohort, actor).
cohort_activated = Signal()
# The cohort has just been completed, normally or forcibly (kwargs: cohort, actor).
cohort_completed = Signal()
# The agreements about the cohort no longer apply (it ended, or its main agreement changed):
# each receiver revokes the pending ones about its own objects (kwargs: cohort, actor, reason).
cohort_agreements_ended = Signal()
# Asked before a cohort completes: each receiver returns a list of reasons it may not yet,
# such as "3 enrolment(s) are not complete" (kwargs: cohort). Receivers answer in the order
# of INSTALLED_APPS.
cohort_completion_blockers_asked = Signal()
# Asked by the start page for what is waiting in some open cohorts (kwargs: cohorts, a list of
# Cohort; user, who asks): each receiver returns {cohort pk: [CohortWorkItem, ...]} for its own
# kind of work, in a number of queries that does not grow with the number of cohorts.
cohort_work_asked = Signal()
