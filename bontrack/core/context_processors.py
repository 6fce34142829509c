from __future__ import annotations

from django.http import HttpRequest


def clinic(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not getattr(user, "is_staff_member", False):
        return {}
    return {"staff_roles": user.role_labels()}
