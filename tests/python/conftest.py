"""Python unit tests (pytest): `python -m pytest tests/python` (pyproject.toml says where the
modules under test live)."""
import os


# Under CI a test that skips (a package or file missing) fails: a check that did not run must not
# read as passed. Module-level importorskip skips at collection, the rest while running.
if os.environ.get("CI"):
    import pytest

    def _fail_skip(report):
        if report.skipped:
            report.outcome = "failed"
            report.longrepr = f"skipped under CI: {report.longrepr}"

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(item, call):
        _fail_skip((yield).get_result())

    @pytest.hookimpl(hookwrapper=True)
    def pytest_make_collect_report(collector):
        _fail_skip((yield).get_result())
