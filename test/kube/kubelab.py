"""Runs the test Kubernetes API server and kubectl for tests: certificates, tokens, kubeconfigs,
and kubectl invocations by argument vector (never a shell)."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
from polling import poll  # noqa: E402,F401

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import pki  # noqa: E402

KUBECTL = os.environ.get("KUBECTL", "/usr/bin/kubectl")
CONTROLLER_SA = "system:serviceaccount:flexlb-system:flexlb-kube-controller"




class KubeAPI:
    """One test API server process; `netns` runs it (and kubectl) inside a network namespace."""

    def __init__(self, root: Path, netns: str | None = None, rbac: bool = True, history: int = 5000,
                 bookmark_interval: float = 5.0):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.netns = netns
        self.rbac = rbac
        self.history = history
        self.bookmark_interval = bookmark_interval
        self.pki = pki.make_pki(root / "pki")
        # Two tokens of the controller's service account (one per replica, as two pods would have).
        self.controller_tokens = [secrets.token_hex(16), secrets.token_hex(16)]
        self.controller_token = self.controller_tokens[0]
        self.admin_token = secrets.token_hex(16)
        (root / "tokens.csv").write_text(
            "".join(f"{t},{CONTROLLER_SA},system:serviceaccounts\n" for t in self.controller_tokens)
            + f"{self.admin_token},token-admin,system:masters,superuser\n")
        (root / "tokens.csv").chmod(0o600)
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.netns] if self.netns else []

    def start(self) -> None:
        port_file = self.root / "port"
        if port_file.exists():
            port_file.unlink()
        argv = [*self.prefix(), sys.executable, str(HERE / "apiserver.py"), "--port", "0",
                "--cert", str(self.pki / "server.crt"), "--key", str(self.pki / "server.key"),
                "--client-ca", str(self.pki / "ca.crt"), "--token-file", str(self.root / "tokens.csv"),
                "--port-file", str(port_file), "--history", str(self.history),
                "--bookmark-interval", str(self.bookmark_interval)]
        if self.rbac:
            argv.append("--rbac")
        log = open(self.root / "apiserver.log", "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        poll("test apiserver listening", lambda: port_file.exists() or self._dead(), 20)
        self.port = int(port_file.read_text())
        self.write_kubeconfigs()

    def _dead(self) -> bool:
        if self.proc and self.proc.poll() is not None:
            raise RuntimeError(f"apiserver exited: {(self.root / 'apiserver.log').read_text()}")
        return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def write_kubeconfigs(self) -> None:
        ca = base64.b64encode((self.pki / "ca.crt").read_bytes()).decode()

        def config(user: dict, namespace: str = "default") -> dict:
            return {"apiVersion": "v1", "kind": "Config", "current-context": "test",
                    "clusters": [{"name": "test", "cluster": {"server": self.server, "certificate-authority-data": ca}}],
                    "users": [{"name": "u", "user": user}],
                    "contexts": [{"name": "test", "context": {"cluster": "test", "user": "u", "namespace": namespace}}]}

        admin = {"client-certificate": str(self.pki / "client-kubernetes-admin.crt"),
                 "client-key": str(self.pki / "client-kubernetes-admin.key")}
        self.admin_kubeconfig = self.root / "admin.kubeconfig"
        self.admin_kubeconfig.write_text(yaml.safe_dump(config(admin)))
        self.controller_kubeconfigs = []
        for i, token in enumerate(self.controller_tokens):
            path = self.root / f"controller{i + 1}.kubeconfig"
            path.write_text(yaml.safe_dump(config({"token": token}, "flexlb-system")))
            path.chmod(0o600)
            self.controller_kubeconfigs.append(path)
        self.controller_kubeconfig = self.controller_kubeconfigs[0]
        self.admin_kubeconfig.chmod(0o600)

    def writes_by_token(self, token: str, exclude: tuple[str, ...] = ("leases",)) -> int:
        """Create/update/patch/delete requests made with `token`, except on `exclude` resources."""
        counts = self.request_counts()
        return sum(n for key, n in counts.items()
                   if key.split("|")[1] == token[:8] and key.split("|")[2] in ("POST", "PUT", "PATCH", "DELETE")
                   and not any(x in key.split("|")[3] for x in exclude))

    def request_counts(self) -> dict:
        return json.loads(self.kubectl("get", "--raw", "/_test/requests").stdout)

    # -- kubectl --------------------------------------------------------------------------------------

    def kubectl_argv(self, *args: str, kubeconfig: Path | None = None) -> list[str]:
        return [*self.prefix(), KUBECTL, "--kubeconfig", str(kubeconfig or self.admin_kubeconfig), "--request-timeout=20s", *args]

    def kubectl(self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60,
                kubeconfig: Path | None = None) -> subprocess.CompletedProcess:
        r = subprocess.run(self.kubectl_argv(*args, kubeconfig=kubeconfig), input=input, capture_output=True, text=True,
                           timeout=timeout, env={**os.environ, "KUBECACHEDIR": str(self.root / "kubecache")})
        if check:
            assert r.returncode == 0, f"kubectl {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
        return r

    def get(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def apply(self, manifest: str | dict | list, *extra: str) -> subprocess.CompletedProcess:
        if isinstance(manifest, (dict, list)):
            docs = manifest if isinstance(manifest, list) else [manifest]
            manifest = yaml.safe_dump_all(docs)
        return self.kubectl("apply", "-f", "-", *extra, input=manifest)


def compact(api: KubeAPI) -> None:
    """Drops the API server's watch history: every watch from an older version gets 410 Gone."""
    api.kubectl("create", "--raw", "/_test/compact", "-f", "-", input="{}")
