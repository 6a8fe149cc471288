"""Messages to reporters, in Bahasa Indonesia: one per stage, short enough for one or two SMS.

On WhatsApp, business-initiated messages must use a template approved by Meta. We use one
template (`SIAGA112_WHATSAPP_TEMPLATE`, language `id`) whose body is
"Siaga 112 PPU: {{1}} Tiket {{2}}. Pantau: {{3}}" with {{1}} the stage sentence below.
Register it under that name in WhatsApp Manager before turning WhatsApp on.
"""
from __future__ import annotations

SENTENCES = {
    "received": "Laporan Anda sudah kami terima dan segera diperiksa petugas.",
    "verified": "Laporan Anda sudah diverifikasi petugas 112.",
    "forwarded": "Laporan Anda sudah diteruskan ke {agency}.",
    "acknowledged": "{agency} sudah menerima laporan Anda dan menyiapkan penanganan.",
    "en_route": "Unit {agency} sedang menuju lokasi.",
    "on_scene": "Unit {agency} sudah tiba di lokasi.",
    "closed": "Penanganan laporan Anda sudah selesai. Terima kasih.",
    "cancelled": "Laporan Anda ditutup oleh petugas.",
    "transferred": "Laporan Anda dialihkan ke layanan darurat lain yang berwenang.",
}
SMS_FOOTER = " Balas BERHENTI untuk berhenti menerima kabar."
DEFAULT_AGENCY = "instansi terkait"


def sentence(stage: str, agency: str | None) -> str:
    return SENTENCES[stage].format(agency=agency or DEFAULT_AGENCY)


def render_sms(stage: str, *, ticket: str, url: str, agency: str | None) -> str:
    # Every text says how to stop them: the reader may not be the one who asked for them.
    return f"Siaga 112 PPU: {sentence(stage, agency)} Tiket {ticket}. Pantau: {url}" + SMS_FOOTER


def whatsapp_parameters(stage: str, *, ticket: str, url: str, agency: str | None) -> list[str]:
    return [sentence(stage, agency) + SMS_FOOTER, ticket, url]
