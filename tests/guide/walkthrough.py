#!/usr/bin/env python3
"""docs/guide.md as a new user would follow it, checked against what it promises.

    walkthrough.py --guide docs/guide.md --build-dir BUILD --work DIR
                   [--config CONFIG] [--cc CC] [--cargo CARGO] [--drift TEXT]

Installs the ferry build tree BUILD into DIR/prefix (cmake --install, as
tests/install does), makes the empty directory DIR/scratch, then takes the
guide's marked blocks in order and, starting in DIR/scratch:

    <!-- file: PATH -->      the next fenced block is the complete content of
                             PATH (relative to the current directory): written,
                             replacing any earlier content
    <!-- append: PATH -->    the next fenced block is added to the end of PATH
    <!-- run -->             the next fenced block is shell commands: run with
    <!-- run: status N -->   bash -e; they must exit with status 0 (or N)
    <!-- expect -->          the next fenced block is the output (stdout and
                             stderr together) of the run block before it

A marker is an HTML comment alone on its line, right before the opening fence
(``` or ```lang). Fenced blocks without a marker (the install commands, which
this script replaces with its own install of BUILD) are not used. The blocks
run like one terminal session: `cd` and `export` carry over to later blocks.

The guide installs into /opt/ferry. That text is replaced with DIR/prefix in
files and commands, and DIR/prefix with /opt/ferry in outputs. Cargo comes
from --cargo (put first on the PATH), offline; the C compiler from --cc (CC).

Expected output is compared line by line, exactly, except:
    …       (U+2026) inside a line matches any text within that line,
            e.g. "handle 0x…" for a handle's bits, which change per run;
    a line that is only …   matches any number of whole lines.
A run block without an expect block must only succeed. Trailing newlines at
the end of the output are ignored.

On a difference the script stops, names the guide's line and step (the
heading above the block), shows the command and a diff (- guide, + actual),
and exits with status 1.

--drift TEXT checks this script instead: it copies the guide with the one
expected line that contains TEXT changed, runs the walkthrough on the copy
(in DIR/drift), and succeeds only when that run fails naming the changed line.
"""
import argparse
import difflib
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

GUIDE_PREFIX = "/opt/ferry"
MARKER = re.compile(r"^<!--\s*(file|append|run|expect)\s*(?::\s*(.*?))?\s*-->$")
COMMAND_TIMEOUT = 300


class GuideError(Exception):
    """The guide itself is malformed (not a difference from reality)."""


class Block:
    def __init__(self, kind, arg, text, line, step):
        self.kind, self.arg, self.text, self.line, self.step = kind, arg, text, line, step
        self.expect = None  # for run blocks: the expect Block


