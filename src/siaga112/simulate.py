"""Synthetic 112 traffic for a running server: mostly pranks, silence and questions, a few emergencies."""
from __future__ import annotations

import asyncio
import heapq
import math
import random
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from siaga112.geo.gazetteer import Gazetteer, Place, default_gazetteer
from siaga112.phone import normalise_phone

OUTCOMES = ("prank", "silent", "information", "misdial", "out_of_area", "emergency")
# Purworejo logged 41 % pranks, 42 % silent calls, 16 % questions and 1 % real incidents; Jakarta
# 23 % pranks. The defaults sit between the two, with more emergencies than Purworejo so that a
# run of a few seconds still exercises classification and routing.
DEFAULT_MIX: dict[str, float] = {"prank": 0.35, "silent": 0.35, "information": 0.15,
                                 "misdial": 0.05, "out_of_area": 0.02, "emergency": 0.08}
MAX_REQUESTS = 200_000
MAX_IN_FLIGHT = 1_000
DECK_SIZE = 50
MAX_DECK_SIZE = 10_000
API = "/api/v1"

# Mobile prefixes (after +62) weighted roughly by operator share in Kalimantan, Telkomsel first.
_PREFIXES = (
    ("811", 3), ("812", 8), ("813", 8), ("821", 6), ("822", 6), ("823", 4), ("851", 2),
    ("852", 6), ("853", 5),
    ("814", 1), ("815", 2), ("816", 1), ("855", 1), ("856", 3), ("857", 3), ("858", 2),
    ("817", 2), ("818", 2), ("819", 2), ("859", 1), ("877", 2), ("878", 2),
    ("831", 1), ("838", 1),
    ("895", 2), ("896", 2), ("897", 1), ("898", 1), ("899", 1),
    ("881", 1), ("882", 1), ("887", 1), ("888", 1), ("889", 1),
)
# Rough population share of the four kecamatan, so Penajam rings more often than Waru.
_KECAMATAN_WEIGHT = {"64.09.01": 0.45, "64.09.02": 0.12, "64.09.03": 0.20, "64.09.04": 0.23}

_NAMES = (
    "Budi Santoso", "Siti Aminah", "Rahmat Hidayat", "Nur Hasanah", "Andi Pratama", "Wahyu Saputra",
    "Hj. Masnah", "Syamsuddin", "Arbain", "Daeng Mappuji", "Sri Wahyuni", "Agus Salim",
    "Ahmad Fauzi", "Rusdiana", "Muhammad Rizki", "Dewi Lestari", "Yohanes Lado", "Ketut Sudarma",
    "Samsul Bahri", "Fitriani", "Iwan Setiawan", "Marlina", "Supriyadi", "Hasnah",
)
_PLACES = (
    "masjid", "musala", "SD negeri", "pasar", "SPBU", "puskesmas", "kantor desa", "lapangan bola",
    "simpang tiga", "warung makan", "gereja", "sekolah", "jembatan", "pos ronda", "toko bangunan",
)
_STREETS = (
    "Jl. Provinsi", "Jl. Negara", "Jl. Propinsi Km 9", "Jl. Poros Petung", "Jl. Sultan Hasanuddin",
    "Jl. Pangeran Diponegoro", "Gg. Melati", "Jl. Masjid", "Jl. Transmigrasi", "Jl. Ahmad Yani",
)

