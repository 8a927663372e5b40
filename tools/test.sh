#!/usr/bin/env bash
# The test command (README): installs what the tests need, checks the documentation (links, the
# README's example, no history in the tree), builds, runs every test target (the README's example
# among them), checks deploy/kubernetes offline, runs a fleet of generators in network namespaces
# with Prometheus (tools/fleet-test.sh, root), builds and runs every fuzzer for a bounded time (tools/fuzz.sh: about 16 min on 2
# busy cores, 4 on idle ones; EVQ_SKIP_FUZZ=1 skips it), builds the DocC documentation
# (tools/docs.sh: about 10 min from a cold .build-docs on 2 busy cores, 1.5 min warm;
# EVQ_SKIP_DOCS=1 skips it), then the multi-threaded test targets again under ThreadSanitizer.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
for extra in tools/install-test-peers.d/*.sh; do
  [ -e "$extra" ] && bash "$extra"
done
echo "== tools/check-docs.sh"
tools/check-docs.sh
echo "== swift build --build-tests"
swift build --build-tests
echo "== swift test"
# The async forms' tests wait on Swift concurrency's pool, which the parallel run's blocking tests keep
# busy on two cores (their 60 s query deadlines passed first in one run of three): they run after it,
# on their own, one at a time, as in the ThreadSanitizer pass below.
swift test --skip-build --skip AsyncEngineTests --skip AsyncFormTests --skip ServiceGroupTests 2>&1 \
  | tee .build/test-output.txt
swift test --skip-build --no-parallel --filter 'AsyncEngineTests|AsyncFormTests|ServiceGroupTests' 2>&1 \
  | tee -a .build/test-output.txt
tools/example-service-test.sh  # Examples/ResolverService built (its own .build), run against evq serve, SIGTERM, audit
echo "== deploy/kubernetes checked offline (tools/check-kubernetes.py)"
python3 -c 'import yaml' 2>/dev/null || python3 -m pip install --quiet pyyaml >&2
python3 tools/check-kubernetes.py
echo "== tools/fleet-test.sh: three generators, a responder and Prometheus in network namespaces"
tools/fleet-test.sh .build/debug/evq
if [ "${EVQ_SKIP_FUZZ:-0}" != 1 ]; then
  # Every libFuzzer target is built (a fuzzer that no longer builds fails here) and run for a
  # bounded time; a finding fails the step.
  echo "== fuzzers: each built and run ${EVQ_FUZZ_SECONDS:-20} s (tools/fuzz.sh)"
  tools/fuzz.sh "${EVQ_FUZZ_SECONDS:-20}"
fi
if [ "${EVQ_SKIP_DOCS:-0}" != 1 ]; then
  echo "== tools/docs.sh: DocC for every library, no warnings"
  tools/docs.sh
fi
if [ "${EVQ_SKIP_TSAN:-0}" != 1 ]; then
  echo "== ThreadSanitizer: every multi-threaded test target (all but DNSMessageTests)"
  swift build --build-tests --sanitize=thread --scratch-path .build-tsan
  # AddressSpaceLimitTests limit the child's address space: ThreadSanitizer's own allocator then
  # fails ("internal allocator is out of memory") before the engine's mapping does.
  swift test --skip-build --sanitize=thread --scratch-path .build-tsan --filter 'EventReactorTests|LoadGeneratorTests|DNSResponderTests|DNSQueryTests|LogQueryTests|EvqueryLifecycleTests' \
    --skip AddressSpaceLimitTests --skip AsyncEngineTests --skip AsyncFormTests --skip ServiceGroupTests \
    --skip aFileWithoutReadPermissionIsAClearError
  # That last one is an exit test: Swift Testing's exit-test monitor waits on every child of the
  # process and spun on another test's zombie kdig, which hung this slow run once (the plain run
  # above covers it).
  # The async forms' tests wait on Swift concurrency's pool, which the parallel run's blocking tests
  # keep busy under ThreadSanitizer's slowdown (their waits ran out there; alone they pass in
  # seconds): they run on their own, one at a time.
  swift test --skip-build --sanitize=thread --scratch-path .build-tsan --no-parallel \
    --filter 'AsyncEngineTests|AsyncFormTests|ServiceGroupTests'
fi