def parse(path):
    """The guide's marked blocks in order; expect blocks attached to their run block."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks, step, pending, i = [], "(before the first heading)", None, 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            start = i
            i += 1
            while i < len(lines) and lines[i] != "```":
                i += 1
            if i == len(lines):
                raise GuideError(f"{path}:{start + 1}: fenced block never closed")
            text = "\n".join(lines[start + 1:i])
            if pending:
                kind, arg, _ = pending
                blocks.append(Block(kind, arg, text, start + 1, step))
                pending = None
        elif pending:
            raise GuideError(f"{path}:{pending[2]}: <!-- {pending[0]} --> is not followed by a fenced block")
        elif line.startswith("#"):
            step = line.lstrip("#").strip()
        elif line.startswith("<!--"):
            m = MARKER.match(line.strip())
            if m:
                pending = (m.group(1), m.group(2), i + 1)
        i += 1
    if pending:
        raise GuideError(f"{path}:{pending[2]}: <!-- {pending[0]} --> is not followed by a fenced block")

    result, last_run = [], None
    for b in blocks:
        if b.kind in ("file", "append") and not b.arg:
            raise GuideError(f"{path}:{b.line}: <!-- {b.kind}: PATH --> needs a path")
        if b.kind == "run":
            b.status = 0
            if b.arg:
                m = re.fullmatch(r"status (\d+)", b.arg)
                if not m:
                    raise GuideError(f"{path}:{b.line}: unknown run option '{b.arg}' (status N)")
                b.status = int(m.group(1))
            last_run = b
        if b.kind == "expect":
            if last_run is None or last_run.expect is not None or result[-1] is not last_run:
                raise GuideError(f"{path}:{b.line}: <!-- expect --> must follow a <!-- run --> block")
            last_run.expect = b
            continue
        result.append(b)
    return result


def line_pattern(expected):
    return re.compile(".*?".join(re.escape(part) for part in expected.split("…")) + r"\Z")


def matches(expected_lines, actual_lines):
    """Whether actual matches expected: exact lines, … within a line, a lone … for any lines."""
    regex = []
    for e in expected_lines:
        if e == "…":
            regex.append(r"(?:[^\n]*\n)*?")
        else:
            regex.append(".*?".join(re.escape(p) for p in e.split("…")) + r"\n")
    return re.fullmatch("".join(regex), "".join(a + "\n" for a in actual_lines)) is not None


def diff(expected_lines, actual_lines):
    """A unified diff, with actual lines that a wildcard line matches shown as that line."""
    shown = list(actual_lines)
    for n, (e, a) in enumerate(zip(expected_lines, actual_lines)):
        if "…" in e and e != "…" and line_pattern(e).match(a):
            shown[n] = e
    return "\n".join(difflib.unified_diff(expected_lines, shown, "guide", "actual", lineterm="", n=2))


def split_output(text):
    return text.rstrip("\n").split("\n") if text.rstrip("\n") else []


def fail(guide, block, what, detail=""):
    print(f"\nFAIL: {guide}:{block.line}, step \"{block.step}\": {what}", flush=True)
    if detail:
        print(detail, flush=True)
    sys.exit(1)


def run_block(block, state, prefix, work):
    """Runs a run block in the session state (cwd, env); returns (status, output)."""
    body = block.text.replace(GUIDE_PREFIX, prefix)
    state_dir = os.path.join(work, "session")
    os.makedirs(state_dir, exist_ok=True)
    pwd_file, env_file = os.path.join(state_dir, "pwd"), os.path.join(state_dir, "env")
    script = (f"cd {shlex.quote(state['cwd'])}\n"
              f"trap 'pwd > {shlex.quote(pwd_file)}; env -0 > {shlex.quote(env_file)}' EXIT\n"
              f"set -e\n{body}\n")
    proc = subprocess.run(["bash", "-c", script], env=state["env"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=COMMAND_TIMEOUT)
    with open(pwd_file, encoding="utf-8") as f:
        state["cwd"] = f.read().rstrip("\n")
    with open(env_file, "rb") as f:
        env = dict(item.split("=", 1) for item in f.read().decode().split("\0") if "=" in item)
    for name in ("_", "SHLVL", "OLDPWD"):
        env.pop(name, None)
    state["env"] = env
    output = proc.stdout.decode("utf-8", "replace").replace(prefix, GUIDE_PREFIX)
    return proc.returncode, output


def walkthrough(args):
    guide = os.path.abspath(args.guide)
    blocks = parse(guide)
    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    prefix, scratch = os.path.join(work, "prefix"), os.path.join(work, "scratch")
    os.makedirs(scratch)

    install = ["cmake", "--install", args.build_dir, "--prefix", prefix]
    if args.config:
        install += ["--config", args.config]
    proc = subprocess.run(install, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        print(proc.stdout.decode(errors="replace"))
        sys.exit(f"FAIL: {' '.join(install)} exited with {proc.returncode}")
    print(f"installed {args.build_dir} into {prefix} (the guide's {GUIDE_PREFIX})", flush=True)

    env = dict(os.environ)
    for name in ("CARGO_TARGET_DIR", "FERRY_ON_ERROR", "FERRY_LEAK_CHECK", "BASH_ENV", "ENV",
                 "CMAKE_PREFIX_PATH", "PKG_CONFIG_PATH", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
        env.pop(name, None)
    env["CARGO_NET_OFFLINE"] = "true"
    if args.cargo:
        env["PATH"] = os.path.dirname(os.path.abspath(args.cargo)) + os.pathsep + env.get("PATH", "")
    if args.cc:
        env["CC"] = args.cc
    state = {"cwd": scratch, "env": env}
    name = os.path.basename(guide)

    for b in blocks:
        where = f"{name}:{b.line} ({b.step})"
        if b.kind in ("file", "append"):
            path = os.path.join(state["cwd"], b.arg)
            if b.kind == "append" and not os.path.exists(path):
                fail(name, b, f"append to {b.arg}, which does not exist")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            text = b.text.replace(GUIDE_PREFIX, prefix) + "\n"
            with open(path, "a" if b.kind == "append" else "w", encoding="utf-8") as f:
                f.write(("\n" if b.kind == "append" else "") + text)
            print(f"ok: {where}: {'appended to' if b.kind == 'append' else 'wrote'} {b.arg}", flush=True)
            continue
        started = time.monotonic()
        status, output = run_block(b, state, prefix, work)
        took = time.monotonic() - started
        command = "\n".join("  $ " + c for c in b.text.split("\n"))
        if status != b.status:
            fail(name, b, f"the commands exited with status {status}, the guide expects {b.status}",
                 f"{command}\n--- output\n{output}")
        if b.expect is not None:
            expected, actual = split_output(b.expect.text), split_output(output)
            if not matches(expected, actual):
                fail(name, b.expect, "output differs from the guide",
                     f"{command}\n{diff(expected, actual)}")
        checked = "output as the guide says" if b.expect is not None else "succeeded"
        first = b.text.split("\n")[0] + (" …" if "\n" in b.text else "")
        print(f"ok: {where}: {first}: {checked} ({took:.1f}s)", flush=True)
    print(f"the guide's {len(blocks)} marked blocks ran as written", flush=True)


def drift(args):
    """Proves the walkthrough fails when one expected line of the guide is wrong."""
    with open(args.guide, encoding="utf-8") as f:
        lines = f.read().split("\n")
    expect_lines = {b.expect.line + k for b in parse(args.guide) if b.kind == "run" and b.expect
                    for k in range(1, len(b.expect.text.split("\n")) + 1)}
    hits = [n for n in sorted(expect_lines) if args.drift in lines[n - 1]]
    if len(hits) != 1:
        sys.exit(f"FAIL: --drift '{args.drift}' is in {len(hits)} expected lines of {args.guide}, "
                 "not exactly one: update tests/guide/CMakeLists.txt")
    n = hits[0]
    changed = lines[n - 1] + " (drifted)"
    lines[n - 1] = changed
    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    copy = os.path.join(work, "guide.md")
    with open(copy, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print(f"guide copy with line {n} changed to: {changed}", flush=True)
    command = [sys.executable, os.path.abspath(__file__), "--guide", copy, "--build-dir", args.build_dir,
               "--work", os.path.join(work, "run")]
    for opt in ("config", "cc", "cargo"):
        if getattr(args, opt):
            command += [f"--{opt}", getattr(args, opt)]
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = proc.stdout.decode(errors="replace")
    print(output, flush=True)
    wanted = ["FAIL: guide.md:", "output differs from the guide", "-" + changed]
    missing = [w for w in wanted if w not in output]
    if proc.returncode != 1 or missing:
        sys.exit(f"FAIL: the walkthrough did not report the drifted line {n} "
                 f"(exit status {proc.returncode}, missing from its output: {missing})")
    print(f"ok: the walkthrough failed on the drifted line {n}, with the diff", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--guide", required=True)
    p.add_argument("--build-dir", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--config", default="")
    p.add_argument("--cc", default="")
    p.add_argument("--cargo", default="")
    p.add_argument("--drift", default="")
    args = p.parse_args()
    try:
        drift(args) if args.drift else walkthrough(args)
    except GuideError as e:
        sys.exit(f"FAIL: the guide is malformed: {e}")
    except subprocess.TimeoutExpired as e:
        sys.exit(f"FAIL: timed out after {e.timeout}s: {e.cmd}")


if __name__ == "__main__":
    main()
