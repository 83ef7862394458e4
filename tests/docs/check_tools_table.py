#!/usr/bin/env python3
"""README's tools table against the tools' own --help (issue 17: "README tells the truth").

Every row of the table under README's "## Tools" heading starts with the tool's invocation in backticks,
e.g. `onebit-info M.fb [--json] [--isa NAME]`. For each row this runs the tool with --help and checks
  1. every --flag the row names appears in the help text (the table promises nothing the tool lacks), and
  2. every --flag the help text lists appears in the row (the table is not missing a flag; --help itself
     excepted, and --output is satisfied by the row's -o).
A row whose tool this script does not know how to run is an error, so a new row gets wired here and in
tests/docs/CMakeLists.txt. A known tool that was not given (not built in this configuration, e.g. the
converter without ONEBIT_BUILD_CONVERTER) is skipped with a note.

Usage:
  check_tools_table.py --readme README.md --tool bench=PATH --tool onebit-info=PATH ...
                       [--tool "python3 -m onebit=PYTHON" --pythonpath DIR]
Exit status: 0 all rows agree, 1 a mismatch (each one printed), 2 usage or parse error.
Standard library only.
"""

import argparse
import os
import re
import subprocess
import sys

# The row's tool (how the table names it) -> how to build the --help command from the given path.
KNOWN_TOOLS = {
    "bench": lambda path: [path, "--help"],
    "onebit-synth": lambda path: [path, "--help"],
    "onebit-eval": lambda path: [path, "--help"],
    "onebit-convert": lambda path: [path, "--help"],
    "onebit-info": lambda path: [path, "--help"],
    "onebit-run": lambda path: [path, "--help"],
    "onebit-embed": lambda path: [path, "--help"],
    "python3 -m onebit": lambda python: [python, "-m", "onebit", "--help"],
}

# A --flag: two dashes, a lower-case letter or digit, then letters, digits and dashes. Not preceded by a
# word character or a dash (so "---" or "a--b" do not count), not followed by one.
FLAG = re.compile(r"(?<![\w-])--([a-z0-9][a-z0-9-]*)(?![\w-])")


def split_row(line):
    """The cells of a markdown table row; '\\|' inside a cell is a literal bar, not a separator."""
    cells, cell, i = [], "", 0
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body) and body[i + 1] == "|":
            cell += "|"
            i += 2
            continue
        if body[i] == "|":
            cells.append(cell.strip())
            cell = ""
        else:
            cell += body[i]
        i += 1
    cells.append(cell.strip())
    return cells


def table_rows(readme_text):
    """(line number, invocation) for every row of the table under '## Tools'."""
    lines = readme_text.split("\n")
    start = next((i for i, l in enumerate(lines) if l.strip() == "## Tools"), None)
    if start is None:
        raise ValueError("no '## Tools' heading")
    rows = []
    in_table = False
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if line.startswith("#"):
            break  # the next section
        if not line.startswith("|"):
            if in_table:
                break  # the table ended
            continue
        in_table = True
        first = split_row(line)[0]
        if first == "tool" or set(first) <= set("-: "):
            continue  # header and separator
        m = re.fullmatch(r"`([^`]+)`", first)
        if m is None:
            raise ValueError("README line %d: the first cell of a tools row must be the invocation in "
                             "backticks, got '%s'" % (i + 1, first))
        rows.append((i + 1, m.group(1)))
    if not rows:
        raise ValueError("the table under '## Tools' has no rows")
    return rows


def tool_of(invocation):
    """The KNOWN_TOOLS key an invocation starts with, or its first word if none does."""
    for name in sorted(KNOWN_TOOLS, key=len, reverse=True):
        if invocation == name or invocation.startswith(name + " "):
            return name
    return invocation.split()[0]


def flags_in(text):
    return set(FLAG.findall(text))


def main(argv=None):
    parser = argparse.ArgumentParser(description="README's tools table against every tool's --help.")
    parser.add_argument("--readme", required=True, help="README.md")
    parser.add_argument("--tool", action="append", default=[], metavar="NAME=PATH",
                        help="a tool as the table names it and the program to run (for 'python3 -m onebit': "
                             "the Python interpreter); repeat per tool")
    parser.add_argument("--pythonpath", default=None, help="PYTHONPATH for 'python3 -m onebit' (python/)")
    args = parser.parse_args(argv)

    given = {}
    for t in args.tool:
        name, sep, path = t.rpartition("=")
        if not sep or not name or not path:
            parser.error("--tool expects NAME=PATH, got '%s'" % t)
        if name not in KNOWN_TOOLS:
            parser.error("--tool %s: not a tool this script knows (%s)" % (name, ", ".join(sorted(KNOWN_TOOLS))))
        given[name] = path

    try:
        with open(args.readme, encoding="utf-8") as f:
            rows = table_rows(f.read())
    except (OSError, ValueError) as e:
        print("check_tools_table: %s: %s" % (args.readme, e), file=sys.stderr)
        return 2

    env = dict(os.environ)
    if args.pythonpath:
        env["PYTHONPATH"] = args.pythonpath + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")

    errors, checked = [], 0
    for line_no, invocation in rows:
        name = tool_of(invocation)
        where = "README line %d (`%s`)" % (line_no, name)
        if name not in KNOWN_TOOLS:
            errors.append("%s: the tools table names '%s', which this test does not know how to run: add it to "
                          "KNOWN_TOOLS in tests/docs/check_tools_table.py and pass its path from "
                          "tests/docs/CMakeLists.txt" % (where, name))
            continue
        if name not in given:
            print("skip  %s: not built in this configuration" % name)
            continue
        command = KNOWN_TOOLS[name](given[name])
        try:
            done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                  timeout=60, universal_newlines=True)
        except (OSError, subprocess.TimeoutExpired) as e:
            errors.append("%s: cannot run '%s': %s" % (where, " ".join(command), e))
            continue
        if done.returncode != 0:
            errors.append("%s: '%s' exited with %d:\n%s" % (where, " ".join(command), done.returncode,
                                                            done.stdout))
            continue
        errors_before = len(errors)
        help_flags = flags_in(done.stdout)
        row_flags = flags_in(invocation)
        for flag in sorted(row_flags - help_flags):
            errors.append("%s: README's tools table names --%s, but '%s' does not list it" %
                          (where, flag, " ".join(command)))
        row_has_o = re.search(r"(?<![\w-])-o(?![\w-])", invocation) is not None
        for flag in sorted(help_flags - row_flags - {"help"}):
            if flag == "output" and row_has_o:
                continue
            errors.append("%s: '%s' lists --%s, but README's tools table row does not name it" %
                          (where, " ".join(command), flag))
        checked += 1
        if len(errors) == errors_before:
            print("ok    %s: the %d flags of its row are its --help's flags" % (name, len(row_flags)))

    for e in errors:
        print("FAIL  " + e, file=sys.stderr)
    if errors:
        print("check_tools_table: %d mismatch(es) between %s's tools table and the tools' --help"
              % (len(errors), args.readme), file=sys.stderr)
        return 1
    print("check_tools_table: %d tool(s) checked, README's tools table agrees with their --help" % checked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
