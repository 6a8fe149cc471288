"""Benchmark the gazetteer: microseconds per locate, match_address and search call."""

import random
import time
from collections.abc import Callable, Sequence

from siaga112.geo.gazetteer import Gazetteer

ADDRESSES = [
    "Jl. Provinsi km 5 kel nipah nipah",
    "sotek rt 3",
    "dekat pasar sepaku",
    "RT 07 Kel. Sotek, Kec. Penajam, Kabupaten Penajam Paser Utara",
    "babulu laut dekat dermaga",
    "rumah warna hijau dekat sekolah, jalan raya",
    "tadi petang ada kecelakaan pejalan kaki",
    "gn seteleng",
]
QUERIES = ["sep", "nipah", "smoi", "gunung", "kel sot", "mulyo"]


def per_call_us(fn: Callable, args: Sequence[tuple], repeat: int = 5) -> float:
    """Best-of-repeat mean microseconds per call of fn(*a) over args."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for a in args:
            fn(*a)
        best = min(best, (time.perf_counter() - start) / len(args))
    return best * 1e6


def main() -> None:
    """Load the packaged data and print timings."""
    start = time.perf_counter()
    gaz = Gazetteer.load()
    print(f"load: {(time.perf_counter() - start) * 1000:.0f} ms")

    rng = random.Random(112)
    # Regency bbox plus ~5 km margin: inside, shore-tolerance and outside points.
    points = [(rng.uniform(-1.64, -0.75), rng.uniform(116.29, 116.99)) for _ in range(20_000)]
    results = [gaz.locate(*p) for p in points]
    groups = {
        "inside desa": [p for p, r in zip(points, results, strict=True) if r.distance_m == 0],
        "within tolerance": [p for p, r in zip(points, results, strict=True) if 0 < r.distance_m and r.inside_regency],
        "outside": [p for p, r in zip(points, results, strict=True) if not r.inside_regency],
    }
    print(f"locate, all {len(points)} points: {per_call_us(gaz.locate, points):.1f} us/call")
    for name, group in groups.items():
        print(f"locate, {name} ({len(group)}): {per_call_us(gaz.locate, group):.1f} us/call")
    far = [(-6.2088, 106.8456), (-0.5022, 117.1536)] * 500
    print(f"locate, far outside (Jakarta/Samarinda): {per_call_us(gaz.locate, far):.1f} us/call")

    addresses = [(a,) for a in ADDRESSES] * 200
    print(f"match_address: {per_call_us(gaz.match_address, addresses):.1f} us/call")
    queries = [(q,) for q in QUERIES] * 200
    print(f"search: {per_call_us(gaz.search, queries):.1f} us/call")


if __name__ == "__main__":
    main()
