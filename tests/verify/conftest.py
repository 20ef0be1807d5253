"""The sandbox campaign of tests/verify/campaign.py, as fixtures."""

from tests.verify.campaign import clock, sandbox  # noqa: F401
