"""Checks docs/ci-workflow.yml: valid YAML, the shape GitHub Actions needs,
the three modes docs/testing.md promises, and the sanitizer and valgrind
settings of ferry's own ./build.sh and CMakeLists.txt (so they cannot drift
apart).

usage: check_workflow.py <ferry source directory>
"""
import os
import re
import sys

import yaml

root = sys.argv[1]
workflow_path = os.path.join(root, "docs", "ci-workflow.yml")


def read(*path):
    with open(os.path.join(root, *path)) as f:
        return f.read()


text = read("docs", "ci-workflow.yml")
doc = yaml.safe_load(text)
build_sh = read("build.sh")
cmakelists = read("CMakeLists.txt")

problems = []


def need(cond, what):
    if not cond:
        problems.append(what)


need(isinstance(doc, dict), "the top level is not a mapping")
# YAML 1.1 reads the key `on` as the boolean true
triggers = doc.get("on", doc.get(True))
need(triggers, "no `on:` triggers")
jobs = doc.get("jobs") or {}
need(jobs, "no jobs")
for name, job in jobs.items():
    need("runs-on" in job, f"job {name}: no runs-on")
    steps = job.get("steps") or []
    need(steps, f"job {name}: no steps")
    for i, step in enumerate(steps):
        need(("run" in step) != ("uses" in step), f"job {name} step {i}: needs exactly one of run/uses")

modes = [m for job in jobs.values() for m in job.get("strategy", {}).get("matrix", {}).get("mode", [])]
need(sorted(modes) == ["asan", "plain", "valgrind"], f"matrix modes are {modes}")

# The same sanitizer and valgrind settings as ./build.sh.
for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
    m = re.search(rf"export {var}=(\S+)", build_sh)
    need(m, f"build.sh sets no {var}")
    if m:
        need(f"{var}={m.group(1)}" in text, f"{var} differs from build.sh's {m.group(1)}")
m = re.search(r'"-DCMAKE_CROSSCOMPILING_EMULATOR=([^"]+)"', build_sh)
need(m, "build.sh sets no valgrind emulator")
if m:
    need(f"-DCMAKE_CROSSCOMPILING_EMULATOR={m.group(1)}" in text,
         f"the valgrind command differs from build.sh's {m.group(1)}")
need(text.count("CK_FORK=no") >= 2, "CK_FORK=no is not set for both asan and valgrind")
# CMakeLists.txt: the ASan flags, the extra ASan compile options, then the
# options every sanitizer gets.
m = re.search(r'FERRY_SANITIZE STREQUAL "address"\)\n\s*set\(FERRY_SANITIZE_FLAGS ([^)]*)\)\n'
              r'\s*add_compile_options\(([^)]*)\)', cmakelists)
common = re.search(r'add_compile_options\(\$\{FERRY_SANITIZE_FLAGS\} ([^)]*)\)', cmakelists)
need(m and common, "CMakeLists.txt has no ASan compile options")
if m and common:
    flags = f"{m.group(1)} {m.group(2)} {common.group(1)}"
    need(f'flags="{flags}"' in text, f"the sanitizer flags differ from CMakeLists.txt's {flags}")

for p in problems:
    print(f"{workflow_path}: {p}")
print("ok" if not problems else f"{len(problems)} problem(s)")
sys.exit(1 if problems else 0)