# (type, weight, descriptions as a call-taker types them). Weights follow what a regency's 112
# sees most: crashes, sickness, fires and snakes; {desa}, {tempat}, {rt}, {umur}, {n} are filled in.
EMERGENCIES: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("TRAFFIC-ACC", 18, (
        "Kecelakaan motor dengan truk di jalan poros {desa}, satu korban luka parah di kepala.",
        "Tabrakan dua sepeda motor dekat {tempat} {desa}, dua orang luka-luka, mohon ambulans.",
        "Mobil pikap terguling di tanjakan {desa}, sopir terjepit di dalam kabin.",
        "laka tunggal, motor jatuh ke parit dekat {tempat}, pengendara kakinya patah",
        "Pejalan kaki tertabrak mobil di depan {tempat} {desa}, pelaku kabur.",
    )),
    ("MED-EMERG", 16, (
        "Bapak usia {umur} tahun tiba-tiba pingsan di rumah, napas sesak, keluarga minta ambulans.",
        "Anak kejang-kejang dan demam tinggi, orang tua panik, rumah di RT {rt} {desa}.",
        "Warga diduga serangan jantung, nyeri dada hebat dan keringat dingin.",
        "{n} orang muntah-muntah setelah makan di acara hajatan, diduga keracunan makanan.",
        "tlg pak ibu sy tdk sadar dr tadi, sdh dipanggil2 tdk bangun",
    )),
    ("FIRE-BLDG", 10, (
        "Rumah warga di RT {rt} {desa} terbakar, api sudah besar, asap hitam tebal.",
        "Ada kebakaran ruko dekat {tempat} {desa}, api dari lantai bawah, warga coba padamkan pakai ember.",
        "Dapur rumah tetangga terbakar, diduga korsleting listrik, rumahnya rumah kayu.",
        "Gudang kayu di {desa} kebakaran, api merembet ke rumah sebelah.",
    )),
    ("ANIMAL", 8, (
        "Ular kobra masuk rumah, sembunyi di bawah lemari dapur, penghuni takut mendekat.",
        "Sarang tawon besar di pohon depan {tempat} {desa}, sudah ada anak yang disengat.",
        "Buaya muncul di sungai dekat permukiman {desa}, warga takut ke sungai.",
        "Ular piton besar masuk kandang ayam warga di RT {rt} {desa}.",
    )),
    ("STORM-TREE", 6, (
        "Pohon tumbang menutup jalan di {desa}, kendaraan tidak bisa lewat.",
        "Angin kencang disertai hujan, atap rumah warga terbang di RT {rt} {desa}.",
        "Pohon besar roboh menimpa rumah di {desa}, penghuni selamat.",
    )),
    ("FIRE-LAND", 5, (
        "Lahan warga terbakar di {desa}, api menjalar ke arah kebun sawit.",
        "Kebakaran lahan gambut sekitar dua hektar di belakang permukiman {desa}.",
        "Hutan terbakar di perbatasan {desa}, asap tebal sampai ke jalan.",
    )),
    ("FLOOD", 5, (
        "Banjir di RT {rt} {desa}, air masuk rumah setinggi lutut, ada lansia perlu dievakuasi.",
        "Luapan sungai sejak subuh, rumah warga {desa} tergenang sekitar 50 cm.",
        "Hujan deras dari semalam, permukiman {desa} kebanjiran, warga minta perahu karet.",
    )),
    ("CRIME", 5, (
        "Rumah kosong dibobol maling, pelaku masih di dalam, warga sudah berjaga di luar.",
        "Pelapor dibegal di jalan sepi dekat {desa}, motor dan HP dirampas, pelaku dua orang.",
        "Ada pencurian di toko kelontong {desa}, pelaku kabur ke arah kebun.",
    )),
    ("PUBLIC-ORDER", 4, (
        "Balap liar di jalan poros {desa} setiap malam, sangat mengganggu warga.",
        "Keributan orang mabuk minuman keras di dekat {tempat} {desa}, warga resah.",
        "Tawuran remaja di lapangan {desa}, mereka membawa kayu dan batu.",
    )),
    ("SOCIAL", 4, (
        "ODGJ mengamuk di dekat {tempat} {desa}, melempari warga dengan batu.",
        "Orang terlantar tidur di emperan toko dekat {tempat}, kondisinya lemah.",
        "Lansia hidup sendiri dalam kondisi terlantar di {desa}, sudah beberapa hari tidak makan.",
    )),
    ("VIOLENCE-WC", 3, (
        "Seorang ibu melapor dipukul suami, ada luka di wajah, anak-anak ketakutan.",
        "Tetangga melaporkan anak dianiaya orang tuanya, sering terdengar teriakan.",
        "Remaja putri melapor mengalami pelecehan oleh kerabatnya, minta pendampingan.",
    )),
    ("MATERNAL", 3, (
        "Ibu hamil sembilan bulan ketuban pecah, bidan desa tidak ada, minta ambulans ke {desa}.",
        "Istri mau melahirkan, sudah pembukaan, tidak ada kendaraan ke puskesmas.",
    )),
    ("WATER-RESCUE", 3, (
        "Anak {umur} tahun tenggelam waktu mandi di sungai {desa}, belum ditemukan.",
        "Perahu nelayan terbalik di perairan dekat {desa}, dua orang belum ditemukan.",
        "Speedboat dari Balikpapan mati mesin dan bocor di tengah teluk, penumpang panik.",
    )),
    ("POWER", 3, (
        "Kabel listrik putus menjuntai ke jalan di {desa} setelah hujan, sangat berbahaya.",
        "Trafo meledak di {desa}, listrik padam satu kampung.",
        "Tiang listrik miring hampir roboh di depan {tempat} {desa}.",
    )),
    ("MISSING-PERSON", 2, (
        "Anak hilang sejak sore, usia {umur} tahun, terakhir terlihat di dekat {tempat} {desa}.",
        "Kakek pikun pergi dari rumah sejak pagi dan belum pulang, keluarga sudah mencari keliling.",
        "Pencari madu tersesat di hutan dekat {desa}, tidak bisa dihubungi sejak kemarin.",
    )),
    ("LANDSLIDE", 2, (
        "Tanah longsor menutup jalan di {desa}, satu rumah tertimbun sebagian.",
        "Tebing di belakang rumah warga {desa} runtuh setelah hujan deras, tanah retak makin lebar.",
    )),
    ("WATER-OUTAGE", 2, (
        "Air PDAM tidak mengalir sudah tiga hari di RT {rt} {desa}.",
        "Pipa PDAM pecah di pinggir jalan {desa}, air menyembur ke jalan.",
    )),
    ("ROAD-DAMAGE", 2, (
        "Jalan berlubang besar di jalan poros {desa}, membahayakan pengendara malam hari.",
        "Jembatan kayu di {desa} rusak, papan lantainya patah, mobil tidak bisa lewat.",
    )),
    ("TRAFFIC-DISRUPT", 2, (
        "Lampu lalu lintas di simpang {desa} mati sejak pagi, kendaraan macet panjang.",
        "Truk mogok di tengah tanjakan {desa}, antrean kendaraan panjang.",
    )),
    ("POLLUTION", 1, (
        "Sungai di {desa} tercemar limbah, air hitam dan bau menyengat, ikan banyak mati.",
        "Sampah menumpuk di pinggir jalan {desa} sudah seminggu, bau dan banyak lalat.",
    )),
)
_NOTES: dict[str, tuple[str | None, ...]] = {
    "prank": (
        "anak-anak tertawa lalu menutup telepon", "penelepon memaki operator",
        "melaporkan kebakaran, alamat tidak ada, penelepon tertawa", "penelepon bernyanyi",
        "minta diisikan pulsa", "mengaku kenal operator dan minta nomor WA", None,
    ),
    "silent": (None, None, "tidak ada suara", "terdengar suara kendaraan, tidak ada yang bicara",
               "suara gesekan, diduga HP di saku", "terputus setelah diangkat"),
    "information": (
        "menanyakan nomor telepon RSUD Ratu Aji Putri Botung",
        "menanyakan jadwal kapal feri Penajam - Balikpapan",
        "menanyakan syarat perpanjangan SIM dan SKCK", "menanyakan jadwal pemadaman listrik",
        "menanyakan lokasi posko pengungsian banjir", "menanyakan apakah 112 gratis tanpa pulsa",
        "menanyakan nomor ambulans desa", "menanyakan jadwal vaksinasi di puskesmas",
    ),
    "misdial": ("salah sambung, ingin menelepon keluarga", "tidak sengaja tertekan dari layar kunci",
                "mengira 112 nomor layanan operator seluler", None),
}
# Where out-of-area calls go: most land in Balikpapan across the bay.
_TRANSFERS = (("BALIKPAPAN", 45), ("PASER", 15), ("IKN", 15), ("KUKAR", 5), ("110", 10),
              ("119", 5), ("113", 3), ("115", 2))
