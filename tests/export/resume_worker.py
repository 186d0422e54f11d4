"""Runs one export in its own process, so a test can kill it (SIGKILL) and run it again.

Usage: python -m tests.export.resume_worker BASE_URL STATE_DIR ROWS REPORT_PATH [CHANGED]

With CHANGED, the first CHANGED rows carry a new first name: a rerun of a completed export is then
a refresh that sends those rows.
"""

from __future__ import annotations

import sys
from pathlib import Path

from omnisend_sdk import OmnisendClient, RateLimiter, RetryPolicy, export_segment
from omnisend_sdk.testing import EMULATOR_API_KEY
from tests.export.conftest import MAPPING, segment_rows

#: Slow enough that kills land mid-export: 15 requests a second (a 6,000-row export takes ~5 s).
PACE = RateLimiter(requests_per_minute=15, window=1.0)


def main() -> None:
    base_url, state_dir, rows, report_path = sys.argv[1:5]
    changed = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    source = segment_rows(int(rows))
    for row in source[:changed]:
        row["First"] += "-v2"
    with OmnisendClient(
        EMULATOR_API_KEY,
        base_url=base_url,
        rate_limiter=PACE,
        retry=RetryPolicy(backoff_base=0.01),
    ) as client:
        report = export_segment(
            source,
            MAPPING,
            client=client,
            segment="VIP customers",
            state_dir=state_dir,
            progress=None,
        )
    Path(report_path).write_text(report.to_json())


if __name__ == "__main__":
    main()
