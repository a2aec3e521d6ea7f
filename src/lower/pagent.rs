//! PAGENT AT-TLS policy, one file per NFS server:
//! `zos/<system>/pagent/<jobname>.policy`.

use super::{Error, Templates};
use crate::bundle::{inventory, Bundle};
use crate::ir::*;
use serde::Serialize;

/// One TTLSCipherParms line: `V3CipherSuites` or `V3CipherSuites4Char`
/// (see [`crate::ir::CipherForm`]) and the cipher as the spec wrote it.
#[derive(Serialize)]
struct Cipher {
    keyword: &'static str,
    value: String,
}

#[derive(Serialize)]
struct Version {
    name: &'static str,
    state: &'static str,
}

#[derive(Serialize)]
struct ServerCtx {
    rule: String,
    jobname: String,
    ports: String,
    /// The range's high end: IBM's TTLSRule syntax writes a range as
    /// `LocalPortRange n m` (the template decides; a site may override it).
    ports_high: Option<String>,
    priority: u64,
    addr_group: String,
    clients: Vec<String>,
    group_action: String,
    trace: u64,
    env_action: String,
    handshake_role: &'static str,
    keyring_parms: String,
    cipher_parms: String,
    ciphers: Vec<Cipher>,
    application_controlled: &'static str,
    handshake_timeout: u64,
    client_auth: &'static str,
    versions: Vec<Version>,
    conn_action: String,
    conn_parms: String,
    secondary_map: &'static str,
    keyring: String,
}

fn on_off(b: bool) -> &'static str {
    if b {
        "On"
    } else {
        "Off"
    }
}

pub fn lower(
    site: &Site,
    plan: &crate::plan::Plan,
    t: &Templates,
    headers: &super::Headers,
    sel: &super::Selection,
    bundle: &mut Bundle,
) -> Result<(), Error> {
    for sid in site.server_ids() {
        if !sel.any(site.tenants_of(sid).map(|(t, _)| t.name.value.as_str())) {
            continue;
        }
        let sys = site.system(sid.0);
        let s = site.server(sid);
        // The statement names the checks validated.
        let names = plan.server(sid).statements.clone();
        let header = headers.of([s.name.span.file]);
        let tls = &s.tls;
        let ctx = ServerCtx {
            rule: names.rule,
            jobname: s.jobname.value.clone(),
            ports: s.ports.low.to_string(),
            ports_high: (s.ports.low != s.ports.high).then(|| s.ports.high.to_string()),
            priority: s.priority.value,
            addr_group: names.addr_group,
            clients: s.clients.iter().map(|c| c.value.to_string()).collect(),
            group_action: names.group_action,
            trace: tls.trace.value,
            env_action: names.env_action,
            handshake_role: match tls.handshake_role.value {
                HandshakeRole::Server => "Server",
                HandshakeRole::ServerWithClientAuth => "ServerWithClientAuth",
            },
            keyring_parms: names.keyring_parms,
            cipher_parms: names.cipher_parms,
            ciphers: tls
                .ciphers
                .iter()
                .map(|c| Cipher {
                    // Checks refused any cipher without a form.
                    keyword: crate::ir::CipherForm::of(&c.value)
                        .map_or("V3CipherSuites", crate::ir::CipherForm::keyword),
                    value: c.value.clone(),
                })
                .collect(),
            application_controlled: on_off(tls.application_controlled),
            handshake_timeout: tls.handshake_timeout_s.value,
            client_auth: match tls.client_auth.value {
                ClientAuth::PassThru => "PassThru",
                ClientAuth::Full => "Full",
                ClientAuth::Required => "Required",
                ClientAuth::SafCheck => "SAFCheck",
            },
            // TLSv1.3 is only named when on: releases before z/OS 2.4 do not know it.
            versions: TlsVersion::ALL
                .iter()
                .filter(|v| **v != TlsVersion::Tls13 || tls.versions.contains(v))
                .map(|v| Version {
                    name: v.pagent(),
                    state: on_off(tls.versions.contains(v)),
                })
                .collect(),
            conn_action: names.conn_action,
            conn_parms: names.conn_parms,
            secondary_map: on_off(tls.secondary_map),
            keyring: format!("{}/{}", s.user.value, s.keyring.value),
        };
        // One policy per LPAR the server may run on; their statements must
        // agree to the byte (only the comments name the LPAR).
        let lpars = s.lpars(sid.0);
        let lpar_names: Vec<&str> = lpars
            .iter()
            .map(|l| site.system(*l).name.value.as_str())
            .collect();
        let mut first: Option<String> = None;
        for lpar in &lpars {
            let on = site.system(*lpar);
            let text = t.render(
                "pagent.policy.j2",
                minijinja::context! {
                    header,
                    system => &on.name.value,
                    stack => &on.stack.value,
                    lpars => &lpar_names,
                    s => &ctx,
                },
            )?;
            let statements: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .collect::<Vec<_>>()
                .join("\n");
            match &first {
                None => first = Some(statements),
                Some(f) if *f != statements => {
                    return Err(Error::Internal(format!(
                        "the AT-TLS policies of {} differ between {} and {}",
                        s.jobname.value, sys.name.value, on.name.value
                    )))
                }
                Some(_) => {}
            }
            let path = format!("zos/{}/pagent/{}.policy", on.name.value, s.jobname.value);
            let tenants = super::tenants_of_server(site, sid);
            let digest = inventory::digest_lines(&[first.as_deref().unwrap_or_default()]);
            bundle.record(
                inventory::Entry::new(
                    inventory::Key::new(
                        format!("zos/{}", on.name.value),
                        "attls-rule",
                        plan.server(sid).statements.rule.clone(),
                    ),
                    &tenants,
                    &path,
                    digest,
                ),
                inventory::Recipe::default(),
            )?;
            bundle.add_text(path, text, tenants)?;
        }
    }
    Ok(())
}
