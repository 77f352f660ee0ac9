"""The endpoint client against a real `transformers serve` of a tiny exported model, and the
`lang1 serve` gateway in front of it: each way a request can be bad gets its status."""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import time

import numpy as np
import pytest
import torch

pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

from finetune_helpers import tiny_model, train_tokenizer  # noqa: E402
from lang1core.finetune import upstream  # noqa: E402
from lang1core.finetune.endpoint import EndpointError, score_prompt, score_prompts  # noqa: E402
from lang1core.finetune.gateway import make_app, server_config  # noqa: E402
from lang1core.finetune.scoring import encode_example, score  # noqa: E402
from lang1core.finetune.serve_limits import Limits  # noqa: E402
from lang1core.finetune.tokens import Tokenizer  # noqa: E402
from lang1core.model.hf import save_pretrained  # noqa: E402
from lang1core.remede.prompts import format_prompt  # noqa: E402

TOKEN = "test-token-0123456789abcdef"
NOTE = "patient admitted with renal failure and sepsis"
QUESTION = "Which option?"
OPTIONS = ("one", "two", "three", "four", "five")
# Letter logits built into the model for PROMPT: most of the mass on the letters, unevenly.
LETTER_LOGITS = torch.tensor([8.0, 7.0, 6.5, 6.0, 5.0])
SAMPLES = 80  # one request each: transformers serve answers one completion per request


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny export whose next token after PROMPT is mostly an option letter; and the
    letter probabilities our own scoring gives."""
    root = tmp_path_factory.mktemp("srv")
    spm = train_tokenizer(root / "tok", letter_pieces=True)
    tok = Tokenizer(spm)
    torch.manual_seed(0)
    model = tiny_model(tok.vocab_size, seed=4, tie_embeddings=False).eval()
    enc = encode_example(tok, NOTE, QUESTION, OPTIONS, 0)
    assert tok.answer_tokens(len(OPTIONS))[0] == []  # " A" is one token: the prompt ids are the same
    with torch.no_grad():
        h = model.hidden(torch.tensor([enc.ids[: enc.score_pos + 1]]))[0, -1]
        model.output.weight[enc.letter_ids] = LETTER_LOGITS[:, None] * h / h.square().sum()
    local, _ = score(model, [enc], tok.pad_id)
    model_dir = save_pretrained(model, root / "m", tokenizer_model=spm)
    return model_dir, local[0]


@pytest.fixture(scope="module")
def model_server(exported):
    model_dir, _ = exported
    proc, port = upstream.start(model_dir, device="cpu")
    yield f"http://{upstream.LOOPBACK}:{port}", str(model_dir)
    upstream.stop(proc)


LIMITS = Limits(body_bytes=8192, prompt_chars=6000, n=16, max_tokens=2, logprobs=20, body_seconds=0.5)


@pytest.fixture(scope="module")
def gateway(model_server):
    import uvicorn

    url, _ = model_server
    port = upstream.free_port()
    server = uvicorn.Server(server_config(make_app(url, "m", TOKEN, LIMITS), upstream.LOOPBACK, port,
                                          max_connections=8))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the gateway did not start"
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join()


PROMPT = format_prompt(NOTE, QUESTION, OPTIONS)


def test_transformers_serve_is_scored_by_sampling_like_local_scoring(model_server, exported):
    """transformers serve gives no log-probabilities (and one completion per request): the
    client says so and samples, one seeded request per completion, and the letter shares
    follow the model's probabilities as our scoring computes them."""
    url, model = model_server
    _, local = exported
    probs, method = score_prompt(url + "/v1", model, PROMPT, len(OPTIONS), samples=SAMPLES)
    assert method == "sampling"
    assert probs.sum() == pytest.approx(1.0)
    # ~74 letters among 80 samples: 3 standard errors of the largest share are under 0.17
    np.testing.assert_allclose(probs, local, atol=0.17)
    assert np.argmax(probs) == np.argmax(local)


def post(port: int, body, path: str = "/v1/completions", token: str | None = TOKEN,
         headers: dict | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(upstream.LOOPBACK, port, timeout=30)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    hdrs = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {}),
            **(headers or {})}
    conn.request("POST", path, body=data, headers=hdrs)
    r = conn.getresponse()
    out = r.status, json.loads(r.read() or b"{}")
    conn.close()
    return out


