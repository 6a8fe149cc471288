"""Write an SOP back as YAML in the format of the packaged file, so `siaga112 sop check` reads it."""
from __future__ import annotations

import io

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from .schemas import Sop

HEADER = ("# SOP of Call Center Siaga 112, exported from the administration console.\n"
          "# Same format as src/siaga112/data/sop/ppu.yaml; check it with `siaga112 sop check FILE`.\n"
          "# Times are seconds. Priorities: 1 = life-threatening.\n")


def _flow_map(**items) -> CommentedMap:
    m = CommentedMap(items)
    m.fa.set_flow_style()
    return m


def _flow_seq(items) -> CommentedSeq:
    s = CommentedSeq(items)
    s.fa.set_flow_style()
    return s


def dump_sop(sop: Sop) -> str:
    """The SOP as YAML text; parsing it again gives an equal `Sop`."""
    doc = CommentedMap()
    doc["version"] = sop.version
    doc["regency"] = CommentedMap(code=sop.regency_code, name=sop.regency_name,
                                  timezone=sop.timezone, bbox=_flow_seq(list(sop.bbox)))
    doc["command_agency"] = sop.command_agency
    prios = CommentedMap()
    for level, p in sorted(sop.priorities.items()):
        prios[level] = _flow_map(label=_flow_map(id=p.label_id, en=p.label_en),
                                 ack_seconds=p.ack_seconds, dispatch_seconds=p.dispatch_seconds)
    doc["priorities"] = prios
    agencies = CommentedSeq()
    for a in sop.agencies.values():
        entry = _flow_map(code=a.code, name=a.name)
        if a.role:
            entry["role"] = a.role
        if a.external:
            entry["external"] = True
        agencies.append(entry)
    doc["agencies"] = agencies
    types = CommentedSeq()
    for t in sop.incident_types.values():
        entry = CommentedMap()
        entry["code"] = t.code
        entry["name"] = _flow_map(id=t.name_id, en=t.name_en)
        entry["priority"] = t.priority
        entry["lead"] = t.lead
        entry["support"] = _flow_seq(list(t.support))
        entry["keywords"] = _flow_seq(list(t.keywords))
        if t.sensitive:
            entry["sensitive"] = True
        types.append(entry)
    doc["incident_types"] = types

    yaml = YAML(typ="rt")
    yaml.width = 4096  # one type's keywords stay on one line, as in the packaged file
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    out.write(HEADER)
    yaml.dump(doc, out)
    return out.getvalue()
