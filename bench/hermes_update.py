"""One locked auth.json update done the way Hermes 0.19 does it (hermes_cli/auth.py
`_auth_store_lock` + `_save_auth_store`), for bench/run.sh to compare with `rotor cooldown set`.

Usage: python3 bench/hermes_update.py AUTH_JSON

Open auth.lock "a+", flock LOCK_EX (polling LOCK_NB every 50 ms like Hermes), read and parse
auth.json, mark the first openai-codex entry exhausted for an hour, write json.dumps(indent=2)
to an O_EXCL 0600 temp file, fsync, os.replace over auth.json, fsync the directory.
"""
import fcntl
import json
import os
import stat
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path


def main(auth_file: Path) -> None:
    lock_path = auth_file.with_suffix(".lock")
    with lock_path.open("a+", encoding="utf-8") as lock_file:
        deadline = time.monotonic() + 15
        while True:
            try:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (BlockingIOError, OSError):
                if time.monotonic() >= deadline:
                    raise TimeoutError("auth.lock")
                time.sleep(0.05)
        try:
            store = json.loads(auth_file.read_text())
            now = time.time()
            entry = store["credential_pool"]["openai-codex"][0]
            entry.update(
                last_status="exhausted",
                last_status_at=now,
                last_error_code=None,
                last_error_reason="manual",
                last_error_message="bench",
                last_error_reset_at=now + 3600,
            )
            store["version"] = 1
            store["updated_at"] = datetime.now(timezone.utc).isoformat()
            payload = json.dumps(store, indent=2) + "\n"
            tmp = auth_file.with_name(f"{auth_file.name}.tmp.{os.getpid()}.{uuid.uuid4().hex}")
            fd = os.open(str(tmp), os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, auth_file)
            dir_fd = os.open(str(auth_file.parent), os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        finally:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
