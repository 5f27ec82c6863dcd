"""JUnit XML of a bench run: one ``<testsuite>`` per suite, one ``<testcase>`` per check.

The layout is the common JUnit schema (the one Jenkins, GitLab and GitHub test reporters read):
``testsuites > testsuite(name, tests, failures, errors, skipped, time, timestamp) > properties,
testcase(classname, name, time) > failure|error|skipped(message)``. The reader, ATR and protocol
are properties of every suite.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from cardkit.bench.model import BenchRun

__all__ = ["to_junit"]


def _time(seconds: float) -> str:
    return f"{seconds:.6f}"


def to_junit(run: BenchRun) -> str:
    """The run as a JUnit XML document (UTF-8 text with the XML declaration)."""
    root = ET.Element("testsuites", name=f"cardkit bench {run.reader}", tests=str(len(run.checks)),
                      time=_time(sum(c.seconds for c in run.checks)))
    totals = {"failures": 0, "errors": 0, "skipped": 0}
    for suite in run.suites():
        checks = [c for c in run.checks if c.suite == suite]
        counts = {"failures": sum(c.status == "failed" for c in checks),
                  "errors": sum(c.status == "error" for c in checks),
                  "skipped": sum(c.status == "skipped" for c in checks)}
        for key, n in counts.items():
            totals[key] += n
        attrs = {"name": suite, "tests": str(len(checks)), **{k: str(v) for k, v in counts.items()},
                 "time": _time(sum(c.seconds for c in checks)),
                 "timestamp": run.started.replace(tzinfo=None).isoformat(timespec="seconds")}
        element = ET.SubElement(root, "testsuite", attrs)
        properties = ET.SubElement(element, "properties")
        for prop, value in (("reader", run.reader), ("atr", run.atr.hex().upper()), ("protocol", run.protocol)):
            ET.SubElement(properties, "property", name=prop, value=value)
        for c in checks:
            case = ET.SubElement(element, "testcase", classname=f"cardkit.bench.{suite}", name=c.name,
                                 time=_time(c.seconds))
            if c.status == "failed":
                ET.SubElement(case, "failure", message=c.message, type="CheckFailed").text = c.message
            elif c.status == "error":
                ET.SubElement(case, "error", message=c.message, type="CheckError").text = c.message
            elif c.status == "skipped":
                ET.SubElement(case, "skipped", message=c.message)
    root.set("failures", str(totals["failures"]))
    root.set("errors", str(totals["errors"]))
    root.set("skipped", str(totals["skipped"]))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
