#!/usr/bin/env python3
"""Checks that docs/reference.md names every public item of ferry.

Public items, found at grep level:
  C    -- c/include/ferry.h and every header in c/include/ferry/: each
          FERRY_API function, each #define that is not an include guard,
          not #undef'd again, each typedef name, each enumerator (the
          X-macro status list included), each static inline function and
          each one a FERRY_VALUE_CTOR line defines; names ending in '_' are
          helpers by convention and skipped.
  Rust -- the modules rust/ferry/src/lib.rs declares: every `pub` fn,
          struct, enum, trait, type, const and static (not `pub(crate)`),
          and every #[macro_export] macro, skipping #[doc(hidden)] items,
          #[doc(hidden)]/#[cfg(test)] modules, and the bodies of `extern`
          items' own functions. A method of an inherent `impl X` must be
          written `X::method`; every other name must appear in a `code span`.

Usage:
  check_reference.py ROOT [--reference FILE]
      exit 0 when every item is named, 1 (listing what is missing) if not
  check_reference.py ROOT --expect-missing NAME [NAME...]
      for each NAME, check a copy of the reference with the lines that
      mention it removed: exit 0 only if each such check fails naming it
"""
import os
import re
import sys
import tempfile

MIN_C, MIN_RUST = 60, 60  # a broken extraction must not pass as "all named"


def strip_c_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def c_items(root):
    headers = [os.path.join(root, "c/include/ferry.h")]
    sub = os.path.join(root, "c/include/ferry")
    if os.path.isdir(sub):
        headers += sorted(
            os.path.join(sub, f) for f in os.listdir(sub) if f.endswith(".h")
        )
    items = {}
    for path in headers:
        rel = os.path.relpath(path, root)
        text = strip_c_comments(open(path, encoding="utf-8").read())
        # join continuation lines so a multi-line macro is one line
        joined = re.sub(r"\\\n", " ", text)
        undefs = set(re.findall(r"^\s*#\s*undef\s+(\w+)", joined, re.M))
        guards = set(re.findall(r"^\s*#\s*ifndef\s+(\w+)\s*\n\s*#\s*define\s+\1\s*$", joined, re.M))
        for name in re.findall(r"^\s*#\s*define\s+(\w+)", joined, re.M):
            if name not in undefs and name not in guards:
                items.setdefault(name, rel)
        for name in re.findall(r"^\s*FERRY_API\b[^;{(]*?\b(\w+)\s*\(", joined, re.M):
            items.setdefault(name, rel)
        for name, body in typedefs(joined):
            items.setdefault(name, rel)
            if body is not None and body.lstrip().startswith("enum"):
                inner = body[body.index("{") + 1 : body.rindex("}")]
                for e in re.findall(r"(?:^|,)\s*([A-Z_][A-Z0-9_]*)\s*(?:=[^,]*)?(?=,|$)", inner.strip()):
                    items.setdefault(e, rel)
        code = re.sub(r"^\s*#[^\n]*", "", joined, flags=re.M)  # outside macro bodies
        for name in re.findall(r"\bstatic\s+inline\s+[^;{(=]*?\b(\w+)\s*\(", code):
            items.setdefault(name, rel)
        for name in re.findall(r"\bX\((FERRY_\w+),", joined):
            items.setdefault(name, rel)
        for name in re.findall(r"^\s*FERRY_VALUE_CTOR\((\w+),", joined, re.M):
            items.setdefault(name, rel)
    # names ending in '_' are helpers by convention (FERRY_STRINGIFY_)
    return {n: w for n, w in items.items() if not n.endswith("_")}


def typedefs(text):
    """(name, body) for each typedef; body is the braced part or None."""
    for m in re.finditer(r"\btypedef\b", text):
        i = m.end()
        semi = text.find(";", i)
        brace = text.find("{", i)
        if brace != -1 and brace < semi:
            depth, j = 0, brace
            while j < len(text):
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                if depth == 0:
                    break
                j += 1
            semi = text.find(";", j)
            name = re.search(r"(\w+)\s*$", text[j + 1 : semi])
            if name:
                yield name.group(1), text[i:j + 1]
        else:
            decl = text[i:semi]
            fn = re.search(r"\(\s*\*\s*(\w+)\s*\)", decl)
            name = fn or re.search(r"(\w+)\s*$", decl)
            if name:
                yield name.group(1), None


ITEM = re.compile(
    r"^\s*pub\s+(?:const\s+|unsafe\s+|async\s+|extern\s+\"C\"\s+)*"
    r"(fn|struct|enum|trait|type|const|static|mod)\s+(\w+)"
)
IMPL = re.compile(r"^\s*(?:unsafe\s+)?impl\b(?:\s*<.*?>)?\s+(.+?)\s*(?:where\b.*)?\{\s*$")


def rust_modules(root):
    src = os.path.join(root, "rust/ferry/src")
    lib = os.path.join(src, "lib.rs")
    mods = []
    pending_hidden = False
    for line in open(lib, encoding="utf-8"):
        s = line.strip()
        if s.startswith("#[doc(hidden)]") or s.startswith("#[cfg(test)]"):
            pending_hidden = True
            continue
        m = re.match(r"(pub\s+)?mod\s+(\w+)\s*;", s)
        if m and not pending_hidden:
            mods.append(os.path.join(src, m.group(2) + ".rs"))
        if s and not s.startswith("#["):
            pending_hidden = False
    return [lib] + [m for m in mods if os.path.exists(m)]


