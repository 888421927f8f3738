"""How fast a firm's device list is read, and how much memory it takes.

    python bench/bench_device_files.py            # 100,000 rows
    python bench/bench_device_files.py --rows 1000000

Writes an .xlsx like a real upload (mixed single- and dual-IMEI devices, IMEIs as text)
with openpyxl write-only, then reads it with `read_device_file` in a fresh process, so the
peak RSS reported is the reader's own. Also times the operator hot path
(`normalise_network_imei` over a batch of 10,000).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.imei import luhn_check_digit, normalise_network_imei

MODELS = [
    ("APPLE", "A2403"),
    ("SAMSUNG", "SM-G9359"),
    ("XIAOMI", "2201117TG"),
    ("NOKIA", "TA-1203"),
]
DUAL_EVERY = 3  # every third device has two SIM slots


def _imei(serial: int) -> str:
    payload = f"35{serial:012d}"
    return payload + luhn_check_digit(payload)


def write_sample(path: Path, rows: int) -> tuple[float, int]:
    from openpyxl import Workbook

    started = time.perf_counter()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("IMEI Listesi")
    sheet.append(["MARKA", "MODEL", "IMEI1", "IMEI2", "IMEI3", "IMEI4"])
    serial = 0
    for index in range(rows):
        brand, model = MODELS[index % len(MODELS)]
        imeis = [_imei(serial)]
        serial += 1
        if index % DUAL_EVERY == 0:
            imeis.append(_imei(serial))
            serial += 1
        sheet.append([brand, model, *imeis])
    workbook.save(path)
    return time.perf_counter() - started, serial


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _read(path: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from resolvers.device_files import read_device_file

    baseline = _peak_rss_mb()
    started = time.perf_counter()
    with read_device_file(path, filename="bench.xlsx") as device_file:
        devices = sum(1 for _ in device_file.rows)
        result = (devices, device_file.imei_count, device_file.issue_count)
    elapsed = time.perf_counter() - started
    queue.put((elapsed, *result, baseline, _peak_rss_mb()))


def bench_network_hot_path() -> float:
    batch = [_imei(serial)[:14] for serial in range(10_000)]
    started = time.perf_counter()
    rounds = 20
    for _ in range(rounds):
        for raw in batch:
            normalise_network_imei(raw)
    return (time.perf_counter() - started) / rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "devices.xlsx"
        write_seconds, imeis = write_sample(path, args.rows)
        size_mb = path.stat().st_size / 1024 / 1024
        print(
            f"sample: {args.rows:,} rows, {imeis:,} IMEIs, {size_mb:.1f} MB, "
            f"written in {write_seconds:.1f} s"
        )

        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        child = context.Process(target=_read, args=(str(path), queue))
        child.start()
        elapsed, devices, imei_count, issues, baseline, peak = queue.get()
        child.join()

    print(
        f"read: {devices:,} devices, {imei_count:,} IMEIs, {issues} issues in {elapsed:.2f} s "
        f"= {devices / elapsed:,.0f} rows/s"
    )
    print(f"reader process peak RSS: {peak:.0f} MB (after imports: {baseline:.0f} MB)")
    per_batch = bench_network_hot_path()
    print(f"normalise_network_imei: {per_batch * 1000:.1f} ms per 10,000 IMEIs")


if __name__ == "__main__":
    main()