_TRANSFER_NOTES = {
    "BALIKPAPAN": "kejadian di Kota Balikpapan, diteruskan ke 112 Balikpapan",
    "PASER": "kejadian di Kabupaten Paser, diteruskan ke 112 Paser",
    "IKN": "kejadian di wilayah Otorita IKN, diteruskan",
    "KUKAR": "kejadian di Samboja, Kutai Kartanegara, diteruskan",
    "110": "laporan kriminal, penelepon diarahkan ke 110 Polri",
    "119": "permintaan ambulans di luar PPU, diteruskan ke 119",
    "113": "kebakaran di luar PPU, diteruskan ke 113",
    "115": "kapal hilang kontak di luar PPU, diteruskan ke Basarnas 115",
}
_CHANNELS = (("call", 90), ("whatsapp", 5), ("sms", 3), ("web", 2))


@dataclass
class Planned:
    """One request of the plan: when it is due, what it reports, and the body to send."""

    at: float
    outcome: str  # an OUTCOMES entry, or "duplicate"
    body: dict[str, Any]
    ring_s: float
    talk_s: float
    of: int | None = None  # for a duplicate: index of the emergency it reports
    type_code: str | None = None  # what the emergency really is, whether or not the body says so
    typed: bool = False  # the call-taker chose the type instead of leaving it to the classifier

    @property
    def path(self) -> str:
        return f"{API}/incidents" if self.outcome == "emergency" else f"{API}/calls"