def rust_items(root):
    items = {}
    for path in rust_modules(root):
        rel = os.path.relpath(path, root)
        attrs = []  # attributes and doc lines before the current item
        depth = 0
        skip_until = None  # depth at which a skipped block ends
        impl_stack = []  # (depth inside the block, self type or None)
        in_extern = None
        for raw in open(path, encoding="utf-8"):
            line = re.sub(r"//.*", "", raw) if not raw.lstrip().startswith("///") else ""
            s = raw.strip()
            opens, closes = line.count("{"), line.count("}")
            if skip_until is not None:
                depth += opens - closes
                if depth <= skip_until:
                    skip_until = None
                continue
            if s.startswith("#[") or s.startswith("///") or s.startswith("//!"):
                attrs.append(s)
                continue
            hidden = any(a.startswith("#[doc(hidden)]") or a.startswith("#[cfg(test)]") for a in attrs)
            macro_export = any(a.startswith("#[macro_export]") for a in attrs)
            if s:
                attrs = []
            m = re.match(r"macro_rules!\s*(\w+)", s)
            if m and macro_export and not hidden:
                items.setdefault(m.group(1) + "!", rel)
            im = IMPL.match(line)
            m = ITEM.match(line)
            if hidden and (m or im or re.match(r"\s*(pub\s+)?mod\b", line)) and opens > closes:
                skip_until = depth
                depth += opens - closes
                continue
            if im:
                target = im.group(1)
                self_type = None
                if " for " not in f" {target} ":
                    self_type = re.match(r"([A-Za-z_][\w:]*)", target).group(1).split("::")[-1]
                impl_stack.append((depth + 1, self_type))
            elif m and not hidden:
                kind, name = m.groups()
                in_impl = bool(impl_stack) and impl_stack[-1][0] <= depth
                if in_impl:
                    if impl_stack[-1][1] and kind in ("fn", "const", "type"):
                        items.setdefault(f"{impl_stack[-1][1]}::{name}", rel)
                elif kind != "mod" or opens:
                    items.setdefault(name, rel)
            if re.match(r"\s*extern\s+\"C\"\s*\{", line):
                in_extern = depth + 1
            if in_extern is not None and in_extern <= depth + opens - closes:
                em = re.match(r"\s*pub\s+fn\s+(\w+)", line)
                if em:
                    items.setdefault(em.group(1), rel)
            depth += opens - closes
            while impl_stack and depth < impl_stack[-1][0]:
                impl_stack.pop()
            if in_extern is not None and depth < in_extern:
                in_extern = None
    for path in rust_modules(root):
        rel = os.path.relpath(path, root)
        if path.endswith("lib.rs"):
            continue
        name = os.path.basename(path)[:-3]
        if re.search(rf"^\s*pub\s+mod\s+{name}\s*;", open(rust_modules(root)[0]).read(), re.M):
            items.setdefault(name, rel)
    return items


def code_tokens(text):
    spans = re.findall(r"`([^`\n]+)`", text)
    blocks = re.findall(r"```.*?\n(.*?)```", text, re.S)
    tokens = set()
    for span in spans + blocks:
        tokens.update(re.findall(r"[A-Za-z_]\w*!?", span))
        tokens.update(re.findall(r"[A-Za-z_]\w*::[A-Za-z_]\w*", span))
    return tokens


def missing(items, text):
    tokens = code_tokens(text)
    out = []
    for name, where in sorted(items.items()):
        if "::" in name:
            found = re.search(rf"(?<![\w:]){re.escape(name)}(?!\w)", text) is not None
        else:
            found = name in tokens
        if not found:
            out.append((name, where))
    return out


def check(root, reference):
    c, rust = c_items(root), rust_items(root)
    if len(c) < MIN_C or len(rust) < MIN_RUST:
        print(f"extraction found only {len(c)} C and {len(rust)} Rust items; the script is broken")
        return 2
    text = open(reference, encoding="utf-8").read()
    gone = missing({**c, **rust}, text)
    for name, where in gone:
        print(f"{os.path.relpath(reference, root)}: missing {name} ({where})")
    print(f"{len(c)} C items, {len(rust)} Rust items; {len(gone)} missing from the reference")
    return 1 if gone else 0


def expect_missing(root, reference, names):
    text = open(reference, encoding="utf-8").read()
    ok = True
    for name in names:
        bare = name.split("::")[-1]
        kept = [l for l in text.splitlines(True) if name not in l and not (
            "::" in name and re.search(rf"\b{re.escape(bare)}\b", l))]
        removed = len(text.splitlines()) - len(kept)
        with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as f:
            f.writelines(kept)
            copy = f.name
        try:
            items = {**c_items(root), **rust_items(root)}
            if name not in items:
                print(f"probe {name}: not a public item of ferry")
                ok = False
                continue
            gone = [n for n, _ in missing(items, "".join(kept))]
            if removed == 0:
                print(f"probe {name}: the reference never mentions it")
                ok = False
            elif name in gone:
                print(f"probe {name}: {removed} line(s) removed, the check reports it missing")
            else:
                print(f"probe {name}: {removed} line(s) removed, but the check did not notice")
                ok = False
        finally:
            os.unlink(copy)
    return 0 if ok else 1


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    root = os.path.abspath(argv[1])
    reference = os.path.join(root, "docs/reference.md")
    args = argv[2:]
    if args[:1] == ["--reference"]:
        reference, args = args[1], args[2:]
    if args[:1] == ["--list"]:
        for name, where in sorted({**c_items(root), **rust_items(root)}.items()):
            print(f"{where}\t{name}")
        return 0
    if args[:1] == ["--expect-missing"]:
        return expect_missing(root, reference, args[1:])
    return check(root, reference)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
