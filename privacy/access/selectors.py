from django.db.models import QuerySet

from learners.models import Learner
from privacy.models import AccessRequest


def access_request_for_page(pk: int) -> AccessRequest:
    return AccessRequest.objects.select_related("learner", "requested_by").get(pk=pk)


def access_requests_of(learner: Learner) -> QuerySet[AccessRequest]:
    """The learner's access requests, newest first, for their page."""
    return AccessRequest.objects.filter(learner=learner).select_related("requested_by")