def parse_mix(text: str) -> dict[str, float]:
    """'prank=23,emergency=5' (percent) -> the default mix with those shares replaced, normalised."""
    percent = {k: v * 100 for k, v in DEFAULT_MIX.items()}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"mix entry {part!r}: expected outcome=percent")
        try:
            percent[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"mix entry {part!r}: percent is not a number") from None
    return _normalised_mix(percent)


def _normalised_mix(mix: Mapping[str, float]) -> dict[str, float]:
    unknown = set(mix) - set(OUTCOMES)
    if unknown:
        raise ValueError(f"unknown outcome(s) {', '.join(sorted(unknown))}; one of {', '.join(OUTCOMES)}")
    if any(not math.isfinite(v) or v < 0 for v in mix.values()):
        raise ValueError("shares must be finite and not negative")
    total = sum(mix.values())
    if total <= 0:
        raise ValueError("at least one share must be positive")
    return {k: mix.get(k, 0.0) / total for k in OUTCOMES}


class _Deck:
    """Outcomes dealt from shuffled decks, so shares hold over every deck even in a short run."""

    def __init__(self, rng: random.Random, mix: dict[str, float]):
        self.rng = rng
        smallest = min(v for v in mix.values() if v > 0)
        # Bigger decks keep a rare outcome (a share under 1/50) from rounding away entirely.
        self.size = min(max(DECK_SIZE, math.ceil(1 / smallest)), MAX_DECK_SIZE)
        quotas = {k: v * self.size for k, v in mix.items()}
        counts = {k: int(q) for k, q in quotas.items()}
        short = self.size - sum(counts.values())
        for k in sorted(quotas, key=lambda k: (counts[k] - quotas[k], OUTCOMES.index(k)))[:short]:
            counts[k] += 1
        self.cards = [k for k in OUTCOMES for _ in range(counts[k])]
        self.dealt: list[str] = []

    def draw(self) -> str:
        if not self.dealt:
            self.dealt = list(self.cards)
            self.rng.shuffle(self.dealt)
        return self.dealt.pop()


