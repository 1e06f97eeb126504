"""Shareloop's QA client kit: ``ShareloopClient``, ``wait_for`` and ``wait_until_quiet``, and a pytest plugin."""

from .client import ApiError, DeliveryTimeout, ShareloopClient, wait_for, wait_until_quiet

__all__ = ["ApiError", "DeliveryTimeout", "ShareloopClient", "wait_for", "wait_until_quiet"]
