"""Incident-type classifier: suggests the SOP incident type for a call-taker's free-text note."""
# The notes are informal Bahasa Indonesia (abbreviations, slang, Banjar words, typos, some
# English). Text is normalised, reduced to root words by a dictionary-gated stemmer, and scored
# against weighted terms per type: the SOP keywords (administrators' input) plus the built-in
# knowledge below. Everything expensive is precomputed in the constructor so that `classify`
# stays well under a millisecond on the intake hot path.
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

from siaga112.sop.schemas import IncidentType


@dataclass(frozen=True)
class Classification:
    """A suggested incident type with confidence in [0, 1] and up to three alternatives."""

    type_code: str
    confidence: float
    alternatives: tuple[str, ...]


# --------------------------------------------------------------------------------------------
# Language knowledge
# --------------------------------------------------------------------------------------------

# Abbreviations, slang, Banjar/Kutai words and a little English, mapped to standard Indonesian.
_SLANG: dict[str, str] = {
    # negation
    "tdk": "tidak", "tak": "tidak", "gak": "tidak", "ga": "tidak", "gk": "tidak", "g": "tidak",
    "nggak": "tidak", "ngga": "tidak", "nggk": "tidak", "enggak": "tidak", "engga": "tidak",
    "kagak": "tidak", "kaga": "tidak", "ndak": "tidak", "nda": "tidak", "gx": "tidak",
    "kada": "tidak", "kadak": "tidak", "not": "tidak", "no": "tiada",
    "cannot": "tidak bisa", "gada": "tidak ada", "gaada": "tidak ada", "kadada": "tidak ada",
    "blm": "belum", "blum": "belum", "lom": "belum", "belom": "belum",
    # function words
    "yg": "yang", "dgn": "dengan", "dg": "dengan", "dr": "dari", "dri": "dari", "utk": "untuk",
    "untk": "untuk", "sm": "sama", "ama": "sama", "krn": "karena", "krna": "karena",
    "karna": "karena", "tp": "tapi", "tpi": "tapi", "kl": "kalau", "klo": "kalau", "kalo": "kalau",
    "sdh": "sudah", "udh": "sudah", "udah": "sudah", "dah": "sudah", "sudh": "sudah",
    "bs": "bisa", "bsa": "bisa", "lg": "lagi", "skrg": "sekarang", "skg": "sekarang",
    "bgt": "banget", "bbrp": "beberapa", "kmrn": "kemarin", "tgh": "tengah", "mlm": "malam",
    "dkt": "dekat", "parak": "dekat", "tau": "tahu", "lakas": "cepat", "lekas": "cepat",
    "plg": "pulang", "msk": "masuk", "klr": "keluar", "kluar": "keluar", "tdr": "tidur",
    "mkn": "makan", "jg": "juga", "bnyk": "banyak", "hrs": "harus", "kmn": "kemana",
    "dmn": "dimana", "spt": "seperti", "trs": "terus", "bkn": "bukan", "jd": "jadi",
    "pd": "pada", "thn": "tahun", "th": "tahun", "bln": "bulan", "hr": "hari", "ank": "anak",
    "lgsg": "langsung", "cpt": "cepat", "cpet": "cepat", "bkin": "bikin", "skt": "sakit",
    "dtg": "datang", "ktmu": "ketemu", "tmpt": "tempat", "kbn": "kebun", "sungei": "sungai",
    "handak": "mau", "pengen": "mau", "pingin": "mau", "tlg": "tolong", "banar": "benar",
    # people
    "sy": "saya", "aku": "saya", "ulun": "saya", "gw": "saya", "gue": "saya", "ane": "saya",
    "org": "orang", "orng": "orang", "urang": "orang", "ortu": "orang tua", "bini": "istri",
    "bpk": "bapak", "pak": "bapak", "abah": "ayah", "tmn": "teman", "temen": "teman",
    "bumil": "ibu hamil", "buhan": "mereka", "bubuhan": "mereka", "pian": "anda",
    # places and things
    "rmh": "rumah", "jln": "jalan", "jl": "jalan", "psr": "pasar", "sklh": "sekolah",
    "dpn": "depan", "blkg": "belakang", "sblh": "sebelah", "kpl": "kepala", "mtr": "motor",
    "mbl": "mobil", "mobl": "mobil", "rs": "rumah sakit", "pkm": "puskesmas", "kran": "keran",
    "banyu": "air", "propinsi": "provinsi", "kebon": "kebun", "tebel": "tebal",
    # spelling variants
    "ambulan": "ambulans", "ambulance": "ambulans", "nafas": "napas",
    "bernafas": "bernapas", "kenceng": "kencang", "antri": "antre", "antrian": "antrean",
    "info": "informasi", "ngomong": "bicara", "berantem": "berkelahi", "bakalahi": "berkelahi",
    "bekelahi": "berkelahi", "ambles": "amblas", "baranak": "melahirkan", "beranak": "melahirkan",
    "kelelep": "tenggelam", "klelep": "tenggelam", "keseret": "terseret", "kesedak": "tersedak",
    "lb": "luka berat", "lr": "luka ringan", "md": "meninggal", "ilang": "hilang",
    "tulak": "pergi", "bulik": "pulang", "stress": "stres", "konslet": "korslet",
    "nelpon": "telepon", "telpon": "telepon", "tlp": "telepon", "hape": "hp", "leding": "ledeng",
    "sesek": "sesak", "lemes": "lemas", "ngos": "ngosan", "kecebur": "tercebur",
    "nyebur": "tercebur",
}

