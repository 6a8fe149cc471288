"""The SOP steps an agency follows for an incident type, derived from the SOP's own rules.

The packaged SOP gives lead, support and deadlines per type, not prose; the steps below are those
rules read as a checklist, so they change when an administrator changes the SOP.
"""
from __future__ import annotations

from siaga112.sop.schemas import IncidentType, Sop


def _minutes(seconds: int) -> str:
    return f"{seconds // 60} menit" if seconds >= 60 else f"{seconds} detik"


def steps_for(sop: Sop, itype: IncidentType, priority: int, agency_code: str | None) -> list[str]:
    """Steps in Bahasa Indonesia for the agency looking at the incident (or the command center)."""
    p = sop.priorities.get(priority) or sop.priorities[itype.priority]
    is_lead = agency_code == itype.lead
    steps = [f"Terima (akui) penugasan dalam {_minutes(p.ack_seconds)} sejak laporan masuk."]
    if agency_code is None or is_lead:
        steps.append(f"{itype.lead} memimpin penanganan: kirim unit, tiba di lokasi dalam "
                     f"{_minutes(p.dispatch_seconds)}.")
        if itype.support:
            steps.append("Koordinasikan dinas pendukung: " + ", ".join(itype.support) + ".")
    else:
        steps.append(f"Dukung {itype.lead} sesuai kewenangan dinas sendiri; jangan mengambil alih "
                     "komando.")
    steps += [
        "Perbarui status: dalam perjalanan, tiba di lokasi, selesai.",
        "Tulis catatan publik untuk pelapor (tanpa data pribadi).",
        "Bukan kewenangan dinas ini? Tolak dengan alasan agar pusat komando mengalihkan.",
        f"Perlu dinas lain? Minta bantuan; eskalasi ke {sop.command_agency} bila tenggat terlewati.",
    ]
    return steps
