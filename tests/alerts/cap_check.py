"""Checking a CAP document: the schema model, and the rules a schema cannot state."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from xml.etree import ElementTree as ET

import xmlschema

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}


@lru_cache(maxsize=1)
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(Path(__file__).with_name("cap_1_2_model.xsd"))


def valid_cap(xml: bytes) -> ET.Element:
    """The parsed <alert>, after the schema and the polygon and references rules passed."""
    schema().validate(xml)  # raises with the failing element named
    root = ET.fromstring(xml)
    for polygon in root.iterfind(".//cap:polygon", NS):
        points = polygon.text.split()
        assert len(points) >= 4 and points[0] == points[-1], "a CAP polygon is closed"
    refs = root.findtext("cap:references", namespaces=NS)
    if refs:
        for ref in refs.split():
            assert len(ref.split(",")) == 3, "each reference is sender,identifier,sent"
    return root


def text(root: ET.Element, path: str) -> str | None:
    return root.findtext(path, namespaces=NS)