class _World:
    """The seeded sources of callers, places and words a plan is drawn from."""

    def __init__(self, rng: random.Random, gazetteer: Gazetteer):
        self.rng = rng
        self.gaz = gazetteer
        self.desa = gazetteer.places("desa")
        per_kec = Counter(p.kecamatan_code for p in self.desa)
        self.desa_weights = [_KECAMATAN_WEIGHT.get(p.kecamatan_code, 0.1) / per_kec[p.kecamatan_code]
                             for p in self.desa]
        # A few handsets make most of the pranks and ghost calls, the most active far more than
        # the rest (Zipf-like); centers block such numbers, so history per number matters.
        self.pranksters = [self.new_number() for _ in range(12)]
        self.prank_weights = [1 / (k + 1) for k in range(len(self.pranksters))]
        self.ghosts = [self.new_number() for _ in range(8)]
        self.recent_callers: list[str] = []
        self.types = [t for t, _, _ in EMERGENCIES]
        self.type_weights = [w for _, w, _ in EMERGENCIES]
        self.templates = {t: texts for t, _, texts in EMERGENCIES}

    def new_number(self) -> str:
        rng = self.rng
        prefix = rng.choices([p for p, _ in _PREFIXES], [w for _, w in _PREFIXES])[0]
        digits = rng.choices((7, 8, 9), (2, 7, 1))[0]
        return "+62" + prefix + "".join(str(rng.randrange(10)) for _ in range(digits))

    def dialled(self, e164: str) -> str:
        """The number as the switch presents it: E.164, national, or with separators."""
        national = "0" + e164[3:]
        form = self.rng.random()
        if form < 0.5:
            return e164
        if form < 0.9:
            return national
        return f"{national[:4]}-{national[4:8]}-{national[8:]}"

    def number_for(self, outcome: str) -> str | None:
        rng = self.rng
        if outcome == "prank" and rng.random() < 0.6:
            return rng.choices(self.pranksters, self.prank_weights)[0]
        if outcome == "silent":
            if rng.random() < 0.05:
                return None  # withheld: the switch gave no number
            if rng.random() < 0.35:
                return rng.choice(self.ghosts)
        if outcome == "information" and self.recent_callers and rng.random() < 0.1:
            return rng.choice(self.recent_callers)  # calling back to ask again
        number = self.new_number()
        if outcome in ("information", "emergency"):
            self.recent_callers.append(number)
        return number

    def caller(self, outcome: str, *, named: float = 0.0) -> dict[str, Any] | None:
        number = self.number_for(outcome)
        if number is None:
            return None
        caller: dict[str, Any] = {"phone": self.dialled(number)}
        if self.rng.random() < named:
            caller["name"] = self.rng.choice(_NAMES)
        return caller

    def pick_desa(self) -> Place:
        return self.rng.choices(self.desa, self.desa_weights)[0]

    def point_in(self, desa: Place) -> tuple[float, float] | None:
        """A point a few hundred metres around the desa centroid that still lies in that desa."""
        for _ in range(12):
            lat = desa.lat + self.rng.gauss(0, 0.004)  # ~450 m
            lon = desa.lon + self.rng.gauss(0, 0.004)
            located = self.gaz.locate(lat, lon)
            if located.desa_code == desa.code and located.distance_m == 0:
                return round(lat, 6), round(lon, 6)
        located = self.gaz.locate(desa.lat, desa.lon)
        return (desa.lat, desa.lon) if located.desa_code == desa.code else None

    def location(self, desa: Place) -> dict[str, Any]:
        rng = self.rng
        mode = rng.random()
        if mode < 0.78:
            point = self.point_in(desa)
            if point is not None:
                return {"lat": point[0], "lon": point[1]}
        if mode < 0.90:
            address = (f"{rng.choice(_STREETS)} RT {rng.randint(1, 30):02d}, "
                       f"{'Kel.' if desa.code.split('.')[-1].startswith('1') else 'Desa'} {desa.name}")
            found = self.gaz.match_address(address)
            if found is not None and found.code == desa.code:
                return {"address": address}
        return {"desa_code": desa.code}

    def description(self, type_code: str, desa: Place) -> str:
        rng = self.rng
        text = rng.choice(self.templates[type_code])
        return text.format(desa=desa.name, tempat=rng.choice(_PLACES), rt=f"{rng.randint(1, 30):02d}",
                           umur=rng.randint(5, 75), n=rng.randint(3, 15))


def _durations(rng: random.Random, outcome: str) -> tuple[float, float]:
    """Seconds ringing before the answer and talking after it, by kind of call."""
    ring = min(rng.lognormvariate(1.3, 0.6), 60.0)  # median ~4 s
    talk = {"silent": (4, 20), "misdial": (3, 15), "prank": (5, 60), "information": (30, 180),
            "out_of_area": (30, 120), "emergency": (45, 180), "duplicate": (20, 90)}[outcome]
    return round(ring, 1), round(rng.uniform(*talk), 1)


