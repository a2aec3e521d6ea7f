#!/usr/bin/env python3
"""Latency of `tenantc lsp` re-checking a workspace after a keystroke.

Usage: bench/lsp_latency.py [--tenants N] [--changes K] [--per-tenant] [--gap MS] [--bin PATH]

--per-tenant uses gensite's one-file-per-tenant layout (two volumes and two
workloads per tenant); by default tenants come 50 to a file.

Generates a site with bench/gensite.py (225 tenants: 5,058 lines in seven
files, the edited one 1,100 lines), starts the server on it, opens one tenants file and sends K
didChange notifications, each typing one character into a string value, one
at a time. For each it measures the time from writing the didChange to
reading the publishDiagnostics for that document version: the re-check
(on a slice of the site, src/lsp/slice.rs, or of the whole site when the
slice cannot give the site's answer) plus publishing. Prints p50, p95 and
max in milliseconds. The server runs with TENANTC_TIMINGS=1, so its stderr
also shows the check itself per change, and how many were on slices.

--gap MS waits that long before each keystroke (after the last one's
diagnostics): with a gap longer than the server's 250 ms pause, every
keystroke lands while the whole site is being analysed, and measures how
soon that analysis gives way.

Memory is the server's resident set after the keystrokes and a
workspace/symbol request, which waits for the whole-site analysis the
server runs once typing pauses (so the old and the new analysis have both
been held).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


class Client:
    """A minimal LSP client over a child's stdin and stdout."""

    def __init__(self, cmd, cwd=None, stderr=None, env=None):
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, cwd=cwd, env=env
        )
        self.next_id = 0

    def send(self, msg):
        msg["jsonrpc"] = "2.0"
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def recv(self):
        length = None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise EOFError("server closed stdout")
            line = line.strip()
            if not line:
                break
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return json.loads(self.proc.stdout.read(length))

    def request(self, method, params):
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            m = self.recv()
            if m.get("id") == self.next_id and "method" not in m:
                return m

    def notify(self, method, params):
        self.send({"method": method, "params": params})

    def wait_diagnostics(self, uri, version=None):
        while True:
            m = self.recv()
            if m.get("method") != "textDocument/publishDiagnostics":
                continue
            p = m["params"]
            if p["uri"] == uri and (version is None or p.get("version") == version):
                return p

    def close(self):
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()


def uri(path):
    return "file://" + os.path.abspath(path)


def rss_kib(pid):
    """The process's peak resident set (VmHWM) in KiB, from /proc."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def percentile(xs, p):
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(p / 100 * len(xs) + 0.5)) - 1))
    return xs[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tenants", type=int, default=225)
    ap.add_argument("--changes", type=int, default=200)
    ap.add_argument("--per-tenant", action="store_true")
    ap.add_argument("--gap", type=float, default=0, help="milliseconds between keystrokes")
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "target", "release", "tenantc"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = os.path.join(tmp, "site")
        subprocess.run([sys.executable, os.path.join(HERE, "gensite.py"), str(args.tenants), site]
                       + (["--per-tenant"] if args.per_tenant else []), check=True)
        files = []
        for d, _, names in os.walk(site):
            files += [os.path.join(d, n) for n in names if n.endswith(".tenant")]
        lines = sum(open(f).read().count("\n") for f in files)
        env = dict(os.environ, TENANTC_TIMINGS="1")
        log = open(os.path.join(tmp, "stderr.log"), "w+")
        c = Client([args.bin, "lsp"], stderr=log, env=env)
        c.request("initialize", {"processId": None, "rootUri": uri(site), "capabilities": {}})
        c.notify("initialized", {})
        # The second file of tenants: tenant 1 alone, or tenants 50-99.
        target = os.path.join(site, "tenants", "00001.tenant" if args.per_tenant else "0001.tenant")
        text = open(target).read()
        u = uri(target)
        c.notify("textDocument/didOpen", {"textDocument": {"uri": u, "languageId": "tenant", "version": 1, "text": text}})
        c.wait_diagnostics(u, 1)
        # Type into the first image string: `"quay.example.com/...` grows by one char each time.
        needle = 'image    = "'
        at = text.index(needle) + len(needle)
        before = text[:at]
        line = before.count("\n")
        col = len(before) - (before.rfind("\n") + 1)
        times = []
        for i in range(args.changes):
            version = i + 2
            change = {"range": {"start": {"line": line, "character": col + i}, "end": {"line": line, "character": col + i}}, "text": "x"}
            if args.gap:
                time.sleep(args.gap / 1000)
            t0 = time.perf_counter()
            c.notify("textDocument/didChange", {"textDocument": {"uri": u, "version": version}, "contentChanges": [change]})
            p = c.wait_diagnostics(u, version)
            times.append((time.perf_counter() - t0) * 1000)
            if p["diagnostics"]:
                print("unexpected diagnostics:", p["diagnostics"][:1], file=sys.stderr)
                break
        t0 = time.perf_counter()
        c.request("workspace/symbol", {"query": "t00001"})
        whole = (time.perf_counter() - t0) * 1000
        rss = rss_kib(c.proc.pid)
        c.close()
        log.seek(0)
        logged = log.read().splitlines()

        def ms(l):
            v = l.rsplit(" in ", 1)[1].split(",")[0]
            return float(v[:-2]) / 1000 if v.endswith("µs") else float(v[:-2]) if v.endswith("ms") else float(v[:-1]) * 1000

        sliced = [ms(l) for l in logged if " on a slice in " in l]
        wholes = [l for l in logged if ": checking the whole site: " in l]
        if sliced:
            print(f"re-check on a slice (server's TENANTC_TIMINGS): p50 {percentile(sliced, 50):.2f} ms, "
                  f"p95 {percentile(sliced, 95):.2f} ms; {len(sliced)} on slices, {len(wholes)} on the whole site")
        print(f"workspace/symbol after the typing (waits for the whole-site analysis): {whole:.0f} ms")
        print(f"server resident memory after the run: {rss / 1024:.0f} MiB")
        print(f"workspace: {len(files)} files, {lines} lines, {args.tenants} tenants; {len(times)} keystrokes")
        print(f"didChange -> publishDiagnostics: p50 {percentile(times, 50):.2f} ms, "
              f"p95 {percentile(times, 95):.2f} ms, max {max(times):.2f} ms")


if __name__ == "__main__":
    main()
