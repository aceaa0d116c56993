#!/usr/bin/env python3
"""Checks that README.md and docs/safety.md stay true.

  check_readme.py ROOT quickstart
      README's "Quick start" block runs exactly `./build.sh` and
      `./build.sh test`, and build.sh still has those two commands
  check_readme.py ROOT messages BINARY
      runs BINARY (tests/docs/messages.c); README quotes every line it
      prints, apart from the handle bits and the directory of the source
  check_readme.py ROOT examples CC INCLUDE_DIR LIB_DIR [SANITIZE_FLAGS]
      compiles every self-contained C block of README (it includes
      <ferry.h> and has main) against libferry, and runs those that load
      no plugin: each must exit 0
  check_readme.py ROOT safety
      docs/safety.md names every status of FERRY_STATUS_LIST
Exit status 0 when the check holds, 1 (saying why) when it does not.
"""
import os
import re
import subprocess
import sys
import tempfile


def section(text, heading):
    m = re.search(rf"^## {re.escape(heading)}\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    return m.group(1) if m else None


def quickstart(root):
    readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
    body = section(readme, "Quick start")
    if body is None:
        return fail("README.md has no '## Quick start' section")
    blocks = re.findall(r"```sh\n(.*?)```", body, re.S)
    if not blocks:
        return fail("README.md's Quick start has no ```sh block")
    commands = [l.split("#")[0].strip() for l in blocks[0].splitlines()]
    commands = [c for c in commands if c]
    if commands != ["./build.sh", "./build.sh test"]:
        return fail(f"README.md's Quick start runs {commands}, not ['./build.sh', './build.sh test']")
    script = open(os.path.join(root, "build.sh"), encoding="utf-8").read()
    if not re.search(r"cmd=\$\{1:-demo\}", script) or not re.search(r"^\s*demo\)", script, re.M) \
            or not re.search(r"^\s*test\)", script, re.M):
        return fail("build.sh no longer runs the demo by default and the suites with 'test'")
    print("README quick start: ./build.sh, ./build.sh test; build.sh has both")
    return 0


def normalise(line):
    line = re.sub(r"0x[0-9a-f]{16}", "0x<bits>", line)
    return re.sub(r"\S*tests/docs/messages\.c", "tests/docs/messages.c", line)


def messages(root, binary):
    run = subprocess.run([binary], capture_output=True, text=True, timeout=60)
    if run.returncode != 0:
        return fail(f"{binary} exited {run.returncode}: not every misuse was refused\n{run.stdout}{run.stderr}")
    readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
    quoted = {normalise(l.strip()) for l in readme.splitlines()}
    lines = [l for l in run.stdout.splitlines() if l.strip()]
    stale = [l for l in lines if normalise(l) not in quoted]
    for l in stale:
        print(f"README.md does not quote this message any more:\n  {l}")
    if len(lines) < 6:
        return fail(f"{binary} printed {len(lines)} messages, expected 6")
    print(f"{len(lines) - len(stale)} of {len(lines)} messages quoted in README.md")
    return 1 if stale else 0


def examples(root, cc, include, libdir, flags=""):
    readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
    blocks = [b for b in re.findall(r"```c\n(.*?)```", readme, re.S)
              if "#include <ferry.h>" in b and re.search(r"\bint main\(", b)]
    if len(blocks) < 2:
        return fail(f"README.md has {len(blocks)} self-contained C examples, expected at least 2")
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, block in enumerate(blocks):
            src, exe = os.path.join(tmp, f"readme_{i}.c"), os.path.join(tmp, f"readme_{i}")
            open(src, "w").write(block)
            first = block.strip().splitlines()[0]
            build = subprocess.run(
                [cc, "-std=c11", "-Wall", "-Wextra", "-Werror", *flags.split(), f"-I{include}", src,
                 f"-L{libdir}", "-lferry", f"-Wl,-rpath,{libdir}", "-o", exe],
                capture_output=True, text=True)
            if build.returncode != 0:
                print(f"README C example {i} ({first}) does not compile:\n{build.stderr}")
                bad += 1
                continue
            if "ferry_plugin_open" in block:
                print(f"README C example {i}: compiles (loads a plugin: not run)")
                continue
            run = subprocess.run([exe], capture_output=True, text=True, timeout=60,
                                 env={**os.environ, "FERRY_ON_ERROR": "return"})
            if run.returncode != 0:
                print(f"README C example {i} exited {run.returncode}:\n{run.stdout}{run.stderr}")
                bad += 1
            else:
                print(f"README C example {i}: compiles, runs, exits 0")
    return 1 if bad else 0


def safety(root):
    header = open(os.path.join(root, "c/include/ferry.h"), encoding="utf-8").read()
    statuses = re.findall(r"\bX\((FERRY_E_\w+),", header)
    text = open(os.path.join(root, "docs/safety.md"), encoding="utf-8").read()
    gone = [s for s in statuses if f"`{s}`" not in text]
    for s in gone:
        print(f"docs/safety.md does not name {s}")
    print(f"docs/safety.md names {len(statuses) - len(gone)} of {len(statuses)} error statuses")
    return 1 if gone or not statuses else 0


def fail(message):
    print(message)
    return 1


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    root, what, rest = os.path.abspath(argv[1]), argv[2], argv[3:]
    if what == "quickstart":
        return quickstart(root)
    if what == "messages" and len(rest) == 1:
        return messages(root, rest[0])
    if what == "examples" and len(rest) in (3, 4):
        return examples(root, *rest)
    if what == "safety":
        return safety(root)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