def build_plan(*, rate: float, duration: float, seed: int, mix: Mapping[str, float] | None = None,
               second_caller_share: float = 0.3, typed_share: float = 0.2,
               gazetteer: Gazetteer | None = None) -> list[Planned]:
    """Every request of a run, in time order; the same seed gives the same plan."""
    if not (math.isfinite(rate) and rate > 0) or not (math.isfinite(duration) and duration > 0):
        raise ValueError("rate and duration must be positive")
    count = max(1, round(rate * duration))
    if count > MAX_REQUESTS:
        raise ValueError(f"{count} requests is more than the {MAX_REQUESTS} a run may send")
    shares = _normalised_mix(mix if mix is not None else DEFAULT_MIX)
    rng = random.Random(seed)
    world = _World(rng, gazetteer or default_gazetteer())
    deck = _Deck(rng, shares)
    # Sorted uniform times are a Poisson process conditioned on its count: real bursts and
    # lulls, yet exactly `count` requests inside `duration`.
    times = sorted(rng.uniform(0, duration) for _ in range(count))
    pending: list[tuple[float, int, bool]] = []  # (due, emergency index, same caller again)
    plan: list[Planned] = []
    for index, at in enumerate(times):
        if pending and pending[0][0] <= at:
            _, original, same_caller = heapq.heappop(pending)
            plan.append(_duplicate(world, at, original, plan[original], same_caller))
            continue
        outcome = deck.draw()
        if outcome == "emergency":
            plan.append(_emergency(world, at, typed_share))
            if rng.random() < second_caller_share:
                # Neighbours and passers-by call within minutes; compressed to seconds here.
                heapq.heappush(pending, (at + rng.uniform(0.3, 2.0), index, rng.random() < 0.3))
        else:
            plan.append(_call(world, at, outcome))
    return plan


def _emergency(world: _World, at: float, typed_share: float) -> Planned:
    rng = world.rng
    type_code = rng.choices(world.types, world.type_weights)[0]
    desa = world.pick_desa()
    body: dict[str, Any] = {
        "channel": rng.choices([c for c, _ in _CHANNELS], [w for _, w in _CHANNELS])[0],
        "description": world.description(type_code, desa),
        "location": world.location(desa),
    }
    caller = world.caller("emergency", named=0.6)
    if caller is not None:
        body["caller"] = caller
    typed = rng.random() < typed_share
    if typed:
        body["type_code"] = type_code
    ring, talk = _durations(rng, "emergency")
    return Planned(at, "emergency", body, ring, talk, type_code=type_code, typed=typed)


def _duplicate(world: _World, at: float, original: int, first: Planned, same_caller: bool) -> Planned:
    rng = world.rng
    caller: dict[str, Any] | None
    if same_caller and "caller" in first.body:
        caller = dict(first.body["caller"])
        note = "penelepon yang sama menanyakan kapan petugas datang"
    else:
        caller = world.caller("duplicate", named=0.4)
        note = (f"penelepon lain melaporkan kejadian yang sama, sekitar "
                f"{rng.randrange(100, 500, 50)} m dari lokasi")
    body: dict[str, Any] = {"channel": "call", "outcome": "duplicate", "note": note}
    if caller is not None:
        body["caller"] = caller
    ring, talk = _durations(rng, "duplicate")
    return Planned(at, "duplicate", body, ring, talk, of=original)


def _call(world: _World, at: float, outcome: str) -> Planned:
    rng = world.rng
    body: dict[str, Any] = {"channel": "call", "outcome": outcome}
    if outcome == "information" and rng.random() < 0.15:
        body["channel"] = "whatsapp"
    caller = world.caller(outcome)
    if caller is not None:
        body["caller"] = caller
    if outcome == "out_of_area":
        target = rng.choices([t for t, _ in _TRANSFERS], [w for _, w in _TRANSFERS])[0]
        body["transferred_to"] = target
        body["note"] = _TRANSFER_NOTES[target]
    else:
        note = rng.choice(_NOTES[outcome])
        if note is not None:
            body["note"] = note
    ring, talk = _durations(rng, outcome)
    return Planned(at, outcome, body, ring, talk)


@dataclass
class _Tally:
    sent: Counter = field(default_factory=Counter)
    created: int = 0
    replayed: int = 0
    typed: int = 0
    unclassified: int = 0
    with_duplicates: int = 0
    skipped: int = 0
    dropped: int = 0
    errors: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    callers: Counter = field(default_factory=Counter)  # E.164 number -> requests sent
    stop_reason: str | None = None


def _stamped(item: Planned, body: dict[str, Any]) -> dict[str, Any]:
    """The body with the call's times, ending now."""
    now = datetime.now(UTC)
    answered = now - timedelta(seconds=item.talk_s)
    body = dict(body)
    body["received_at"] = (answered - timedelta(seconds=item.ring_s)).isoformat()
    body["answered_at"] = answered.isoformat()
    if item.outcome != "emergency":
        body["ended_at"] = now.isoformat()
    return body