# Words removed before scoring; negators are deliberately absent (they carry meaning).
_STOPWORDS = frozenset("""
yang di ke dari dan atau sudah ada saya kami kita kamu anda dia ia mereka ini itu nya ya yah
bapak bu mbak mas bang kak om tante tolong cepat segera sekarang lagi juga dengan untuk
karena tapi sama kalau akan mau sangat sekali banget aja saja sih deh dong kok nih tuh lah kah
pun pang ai beh gin jua gitu begitu seperti kayak kayaknya sepertinya mungkin halo hallo
assalamualaikum selamat permisi mohon pada oleh pas waktu saat ketika masih baru terus
trus lalu kemudian agar biar supaya sampai hingga jadi dalam luar atas bawah sini situ sana
an km rt rw gang desa kelurahan kecamatan kabupaten dusun daerah wilayah sekitar arah
dekat depan belakang sebelah samping tadi barusan semalam kira beberapa banyak semua
tiap setiap sedang lagi pula the a an is are was were be been has have had in at on of to
my our your his her their its i we you he she it they this that there and or for with near
from up inside since very lots some all please help
""".split())

_NEGATORS = frozenset({"tidak", "bukan", "tanpa", "tiada", "belum"})

# Known words that must never be stemmed or fuzzy-matched: PPU place names (e.g. "Penajam"
# would otherwise stem to "tajam", "sharp") and common words close to a vocabulary root.
_OPAQUE = frozenset("""
penajam sepaku waru babulu petung nipah sotek girimukti giri mukti purwa balikpapan mentawir
labangka sesulu riko pemaluan maridan sepan nenang pejala gersik jenebora lango buluminung
sesumpu telemow binuang semoi sukaraja argo mulyo wonosari rintik sebakung raharja jumlai
lawe loang saloloang tengin bumi harapan jinawi sidorejo seteleng samboja grogot paser kutai
kaltim samarinda ikn nusantara agung kalimantan banjar banjarmasin tanjung
kamar lantai sawah pagi siang sore malam hari bulan tahun minggu jam menit detik tengah
warga rumah jalan pasar sekolah masjid kantor anak orang bapak kakek nenek adik kakak suami
istri teman tetangga pasang harga barang kabar bantuan bantu petugas terima kasih curhat
jadi terjadi kejadian lihat melihat terlihat lapor pelapor laporan kosong punya pakai pergi
datang pulang keluar masuk kerja bekerja kerjaan tinggal bawa dibawa minta butuh perlu
korban pemuda lansia balita remaja pria wanita perempuan laki cowok cewek bocah kasus
besar kecil tinggi rendah panjang pendek jauh lama hebat parah berat ringan semua satu dua tiga
""".split())

# PPU place names that contain hazard words ("Api-Api", "Sungai Parit", "Babulu Laut"): they
# are rewritten before tokenising so that a village name is not read as a fire or a sea.
_PLACE_RE = re.compile(
    r"\b(?:api[\s-]*api|sungai\s+parit|babulu\s+laut|babulu\s+darat|gunung\s+(?:seteleng|intan"
    r"|makmur|mulia)|bukit\s+(?:subur|raya)|rawa\s+mulia|bangun\s+mulya|pantai\s+lango"
    r"|tanjung\s+(?:tengah|jumlai)|kampung\s+baru|sumber\s+sari|sri\s+raharja)\b"
)

