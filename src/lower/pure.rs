//! Pure Storage FlashArray outputs: the Purity CLI setup script of each array
//! (`pure/<array>/setup.sh`), the `pure.json` that Portworx reads from
//! `px-pure-secret` (one per cluster; written by the Kubernetes lowering into
//! the kustomization's secret files), and the worker nodes' multipath.conf
//! (`k8s/<cluster>/nodes/multipath.conf`).

use super::{Error, SecretValues, Templates};
use crate::bundle::{inventory, Bundle};
use crate::ir::*;
use crate::plan::placeholder;
use serde::Serialize;
use std::collections::BTreeSet;

/// The pure.json of a cluster: one FlashArrays entry per array its tenants
/// use, by array name and tenant name. Tokens are placeholders unless `secrets`
/// holds their values (it holds only the selected tenants' in a partial compile). Returns the text and the tenants it serves.
pub fn pure_json(
    site: &Site,
    cluster: ClusterId,
    secrets: Option<&SecretValues>,
) -> Result<(String, BTreeSet<String>), Error> {
    #[derive(Serialize)]
    struct Entry<'a> {
        #[serde(rename = "MgmtEndPoint")]
        mgmt_end_point: &'a str,
        #[serde(rename = "APIToken")]
        api_token: String,
        #[serde(rename = "Realm")]
        realm: &'a str,
    }
    #[derive(Serialize)]
    struct PureJson<'a> {
        #[serde(rename = "FlashArrays")]
        flash_arrays: Vec<Entry<'a>>,
    }
    let mut users: Vec<(&Tenant, &TenantPure)> = site.pure_tenants_on(cluster).collect();
    // By array name, then tenant name: a tenant added, removed or moved in the
    // specs changes its own entry only.
    users.sort_by(|(a, pa), (b, pb)| {
        let name = |p: &TenantPure| &site.array(p.array.value).name.value;
        (name(pa), &a.name.value).cmp(&(name(pb), &b.name.value))
    });
    let mut entries = Vec::new();
    let mut tenants = BTreeSet::new();
    for (t, p) in users {
        // A partial compile (`--tenant`) reads only the selected tenants'
        // tokens: the others stay placeholders, so no tenant's bundle
        // carries another's token.
        let token = match secrets.and_then(|s| s.get(&p.token)) {
            Some(v) => v.to_string(),
            None => placeholder(&p.token),
        };
        entries.push(Entry {
            mgmt_end_point: &site.array(p.array.value).endpoint.value,
            api_token: token,
            realm: &p.realm.value,
        });
        tenants.insert(t.name.value.clone());
    }
    let mut text = serde_json::to_string_pretty(&PureJson {
        flash_arrays: entries,
    })
    .map_err(|e| Error::Internal(format!("pure.json: {e}")))?;
    text.push('\n');
    Ok((text, tenants))
}