def test_client_through_gateway_counts_the_same_completions(model_server, gateway):
    """The gateway passes a request on with the same sampling (its own settings over the
    model's defaults), so the seeded count through it equals the count without it (and
    seeded requests count the same completions again)."""
    url, model = model_server
    direct = score_prompts(url + "/v1", model, [PROMPT], len(OPTIONS), samples=24, seed=5)
    through = score_prompts(f"http://{upstream.LOOPBACK}:{gateway}/v1", "m", [PROMPT], len(OPTIONS),
                            samples=24, seed=5, api_key=TOKEN)
    np.testing.assert_array_equal(through, direct)
    status, out = post(gateway, {"model": "m", "prompt": PROMPT, "max_tokens": 1, "seed": 1})
    assert status == 200 and out["model"] == "m" and len(out["choices"]) == 1


@pytest.mark.parametrize("token", [None, "wrong-token-0123456789abcdef", TOKEN + "x"])
def test_gateway_refuses_requests_without_the_token(gateway, token):
    status, out = post(gateway, {"prompt": "x"}, token=token)
    assert status == 401 and "token" in out["error"]["message"]
    with pytest.raises(EndpointError, match="HTTP 401"):
        score_prompt(f"http://{upstream.LOOPBACK}:{gateway}/v1", "m", "x", 2, api_key=token)


def test_gateway_models_need_the_token(gateway):
    conn = http.client.HTTPConnection(upstream.LOOPBACK, gateway, timeout=30)
    conn.request("GET", "/v1/models")
    r = conn.getresponse()
    assert r.status == 401
    r.read()
    conn.request("GET", "/v1/models", headers={"Authorization": f"Bearer {TOKEN}"})
    r = conn.getresponse()
    assert r.status == 200 and [m["id"] for m in json.loads(r.read())["data"]] == ["m"]


@pytest.mark.parametrize("body, field", [
    ({"prompt": "x", "n": 20000}, "n"),
    ({"prompt": "x", "n": 0}, "n"),
    ({"prompt": "x", "max_tokens": 3}, "max_tokens"),
    ({"prompt": "x", "max_tokens": -1}, "max_tokens"),
    ({"prompt": "x", "logprobs": 21}, "logprobs"),
    ({"prompt": "x" * (LIMITS.prompt_chars + 1)}, "prompt"),
    ({"prompt": ["x"]}, "prompt"),
    ({"prompt": "x", "n": "2"}, "n"),
    ({"prompt": "x", "temperature": 3}, "temperature"),
    ({"prompt": "x", "stream": True}, "stream"),
    ({"prompt": "x", "generation_config": '{"max_new_tokens": 100000}'}, "generation_config"),
    ({"n": 1}, "prompt"),
])
def test_gateway_bounds_every_field(gateway, body, field):
    status, out = post(gateway, body)
    assert status == 422 and out["error"]["message"].startswith(field + ":")
    assert "xxxx" not in out["error"]["message"]  # the prompt is not echoed


@pytest.mark.parametrize("raw, message", [
    (b'{"prompt": ', "not JSON"),
    (b"\xff\xfe", "not JSON"),
    (b'["x"]', "not a JSON object"),
    (b"", "not JSON"),
])
def test_gateway_answers_malformed_bodies_400(gateway, raw, message):
    status, out = post(gateway, raw)
    assert status == 400 and message in out["error"]["message"]


@pytest.mark.parametrize("path", ["/v1/completions/", "/x/v1/completions", "/completions",
                                  "/v1/chat/completions", "/v2/completions", "/health/completions"])
def test_gateway_routes_exact_paths(gateway, path):
    assert post(gateway, {"prompt": "x"}, path=path)[0] == 404


def test_gateway_refuses_another_model_and_other_methods(gateway):
    assert post(gateway, {"model": "other", "prompt": "x"})[0] == 404
    conn = http.client.HTTPConnection(upstream.LOOPBACK, gateway, timeout=30)
    conn.request("GET", "/v1/completions", headers={"Authorization": f"Bearer {TOKEN}"})
    assert conn.getresponse().status == 405


def test_gateway_passes_on_the_model_servers_refusal(gateway):
    """A prompt longer than the model's context (512 tokens) is the model server's 400."""
    status, out = post(gateway, {"prompt": "patient " * 600, "max_tokens": 1})
    assert status == 400 and "512" in out["error"]["message"]


