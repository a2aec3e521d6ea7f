//! haproxy.cfg for each tenant's TLS-originating proxy. The file is written
//! next to the tenant's proxy manifests and wrapped in a ConfigMap by the
//! Kubernetes lowering, which owns the paths the pod sees.

use super::{duration, Error, Templates};
use crate::bundle::Bundle;
use crate::ir::*;

/// Where the projected certificate secrets are mounted in the proxy pod.
pub const CERT_DIR: &str = "/var/lib/haproxy";
/// Key of the CA certificate (the authority's CERTB64 export) in its secret.
pub const CA_FILE: &str = "cert-auth.pem";
/// Key of the client certificate and key (PEM) in its secret.
pub const CRT_FILE: &str = "client-cert.pem";
/// Where the official image reads its configuration.
pub const CONFIG_DIR: &str = "/usr/local/etc/haproxy";

pub fn render(
    site: &Site,
    tenant: &Tenant,
    nfs: &TenantNfs,
    t: &Templates,
    header: &str,
) -> Result<String, Error> {
    let server = site.server(nfs.server.value);
    let p = &nfs.proxy;
    let ports = if p.ports.low == p.ports.high {
        p.ports.low.to_string()
    } else {
        format!("{}-{}", p.ports.low, p.ports.high)
    };
    t.render(
        "haproxy.cfg.j2",
        minijinja::context! {
            header,
            tenant => &tenant.name.value,
            server => &server.name.value,
            address => server.address.value.to_string(),
            ports,
            maxconn => p.haproxy.maxconn.value,
            timeout_connect => duration(p.haproxy.timeout_connect_ms.value),
            timeout_client => duration(p.haproxy.timeout_client_ms.value),
            timeout_server => duration(p.haproxy.timeout_server_ms.value),
            // The server certificate's ALTNAME DOMAIN: without SNI, haproxy
            // checks a server's name only with `verifyhost` (configuration
            // manual, `verify` and `verifyhost`, section 5.2):
            // https://docs.haproxy.org/2.8/configuration.html#5.2-verifyhost
            verifyhost => &server.certificate.hostname.value,
            ca_file => format!("{CERT_DIR}/{CA_FILE}"),
            crt_file => format!("{CERT_DIR}/{CRT_FILE}"),
        },
    )
}

/// Adds a tenant's haproxy.cfg to the bundle and returns its text.
pub fn add(
    site: &Site,
    tenant: &Tenant,
    nfs: &TenantNfs,
    t: &Templates,
    header: &str,
    dir: &str,
    bundle: &mut Bundle,
) -> Result<String, Error> {
    let text = render(site, tenant, nfs, t, header)?;
    bundle.add_text(
        format!("{dir}/haproxy.cfg"),
        text.clone(),
        std::collections::BTreeSet::from([tenant.name.value.clone()]),
    )?;
    Ok(text)
}
