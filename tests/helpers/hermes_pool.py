"""Real Hermes (hermes-agent, agent.credential_pool) choosing from and marking its own pool,
for rotor's fleet tests. Run with the Python of Hermes's venv, HERMES_HOME set.

Usage:
  hermes_pool.py select PROVIDER            prints {"id": ...} of the entry Hermes picks
  hermes_pool.py exhaust PROVIDER STATUS [RESET_AT]
                                            marks the entry Hermes would pick exhausted, as a
                                            failed request would, and prints {"id": ...}
"""
import json
import sys

from agent.credential_pool import load_pool

command, provider = sys.argv[1], sys.argv[2]
pool = load_pool(provider)
if command == "select":
    entry = pool.select()
    print(json.dumps({"id": entry.id if entry else None}))
elif command == "exhaust":
    entry = pool.select()
    context = {"reason": "usage_limit_reached", "message": "The usage limit has been reached"}
    if len(sys.argv) > 4:
        context["reset_at"] = float(sys.argv[4])
    pool.mark_exhausted_and_rotate(status_code=int(sys.argv[3]), error_context=context)
    print(json.dumps({"id": entry.id if entry else None}))
else:
    sys.exit(f"unknown command {command}")
