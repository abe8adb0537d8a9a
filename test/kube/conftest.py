"""Fixtures of the Kubernetes suites: the test API server judged by the real kubectl
(test_apiserver.py), and the controller end to end with real flexlbd, keepalived and HAProxy
(test_controller_e2e.py)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
from kubelab import KubeAPI  # noqa: E402

DEPLOY = REPO_ROOT / "deploy" / "kubernetes"


def require_kubectl() -> None:
    if not Path(os.environ.get("KUBECTL", "/usr/bin/kubectl")).exists():
        pytest.fail("kubectl is missing (this machine image ships /usr/bin/kubectl 1.32)", pytrace=False)


@pytest.fixture(scope="module")
def kube():
    require_kubectl()
    root = Path(tempfile.mkdtemp(prefix="flexlb-kube-"))
    api = KubeAPI(root, bookmark_interval=1.0)
    try:
        api.start()
        yield api
    finally:
        api.stop()
        if not os.environ.get("FLEXLB_E2E_KEEP"):
            shutil.rmtree(root, ignore_errors=True)