# Built-in vocabulary per known type code. Each line is "weight: term, term, ...". Terms are
# written as root words; multi-word terms are phrases (words in order, small gaps allowed;
# two-word phrases match in either order). A leading "~" marks context terms, which only
# count once the type has core evidence ("rumah" says nothing until something is burning).
# Negative weights suppress a known confusion ("ktp hilang" is not a missing person).
_BUILTIN: dict[str, str] = {
    "FIRE-BLDG": """
        3.5: kompor ledak
        3: bakar, api, jago merah, kobar, hangus, lalap, makan api, ludes, fire, flames,
           burning, blaze
        2.5: korsleting, korslet, gas bocor, tabung gas, bau gosong, bau hangus, bau kabel,
             bara, puing
        2: asap, nyala, gosong, ledak, elpiji, kepul, arang
        1.5: pemadam, smoke
        1: damkar
        ~1.5: ruko, rumah kayu, rumah panggung, mukim, gudang, bengkel, jalar, rembet, rambat,
              kompor
        ~1: rumah, warung, toko, kios, dapur, kos, gedung, mes, asrama, lapak, pabrik, bensin,
            jebak, house, building, flat, shop, roof, mosque
        ~0.5: kamar, pasar, atap, lantai, sekolah, masjid, kantor, hitam, tebal, jendela
    """,
    "FIRE-LAND": """
        4: titik api, titik panas, kabut asap, hutan bakar, lahan bakar, kebun bakar,
           semak bakar, ilalang bakar, rumput bakar, sawit bakar, ladang bakar, forest fire,
           wildfire, bushfire
        3.5: karhutla, gambut, hotspot
        2.5: buka lahan, asap pekat
        2: bakar, api, fire
        1.5: asap, smoke
        1: nyala
        ~2: lahan, hutan, semak, belukar, ilalang, alang, hektar, hektare, forest, plantation,
            jarak pandang, tanah kosong, konsesi
        ~1.5: rumput, kebun, sawit, ladang, jalar, rembet, rambat, tidak kendali, palm
        ~1: kering, padang, angin, karet, hutan lindung
    """,
    "FLOOD": """
        4: air bah, banjir bandang
        3.5: banjir, air naik, air masuk rumah, air laut naik, tinggi pinggang, tinggi lutut,
             tinggi dada, air pinggang, air lutut, air sebatas, jalan tenggelam,
             rumah tenggelam, kampung tenggelam, flood, flooding, flooded
        3: genang, rendam, luap, rob, air masuk, sungai naik, air pasang, sepinggang, selutut,
           sedada, seleher, sebetis, semata kaki, air got naik
        2.5: luber
        ~2: perahu karet
        ~1.5: ungsi, knee, waist
        ~1: hujan, deras, pasang, evakuasi, parit, selokan, jebak, basah, pesisir, hulu, water,
            atap
        ~0.5: air, sungai, halaman
    """,
    "LANDSLIDE": """
        4: tanah longsor, tebing runtuh, tanah runtuh, tanah ambrol, tanah amblas,
           rumah timbun, landslide, mudslide
        3.5: longsor, tanah gerak, tanah geser
        3: timbun, tanah turun, tanah retak, tanah tutup, batu jatuh
        2: amblas, ambrol, runtuh, tebing, lereng
        1.5: ambruk
        ~1.5: tanah, retak
        ~1: hujan, bukit, gunung, miring, jebak, tutup jalan, badan jalan, lumpur, rain, block
    """,
    "STORM-TREE": """
        4.5: pohon tumbang, pohon roboh, pohon rubuh, puting beliung, angin puyuh
        4: pohon patah, pohon timpa, dahan patah, angin ribut, atap lepas, atap copot,
           seng lepas, seng copot, seng terbang, tree fell, fallen tree, strong wind
        3.5: angin kencang, angin besar, angin kuat, atap terbang, beliung, badai, storm
        3: pohon miring, pohon lapuk, hujan angin
        2: pohon, tumbang, roboh, rubuh, dahan, tree
        1.5: angin, ranting, wind
        ~1.5: timpa, lintang, baliho
        ~1: batang, seng, atap, tutup jalan, terbang, copot
        ~0.5: rusak, kabel, hujan, road
    """,
    "TRAFFIC-ACC": """
        4.5: adu kambing, adu banteng, adu moncong
        4: lakalantas, tabrak lari, masuk jurang, mobil balik, truk balik, motor balik, kll
        3.5: celaka, laka, motor jatuh, rem blong, crash, accident, collision
        3: tabrak, seruduk, serempet, nyungsep, nyusruk, lindas, masuk parit, masuk selokan,
           masuk got, masuk kolong, mobil jatuh, keluar jalur, hilang kendali, laka tunggal
        2.5: guling, nyelonong, masuk sungai, terjun
        2: nyemplung, cemplung, slip, oleng, peleset, hit
        ~1.5: jepit, beruntun, kendara, geletak, tindih, kolong
        ~1: motor, mobil, truk, bus, pickup, pikap, angkot, ojek, kemudi, sopir, supir,
            pejalan kaki, jurang, tikung, korban, luka, lempar, seret, licin, sebrang,
            seberang, luka berat, luka ringan, meninggal, car, truck, motorbike, injured
        ~0.5: tanjak, aspal, darah, spbu, simpang, penumpang, road, bleeding, jalan
    """,
    "MED-EMERG": """
        4.5: serangan jantung, heart attack
        4: tidak sadar, tidak bangun, tidak napas, tidak bisa napas, sesak napas, susah napas,
           turun sadar, henti napas, henti jantung, muntah darah, batuk darah, sengat listrik,
           patuk ular, gigit ular, setrum, unconscious, tidak breathing
        3.5: pingsan, kejang, stroke, mencong, racun, overdosis, sakit dada, nyeri dada,
             tidak respon, gula darah, darah tidak henti, minum minyak tanah, koma,
             cuci darah, asma, collapsed, collapse, seizure
        3: sesak, keselek, sedak, ngosan, panas tinggi, jatuh tinggi, patah tulang,
           tidak bisa berdiri, tidak bisa jalan, patah kaki, patah tangan, tidak gerak,
           tidak sahut, tidak bisa bicara, patuk, sekarat, tiba jatuh, tiba ambruk, tiba roboh,
           kepala bocor, choking
        2.5: jantung, lumpuh, pelo, keringat dingin, badan dingin, pendarahan, perdarahan,
             hipertensi, ugd, igd, oksigen, ambulans, kena parang, bibir biru, sakit perut,
             darah tinggi, dehidrasi
        2: napas, muntah, mencret, diare, busa, demam, rumah sakit, pasien, diabetes,
           geletak, kritis, pucat
        1.5: step, dokter, sakit, lemas, bengkak, darah, nyeri, mimisan, breathing, bleeding,
             sick
        1: luka, tulang, panas
        ~1: tiba, kamar mandi, riwayat, rujuk, erang, balita, lansia
        ~0.5: kakek, nenek
    """,
    "MATERNAL": """
        4: ketuban, ibu hamil, hamil tua, bayi keluar, inpartu, gravida
        3.5: lahir, salin, hamil, kontraksi, brojol, kandung, labour, labor, contraction,
             contractions, pregnant, birth, gugur
        3: bidan, bukaan, tali pusat, midwife
        2.5: plasenta
        2: bayi, perut kencang
        1.5: mules, mulas, ari
        ~1.5: pendarahan, perdarahan, keluar darah
        ~1: istri, wife, bulan, perut, ambulans, rujuk
        ~0.5: lemas
    """,
    "WATER-RESCUE": """
        4.5: kapal tenggelam, perahu tenggelam
        4: bawa arus, seret arus, perahu balik, kapal balik, tidak bisa renang, drowning,
           drown, drowned, capsized
        3.5: tenggelam, hanyut, karam, jatuh kapal, jatuh laut, jatuh sungai, hilang sungai,
             hilang laut, perahu kosong, perahu bocor, kapal bocor
        2.5: speedboat, mati mesin, tercebur, cebur, mandi sungai, ombang
        2: arus, klotok, longboat, pelampung, apung
        1.5: perahu, kapal, nelayan, renang, boat
        ~1.5: muara, perairan, belum temu, pancing
        ~1: sungai, laut, teluk, pantai, penumpang, feri, beach, sea, river, swim, ambing
        ~0.5: panik
    """,
    "MISSING-PERSON": """
        4: orang hilang, anak hilang, belum pulang, tidak pulang, tidak come home
        3.5: tidak balik, belum balik, tidak kembali, belum kembali, tiada kabar, belum kabar,
             hilang kontak, tidak tahu mana, sesat, nyasar, kabur rumah, hilang jejak, minggat,
             missing
        3: terakhir lihat, hp tidak aktif, tidak bisa hubung
        2.5: hilang, pikun, demensia, belum temu, tinggal rumah
        2: tidak aktif, tidak turun, lost
        -3: ktp hilang, dompet hilang, hp hilang, uang hilang, motor hilang, barang hilang,
            sinyal hilang, stnk hilang, sim hilang, surat hilang, kunci hilang
        ~1.5: cari, pamit, daki
        ~1: anak, kakek, nenek, adik, kemarin, hutan, son, daughter, phone
        ~0.5: suami, istri, sejak, hari, sekolah, kebun
    """,
    "ANIMAL": """
        4: sarang tawon, sarang lebah, anjing liar, anjing gila, beruang madu, ular masuk,
           babi hutan
        3.5: buaya, crocodile, snake
        3: ular, tawon, lebah, biawak, beruang, piton, kobra, sanca, tabuhan, rabies, hornet,
           bees, wasp
        2.5: kalajengking, anjing gigit
        2: sengat, monyet, bekantan, orangutan, sawa
        ~1.5: gigit, serang, evakuasi, kawanan
        ~1: masuk rumah, kandang, plafon, sarang, kambing, ternak
    """,
    "VIOLENCE-WC": """
        4: kdrt, pukul suami, pukul istri, pukul ayah, pukul ibu, cabul, perkosa, rudapaksa,
           sodomi, kekerasan anak, anak aniaya
        3.5: leceh, kekerasan, siksa, beating, abuse, abused
        2: pukul, aniaya, kurung, tampar, tendang, cekik, jambak, sundut
        1.5: bacok, tusuk, hajar
        ~1.5: suami, tiri, memar, lebam, wife, husband
        ~1: istri, ayah, ibu, orang tua, mertua, ipar, pacar, murid, teriak, screaming, anak,
            darah
    """,
    "SOCIAL": """
        4.5: bunuh diri
        4: odgj, gangguan jiwa, orang gila, sakit jiwa, anak jalan, manusia gerobak,
           mentally ill
        3.5: terlantar, gelandang, tunawisma, kumat, pasung
        3: gila, kemis, amuk, linglung, homeless, bicara sendiri, tidak punya rumah
        2.5: stres, telanjang, depresi, mental, pengamen, orang aneh
        2: jiwa, naked
        ~1.5: keliaran, wandering, tidak tahu rumah, sendiri, tidur jalan
        ~1: emper, batu, kaca, lempar, parang, ganggu
    """,
    "PUBLIC-ORDER": """
        4: balap liar, minum keras, tawuran, knalpot brong, knalpot racing, geng motor,
           sabung ayam
        3.5: miras, pedagang liar, kaki lima, musik kencang, musik keras
        3: mabuk, kelahi, ribut, balap, pkl, judi, onar, rusuh, preman, drunk, brawl,
           loud music
        2.5: kebut, knalpot, bising, berisik, gaduh, tuak, arak, ciu, ngelem, pungli,
             tidak bisa tidur, fighting
        1.5: trotoar, ganggu, karaoke, demo
        ~1.5: pemuda, anak muda, sekelompok
        ~1: pos ronda, pelajar, tengah malam, malam, teriak, nongkrong, pesta
        ~0.5: cafe
    """,
    "CRIME": """
        4: senjata tajam, sajam, curanmor, broke into, curas, curat
        3.5: maling, rampok, begal, jambret, copet, colong, todong, culik, robbery, robbed,
             thief, theft, stole, steal
        3: curi, bobol, bunuh, rampas, tembak, sabu, motor hilang
        2.5: congkel, mayat, tusuk, bacok, tikam, senjata, celurit, pistol, ancam, tipu, peras,
             narkoba
        2: parang, pecah kaca
        1.5: uang hilang, broke
        ~1.5: pelaku
        ~1: kabur, korban, luka, atm, emas, uang, kaca
    """,
    "POLLUTION": """
        4: bakar sampah, sampah liar, sampah tumpuk, minyak tumpah, oil spill, bau busuk
        3.5: cemar, limbah, buang sampah, air hitam, asap pabrik, ikan mati, sungai keruh,
             sungai kotor, air sungai kuning
        3: bau sengat, tumpah, batu bara, pollution
        2.5: sampah, bangkai, oli, spill, waste
        2: bau, busuk, tps, debu, smell
        1.5: minyak, kotor
        ~1.5: air sungai
        ~1: pabrik, tambang, sumur, plastik, mual, sungai, peternakan, ternak, kuning
    """,
    "ROAD-DAMAGE": """
        4: jalan rusak, jalan lubang, jalan retak, jalan hancur, jalan putus, jembatan putus,
           jembatan rusak, jembatan patah, jembatan ambruk, jembatan roboh, jembatan jebol,
           jalan amblas, aspal amblas, aspal retak, jalan ambrol, jalan lumpur, pothole
        3.5: gorong, jembatan miring, got mampet
        3: drainase, saluran air, lubang, saluran sumbat
        2.5: jembatan, mampet, bridge
        2: sumbat, lumpur, becek
        1.5: rusak, aspal, amblas, ambrol, jebol
        ~1: parah, papan, copot, miring, ulin, road, broken, jalan
    """,
    "TRAFFIC-DISRUPT": """
        4: traffic light, traffic jam, lampu lalu lintas, parkir liar, lampu merah mati,
           padat merayap
        3.5: macet, lampu tidak nyala, parkir sembarang, antre panjang
        3: lampu merah, kendaraan mogok, jalan tutup, sendat
        2.5: semrawut, sangkut, antre, mogok
        2: lalu lintas, parkir, tidak bisa lewat, queue
        1.5: kedip, tahan
        ~1: kendaraan, simpang, perempatan, pelabuhan, feri, spbu, bbm
    """,
    "WATER-OUTAGE": """
        4: air mati, air macet, air tidak alir, air tidak keluar, air tidak jalan, pipa bocor,
           pipa pecah, pipa jebol, air keruh, tap water, air tiada, tiada air
        3.5: pdam, ledeng, tidak alir, air keran
        3: pipa, keruh, air bersih, air kotor, water supply, meteran air
        2.5: keran, sembur, kucur
        2: muncrat, air bau
        ~1.5: tidak bisa mandi, terbuang, tandon
        ~1: air, mandi
    """,
    "POWER": """
        4.5: power outage, blackout
        4: listrik padam, mati lampu, lampu padam, kabel putus, tiang listrik, trafo ledak,
           listrik mati, listrik tidak nyala, meteran listrik
        3.5: trafo, gardu, pln, kabel bakar, listrik naik turun
        3: listrik, electricity
        2.5: padam, korslet, outage
        2: juntai, tegangan, voltase, power
        1.5: kabel, tiang, sekring
        ~1.5: percik, gelap
    """,
    "INFO": """
        4: nomor telepon, minta nomor, nomor wa
        3.5: tanya, informasi
        3: jadwal, jam berapa, jam buka, cara bikin, cara urus, cara lapor, lowongan
        2.5: syarat, prosedur, hotline, contact
        2: nomor, kontak, skck, dukcapil, cara, biaya, tarif, layanan
        1.5: ktp, alamat, kapan, apakah, bagaimana, gimana, domisili, daftar, libur, poli,
             gratis, how
        1: berapa, urus, buka, where, when
        ~1: mana, bikin, _q
    """,
    # Prank only counts when a call-taker wrote it down plainly; see _prank_obvious.
    "PRANK": """
        5: salah sambung, salah pencet, prank, telepon iseng
        3: iseng, bercanda, main telepon
        1.5: ngetes, tes
    """,
}

