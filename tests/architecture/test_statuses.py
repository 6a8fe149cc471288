"""Statuses are defined once: what the API accepts is what the state machine knows."""
from __future__ import annotations

from typing import get_args

from siaga112.incidents.schemas import ProgressBody
from siaga112.models.status import PROGRESS_STEPS


def test_the_progress_body_accepts_exactly_the_progress_steps():
    accepted = get_args(ProgressBody.model_fields["status"].annotation)
    assert tuple(accepted) == tuple(str(s) for s in PROGRESS_STEPS)
