"""held_lock(path): a separate process holding the ddr lock on `path` for the block, as a second `ddr`
command would."""
import subprocess
import sys
from contextlib import contextmanager


@contextmanager
def held_lock(path):
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from ddr.locks import exclusive_lock\n"
         f"with exclusive_lock({str(path)!r}, timeout=0, what='x'):\n print('held', flush=True); sys.stdin.read()",
         "--holder-tag"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(10)