pub fn lower(
    site: &Site,
    t: &Templates,
    headers: &super::Headers,
    sel: &super::Selection,
    bundle: &mut Bundle,
) -> Result<(), Error> {
    #[derive(Serialize)]
    struct ArrayCtx<'a> {
        name: &'a str,
        endpoint: &'a str,
        purity: &'a str,
        san: &'static str,
        admin: &'a str,
    }
    /// A tenant's objects on its array: kind, name, and the Purity command
    /// that creates each (the commands of the setup script's steps).
    fn objects<'a>(x: &TenantCtx<'a>) -> Vec<(&'static str, String, Vec<&'a str>)> {
        let mut out = vec![(
            "realm",
            x.realm.to_string(),
            vec!["purerealm", "create", x.realm],
        )];
        for pod in &x.pods {
            out.push((
                "pod",
                format!("{}::{pod}", x.realm),
                vec!["purepod", "create"],
            ));
        }
        out.push((
            "policy",
            x.policy.to_string(),
            vec![
                "purepolicy",
                "management-access",
                "create",
                "--realm",
                x.realm,
                "--role",
                "storage",
                "--aggregation-strategy",
                "all-permissions",
                x.policy,
            ],
        ));
        out.push((
            "user",
            x.user.to_string(),
            vec!["pureadmin", "create", "--access-policy", x.policy, x.user],
        ));
        // Made by the user itself, over its own session.
        out.push((
            "api-token",
            x.user.to_string(),
            vec!["pureadmin", "create", "--api-token"],
        ));
        out
    }
    #[derive(Serialize)]
    struct TenantCtx<'a> {
        name: &'a str,
        cluster: &'a str,
        realm: &'a str,
        pods: Vec<&'a str>,
        policy: &'a str,
        user: &'a str,
        token_env: Option<&'a str>,
        token_file: Option<String>,
    }
    for (ai, array) in site.arrays.iter().enumerate() {
        // Sorted by tenant name, not declaration order, so that the script
        // changes only in the lines of a tenant added, removed or moved.
        let mut users: Vec<(&Tenant, &TenantPure)> = site
            .pure_tenants()
            .filter(|(_, p)| p.array.value == ArrayId(ai))
            .collect();
        users.sort_by(|(a, _), (b, _)| a.name.value.cmp(&b.name.value));
        let tenants: Vec<TenantCtx<'_>> = users
            .into_iter()
            .map(|(tn, p)| TenantCtx {
                name: &tn.name.value,
                cluster: &site.cluster(tn.cluster.value).name.value,
                realm: &p.realm.value,
                pods: p.pods.iter().map(|x| x.value.as_str()).collect(),
                policy: &p.policy.value,
                user: &p.user.value,
                token_env: (p.token.source == SecretSource::Env).then_some(p.token.name.as_str()),
                token_file: (p.token.source == SecretSource::File)
                    .then(|| headers.site_path(p.token.span.file, &p.token.name)),
            })
            .collect();
        // Shared by the array's tenants: written whole when any is selected.
        if tenants.is_empty() || !sel.any(tenants.iter().map(|x| x.name)) {
            continue;
        }
        let names: BTreeSet<String> = tenants.iter().map(|x| x.name.to_string()).collect();
        let path = format!("pure/{}/setup.sh", array.name.value);
        let target = format!("array/{}", array.name.value);
        for x in &tenants {
            for (kind, name, create) in objects(x) {
                let mut words: Vec<String> = create.iter().map(|w| w.to_string()).collect();
                if kind == "pod" {
                    words.push(name.clone());
                }
                bundle.record(
                    inventory::Entry::new(
                        inventory::Key::new(target.clone(), kind, name),
                        [&x.name.to_string()],
                        &path,
                        inventory::digest_lines(&words),
                    ),
                    inventory::Recipe {
                        create: vec![words],
                        then: Vec::new(),
                    },
                )?;
            }
        }
        let text = t.render(
            "purity-setup.sh.j2",
            minijinja::context! {
                header => headers.of([array.name.span.file]),
                path => path,
                array => ArrayCtx {
                    name: &array.name.value,
                    endpoint: &array.endpoint.value,
                    purity: &array.purity.value.text,
                    san: array.san.value.portworx(),
                    admin: &array.admin.value,
                },
                tenants => tenants,
            },
        )?;
        bundle.add_text(path, text, names)?;
    }
    for (ci, cluster) in site.clusters.iter().enumerate() {
        let users: Vec<(&Tenant, &TenantPure)> = site
            .pure_tenants()
            .filter(|(tn, _)| tn.cluster.value == ClusterId(ci))
            .collect();
        if users.is_empty() || !sel.any(users.iter().map(|(tn, _)| tn.name.value.as_str())) {
            continue;
        }
        let header = headers.of([cluster.name.span.file]);
        let text = multipath_conf(site, t, &header, ClusterId(ci))?;
        bundle.add_text(
            format!("k8s/{}/nodes/multipath.conf", cluster.name.value),
            text,
            users.iter().map(|(tn, _)| tn.name.value.clone()).collect(),
        )?;
    }
    Ok(())
}

/// The MachineConfig that writes multipath.conf on OpenShift workers.
pub const MULTIPATH_MACHINE_CONFIG: &str = "99-worker-pure-multipath";

/// The worker nodes' /etc/multipath.conf for a cluster whose tenants use
/// FlashArrays. On OpenShift the MachineConfig `MULTIPATH_MACHINE_CONFIG`
/// carries it to the nodes; elsewhere the operator puts it in place.
pub fn multipath_conf(
    site: &Site,
    t: &Templates,
    header: &str,
    cluster: ClusterId,
) -> Result<String, Error> {
    let c = site.cluster(cluster);
    let mut arrays: Vec<ArrayId> = site
        .pure_tenants()
        .filter(|(tn, _)| tn.cluster.value == cluster)
        .map(|(_, p)| p.array.value)
        .collect();
    // By name, not declaration order: moving a spec moves nothing here.
    arrays.sort_by(|a, b| site.array(*a).name.value.cmp(&site.array(*b).name.value));
    arrays.dedup();
    let sans: BTreeSet<&str> = arrays
        .iter()
        .map(|a| site.array(*a).san.value.portworx())
        .collect();
    t.render(
        "multipath.conf.j2",
        minijinja::context! {
            header => header,
            cluster => &c.name.value,
            arrays => arrays.iter().map(|a| site.array(*a).name.value.as_str()).collect::<Vec<_>>(),
            san => sans.into_iter().collect::<Vec<_>>().join(", "),
            openshift => c.kind.value == ClusterKind::Openshift,
            machine_config => MULTIPATH_MACHINE_CONFIG,
        },
    )
}
