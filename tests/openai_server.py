"""A real OpenAI-compatible HTTP server on 127.0.0.1 with scripted replies, or replies from a responder
such as a real local model (stdlib only).

POST /v1/chat/completions answers with the next scripted reply, as one JSON completion or, when the
request says ``"stream": true``, as server-sent-event chunks (a few characters each, ``data: [DONE]``
last). Every request is recorded with its headers and body so tests can see what the client sent.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedOpenAIServer:
    def __init__(self, chunk_chars: int = 6, chunk_delay: float = 0.0, responder=None):
        self.replies: list[str | tuple[int, str]] = []  # text, or (http_status, body)
        # responder(body) -> text answers when no scripted reply is left (e.g. a real model)
        self.responder = responder
        self.requests: list[dict] = []
        self.chunk_chars = chunk_chars
        self.chunk_delay = chunk_delay
        self.sent_done_at: list[float] = []  # when each streamed reply finished (perf_counter)
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path != "/v1/chat/completions":
                    self._send(404, {"error": {"message": "not found"}})
                    return
                with owner._lock:
                    owner.requests.append({"headers": dict(self.headers), "body": body})
                    reply = owner.replies.pop(0) if owner.replies else None
                if reply is None:  # outside the lock: a real model takes seconds
                    reply = owner.responder(body) if owner.responder else (500, "no scripted reply left")
                if isinstance(reply, tuple):
                    status, message = reply
                    self._send(status, {"error": {"message": message, "type": "server_error"}})
                    return
                if body.get("stream"):
                    self._stream(reply, body)
                else:
                    self._send(200, _completion(reply, body))

            def _send(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, text, body):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                created = int(time.time())
                first = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": created,
                         "model": body.get("model", "test"),
                         "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
                try:
                    self._event(first)
                    n = owner.chunk_chars
                    for i in range(0, len(text), n):
                        if owner.chunk_delay:
                            time.sleep(owner.chunk_delay)
                        chunk = dict(first, choices=[{"index": 0, "delta": {"content": text[i:i + n]}, "finish_reason": None}])
                        self._event(chunk)
                    self._event(dict(first, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}]))
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading: fine
                owner.sent_done_at.append(time.perf_counter())
                self.close_connection = True

            def _event(self, payload):
                self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
                self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "ScriptedOpenAIServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def _completion(text: str, body: dict) -> dict:
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
        "model": body.get("model", "test"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }
