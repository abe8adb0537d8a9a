"""Schemathesis against the served openapi.yaml over mTLS (issue 9, part 7).

Positive and negative data, every check except `positive_data_acceptance` (the schema cannot express
the option allowlist, the address policy or `haproxy -c`, so schema-valid bodies are rightly refused
with 400) and `ignored_auth` (authentication is mutual TLS, outside the schema). Bounded time; the pass
line is zero failures (no 5xx, no response outside the schema), and flexlbd alive afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from conftest import make_server
from e2e_support import BASE_PATH

MAX_TIME = int(os.environ.get("FLEXLB_SCHEMATHESIS_SECONDS", "120"))


def test_schemathesis_finds_nothing(request, tmp_path):
    st = Path(sys.executable).parent / "st"
    assert st.exists(), "schemathesis is not installed in the test venv (test/e2e/requirements.txt)"
    server = make_server("schemathesis", request)
    c = server.certs
    base = f"https://127.0.0.1:{server.port}{BASE_PATH}"
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE must not override verify=ca.crt
    served = session.get(f"{base}/openapi.yaml", verify=str(c / "ca.crt"),
                         cert=(str(c / "client.crt"), str(c / "client.key")), timeout=10)
    assert served.status_code == 200
    # The document itself is checked byte for byte; schemathesis would parse the YAML body and compare
    # the parsed mapping with `type: string` (the raw text), so that one operation is left out of its run.
    assert served.content == (Path(__file__).resolve().parents[2] / "openapi.yaml").read_bytes()
    schema = tmp_path / "openapi.yaml"
    schema.write_bytes(served.content)
    argv = [
        str(st), "run", str(schema), "--url", base,
        "--tls-verify", str(c / "ca.crt"), "--request-cert", str(c / "client.crt"),
        "--request-cert-key", str(c / "client.key"),
        "--checks", "all", "--exclude-checks", "positive_data_acceptance,ignored_auth",
        "--mode", "all", "--max-time", str(MAX_TIME), "--workers", "2", "--request-timeout", "20",
        "--seed", "9", "--no-color", "--generation-database", "none", "--exclude-operation-id", "getOpenAPI",
    ]
    try:
        env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
        run = subprocess.run(argv, capture_output=True, text=True, timeout=MAX_TIME + 300, cwd=tmp_path, env=env)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"schemathesis did not finish: {str(e.stdout)[-3000:]}")
    out = run.stdout + run.stderr
    assert server.alive(), f"flexlbd died under schemathesis\n{server.log_tail()}"
    assert run.returncode == 0, f"schemathesis found problems (exit {run.returncode}):\n{out[-8000:]}"