# Weights for the administrators' SOP keywords; a phrase is more specific than one word.
_SOP_WORD_WEIGHT = 3.0
_SOP_PHRASE_WEIGHT = 3.5
# Context terms add at most this much, so a pile of nouns cannot outweigh a real cue.
_CONTEXT_CAP = 3.0
# Up to this many tokens may sit between consecutive words of a phrase.
_PHRASE_GAP = 2
# Confidence reaches 1 - 1/e at this score; one strong cue is about 3.
_SCORE_SCALE = 3.0
# An alternative must score at least this share of the winner to be called plausible.
_ALTERNATIVE_SHARE = 0.2
_PRANK = "PRANK"

# Multi-word expressions whose parts are stopwords on their own ("lalu" = "then").
_COMPOUND_RE = re.compile(r"\b(?:lalu[\s-]+lintas|lalin)\b")
_JARGON = (
    (re.compile(r"\br\s?2\b"), " motor "),
    (re.compile(r"\br\s?[46]\b"), " mobil "),
    (re.compile(r"\bg\s?\d+\s?p\s?\d+(?:\s?a\s?\d+)?\b"), " gravida "),  # obstetric "G2P1A0"
)
_TOKEN_RE = re.compile(r"_q|[a-z]+")
# "kejang2" -> "kejang", "kebut2an" -> "kebutan": "2" marks a reduplicated word.
_REDUP_RE = re.compile(r"\b([a-z]{2,})2([a-z]*)\b")
_REPEAT_RE = re.compile(r"([a-z])\1{2,}")  # "tolonggg" -> "tolong"

