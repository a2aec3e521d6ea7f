#!/usr/bin/env python3
"""Generates a site of N tenants for benchmarks and kill tests.

Usage: bench/gensite.py N OUT_DIR [--per-tenant]

With --per-tenant (the editor benchmark's second layout, issue 20): one file
per tenant (tenants/NNNNN.tenant), each tenant with two volumes and two
workloads, and every 25th tenant (not every tenth) on a FlashArray.

The site is the z/OS NFS scenario at scale (what ../bench/jsonnet-peer renders,
plus what tenantc checks): one z/OS system per 1,000 tenants with one AT-TLS NFS
server, one OpenShift cluster per 250 tenants with three compute nodes, and
each tenant with its RACF identity, proxy, one volume and one workload. Every
tenth tenant also has a Pure workspace on a FlashArray of its own cluster
(one realm per array per cluster, so one array per such tenant, and pod
names unique on a cluster). Tenants are
spread over files of 50 (tenants/NNN.tenant); the infrastructure lives in
site.tenant and imports a shared profile module (lib/profiles.tenant).
Deterministic: the same N gives the same files.
"""
import os
import sys


def main(n, out, per_tenant=False):
    pure_every = 25 if per_tenant else 10
    os.makedirs(os.path.join(out, "tenants"), exist_ok=True)
    os.makedirs(os.path.join(out, "lib"), exist_ok=True)
    with open(os.path.join(out, "lib", "profiles.tenant"), "w") as f:
        f.write(
            'tls_profile tls12 { versions = [tls1_2], handshake_timeout = 60s }\n'
            'haproxy_profile proxy { image = "icr.io/ibmz/haproxy:3.0.0-bookworm",'
            " timeout_connect = 5s, maxconn = 64 }\n"
        )
    systems = (n + 999) // 1000
    clusters = (n + 249) // 250
    site = ['import "lib/profiles" as lib\n']
    # Cluster c uses system c * 250 // 1000; its nodes are 10.<c>.<k>.1..3.
    def nodes(c):
        return [f"10.{100 + c // 200}.{c % 200}.{k}" for k in (1, 2, 3)]

    for s in range(systems):
        users = [c for c in range(clusters) if c * 250 // 1000 == s]
        clients = ", ".join(a for c in users for a in nodes(c))
        site.append(
            f"""
zos SYS{s} {{
  address = 10.99.{s // 250}.{s % 250 + 1}
  jcl {{ job_prefix = T{s % 10} }}
  authority ca {{
    label   = "Site CA {s}"
    subject = {{ CN = "Site CA {s}", O = "Bench" }}
    export  = dataset("SYS{s}.SITE.CA", format = certb64)
  }}
  nfs_server NFS{s} {{
    keyring = NFS-RING
    tls     = lib.tls12
    clients = [{clients}]
    certificate {{ label = "NFS Server {s}", subject = {{ CN = "nfs{s}.example.com" }}, signed_by = ca }}
  }}
}}
"""
        )
    for c in range(clusters):
        node_lines = "\n".join(
            f"  node w{k} {{ dvipa = {a} }}" for k, a in enumerate(nodes(c))
        )
        # The cloud drives live in a pod of the cluster's first Pure tenant.
        first = next((i for i in range(c * 250, min(n, c * 250 + 250)) if i % pure_every == 0), None)
        px = (
            f'  portworx {{ version = "3.2.0", device_size = 50Gi, pods = ["t{first:05d}-drives"] }}\n'
            if first is not None
            else ""
        )
        site.append(
            f"""
cluster ocp{c} {{
  kind         = openshift
  service_cidr = 172.30.0.0/16
{node_lines}
  registry quay {{ server = "quay.example.com", credentials = env("QUAY_DOCKERCONFIGJSON") }}
{px}}}
"""
        )
    for i in range(n):
        if i % pure_every == 0:
            site.append(
                f'\nflasharray fa{i} {{ endpoint = "fa{i}.example.com", purity = "6.6.11", san = iscsi }}\n'
            )
    with open(os.path.join(out, "site.tenant"), "w") as f:
        f.write("".join(site))

    per_file = 1 if per_tenant else 50
    for start in range(0, n, per_file):
        text = []
        for i in range(start, min(n, start + per_file)):
            c = i // 250
            s = c * 250 // 1000
            ip = f"172.30.{i // 250 + 10}.{i % 250 + 2}"
            pure = ""
            claim = ""
            if i % pure_every == 0:
                pure = f"""
  pure {{
    array  = fa{i}
    realm  = t{i:05d}
    pods   = ["t{i:05d}-drives", "t{i:05d}-db"]
    policy = t{i:05d}-px
    user   = t{i:05d}-px
    token  = env("T{i:05d}_PURE_TOKEN")
    storage_class t{i:05d}_db {{ pod = "t{i:05d}-db" }}
  }}
"""
                claim = f'    claim db {{ storage_class = pure.t{i:05d}_db, size = 10Gi, path = "/db" }}\n'
            extra_volume = extra_workload = ""
            if per_tenant:
                extra_volume = f'    volume logs {{ export = "/hfs/logs/t{i:05d}", attributes = [mvsmnt], size = 1Gi }}\n'
                extra_workload = f"""
  workload worker {{
    image    = "quay.example.com/t{i:05d}/worker:1"
    registry = ocp{c}.quay
    mount {{ volume = nfs.logs, path = "/logs" }}
  }}
"""
            text.append(
                f"""
tenant t{i:05d} {{
  cluster = ocp{c}
  nfs {{
    server = SYS{s}.NFS{s}
    identity {{
      user   = U{i:07d}
      label  = "T{i:05d} client"
      export = dataset("SYS{s}.T{i:05d}.P12", format = pkcs12der, password = env("T{i:05d}_P12"))
    }}
    proxy {{ cluster_ip = {ip}, registry = ocp{c}.quay, haproxy = lib.proxy }}
    volume data {{ export = "/hfs/tenants/t{i:05d}", attributes = [mvsmnt], size = 2Gi }}
{extra_volume}  }}
{pure}
  workload app {{
    image    = "quay.example.com/t{i:05d}/app:1"
    registry = ocp{c}.quay
    env      = {{ TENANT = "t{i:05d}" }}
    mount {{ volume = nfs.data, path = "/data" }}
{claim}  }}
{extra_workload}}}
"""
            )
        stem = f"{start:05d}" if per_tenant else f"{start // 50:04d}"
        name = os.path.join(out, "tenants", f"{stem}.tenant")
        with open(name, "w") as f:
            f.write('import "../lib/profiles" as lib\n' + "".join(text))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], "--per-tenant" in sys.argv[3:])
