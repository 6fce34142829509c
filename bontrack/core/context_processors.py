from __future__ import annotations

from django.http import HttpRequest


def clinic(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not getattr(user, "is_staff_member", False):
        return {}
    if user.requires_mfa() and not user.is_verified():
        # Signed in, second factor not yet given: no navigation (every page but the 2FA one would
        # send them back to it; the co-signature badge's request would loop through it).
        return {"mfa_pending": True}
    roles = user.roles()
    # Which of the header's links are a role's everyday ones (base.html; the rest go under "More").
    nav = {
        "phys": "physician" in roles,
        "nurse": "nurse" in roles,
        "desk": "front_desk" in roles,
        "bill": "billing" in roles,
        "admin": "clinic_admin" in roles,
    }
    return {"staff_roles": user.role_labels(), "nav": nav}
