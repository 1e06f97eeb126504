"""Scenario files: users, steps and the inboxes they must produce. Format: docs/qa.md and schema.py."""

from .loading import Scenario, scenario_load
from .runner import Check, ScenarioRun
from .schema import SCHEMA, ScenarioFormatError

__all__ = ["SCHEMA", "Check", "Scenario", "ScenarioFormatError", "ScenarioRun", "scenario_load"]
