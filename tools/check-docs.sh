#!/usr/bin/env bash
# The documentation checks of the test command; exits non-zero on any failure.
#   1. Every relative link in README.md, docs/ and the DocC catalogs resolves inside the repository:
#      the file (or folder) exists, and a `#anchor` names a heading of the target Markdown file.
#   2. README.md's embedding example is, line for line, the marked region of
#      Tests/DNSQueryTests/EmbeddingExampleTests.swift (which the tests compile and run), after the
#      README's `import` lines.
#   3. No line of README.md, docs/ or Sources/ speaks of development history instead of the
#      project (development rounds, issue numbers) or cites a design file outside the repository.
#   4. Every package an example's manifest (Examples/*/Package.swift) shares with the root
#      Package.swift is required at the same version there, and no manifest claims a platform
#      (the code is Linux-only: epoll, recvmmsg, inotify).
# Needs python3 only.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 - <<'PY'
import os, re, sys

root = os.getcwd()
failures = []

def markdown_files():
    files = ["README.md"]
    for base in ["docs", "Sources"]:
        for folder, _, names in os.walk(base):
            if base == "Sources" and ".docc" not in folder:
                continue
            files += [os.path.join(folder, n) for n in sorted(names) if n.endswith(".md")]
    return files

def slug(heading):
    # GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
    text = re.sub(r"`|\*\*|\*|_", "", heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")

def anchors(path):
    found, in_code = set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and (m := re.match(r"#{1,6}\s+(.*)", line)):
            base, n = slug(m.group(1)), 1
            name = base
            while name in found:
                name, n = f"{base}-{n}", n + 1
            found.add(name)
    return found

link = re.compile(r"(?<!\!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
checked = 0
for path in markdown_files():
    in_code = False
    for number, line in enumerate(open(path, encoding="utf-8"), 1):
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        for target in link.findall(re.sub(r"`[^`]*`", "", line)):
            if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("doc:"):
                continue  # http(s), mailto, DocC's own links
            checked += 1
            file_part, _, anchor = target.partition("#")
            resolved = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
            where = f"{path}:{number}: {target}"
            if not (resolved == root or os.path.abspath(resolved).startswith(root + os.sep)) or resolved.startswith(".."):
                failures.append(f"{where}: leaves the repository")
            elif not os.path.exists(resolved):
                failures.append(f"{where}: no such file")
            elif anchor and resolved.endswith(".md") and anchor not in anchors(resolved):
                failures.append(f"{where}: no heading with the anchor #{anchor}")

# 2. The embedding example.
readme = open("README.md", encoding="utf-8").read()
blocks = re.findall(r"```swift\n(.*?)```", readme, re.S)
example = [b for b in blocks if "import DNSQuery" in b]
test = open("Tests/DNSQueryTests/EmbeddingExampleTests.swift", encoding="utf-8").read()
region = re.search(r"\n([ \t]*)// BEGIN README EXAMPLE\n(.*?\n)[ \t]*// END README EXAMPLE", test, re.S)
if len(example) != 1:
    failures.append(f"README.md: {len(example)} swift blocks that import DNSQuery, expected the one example")
elif not region:
    failures.append("EmbeddingExampleTests.swift: no BEGIN/END README EXAMPLE region")
else:
    indent = region.group(1)
    tested = [l[len(indent):] if l.startswith(indent) else l.strip() for l in region.group(2).splitlines()]
    shown = example[0].splitlines()
    while shown and (shown[0].startswith("import ") or not shown[0].strip()):
        shown.pop(0)
    if shown != tested:
        for i, (a, b) in enumerate(zip(shown + [""] * len(tested), tested + [""] * len(shown))):
            if a != b:
                failures.append(f"README.md's example and the test's region differ at line {i + 1}:\n"
                                f"  README: {a!r}\n  test:   {b!r}")
                break

# 3. History and outside files.
history = re.compile(r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
                     r"thirteenth|this|last|next|previous)\s+session\b|\([0-9]+(st|nd|rd|th)\)|\.\./shared|"
                     r"\bissue #?[0-9]+|(^|[^/])DESIGN\.md", re.I)
for base in ["README.md", "docs", "Sources"]:
    paths = [base] if os.path.isfile(base) else [os.path.join(f, n) for f, _, ns in os.walk(base) for n in sorted(ns)]
    for path in paths:
        try:
            lines = open(path, encoding="utf-8").readlines()
        except (UnicodeDecodeError, IsADirectoryError):
            continue
        for number, line in enumerate(lines, 1):
            if history.search(line):
                failures.append(f"{path}:{number}: names development history or an outside file: {line.strip()}")

# 4. Manifests in step.
def requirements(path):
    text = open(path, encoding="utf-8").read()
    if "platforms:" in text:
        failures.append(f"{path}: claims platforms; evquery is Linux-only")
    return dict(re.findall(r'\.package\(url: "([^"]+)", from: "([^"]+)"', text))
root_versions = requirements("Package.swift")
examples = sorted(os.path.join("Examples", d, "Package.swift") for d in os.listdir("Examples")
                  if os.path.isfile(os.path.join("Examples", d, "Package.swift")))
for manifest in examples:
    for url, version in requirements(manifest).items():
        if url in root_versions and root_versions[url] != version:
            failures.append(f"{manifest}: {url} from {version}, but Package.swift requires {root_versions[url]}")

for failure in failures:
    print(failure, file=sys.stderr)
print(f"check-docs: {checked} relative links, the README example, history, {len(examples)} example manifests: "
      f"{'FAILED' if failures else 'OK'}")
sys.exit(1 if failures else 0)
PY
