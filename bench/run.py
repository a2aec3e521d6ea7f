#!/usr/bin/env python3
"""Benchmark: tenantc check and compile on generated sites, side by side with
the fastest Jsonnet rendering of a comparable site (jrsonnet, via PyPI's
rjsonnet, evaluating bench/jsonnet-peer/site.jsonnet, which checks nothing).

Usage: python3 bench/run.py [SIZES...]        (default: 10 100 1000 10000)

Builds the release binary, generates each site with bench/gensite.py, and
reports the best wall time of 3 runs and the peak memory (max RSS) of each
command. Output goes to a tmpfs (/dev/shm) when there is one, so that the
figures measure tenantc, not the disk. Prints a Markdown table.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "tenantc")
RUNS = 3


def measure(argv, cleanup=None):
    """Best wall time (s) and peak RSS (MB) of RUNS runs of argv."""
    best, peak = None, 0
    for _ in range(RUNS):
        if cleanup:
            cleanup()
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - start
        err = proc.stderr.read().decode()
        proc.stderr.close()
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{' '.join(argv)} failed:\n{err}")
        best = took if best is None else min(best, took)
        peak = max(peak, usage.ru_maxrss / 1024)
    return best, peak


def main(sizes):
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    work = tempfile.mkdtemp(prefix="tenantc-bench-", dir=base)
    try:
        import rjsonnet  # noqa: F401
        have_jsonnet = True
    except ImportError:
        have_jsonnet = False
        print("(rjsonnet is not installed: pip install rjsonnet; the Jsonnet column stays empty)",
              file=sys.stderr)
    rows = []
    for n in sizes:
        site = os.path.join(work, f"site-{n}")
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gensite.py"), str(n), site],
                       check=True)
        out = os.path.join(work, f"out-{n}")
        files = sum(len(f) for _, _, f in os.walk(site))
        check = measure([BIN, "check", site])
        compile_ = measure([BIN, "compile", site, "--out", out],
                           cleanup=lambda: shutil.rmtree(out, ignore_errors=True))
        written = sum(len(f) for _, _, f in os.walk(out))
        peer = None
        if have_jsonnet and (n <= 1000 or os.environ.get("JSONNET_10K")):
            jout = os.path.join(work, f"jsonnet-{n}")
            peer = measure([sys.executable, os.path.join(ROOT, "bench", "jsonnet-peer", "render.py"),
                            "rust", str(n), jout],
                           cleanup=lambda: shutil.rmtree(jout, ignore_errors=True))
        rows.append((n, files, written, check, compile_, peer))
        shutil.rmtree(out, ignore_errors=True)
    print(f"| tenants | spec files | bundle files | check | compile | peak memory (compile) | jrsonnet render | compile vs jrsonnet |")
    print("|---|---|---|---|---|---|---|---|")
    prev = None
    for n, files, written, check, comp, peer in rows:
        ratio = f"{peer[0] / comp[0]:.1f}x faster" if peer else "-"
        peer_s = f"{peer[0]:.3f} s ({peer[1]:.0f} MB)" if peer else "-"
        print(f"| {n:,} | {files} | {written:,} | {check[0]:.3f} s | {comp[0]:.3f} s | "
              f"{comp[1]:.0f} MB | {peer_s} | {ratio} |")
    print()
    for (n1, _, _, c1, k1, _), (n2, _, _, c2, k2, _) in zip(rows, rows[1:]):
        print(f"{n1:,} -> {n2:,} tenants: check x{c2[0] / c1[0]:.1f}, compile x{k2[0] / k1[0]:.1f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10, 100, 1000, 10000])
