"""CAP 1.2 messages as BMKG publishes them (two languages, polygon areas), for the tests of the
warnings the command centre receives."""
from __future__ import annotations

# Around Sepaku (the kecamatan's centre is near -0.9, 116.8); and one far away, over Jakarta.
SEPAKU_BOX = "-0.95,116.75 -0.95,116.90 -0.85,116.90 -0.85,116.75 -0.95,116.75"
JAKARTA_BOX = "-6.30,106.70 -6.30,106.90 -6.10,106.90 -6.10,106.70 -6.30,106.70"


def cap(identifier: str, *, headline: str, area: str, polygon: str | None = None, msg_type: str = "Alert",
        references: str | None = None, sent: str = "2026-11-20T14:00:00+07:00") -> str:
    refs = f"<references>{references}</references>" if references else ""
    shape = f"<polygon>{polygon}</polygon>" if polygon else ""
    info = lambda lang, text: f"""<info><language>{lang}</language><category>Met</category>
        <event>Hujan Lebat</event><urgency>Immediate</urgency><severity>Moderate</severity>
        <certainty>Likely</certainty><expires>2099-11-20T20:00:00+07:00</expires>
        <senderName>BMKG</senderName><headline>{text}</headline>
        <description>Hujan lebat disertai kilat dan angin kencang.</description>
        <instruction>Waspada banjir dan pohon tumbang.</instruction>
        <area><areaDesc>{area}</areaDesc>{shape}</area></info>"""  # noqa: E731
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>{identifier}</identifier>
<sender>bmkg@bmkg.go.id</sender><sent>{sent}</sent><status>Actual</status><msgType>{msg_type}</msgType>
<scope>Public</scope>{refs}{info("en-US", "Heavy rain " + headline)}{info("id-ID", headline)}</alert>"""
