"""Sign-ins and failed sign-ins on the sign-in page and the admin's, as Django announces
them (its login views have no other hook): each one becomes an audit record."""

from django.contrib.auth.signals import user_logged_in, user_login_failed

from inbox.audit.models import AuditAction
from inbox.audit.records import AuditActor, audit_record
from inbox.client_addresses import request_client_address
from inbox.models import User


def _signed_in(sender, request, user, **kwargs) -> None:
    if request is None:
        return
    audit_record(
        action=AuditAction.LOGIN,
        actor=AuditActor(user=user, address=request_client_address(request)),
        target_type="operator",
        target_id=user.pk,
        # The two-step sign-in says where it started and which second step it took.
        details=getattr(request, "sign_in_details", None) or {"via": _via(request)},
    )


def _sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    if request is None:
        return
    # The username as typed: cleaned of what PostgreSQL cannot store, as anyone may type it.
    typed = str(credentials.get("username") or "")[:150]
    typed = typed.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    user = User.objects.filter(username=typed).first() if typed else None
    audit_record(
        action=AuditAction.LOGIN_FAILED,
        actor=AuditActor(user=user, address=request_client_address(request)),
        actor_username=typed,
        target_type="operator",
        target_id=user.pk if user else "",
        details={"via": _via(request)},
    )


def _via(request) -> str:
    return "admin" if request.path.startswith("/admin/") else "login"


def connect() -> None:
    user_logged_in.connect(_signed_in, dispatch_uid="inbox.audit.signed_in")
    user_login_failed.connect(_sign_in_failed, dispatch_uid="inbox.audit.sign_in_failed")
