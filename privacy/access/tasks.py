from celery import shared_task

from privacy.models import AccessRequest


@shared_task(name="privacy.access_request_fulfil")
def access_request_fulfil_task(access_request_id: int) -> str:
    """Prepare an access request's ZIP in its institution's schema; returns its status.
    Idempotent: only a pending request is worked on."""
    from privacy.access.services import access_request_fulfil

    access_request = AccessRequest.objects.filter(pk=access_request_id).first()
    if access_request is None:
        return "missing"
    return access_request_fulfil(access_request=access_request).status
