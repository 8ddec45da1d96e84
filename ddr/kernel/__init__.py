"""The shared kernel: the small jobs every layer needs, done one way.

registry  -- `Registry`, the one name table behind every extension point (models, data sets, losses, ...)
atomic    -- atomic file and folder writes
digests   -- sha256 of bytes, files and JSON values; the canonical JSON that is signed
clock     -- the UTC timestamp every record carries (honours SOURCE_DATE_EPOCH)
git       -- the commit a result or release was made from

Nothing here imports torch, click or any ddr module but ddr.errors, so every layer may import it.
"""
