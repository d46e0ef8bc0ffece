"""The official openai and anthropic Python SDKs as clients of `rotor serve`, for tests/it/sdk.rs.

    python client.py API [options]

API is `responses` or `chat` (the openai SDK) or `messages` (the anthropic SDK). The gateway's
address comes from ROTOR_URL (http://127.0.0.1:PORT, without /v1) and its key from ROTOR_KEY.
One JSON object goes to stdout: what the client saw (see `result` below); with --threads N,
{"results": [N of them]}. The SDKs retry nothing (max_retries=0) unless --retries says so.
"""

import argparse
import json
import os
import sys
import threading
import time

MODEL_OPENAI = "gpt-5.5"
MODEL_ANTHROPIC = "claude-sonnet-4-5"


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("api", choices=["responses", "chat", "messages"])
    p.add_argument("--stream", action="store_true", help="stream=True")
    p.add_argument(
        "--helper",
        action="store_true",
        help="the SDK's stream helper (responses.stream, messages.stream) instead of stream=True",
    )
    p.add_argument(
        "--stop-after",
        type=int,
        default=0,
        help="close the stream after this many events, as a caller that breaks off does",
    )
    p.add_argument("--key", help="send this key instead of ROTOR_KEY")
    p.add_argument("--retries", type=int, default=0, help="the SDK's max_retries")
    p.add_argument("--timeout", type=float, default=20.0, help="the SDK's timeout, seconds")
    p.add_argument("--input-bytes", type=int, default=0, help="pad the prompt to this size")
    p.add_argument("--threads", type=int, default=0, help="this many requests at once")
    p.add_argument(
        "--sizes",
        help="one request after the other on the same client (its kept-alive connection), "
        "padded to each of these comma-separated sizes",
    )
    p.add_argument(
        "--go-file",
        help="once the SDK is loaded, create GO_FILE.ready and send only when GO_FILE exists",
    )
    p.add_argument(
        "--give-up-after",
        type=float,
        default=0.0,
        help="if the call has not returned after this many seconds, say so and exit",
    )
    p.add_argument(
        "--poll",
        type=float,
        default=0.0,
        help="send the request again every 100 ms until it succeeds or this many seconds pass",
    )
    return p.parse_args()


def client(args):
    base = os.environ["ROTOR_URL"].rstrip("/")
    key = args.key or os.environ["ROTOR_KEY"]
    common = dict(api_key=key, max_retries=args.retries, timeout=args.timeout)
    if args.api == "messages":
        import anthropic

        # The anthropic SDK adds /v1 itself.
        return anthropic.Anthropic(base_url=base, **common)
    import openai

    return openai.OpenAI(base_url=base + "/v1", **common)


def prompt(args):
    text = "hi"
    if args.input_bytes > len(text):
        text += " " + "x" * (args.input_bytes - len(text) - 1)
    return text


def headers_of(headers):
    """The answer headers a test looks at."""
    wanted = [
        "retry-after",
        "x-should-retry",
        "x-rotor-request-id",
        "x-rotor-profile",
        "content-type",
    ]
    return {name: headers.get(name) for name in wanted if headers.get(name) is not None}


def error_of(e):
    """An exception as the caller of the SDK sees it."""
    out = {
        "class": type(e).__name__,
        "module": type(e).__module__.split(".")[0],
        "bases": [c.__name__ for c in type(e).__mro__[1:] if c is not object],
        "message": str(e)[:1000],
    }
    status = getattr(e, "status_code", None)
    if status is not None:
        out["status"] = status
    response = getattr(e, "response", None)
    if response is not None:
        try:
            out["headers"] = headers_of(response.headers)
        except Exception:  # noqa: BLE001 - a response without readable headers
            pass
    body = getattr(e, "body", None)
    if body is not None:
        out["body"] = body
    for attr in ("type", "code"):
        value = getattr(e, attr, None)
        if isinstance(value, str):
            out[attr] = value
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        # The anthropic SDK keeps the error's type in the body only.
        out.setdefault("type", body["error"].get("type"))
    cause = e.__cause__ or e.__context__
    if cause is not None:
        out["cause"] = type(cause).__name__
    return out


class Seen:
    """What one request yielded to its caller, kept as it comes so a failure midway keeps it."""

    def __init__(self):
        self.events = []  # event types (openai responses, anthropic) or "chunk"
        self.ids = []  # ids of the response / message / completion the events belong to
        self.text = ""
        self.headers = {}
        self.stream_errors = []  # error events the SDK yielded rather than raised

    def id(self, value):
        if isinstance(value, str) and value not in self.ids:
            self.ids.append(value)

    def result(self, ok, error=None, final=None):
        out = {
            "ok": ok,
            "text": self.text,
            "events": self.events,
            "ids": self.ids,
            "headers": self.headers,
        }
        if self.stream_errors:
            out["stream_errors"] = self.stream_errors
        if final is not None:
            out["final"] = final
        if error is not None:
            out["error"] = error_of(error)
        return out


