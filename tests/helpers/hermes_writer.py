"""Write auth.json N times exactly as Hermes does, for rotor's contention tests.

Usage: hermes_writer.py LOCK_PATH AUTH_PATH N HOLD_MS

Each round: open LOCK_PATH with "a+", take fcntl.flock(LOCK_EX | LOCK_NB) polling every 50 ms
(hermes_cli/auth.py _file_lock), read AUTH_PATH, add 1 to the top-level "counter" key, wait
HOLD_MS with the lock held (to widen the window a wrong lock would leave open), write a temp
file in the same directory, fsync it, os.replace it over AUTH_PATH, fsync the directory,
unlock. LOCK_PATH is normally the sibling auth.lock; the negative controls pass another file.
"""
import fcntl
import json
import os
import sys
import tempfile
import time

lock_path, auth_path, rounds, hold_ms = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
directory = os.path.dirname(os.path.abspath(auth_path))

for _ in range(rounds):
    with open(lock_path, "a+", encoding="utf-8") as lock_file:
        while True:
            try:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (BlockingIOError, OSError):
                time.sleep(0.05)
        try:
            with open(auth_path, encoding="utf-8") as f:
                data = json.load(f)
            data["counter"] = data.get("counter", 0) + 1
            time.sleep(hold_ms / 1000.0)
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".auth_", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=2)
                out.write("\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, auth_path)
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        finally:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)
print("done", flush=True)