# Affixes for the stemmer. Suffixes are tried in particle -> possessive -> derivational order.
_PARTICLES = ("nya", "lah", "kah", "pun", "ku", "mu")
_DERIVATIONAL = ("kan", "an", "in", "i")
_PLAIN_PREFIXES = ("di", "ke", "se", "ter", "ber", "per", "te", "be", "pe", "me", "ta", "ba", "ka")
_VOWELS = frozenset("aeiou")
# Nasal prefix spellings and the nasal they carry ("menabrak" -> n -> "tabrak").
_NASALS = (
    ("meng", "ng"), ("peng", "ng"), ("ng", "ng"), ("meny", "ny"), ("peny", "ny"), ("ny", "ny"),
    ("mem", "m"), ("pem", "m"), ("m", "m"), ("men", "n"), ("pen", "n"), ("n", "n"),
)


def _parse_terms(spec: str) -> list[tuple[str, float, bool]]:
    """Parse a built-in vocabulary block into (term, weight, is_core) triples."""
    out: list[tuple[str, float, bool]] = []
    current: tuple[float, bool] | None = None
    for raw in spec.strip().splitlines():
        line = raw.strip()
        head, sep, rest = line.partition(":")
        if sep and re.fullmatch(r"~?-?[0-9.]+", head.strip()):
            head = head.strip()
            current = (float(head.lstrip("~")), not head.startswith("~"))
            line = rest
        if current is None:
            raise ValueError(f"vocabulary line without weight: {raw!r}")
        for term in line.split(","):
            if term.strip():
                out.append((term.strip(), current[0], current[1]))
    return out


