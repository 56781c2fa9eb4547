"""A realistic, deterministic (seeded) synthetic registry for demos, tests and benchmarks.

NIKs are valid in structure (the province and regency codes match the worker's
regency, women carry birth day + 40), names are Indonesian, phones are written
in the mixed shapes real lists contain (0812…, +62 812…, 62-812…), and about one
worker in 30 shares a phone with the previous one (a household).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.phone import phone_problem_or_value
from registration.importer import FACILITY_COLUMNS, WORKER_COLUMNS

# (regency as written, province+regency code of the NIK, a district-ish place name)
REGENCIES = [
    ("Kota Bandung", "3273", ["Cibeunying", "Sukajadi", "Coblong", "Antapani"]),
    ("Kab. Bogor", "3201", ["Cibinong", "Citeureup", "Ciawi", "Cileungsi"]),
    ("Kota Surabaya", "3578", ["Tambaksari", "Wonokromo", "Rungkut", "Gubeng"]),
    ("Kota Medan", "1271", ["Medan Baru", "Medan Johor", "Medan Area", "Helvetia"]),
    ("Kota Makassar", "7371", ["Panakkukang", "Tamalate", "Mariso", "Biringkanaya"]),
    ("Kota Semarang", "3374", ["Banyumanik", "Tembalang", "Candisari", "Ngaliyan"]),
    ("Kota Yogyakarta", "3471", ["Gondokusuman", "Umbulharjo", "Jetis", "Kotagede"]),
    ("Kota Denpasar", "5171", ["Denpasar Selatan", "Denpasar Barat", "Sanur", "Ubung"]),
    ("Kota Jakarta Selatan", "3174", ["Tebet", "Kebayoran Baru", "Pancoran", "Cilandak"]),
    ("Kota Palembang", "1671", ["Ilir Barat", "Seberang Ulu", "Sukarami", "Kemuning"]),
]
LONG_NAME = (
    "Rumah Sakit Umum Daerah Dr. Hasan Sadikin Unit Pelayanan Vaksinasi Tenaga Kesehatan"
    " Kota Bandung"
)
MALE = "Budi Agus Andi Joko Rizky Ahmad Dedi Hendra Eko Bambang Yusuf Fajar Hadi Irfan Wahyu"
MALE += " Teguh Dimas Arief Rudi Slamet Made Ketut Daeng Ilham Taufik"
FEMALE = "Siti Dewi Sri Ani Rina Wulan Putri Ayu Nur Fitri Indah Lestari Ratna Yuni Maya Dian"
FEMALE += " Kartika Nining Endang Intan Luh Sari Rahmawati Nurul"
_SURNAMES = (
    "Santoso Wijaya Saputra Hidayat Nugroho Pratama Kusuma Siregar Nasution Harahap Lubis"
    " Simanjuntak Sitompul Pangaribuan Setiawan Rahman Hasibuan Gunawan Purnomo Wibowo"
    " Susanto Halim Tanjung Rangkuti Sembiring Ginting Manurung Tambunan Putra Sari"
    " Wulandari Handayani Hartono Suryadi Mahendra Syahputra Ramadhan Anggraini Permata"
)
SURNAMES = _SURNAMES.split()
PROFESSIONS = [
    ("Perawat", 40),
    ("Bidan", 18),
    ("Dokter", 12),
    ("Apoteker", 5),
    ("Analis Kesehatan", 5),
    ("Tenaga Gizi", 4),
    ("Dokter Gigi", 3),
    ("Sanitarian", 3),
    ("Radiografer", 3),
    ("Fisioterapis", 2),
    ("Tenaga Administrasi Kesehatan", 5),
]
OPERATOR_PREFIXES = "11 12 13 21 22 23 52 53 14 15 16 55 56 57 58 17 18 19 59 77 78 81 95 96"


@dataclass(frozen=True, slots=True)
class Login:
    phone: str  # normalised 62...
    last6: str
    name: str
    household: bool


def facility_rows(rng: random.Random, extra: int = 0) -> list[list[str]]:
    rows: list[list[str]] = []
    for regency, code, places in REGENCIES:
        for n, place in enumerate(places, start=1):
            capacity = rng.randrange(60, 121, 10)
            rows.append(
                [f"PKM-{code}-{n:02d}", f"Puskesmas {place}", regency, f"Jl. {place} No. {n}",
                 str(capacity)]
            )  # fmt: skip
        rows.append(
            [f"RSUD-{code}", f"RSUD {regency.replace('Kota ', '').replace('Kab. ', '')}",
             regency, f"Jl. Pahlawan No. {rng.randint(1, 200)}", str(rng.randrange(200, 301, 20))]
        )  # fmt: skip
        rows.append(
            [f"KLN-{code}-01", f"Klinik Pratama Sehat {places[0]}", regency,
             f"Jl. Merdeka No. {rng.randint(1, 99)}", str(rng.randrange(30, 51, 10))]
        )  # fmt: skip
    rows.append(["RSUD-3273-HS", LONG_NAME, "Kota Bandung", "Jl. Pasteur No. 38", "250"])
    for n in range(extra):  # benchmarks: many more facilities, spread over the regencies
        regency, code, places = REGENCIES[n % len(REGENCIES)]
        place = places[n % len(places)]
        rows.append(
            [f"PKM-{code}-X{n:05d}", f"Puskesmas Pembantu {place} {n}", regency,
             f"Jl. Desa No. {n % 300 + 1}", str(rng.randrange(60, 121, 10))]
        )  # fmt: skip
    return rows


def _phone(rng: random.Random, prefixes: list[str]) -> tuple[str, str]:
    """(as written in the list, normalised)."""
    local = "8" + rng.choice(prefixes) + "".join(rng.choices("0123456789", k=rng.choice((7, 8))))
    shape = rng.random()
    if shape < 0.6:
        written = "0" + local
    elif shape < 0.8:
        written = f"+62 {local[:3]}-{local[3:7]}-{local[7:]}"
    else:
        written = "62" + local
    return written, "62" + local


def worker_rows(
    rng: random.Random, count: int, facilities: list[list[str]]
) -> Iterator[tuple[list[str], str]]:
    """Yields (CSV row, normalised phone)."""
    codes = {regency: code for regency, code, _ in REGENCIES}
    males, females = MALE.split(), FEMALE.split()
    prefixes = OPERATOR_PREFIXES.split()
    professions = [p for p, _ in PROFESSIONS]
    weights = [w for _, w in PROFESSIONS]
    seen: set[str] = set()
    last_phone = ("", "")
    for i in range(count):
        facility = facilities[rng.randrange(len(facilities))]
        profession = rng.choices(professions, weights)[0]
        female = profession == "Bidan" or rng.random() < 0.6
        first = rng.choice(females if female else males)
        name = f"{first} {rng.choice(SURNAMES)}"
        while True:
            day = rng.randint(1, 28) + (40 if female else 0)
            # Born 1968-1999: inside the 18-59 band of menus/screening.toml, then and now.
            birth = f"{day:02d}{rng.randint(1, 12):02d}{rng.randint(68, 99):02d}"
            district = f"{rng.randint(1, 30):02d}"
            nik = f"{codes[facility[2]]}{district}{birth}{rng.randint(1, 9999):04d}"
            if nik not in seen:
                seen.add(nik)
                break
        # About one in 30 shares the previous worker's phone (a household).
        phone = last_phone if i and rng.random() < 1 / 30 else _phone(rng, prefixes)
        last_phone = phone
        yield [nik, name, phone[0], profession, facility[0]], phone[1]


def write_csvs(
    out_dir: str | Path,
    workers: int = 10_000,
    seed: int = 2021,
    logins: int = 5,
    extra_facilities: int = 0,
) -> tuple[Path, Path, list[Login]]:
    """Write facilities.csv and health_workers.csv; return their paths and a few logins."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    facilities = facility_rows(rng, extra_facilities)
    fac_path, wk_path = out / "facilities.csv", out / "health_workers.csv"
    with fac_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FACILITY_COLUMNS)
        writer.writerows(facilities)
    found: list[Login] = []
    households = 0
    previous_phone = ""
    with wk_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(WORKER_COLUMNS)
        for row, phone in worker_rows(rng, workers, facilities):
            writer.writerow(row)
            shared = phone == previous_phone
            if shared and households < 2 and len(found) < logins + 2:
                found.append(Login(phone, row[0][-6:], row[1], True))
                households += 1
            elif not shared and len(found) < logins - (2 - households):
                found.append(Login(phone, row[0][-6:], row[1], False))
            previous_phone = phone
    return fac_path, wk_path, found


def normalised(phone: str) -> str:
    return phone_problem_or_value(phone)[0]
