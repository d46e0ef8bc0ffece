"""Hold auth.lock exactly as Hermes does, for rotor's lock tests.

Usage: hold_lock.py LOCK_PATH SECONDS

Opens the lock file with "a+" and takes fcntl.flock(LOCK_EX | LOCK_NB), polling every 50 ms
(hermes_cli/auth.py _file_lock), prints "locked" once held, holds it SECONDS, then releases.
"""
import fcntl
import sys
import time

path, seconds = sys.argv[1], float(sys.argv[2])
with open(path, "a+", encoding="utf-8") as lock_file:
    while True:
        try:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except (BlockingIOError, OSError):
            time.sleep(0.05)
    print("locked", flush=True)
    time.sleep(seconds)
    fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)