class _Runner:
    def __init__(self, client: httpx.AsyncClient, plan: list[Planned], run_id: str, drain_s: float):
        self.client = client
        self.plan = plan
        self.run_id = run_id
        self.drain_s = drain_s
        self.tally = _Tally()
        self.incident_ids: dict[int, asyncio.Future] = {}
        self.stopped = False  # a refused token or an unreachable server: nothing more will land
        self.answered_once = False

    async def run(self) -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index, item in enumerate(self.plan):
            if item.outcome == "emergency":
                self.incident_ids[index] = loop.create_future()
        tasks: set[asyncio.Task] = set()
        last = start
        for index, item in enumerate(self.plan):
            delay = start + item.at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.stopped:
                break
            last = loop.time()
            if len(tasks) >= MAX_IN_FLIGHT:
                # Open loop: a server this far behind is not waited for; the request is dropped.
                self.tally.dropped += 1
                self._resolve(index, None)
                continue
            task = asyncio.create_task(self._send(index, item, start + item.at))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        elapsed = last - start
        if tasks:
            _, late = await asyncio.wait(set(tasks), timeout=self.drain_s)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
                self.tally.errors["unfinished"] += len(late)
        for future in self.incident_ids.values():
            if not future.done():
                future.set_result(None)
        return elapsed

    def _resolve(self, index: int, incident_id: str | None) -> None:
        future = self.incident_ids.get(index)
        if future is not None and not future.done():
            future.set_result(incident_id)

    async def _send(self, index: int, item: Planned, due: float) -> None:
        loop = asyncio.get_running_loop()
        try:
            body = item.body
            if item.outcome == "duplicate":
                assert item.of is not None, "a duplicate names the emergency it reports"
                incident_id = await self.incident_ids[item.of]
                if incident_id is None:
                    self.tally.skipped += 1  # the first caller's incident was never made
                    return
                body = {**body, "incident_id": incident_id}
                due = max(due, loop.time())
            self.tally.sent[item.outcome] += 1
            if "caller" in body:
                self.tally.callers[normalise_phone(body["caller"]["phone"])] += 1
            body = _stamped(item, body)
            headers = {}
            attempts = 1
            if item.outcome == "emergency":
                # The key makes a retry after a lost answer safe: the server replays, never doubles.
                headers["Idempotency-Key"] = f"sim-{self.run_id}-{index}"
                attempts = 2
            response = await self._post(item.path, body, headers, attempts)
            if response is None:
                return
            # Measured from when the request was due, so a client or server falling behind shows
            # up in the percentiles instead of silently delaying later requests.
            self.tally.latencies.append(loop.time() - due)
            self._account(index, item, response)
        finally:
            self._resolve(index, None)

    async def _post(self, path: str, body: dict, headers: dict, attempts: int) -> httpx.Response | None:
        for attempt in range(attempts):
            try:
                response = await self.client.post(path, json=body, headers=headers)
            except httpx.TransportError as exc:
                if attempt + 1 < attempts and not isinstance(exc, httpx.ConnectError):
                    continue
                self.tally.errors[type(exc).__name__] += 1
                if isinstance(exc, httpx.ConnectError) and not self.answered_once:
                    self._halt(f"cannot connect to the server ({exc})")
                return None
            self.answered_once = True
            if response.status_code >= 500 and attempt + 1 < attempts:
                continue
            return response
        return None

    def _halt(self, reason: str) -> None:
        if self.tally.stop_reason is None:
            self.tally.stop_reason = reason
        self.stopped = True

    def _account(self, index: int, item: Planned, response: httpx.Response) -> None:
        status = response.status_code
        if status >= 400:
            self.tally.errors[str(status)] += 1
            if status in (401, 403):
                detail = response.text[:200]
                self._halt(f"the server refused the token ({status}: {detail})")
            return
        if item.outcome != "emergency":
            return
        incident = response.json()
        if status == 200:
            self.tally.replayed += 1
        else:
            self.tally.created += 1
            self.tally.typed += item.typed
            self.tally.unclassified += incident.get("attention") == "unclassified"
            self.tally.with_duplicates += bool(incident.get("possible_duplicates"))
        self._resolve(index, incident["id"])


