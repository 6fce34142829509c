"""Core test fixtures: a real SMTP server for the outbox tests."""

from bontrack.core.tests.smtp import smtp_server  # noqa: F401 - the aiosmtpd fixture
