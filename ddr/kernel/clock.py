"""The one UTC timestamp ddr writes into results, grids, releases and keyrings."""
from __future__ import annotations

import os
import time
from datetime import datetime, timezone


def utc_now() -> str:
    """ISO-8601 UTC time to the second; SOURCE_DATE_EPOCH pins it so rebuilt artefacts are byte-identical."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    t = int(epoch) if epoch and epoch.isdigit() else int(time.time())
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