def _percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class SimulationReport:
    """What a run sent and what came back."""

    url: str
    seed: int
    rate: float
    plan: list[Planned]
    tally: _Tally
    elapsed: float

    @property
    def stopped(self) -> bool:
        return self.tally.stop_reason is not None

    @property
    def sent(self) -> dict[str, int]:
        return dict(self.tally.sent)

    @property
    def errors(self) -> dict[str, int]:
        return dict(self.tally.errors)

    def summary(self) -> str:
        tally = self.tally
        total = sum(tally.sent.values())
        achieved = total / self.elapsed if self.elapsed > 0 else float(total)
        sent = ", ".join(f"{k} {tally.sent[k]}" for k in (*OUTCOMES, "duplicate") if tally.sent[k])
        errors = ", ".join(f"{k}×{v}" for k, v in sorted(tally.errors.items())) or "none"
        repeats = [n for n in tally.callers.values() if n > 1]
        lines = [
            f"Simulated 112 traffic to {self.url} (seed {self.seed})",
            f"  requests: {total} of {len(self.plan)} planned in {self.elapsed:.2f} s = "
            f"{achieved:.1f}/s (asked {self.rate:g}/s)",
            f"  sent: {sent or 'nothing'}",
            f"  incidents created: {tally.created} ({tally.typed} typed by the call-taker, "
            f"{tally.created - tally.typed} by the classifier, {tally.unclassified} unclassified, "
            f"{tally.with_duplicates} with possible duplicates)",
            f"  repeat callers: {len(repeats)} numbers called more than once"
            + (f" (up to {max(repeats)} times)" if repeats else ""),
            f"  HTTP errors: {errors}",
        ]
        if tally.replayed:
            lines.append(f"  idempotent replays: {tally.replayed}")
        if tally.skipped or tally.dropped:
            lines.append(f"  not sent: {tally.skipped} second callers whose incident failed, "
                         f"{tally.dropped} dropped with {MAX_IN_FLIGHT} requests in flight")
        if tally.latencies:
            ordered = sorted(tally.latencies)
            lines.append(f"  latency: p50 {_percentile(ordered, 50) * 1000:.1f} ms, "
                         f"p99 {_percentile(ordered, 99) * 1000:.1f} ms ({len(ordered)} responses)")
        if tally.stop_reason:
            lines.append(f"  stopped early: {tally.stop_reason}")
        return "\n".join(lines)


def simulate_traffic(*, url: str, token: str, rate: float, duration: float, seed: int | None = None,
                     mix: Mapping[str, float] | None = None, second_caller_share: float = 0.3,
                     typed_share: float = 0.2, timeout: float = 10.0) -> SimulationReport:
    """Send a seeded plan of calls and incidents to the server at `url`, open loop."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"url must start with http:// or https://, got {url!r}")
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError("timeout must be positive")
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    plan = build_plan(rate=rate, duration=duration, seed=seed, mix=mix,
                      second_caller_share=second_caller_share, typed_share=typed_share)
    # Keys differ per run so that rerunning a seed against the same server makes new incidents.
    run_id = uuid.uuid4().hex[:12]
    tally, elapsed = asyncio.run(_drive(url, token, plan, run_id, timeout))
    if tally.stop_reason is None:
        # The last arrival falls a little before the end of the window; the window is the run.
        elapsed = max(elapsed, duration)
    return SimulationReport(url, seed, rate, plan, tally, max(elapsed, 1e-9))


def run_simulation(*, url: str, token: str, rate: float, duration: float, seed: int | None = None,
                   **options: Any) -> str:
    """Run `simulate_traffic` and return its human summary."""
    return simulate_traffic(url=url, token=token, rate=rate, duration=duration, seed=seed,
                            **options).summary()


async def _drive(url: str, token: str, plan: list[Planned], run_id: str,
                 timeout: float) -> tuple[_Tally, float]:
    headers = {"Authorization": f"Bearer {token}", "User-Agent": "siaga112-simulate"}
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    # trust_env off: no proxy from the environment, the traffic goes to `url` and nowhere else.
    async with httpx.AsyncClient(base_url=url.rstrip("/"), headers=headers, timeout=timeout,
                                 limits=limits, trust_env=False, follow_redirects=False) as client:
        runner = _Runner(client, plan, run_id, drain_s=timeout * 2)
        elapsed = await runner.run()
    return runner.tally, elapsed
