"""What every action needs besides its transaction: settings, database, SOP, classifier, places."""
from __future__ import annotations

from dataclasses import dataclass

from siaga112.classify.engine import Classifier
from siaga112.config import Settings
from siaga112.db import Database
from siaga112.events import LocalBus
from siaga112.geo.gazetteer import Gazetteer
from siaga112.sop.schemas import Sop


@dataclass
class Context:
    settings: Settings
    db: Database
    sop: Sop
    classifier: Classifier
    gazetteer: Gazetteer
    bus: LocalBus
    # Revision of the stored SOP that `sop` and `classifier` were built from (see sop/reload.py).
    sop_revision: int = 0
