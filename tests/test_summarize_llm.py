"""The LLM summarizer against a real chat-completions server on 127.0.0.1, and its fallbacks.

Every way the model server can let us down (500, too slow, not JSON, the
wrong JSON, an empty answer) must still give the article its extractive
summary: the digest goes out regardless.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from digest.settings import SummarizeSettings
from digest.summarize.backends import summarize_articles
from digest.summarize.extractive import summarize
from digest.summarize.llm import answer_sentences

ARTICLES = [
    ("Council approves new bridge",
     ("The city council approved a new bridge on Monday. The vote was 7 to 2. Construction starts in May. "
      "The mayor said the bridge would cut commutes by ten minutes. Opponents worried about the cost. "
      "The bridge will cost 40 million euros. It will open in 2028.")),
    ("Storm closes schools",
     ("A storm closed every school in the region on Tuesday. Winds reached 120 km/h overnight. "
      "Power was cut to 30,000 homes. Crews worked through the night to restore it. "
      "Schools are expected to reopen on Thursday. The weather service warned of more wind.")),
]
ANSWER = "The council approved a bridge. It opens in 2028. It costs 40 million euros. Extra sentence."


def completion(content) -> bytes:
    return json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}).encode()


class ChatServer:
    """A chat-completions endpoint on 127.0.0.1; `reply(body) -> (status, bytes)` decides each answer."""

    def __init__(self) -> None:
        self.reply: Callable[[dict], tuple[int, bytes]] = lambda body: (200, completion(ANSWER))
        self.requests: list[tuple[str, dict[str, str], dict]] = []
        self.hold_until_in_flight = 0  # hold each request until this many are in flight (or 2 s pass)
        self.in_flight = 0
        self.peak = 0
        self.release = threading.Event()  # set at teardown: frees requests a test left hanging
        self.hang = False
        self.lock = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests.append((self.path, dict(self.headers), body))
                    server.in_flight += 1
                    server.peak = max(server.peak, server.in_flight)
                    server.lock.notify_all()
                    server.lock.wait_for(lambda: server.in_flight >= server.hold_until_in_flight, timeout=2.0)
                answered = False
                try:
                    if server.hold_until_in_flight:
                        time.sleep(0.05)  # room for any call beyond the bound to show up (only the bound is asserted)
                    if server.hang:
                        server.release.wait(10)
                    status, payload = server.reply(body)
                    # No longer in flight once answered: counted down before the client can read the answer and
                    # send its next call, or that call would find this one still counted (a peak of 3 for 2).
                    with server.lock:
                        server.in_flight -= 1
                        answered = True
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test)
                finally:
                    if not answered:
                        with server.lock:
                            server.in_flight -= 1

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


@pytest.fixture
def chat():
    server = ChatServer()
    thread = threading.Thread(target=server.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.httpd.shutdown()
        server.httpd.server_close()


def llm(server: ChatServer, **changes) -> SummarizeSettings:
    return replace(SummarizeSettings(backend="llm", llm_base_url=server.base_url, llm_model="tiny",
                                     llm_timeout=5.0), **changes)


def extractive(article, n=2):
    title, text = article
    return summarize(text, title=title, max_sentences=n)


def test_llm_answers_are_split_into_whole_sentences_and_cut_to_the_count(chat):
    out = summarize_articles(ARTICLES, settings=llm(chat, llm_api_key="k3y"), max_sentences=3)
    assert out == [["The council approved a bridge.", "It opens in 2028.", "It costs 40 million euros."]] * 2
    path, headers, body = chat.requests[0]
    assert path == "/v1/chat/completions"
    assert headers["Authorization"] == "Bearer k3y"
    assert body["model"] == "tiny"
    assert body["messages"][-1]["role"] == "user"
    assert "Council approves new bridge" in body["messages"][-1]["content"] or \
        "Storm closes schools" in body["messages"][-1]["content"]


def test_no_authorization_header_without_a_key(chat):
    summarize_articles(ARTICLES[:1], settings=llm(chat), max_sentences=2)
    assert "Authorization" not in chat.requests[0][1]


def test_prompt_template_is_rendered_with_title_text_and_sentences(chat):
    template = "Give {{ sentences }} sentences about <{{ title }}>:\n{{ text }}"
    summarize_articles(ARTICLES[:1], settings=llm(chat, llm_prompt=template), max_sentences=2)
    title, text = ARTICLES[0]
    assert chat.requests[0][2]["messages"] == [
        {"role": "user", "content": f"Give 2 sentences about <{title}>:\n{text}"}]


def test_server_error_falls_back_to_extractive_and_logs(chat, caplog):
    chat.reply = lambda body: (500, b'{"error": "boom"}')
    with caplog.at_level(logging.WARNING, logger="digest.summarize.llm"):
        out = summarize_articles(ARTICLES, settings=llm(chat), max_sentences=2)
    assert out == [extractive(a) for a in ARTICLES]
    assert len([r for r in caplog.records if "Council approves" in r.getMessage()]) == 1


def test_only_the_failing_article_falls_back(chat):
    def reply(body):
        if "Storm closes schools" in body["messages"][0]["content"]:
            return 503, b"busy"
        return 200, completion(ANSWER)

    chat.reply = reply
    out = summarize_articles(ARTICLES, settings=llm(chat), max_sentences=2)
    assert out == [["The council approved a bridge.", "It opens in 2028."], extractive(ARTICLES[1])]


def test_timeout_falls_back(chat, caplog):
    chat.hang = True
    with caplog.at_level(logging.WARNING, logger="digest.summarize.llm"):
        out = summarize_articles(ARTICLES[:1], settings=llm(chat, llm_timeout=0.2), max_sentences=2)
    assert out == [extractive(ARTICLES[0])]
    assert "Timeout" in caplog.text


@pytest.mark.parametrize("payload", [
    b"this is not json",
    b'{"choices": []}',
    b'{"object": "error", "message": "model not loaded"}',
    completion(None),
    completion(""),
    completion("   \n "),
], ids=["not-json", "no-choices", "wrong-shape", "null-content", "empty", "blank"])
def test_malformed_or_empty_answers_fall_back(chat, payload):
    chat.reply = lambda body: (200, payload)
    assert summarize_articles(ARTICLES, settings=llm(chat), max_sentences=2) == [extractive(a) for a in ARTICLES]


def test_unreachable_server_falls_back():
    # A port nobody listens on (bound, never accepting): connection refused, on 127.0.0.1 only.
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        settings = SummarizeSettings(backend="llm", llm_base_url=f"http://127.0.0.1:{sock.getsockname()[1]}/v1",
                                     llm_model="m", llm_timeout=2.0)
        out = summarize_articles(ARTICLES, settings=settings, max_sentences=2)
    assert out == [extractive(a) for a in ARTICLES]


def test_bad_prompt_template_falls_back_for_every_article(chat):
    for template in ("{{ title ", "{{ nonsense }}"):
        out = summarize_articles(ARTICLES, settings=llm(chat, llm_prompt=template), max_sentences=2)
        assert out == [extractive(a) for a in ARTICLES]
    assert not chat.requests


def test_concurrent_calls_never_exceed_the_bound(chat):
    chat.hold_until_in_flight = 2  # the server holds each call until a second one arrives
    articles = [(f"Story {i}", f"Story number {i} happened today. It was notable. People talked.") for i in range(8)]
    out = summarize_articles(articles, settings=llm(chat, llm_max_concurrency=2), max_sentences=1)
    assert out == [["The council approved a bridge."]] * 8
    assert len(chat.requests) == 8
    assert chat.peak == 2


def test_results_keep_article_order_under_concurrency(chat):
    chat.reply = lambda body: (200, completion(body["messages"][0]["content"].split("Title: ")[1].split("\n")[0]
                                               + " is the story."))
    articles = [(f"Story {i}", f"Story {i} text. More text here. And more.") for i in range(10)]
    out = summarize_articles(articles, settings=llm(chat, llm_max_concurrency=4), max_sentences=2)
    assert out == [[f"Story {i} is the story."] for i in range(10)]


def test_extractive_backend_makes_no_calls(chat):
    settings = replace(llm(chat), backend="extractive")
    assert summarize_articles(ARTICLES, settings=settings, max_sentences=2) == [extractive(a) for a in ARTICLES]
    assert not chat.requests
    assert summarize_articles([], settings=llm(chat), max_sentences=2) == []


def test_answer_cleanup():
    assert answer_sentences("<think>hmm.</think>Here is the summary:\n- One fact here.\n2. Another one.") == [
        "One fact here.", "Another one."]