def _normalise(text: str) -> list[str]:
    """Lower-case, de-accent, expand slang; return word tokens (negators and stopwords kept)."""
    text = text.lower()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = _PLACE_RE.sub(" ", text)
    text = _COMPOUND_RE.sub(" lalulintas ", text)
    for pattern, replacement in _JARGON:
        text = pattern.sub(replacement, text)
    text = text.replace("n't", " not").replace("?", " _q ")
    text = _REDUP_RE.sub(r"\1\2", text)
    text = _REPEAT_RE.sub(r"\1", text)
    tokens: list[str] = []
    for tok in _TOKEN_RE.findall(text):
        expanded = _SLANG.get(tok, tok)
        for part in expanded.split():
            # "tidak ada" is one negator ("no X"), so "ada" does not dilute its scope.
            if part == "ada" and tokens and tokens[-1] == "tidak":
                tokens[-1] = "tiada"
            elif not tokens or tokens[-1] != part:  # "muntah muntah" -> "muntah"
                tokens.append(part)
    return tokens


def _prefix_forms(word: str) -> list[str]:
    """Forms of a word with one Indonesian/Banjar prefix removed, with nasal restoration."""
    forms: list[str] = []
    for p in _PLAIN_PREFIXES:
        if word.startswith(p) and len(word) - len(p) >= 3:
            forms.append(word[len(p):])
    # Nasal prefixes (meN-, peN- and the informal bare N-) drop or change the root's first letter.
    for nasal, kind in _NASALS:
        if not word.startswith(nasal) or len(word) - len(nasal) < 3:
            continue
        rest = word[len(nasal):]
        first = rest[0]
        if kind == "ng":
            forms.append(rest)
            if first in _VOWELS:
                forms.append("k" + rest)
        elif kind == "ny":
            if first in _VOWELS:
                forms.extend(("s" + rest, "c" + rest))
        elif kind == "m":
            if first in _VOWELS:
                forms.append("p" + rest)
            elif first in "bfp":
                forms.append(rest)
        elif kind == "n":
            if first in _VOWELS:
                forms.append("t" + rest)
            elif first in "dcjzt":
                forms.append(rest)
    return forms


def _suffix_forms(word: str) -> list[str]:
    """Forms of a word with particle, possessive and derivational suffixes removed."""
    forms = [word]
    for p in _PARTICLES:
        if word.endswith(p) and len(word) - len(p) >= 3:
            forms.append(word[: -len(p)])
            break
    for base in list(forms):
        for s in _DERIVATIONAL:
            if base.endswith(s) and len(base) - len(s) >= 3:
                forms.append(base[: -len(s)])
    return forms


def _candidates(word: str) -> list[str]:
    """All affix-stripped forms of a word (up to two prefixes), longest first, deduplicated."""
    seen: dict[str, None] = {}
    for s in _suffix_forms(word):
        seen.setdefault(s, None)
        for p1 in _prefix_forms(s):
            seen.setdefault(p1, None)
            for p2 in _prefix_forms(p1):
                seen.setdefault(p2, None)
    return sorted(seen, key=len, reverse=True)


