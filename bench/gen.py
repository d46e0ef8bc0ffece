"""Generates the inputs of bench/run.sh.

  python3 bench/gen.py pool N FILE      auth.json with N openai-codex profiles (Hermes 0.19 shape)
  python3 bench/gen.py scenario N FILE  rotor simulate scenario: 10 profiles, N requests, scripts
                                        mixing successes, usage limits, throttles and 503s
"""
import base64
import json
import sys


def jwt(email, plan, account):
    def b64(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    claims = {
        "exp": 4102444800,
        "email": email,
        "https://api.openai.com/auth": {"chatgpt_plan_type": plan, "chatgpt_account_id": account},
    }
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.fake-signature"


def entry(i, status_fields=True):
    email = f"user{i}@example.com"
    e = {
        "id": f"{i:06x}",
        "label": email,
        "auth_type": "oauth",
        "priority": i,
        "source": "manual:device_code",
        "access_token": jwt(email, "team" if i % 3 else "prolite", f"acct-{i:06d}"),
        "refresh_token": f"rt_fake_refresh_{i}",
    }
    if status_fields:
        exhausted = i % 7 == 3
        e.update({
            "last_status": "exhausted" if exhausted else None,
            "last_status_at": 1795838430.64 if exhausted else None,
            "last_error_code": 429 if exhausted else None,
            "last_error_reason": "usage_limit_reached" if exhausted else None,
            "last_error_message": "The usage limit has been reached" if exhausted else None,
            "last_error_reset_at": 4102358400 if exhausted else None,
        })
    e.update({"base_url": "https://chatgpt.com/backend-api/codex", "request_count": i % 50})
    return e


def pool(n, path):
    store = {
        "version": 1,
        "providers": {},
        "active_provider": "openai-codex",
        "credential_pool": {"openai-codex": [entry(i) for i in range(n)]},
        "updated_at": "2026-11-28T04:00:30.632929+00:00",
    }
    with open(path, "w") as f:
        f.write(json.dumps(store, indent=2) + "\n")


def scenario(n, path):
    profiles = [entry(i, status_fields=False) for i in range(10)]
    scripts = {}
    # Each profile's script is consumed across the whole run; the mix keeps rotations, cooldowns
    # and same-profile retries happening all along, not only at the start.
    for i, p in enumerate(profiles):
        responses = []
        for k in range(n // 10 + 10):
            if (k + i) % 97 == 0:
                responses.append({"status": 429, "error_type": "usage_limit_reached",
                                  "message": "The usage limit has been reached",
                                  "resets_in_seconds": 30})
            elif (k + 2 * i) % 53 == 0:
                responses.append("unavailable")
            elif (k + 3 * i) % 71 == 0:
                responses.append({"status": 429, "retry_after": 1})
            else:
                responses.append("ok")
        scripts[p["id"]] = responses
    doc = {
        "description": f"bench: 10 profiles, {n} requests",
        "provider": "openai-codex",
        "strategy": "round_robin",
        "seed": 1,
        "policy": {"attempts_per_profile": 4, "max_wait": "60s", "backoff_base": 0.5},
        "pool": profiles,
        # A list (a count is capped at 10,000): one arrival per virtual second.
        "requests": list(range(n)),
        "scripts": scripts,
    }
    with open(path, "w") as f:
        json.dump(doc, f)


if __name__ == "__main__":
    kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    {"pool": pool, "scenario": scenario}[kind](n, out)