def test_gateway_refuses_large_bodies_before_reading_them(gateway):
    # Declared too large: refused on the header (the body is never sent).
    sock = socket.create_connection((upstream.LOOPBACK, gateway), timeout=30)
    sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode()
                 + b"\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n")
    assert sock.recv(4096).split(b"\r\n")[0].endswith(b"413 Request Entity Too Large")
    sock.close()
    # Sent without a length (chunked): refused once it passes the limit.
    conn = http.client.HTTPConnection(upstream.LOOPBACK, gateway, timeout=30)
    chunks = (b"x" * 1024 for _ in range(64))
    conn.request("POST", "/v1/completions", body=chunks, encode_chunked=True,
                 headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    assert conn.getresponse().status == 413


@pytest.mark.parametrize("length", [b"-1", b"abc"])
def test_gateway_refuses_bad_content_length(gateway, length):
    sock = socket.create_connection((upstream.LOOPBACK, gateway), timeout=30)
    sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode()
                 + b"\r\nContent-Length: " + length + b"\r\n\r\n{}")
    assert sock.recv(4096).split(b" ")[1] == b"400"
    sock.close()


def test_gateway_times_out_a_slow_body(gateway):
    """A client that stops sending its body is answered 408 (after LIMITS.body_seconds) and
    leaves no request waiting."""
    sock = socket.create_connection((upstream.LOOPBACK, gateway), timeout=30)
    sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode()
                 + b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"prompt\": ")
    assert sock.recv(4096).split(b"\r\n")[0].endswith(b"408 Request Timeout")
    sock.close()


def test_gateway_keeps_request_text_out_of_logs(gateway, caplog):
    secret = "zyxwvu-note-text"
    with caplog.at_level("DEBUG"):
        assert post(gateway, {"prompt": secret, "max_tokens": 1, "seed": 2})[0] == 200
        assert post(gateway, {"prompt": secret, "n": 99})[0] == 422
    assert caplog.records and secret not in caplog.text


def test_serve_refuses_to_start_without_a_token_or_in_clear_on_the_network(tmp_path, monkeypatch):
    from lang1core import cli

    monkeypatch.delenv("LANG1_SERVE_TOKEN", raising=False)
    with pytest.raises(SystemExit, match="no bearer token"):
        cli.main(["serve", str(tmp_path)])
    monkeypatch.setenv("LANG1_SERVE_TOKEN", "short")
    with pytest.raises(SystemExit, match="at least 16 characters"):
        cli.main(["serve", str(tmp_path)])
    (tmp_path / "token").write_text(TOKEN + "\n")
    with pytest.raises(SystemExit, match="--ssl-certfile"):
        cli.main(["serve", str(tmp_path), "--token-file", str(tmp_path / "token"), "--host", "0.0.0.0"])


def running(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in open(f"/proc/{pid}/status").read()  # a zombie has exited
    except FileNotFoundError:
        return False


@pytest.mark.slow  # a second model server
@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads a process's children from /proc")
def test_lang1_serve_end_to_end_and_stops_its_model_server(exported, tmp_path):
    """The command as a user runs it: token from the environment, the client through it, and
    on SIGTERM it exits 0 and takes the model server with it."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    model_dir, _ = exported
    port = upstream.free_port()
    env = {**os.environ, "LANG1_SERVE_TOKEN": TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "lang1core.cli", "serve", str(model_dir), "--port", str(port),
                             "--device", "cpu", "--name", "tiny"], env=env, stdin=subprocess.DEVNULL)
    try:
        upstream.wait_ready(proc, port, timeout=600)
        model_pids = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
        probs = score_prompts(f"http://{upstream.LOOPBACK}:{port}/v1", "tiny", [PROMPT], len(OPTIONS),
                              samples=4, api_key=TOKEN)
        assert probs.shape == (1, len(OPTIONS)) and probs.sum() == pytest.approx(1.0)
        assert post(port, {"prompt": "x"}, token=None)[0] == 401
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        assert model_pids, "lang1 serve started no model server"
        for pid in model_pids:
            for _ in range(300):  # it has its own shutdown to run
                if not running(pid):
                    break
                time.sleep(0.1)
            assert not running(pid), f"model server {pid} outlived lang1 serve"
    finally:
        upstream.stop(proc)


def test_serve_names_a_directory_that_is_not_an_export(tmp_path, monkeypatch):
    from lang1core import cli

    monkeypatch.setenv("LANG1_SERVE_TOKEN", TOKEN)
    with pytest.raises(SystemExit, match=r"lang1 serve: .*: no config.json \(export the model"):
        cli.main(["serve", str(tmp_path)])