# eq=False: each term is unique, and identity hashing keeps the hot path cheap.
@dataclass(frozen=True, eq=False)
class _Term:
    """One weighted cue for one type: a root word or a phrase of roots."""

    type_index: int
    words: tuple[str, ...]
    weight: float
    core: bool


class Classifier:
    """Suggests an incident type for a free-text description; build once, call often."""

    def __init__(
        self,
        types: Iterable[IncidentType],
        fallback_code: str = "OTHER",
        threshold: float = 0.4,
        place_names: Iterable[str] = (),
    ) -> None:
        # The fallback type is never scored: it is the answer when the best confidence is under
        # the threshold, returned with that (low) confidence and the best candidates.
        self._types = [t for t in types if t.code != fallback_code]
        self._fallback = fallback_code
        self._threshold = threshold
        self._codes = [t.code for t in self._types]
        # Ties go to the more urgent type: missing a life-threatening call costs more.
        self._rank = [(t.priority, t.code) for t in self._types]
        index = {t.code: i for i, t in enumerate(self._types)}

        raw: list[tuple[int, str, float, bool]] = []
        for code, spec in _BUILTIN.items():
            if code in index:
                raw.extend((index[code], term, w, core) for term, w, core in _parse_terms(spec))
        # Built-in terms are written as roots, so their words form the stemmer's dictionary.
        self._roots: set[str] = {w for _, term, _, _ in raw for w in _normalise(term)}
        # Names of the regency's desa and kecamatan are never stemmed or fuzzy-matched
        # ("Karang Jinawi" is not "arang", charcoal); words that are vocabulary stay vocabulary.
        self._opaque = _OPAQUE | {
            w for name in place_names for w in re.findall(r"[a-z]+", name.lower())
            if len(w) >= 4 and w not in self._roots}
        self._cache: dict[str, str | None] = {}
        sop_raw: list[tuple[int, str, float, bool]] = []
        for t in self._types:
            for kw in t.keywords:
                words = [w for w in _normalise(kw) if w not in _STOPWORDS or w in _NEGATORS]
                weight = _SOP_PHRASE_WEIGHT if len(words) > 1 else _SOP_WORD_WEIGHT
                sop_raw.append((index[t.code], kw, weight, True))
                # An admin's new word becomes a root itself when it is not an inflection of one.
                for w in words:
                    if w not in self._roots and self._exact_stem(w) is None:
                        self._roots.add(w)
        self._fuzzy_targets = self._build_fuzzy_targets()

        best: dict[tuple[int, tuple[str, ...]], _Term] = {}
        for type_index, text, weight, core in raw + sop_raw:
            words = tuple(self._content(text))
            if not words:
                continue
            key = (type_index, words)
            # A cue the built-ins already know keeps their calibrated weight ("asap" alone is
            # weak evidence of a structure fire); the SOP adds the cues they do not know.
            best.setdefault(key, _Term(type_index, words, weight, core))
        self._unigrams: dict[str, list[_Term]] = {}
        self._phrases: dict[str, list[tuple[_Term, tuple[str, ...]]]] = {}
        for term in best.values():
            if len(term.words) == 1:
                self._unigrams.setdefault(term.words[0], []).append(term)
            else:
                self._phrases.setdefault(term.words[0], []).append((term, term.words))
                # "lahan terbakar" == "terbakar lahan", but "tidak sadar" keeps its order.
                if len(term.words) == 2 and not _NEGATORS & set(term.words):
                    rev = term.words[::-1]
                    self._phrases.setdefault(rev[0], []).append((term, rev))

    # ---------------------------------------------------------------- text -> roots

    def _exact_stem(self, word: str) -> str | None:
        """The longest dictionary root the word reduces to by affix stripping, if any."""
        for cand in _candidates(word):
            if cand in self._roots:
                return cand
        return None

    def _build_fuzzy_targets(self) -> dict[tuple[str, int], tuple[list[str], list[str]]]:
        """Spellings to compare typos with, by (first letter, length): roots and derivations."""
        pairs: dict[str, str] = {}
        for root in sorted(self._roots):
            if len(root) < 4 or root in self._opaque or root.startswith("_"):
                continue
            # A bare root under 6 letters is one typo away from too many everyday words
            # ("curhat" vs "curat"); its longer derived forms are still safe targets.
            forms = ("ter" + root, "di" + root, "ke" + root + "an", root + "an", "ber" + root,
                     "ke" + root)
            for form in (root, *forms) if len(root) >= 6 else forms:
                pairs.setdefault(form, root)
        buckets: dict[tuple[str, int], tuple[list[str], list[str]]] = {}
        for form, root in sorted(pairs.items()):
            forms, roots = buckets.setdefault((form[0], len(form)), ([], []))
            forms.append(form)
            roots.append(root)
        return buckets

    def _fuzzy_stem(self, word: str) -> str | None:
        """A root for a misspelt word: one edit (two for long words), same first letter."""
        if len(word) < 5:
            return None
        max_edits = 2 if len(word) >= 9 else 1
        forms: list[str] = []
        roots: list[str] = []
        for length in range(len(word) - max_edits, len(word) + max_edits + 1):
            bucket = self._fuzzy_targets.get((word[0], length))
            if bucket is not None:
                forms += bucket[0]
                roots += bucket[1]
        best: tuple[float, int, str] | None = None
        for form, dist, idx in process.extract(
            word, forms, scorer=OSA.distance, score_cutoff=max_edits, limit=5
        ):
            # In shorter words one substituted letter is usually another real word ("agung" is
            # not "apung", "terjadi" is not "terjudi"): there only dropped, doubled or swapped
            # letters are typos.
            if len(word) < 8 and len(form) == len(word) and sorted(form) != sorted(word):
                continue
            # Fewest edits first; on a tie the longer root is the more specific reading.
            candidate = (dist, -len(roots[idx]), roots[idx])
            if best is None or candidate < best:
                best = candidate
        return best[2] if best else None

    def _stem(self, word: str) -> str | None:
        """Root of one token, or None when it is not vocabulary (cached)."""
        if word in self._cache:
            return self._cache[word]
        if word in self._roots:
            stem: str | None = word
        elif word in self._opaque:
            stem = None
        else:
            stem = self._exact_stem(word) or self._fuzzy_stem(word)
        if len(self._cache) > 50_000:  # bounded: free text has an open vocabulary
            self._cache.clear()
        self._cache[word] = stem
        return stem

    def _content(self, text: str) -> list[str]:
        """Content tokens as roots; unknown words stay as "" so phrase gaps stay honest."""
        out: list[str] = []
        for tok in _normalise(text):
            if tok in _NEGATORS:
                out.append(tok)
            elif tok not in _STOPWORDS:
                stem = self._stem(tok)
                out.append(stem if stem is not None else "")
        return out

    # ---------------------------------------------------------------- scoring

    def _scores(self, words: list[str]) -> list[float]:
        """Score every type: matched core cues plus capped context cues."""
        # Insertion-ordered (text order), so sums never depend on memory addresses.
        matched: dict[_Term, None] = {}
        in_phrase = [False] * len(words)
        n = len(words)
        for i, w in enumerate(words):
            for term, seq in self._phrases.get(w, ()):
                if term in matched:
                    continue
                pos, j = [i], i
                for nxt in seq[1:]:
                    # A negator binds to the very next word: "air naik, tidak bisa keluar"
                    # must not read as "air tidak keluar".
                    gap = 0 if words[j] in _NEGATORS else _PHRASE_GAP
                    for k in range(j + 1, min(n, j + 2 + gap)):
                        if words[k] == nxt:
                            pos.append(k)
                            j = k
                            break
                    else:
                        break
                if len(pos) == len(seq):
                    matched[term] = None
                    for k in pos:
                        in_phrase[k] = True
        for i, w in enumerate(words):
            # "bukan banjir", "tidak ada api": a negated word is no evidence, unless a phrase
            # already gave it its meaning ("tidak sadar").
            if i > 0 and words[i - 1] in _NEGATORS and not in_phrase[i]:
                continue
            matched.update(dict.fromkeys(self._unigrams.get(w, ())))
        core = [0.0] * len(self._types)
        context = [0.0] * len(self._types)
        for term in matched:
            if term.core:
                core[term.type_index] += term.weight
            else:
                context[term.type_index] += term.weight
        return [c + min(x, _CONTEXT_CAP) if c > 0 else 0.0 for c, x in zip(core, context)]

    def _confidence(self, best: float, second: float) -> float:
        """Confidence from the winner's evidence strength, discounted when a rival is close."""
        if best <= 0:
            return 0.0
        strength = 1.0 - math.exp(-best / _SCORE_SCALE)
        margin = (best - max(second, 0.0)) / best
        return round(strength * (0.6 + 0.4 * margin), 4)

    @staticmethod
    def _prank_obvious(scores: list[float], ranked: list[int]) -> bool:
        """Prank wins only as the sole strong reading: a real emergency must never be lost."""
        second = scores[ranked[1]] if len(ranked) > 1 else 0.0
        return scores[ranked[0]] >= 4.0 and second < 1.5

    def classify(self, description: str) -> Classification:
        """Suggest the incident type for one description."""
        words = self._content(description or "")
        if not any(words):
            return Classification(self._fallback, 0.0, ())
        scores = self._scores(words)
        ranked = sorted(
            (i for i, s in enumerate(scores) if s > 0),
            key=lambda i: (-scores[i], self._rank[i]),
        )
        if ranked and self._codes[ranked[0]] == _PRANK and not self._prank_obvious(scores, ranked):
            ranked = ranked[1:]
        if not ranked:
            return Classification(self._fallback, 0.0, ())
        top, rivals = ranked[0], [i for i in ranked[1:] if self._codes[i] != _PRANK]
        confidence = self._confidence(scores[top], scores[rivals[0]] if rivals else 0.0)
        if confidence < self._threshold:
            return Classification(
                self._fallback, confidence, tuple(self._codes[i] for i in [top, *rivals][:3])
            )
        plausible = [i for i in rivals if scores[i] >= _ALTERNATIVE_SHARE * scores[top]]
        return Classification(
            self._codes[top], confidence, tuple(self._codes[i] for i in plausible[:3])
        )