def responses(c, args, seen):
    kwargs = dict(model=MODEL_OPENAI, input=prompt(args), store=False)
    if args.helper:
        with c.responses.stream(**kwargs) as stream:
            # The helper keeps the raw httpx response to itself.
            response = getattr(stream, "_response", None)
            seen.headers = headers_of(response.headers) if response is not None else {}
            for event in stream:
                responses_event(event, seen)
            final = stream.get_final_response()
            seen.id(final.id)
            return {"text": final.output_text, "status": final.status}
    raw = c.responses.with_raw_response.create(stream=args.stream, **kwargs)
    seen.headers = headers_of(raw.headers)
    parsed = raw.parse()
    if not args.stream:
        seen.id(parsed.id)
        seen.text = parsed.output_text
        return {"status": parsed.status, "object": parsed.object}
    for event in parsed:
        responses_event(event, seen)
        if args.stop_after and len(seen.events) >= args.stop_after:
            parsed.close()
            return {"closed_after": len(seen.events)}
    return None


def responses_event(event, seen):
    seen.events.append(event.type)
    response = getattr(event, "response", None)
    if response is not None:
        seen.id(getattr(response, "id", None))
    if event.type == "response.output_text.delta":
        seen.text += event.delta
    if event.type == "error":
        seen.stream_errors.append({"code": event.code, "message": event.message})


def chat(c, args, seen):
    kwargs = dict(model=MODEL_OPENAI, messages=[{"role": "user", "content": prompt(args)}])
    raw = c.chat.completions.with_raw_response.create(stream=args.stream, **kwargs)
    seen.headers = headers_of(raw.headers)
    parsed = raw.parse()
    if not args.stream:
        seen.id(parsed.id)
        seen.text = parsed.choices[0].message.content or ""
        return {"finish_reason": parsed.choices[0].finish_reason}
    finish = None
    for chunk in parsed:
        seen.events.append("chunk")
        seen.id(chunk.id)
        for choice in chunk.choices:
            seen.text += choice.delta.content or ""
            finish = choice.finish_reason or finish
    return {"finish_reason": finish}


def messages(c, args, seen):
    kwargs = dict(
        model=MODEL_ANTHROPIC,
        max_tokens=64,
        messages=[{"role": "user", "content": prompt(args)}],
    )
    if args.helper:
        with c.messages.stream(**kwargs) as stream:
            seen.headers = headers_of(stream.response.headers)
            for event in stream:
                messages_event(event, seen)
            final = stream.get_final_message()
            seen.id(final.id)
            return {
                "text": "".join(b.text for b in final.content if b.type == "text"),
                "stop_reason": final.stop_reason,
            }
    raw = c.messages.with_raw_response.create(stream=args.stream, **kwargs)
    seen.headers = headers_of(raw.headers)
    parsed = raw.parse()
    if not args.stream:
        seen.id(parsed.id)
        seen.text = "".join(b.text for b in parsed.content if b.type == "text")
        return {"stop_reason": parsed.stop_reason}
    for event in parsed:
        messages_event(event, seen)
    return None


def messages_event(event, seen):
    seen.events.append(event.type)
    if event.type == "message_start":
        seen.id(event.message.id)
    # The helper yields its own `text` events besides the raw deltas: count the deltas only.
    if event.type == "content_block_delta" and getattr(event.delta, "type", None) == "text_delta":
        seen.text += event.delta.text


CALLS = {"responses": responses, "chat": chat, "messages": messages}


def one(c, args):
    seen = Seen()
    try:
        final = CALLS[args.api](c, args, seen)
    except Exception as e:  # noqa: BLE001 - every exception is what the test looks at
        return seen.result(False, error=e)
    return seen.result(True, final=final)


def main():
    args = parse_args()
    c = client(args)
    if args.go_file:
        open(args.go_file + ".ready", "w").close()
        deadline = time.monotonic() + 20
        while not os.path.exists(args.go_file) and time.monotonic() < deadline:
            time.sleep(0.01)
    started = time.monotonic()
    if args.give_up_after:
        # The SDK may sleep on its own (a Retry-After) beyond any timeout it was given.
        done = []
        worker = threading.Thread(target=lambda: done.append(one(c, args)), daemon=True)
        worker.start()
        worker.join(args.give_up_after)
        out = done[0] if done else {"ok": False, "hung": True}
        out["seconds"] = round(time.monotonic() - started, 3)
        json.dump(out, sys.stdout, default=str)
        sys.stdout.write("\n")
        sys.stdout.flush()
        os._exit(0)
    if args.threads:
        results = [None] * args.threads
        # All threads send at once, as a herd does.
        barrier = threading.Barrier(args.threads)

        def worker(i):
            barrier.wait()
            results[i] = one(c, args)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out = {"results": results}
    elif args.sizes:
        results = []
        for size in args.sizes.split(","):
            args.input_bytes = int(size)
            results.append(one(c, args))
        out = {"results": results}
    elif args.poll:
        tries = []
        while True:
            result = one(c, args)
            tries.append(result.get("error", {}).get("status") if not result["ok"] else 200)
            if result["ok"] or time.monotonic() - started > args.poll:
                break
            time.sleep(0.1)
        out = dict(result, tries=tries)
    else:
        out = one(c, args)
    out["seconds"] = round(time.monotonic() - started, 3)
    # When the last request ended, for a test that compares it with something it did itself.
    out["ended_at"] = time.time()
    json.dump(out, sys.stdout, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
