#!/usr/bin/env python3
"""Summarise an Autobahn fuzzing-server report (index.json) for one agent.

    report.py INDEX.json [--agent A] [--expect N] [--allow FILE] [--strict-close]

Prints, per section (the first number of the case id), how many cases got each
verdict, then every FAILED case with its id and close verdict. Exit status 1 if
any case is FAILED (or, with --strict-close, has a failing close verdict), if
fewer than --expect cases were reported, or if no result exists for the agent;
cases listed in the allow file (one "ID  reason" a line, '#' comments) are
shown but do not fail the run. Works on reports of wstest and of kosoku.
"""

import argparse
import json
import os
import sys

VERDICTS = ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED")
CLOSE_OK = ("OK", "INFORMATIONAL")


def case_key(case_id):
    return [int(p) if p.isdigit() else p for p in case_id.split(".")]


def load_allow(path):
    allow = {}
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                parts = line.split(None, 1)
                if len(parts) < 2:
                    sys.exit("%s: entry %r has no reason" % (path, parts[0]))
                allow[parts[0]] = parts[1]
    return allow


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("index")
    ap.add_argument("--agent", help="agent name (default: the only one in the report)")
    ap.add_argument("--expect", type=int, help="number of cases that must be present")
    ap.add_argument("--allow", help="allow list of expected deviations")
    ap.add_argument("--strict-close", action="store_true",
                    help="also fail on behaviorClose FAILED / UNCLEAN / WRONG CODE")
    args = ap.parse_args()

    try:
        with open(args.index) as f:
            index = json.load(f)
    except (OSError, ValueError) as exc:
        print("report: cannot read %s: %s" % (args.index, exc))
        return 1
    agent = args.agent
    if agent is None:
        if len(index) != 1:
            print("report: agents %s; pick one with --agent" % sorted(index))
            return 1
        agent = next(iter(index))
    results = index.get(agent)
    if not results:
        print("report: no results for agent %r in %s (agents: %s)" % (
            agent, args.index, sorted(index)))
        return 1
    allow = load_allow(args.allow)

    sections = {}
    bad, allowed, close_issues = [], [], []
    for case_id in sorted(results, key=case_key):
        r = results[case_id]
        verdict = r.get("behavior", "?")
        close = r.get("behaviorClose", "?")
        row = sections.setdefault(case_id.split(".")[0], dict.fromkeys(VERDICTS + ("other",), 0))
        row[verdict if verdict in VERDICTS else "other"] += 1
        failed = verdict not in VERDICTS[:4]
        if close not in CLOSE_OK:
            close_issues.append((case_id, verdict, close, r.get("remoteCloseCode")))
            failed = failed or args.strict_close
        if failed:
            (allowed if case_id in allow else bad).append(
                (case_id, verdict, close, r.get("remoteCloseCode")))

    cols = VERDICTS + (("other",) if any(s["other"] for s in sections.values()) else ())
    print("Autobahn conformance, agent %s (%s)" % (agent, args.index))
    print("%-8s" % "section" + "".join("%15s" % c for c in cols) + "%8s" % "total")
    totals = dict.fromkeys(cols, 0)
    for sec in sorted(sections, key=case_key):
        row = sections[sec]
        for c in cols:
            totals[c] += row[c]
        print("%-8s" % sec + "".join("%15d" % row[c] for c in cols)
              + "%8d" % sum(row[c] for c in cols))
    print("%-8s" % "all" + "".join("%15d" % totals[c] for c in cols)
          + "%8d" % sum(totals.values()))

    def show(title, items):
        if items:
            print(title)
            for case_id, verdict, close, code in items:
                extra = allow.get(case_id)
                print("  %-10s behavior=%-13s close=%-10s peer close code=%s%s" % (
                    case_id, verdict, close, code, ("   [allowed: %s]" % extra) if extra else ""))

    show("Failing cases:", bad)
    show("Allowed deviations:", allowed)
    if not args.strict_close:
        show("Close-handshake remarks (not counted as failures):",
             [c for c in close_issues if c[0] not in {b[0] for b in bad + allowed}])

    missing = 0
    if args.expect is not None and len(results) < args.expect:
        missing = args.expect - len(results)
        print("report: only %d of %d cases reported (client stopped early?)" % (
            len(results), args.expect))
    status = 1 if bad or missing else 0
    print("report: %s" % ("PASS" if status == 0 else "FAIL"))
    # the plain closing line recognised by CI log readers
    print("%d passed, %d failed" % (len(results) - len(bad), len(bad) + missing))
    return status


if __name__ == "__main__":
    sys.exit(main())
