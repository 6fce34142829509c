"""Playwright: an administrator signs in, is forced through 2FA, and issues a read-only token after
a step-up code."""

from __future__ import annotations

import time
from base64 import b32decode

import pytest
from django_otp.oath import totp

from bontrack.accounts.models import ApiToken
from bontrack.browser import chromium_page
from bontrack.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def code(secret: str, drift: int = 0) -> str:
    key = b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key, drift=drift):06d}"


def test_admin_is_forced_through_2fa_and_issues_a_read_only_token_after_step_up(
    world, live_server, settings
):
    settings.MFA_STEP_UP_SECONDS = 2
    with chromium_page() as page:
        page.goto(f"{live_server.url}/accounts/api-tokens/")
        page.wait_for_url("**/accounts/login/**")
        page.get_by_label("Username").fill("clinicadmin")
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/accounts/2fa/**")  # forced through 2FA before the token page
        secret = page.get_by_test_id("totp-secret").inner_text()
        page.get_by_label("Six-digit code").fill(code(secret))
        page.get_by_role("button", name="Verify").click()
        page.wait_for_url("**/accounts/api-tokens/")

        time.sleep(3)  # the sign-in code is now older than the step-up window
        page.get_by_label("Staff account").select_option(str(world.users["nurse"].pk))
        page.get_by_label("Integration name").fill("Lab results feed")
        page.get_by_label("Access").select_option("read")
        page.get_by_label("Valid for (days)").fill("30")
        page.get_by_role("button", name="Issue token").click()
        page.wait_for_url("**/accounts/step-up/**")
        page.get_by_label("Six-digit code").fill(code(secret, drift=1))  # a later code
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_url("**/accounts/api-tokens/")
        assert "Confirmed" in page.get_by_role("status").first.inner_text()

        # The form is filled in again as it was: issue it now.
        assert page.get_by_label("Integration name").input_value() == "Lab results feed"
        assert page.get_by_label("Valid for (days)").input_value() == "30"
        page.get_by_role("button", name="Issue token").click()
        assert page.get_by_test_id("new-token").inner_text().startswith("bt_")
        row = page.get_by_test_id("token-row").filter(has_text="Lab results feed")
        assert "Read only" in row.inner_text() and "Active" in row.inner_text()
    token = ApiToken.objects.get()
    assert token.scope == "read" and token.user.username == "nurse"
