"""The end of a namespace lab, shared by the suites that build one (dataplane, cluster, failover, kube)."""
import os
import shutil
import sys


def close_lab(lab, request, failed_before: int, title: str) -> None:
    """Tears `lab` down: its diagnostics go to stderr when a test of the module failed (or with
    FLEXLB_E2E_SHOW_LOGS), its files are removed unless FLEXLB_E2E_KEEP is set."""
    if request.session.testsfailed > failed_before or os.environ.get("FLEXLB_E2E_SHOW_LOGS"):
        sys.stderr.write(f"\n==== {title} diagnostics ({lab.root}) ====\n{lab.diagnostics()}\n")
    lab.down()
    if not os.environ.get("FLEXLB_E2E_KEEP"):
        shutil.rmtree(lab.root, ignore_errors=True)


def attach_diagnostics(outcome, lab, section: str) -> None:
    """In a `pytest_runtest_makereport` hook wrapper: adds the lab's logs to a failed test's report."""
    rep = outcome.get_result()
    if rep.failed and lab is not None:
        rep.sections.append((section, lab.diagnostics()))
