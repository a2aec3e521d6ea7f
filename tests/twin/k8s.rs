//! The Kubernetes twin of one cluster: objects by (API group, kind,
//! namespace, name) with a digest of their content, driven by
//! `kubectl apply -k DIR` (the kustomization read from the bundle: its
//! resources, recursively, and its secret/configMap generators, ordered as
//! kustomize orders them), `kubectl delete KIND NAME -n NS`,
//! `kubectl delete -f FILE`, and the read-only `rollout status` / `get`.

use super::{digest, Files, Obj};
use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};

/// An object's identity: (group, kind, namespace or "", name).
pub type Key = (String, String, String, String);

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cluster {
    /// identity -> content digest.
    pub objects: BTreeMap<Key, String>,
}

/// Kinds that are not namespaced (kubectl api-resources --namespaced=false;
/// MachineConfig is OpenShift's machineconfiguration.openshift.io).
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "StorageClass",
    "PersistentVolume",
    "MachineConfig",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "SecurityContextConstraints",
    "Node",
    "CSIDriver",
    "VolumeSnapshotClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
];

/// kustomize's legacy sort (the default): these kinds first, in this order,
/// the webhook configurations last, the rest between by apiVersion and
/// kind. https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/sortoptions
/// (the lists are kustomize's api/resid/gvk.go orderFirst/orderLast).
const ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];
const ORDER_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// One object a kustomization builds.
#[derive(Clone, Debug)]
pub struct Built {
    pub api_version: String,
    pub key: Key,
    pub digest: String,
}

fn group_of(api_version: &str) -> String {
    match api_version.split_once('/') {
        Some((g, _)) => g.to_string(),
        None => String::new(),
    }
}

/// A YAML value with mapping keys sorted, as text: the content digest does
/// not depend on key order.
fn canonical(v: &Value) -> String {
    match v {
        Value::Mapping(m) => {
            let mut items: Vec<(String, String)> = m
                .iter()
                .map(|(k, v)| (canonical(k), canonical(v)))
                .collect();
            items.sort();
            format!(
                "{{{}}}",
                items
                    .iter()
                    .map(|(k, v)| format!("{k}:{v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        }
        Value::Sequence(s) => format!(
            "[{}]",
            s.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        Value::Tagged(t) => format!("!{}{}", t.tag, canonical(&t.value)),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim_end()
            .to_string(),
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

/// An object from one YAML document, in `default_ns` when namespaced and
/// without one.
pub fn object(doc: &Value, default_ns: Option<&str>) -> Result<Built, String> {
    let api_version = str_at(doc, &["apiVersion"]).ok_or("object without apiVersion")?;
    let kind = str_at(doc, &["kind"]).ok_or("object without kind")?;
    let name = str_at(doc, &["metadata", "name"]).ok_or("object without metadata.name")?;
    let ns = if CLUSTER_SCOPED.contains(&kind) {
        String::new()
    } else {
        default_ns
            .or_else(|| str_at(doc, &["metadata", "namespace"]))
            .unwrap_or("default")
            .to_string()
    };
    let mut content = doc.clone();
    if let Some(m) = content.get_mut("metadata").and_then(Value::as_mapping_mut) {
        m.remove("namespace");
    }
    Ok(Built {
        api_version: api_version.to_string(),
        key: (
            group_of(api_version),
            kind.to_string(),
            ns,
            name.to_string(),
        ),
        digest: digest(&canonical(&content)),
    })
}

fn docs(text: &str, path: &str) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for d in serde_yaml::Deserializer::from_str(text) {
        let v = serde::Deserialize::deserialize(d).map_err(|e| format!("{path}: {e}"))?;
        if !matches!(v, Value::Null) {
            out.push(v);
        }
    }
    Ok(out)
}

fn text_of<'a>(files: &'a Files, path: &str) -> Result<&'a str, String> {
    let b = files
        .get(path)
        .ok_or_else(|| format!("{path}: no such file in the bundle"))?;
    std::str::from_utf8(b).map_err(|_| format!("{path}: not UTF-8"))
}

fn join(dir: &str, rel: &str) -> Result<String, String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    for p in rel.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts
                    .pop()
                    .ok_or_else(|| format!("{rel} leaves the bundle"))?;
            }
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

/// What `kustomize build DIR` yields, in kustomize's legacy order:
/// resources (files, or directories with their own kustomization.yaml),
/// then the generators' Secrets and ConfigMaps (the files they read are
/// not read: the object appears with its name, type and keys). The
/// kustomization's `namespace:` sets every namespaced object's namespace.
/// https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/
pub fn build(files: &Files, dir: &str) -> Result<Vec<Built>, String> {
    let mut out = build_unsorted(files, dir, 0)?;
    let rank = |b: &Built| {
        let k = b.key.1.as_str();
        if let Some(i) = ORDER_FIRST.iter().position(|x| *x == k) {
            (0, i, String::new())
        } else if let Some(i) = ORDER_LAST.iter().position(|x| *x == k) {
            (2, i, String::new())
        } else {
            (1, 0, format!("{}/{}", b.api_version, k))
        }
    };
    // Within a kind, kustomize orders by the resource id (namespace, name).
    out.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then_with(|| (&a.key.2, &a.key.3).cmp(&(&b.key.2, &b.key.3)))
    });
    let mut seen = BTreeSet::new();
    for b in &out {
        if !seen.insert(b.key.clone()) {
            return Err(format!(
                "kustomize: {} {}/{} is defined twice",
                b.key.1, b.key.2, b.key.3
            ));
        }
    }
    Ok(out)
}

fn build_unsorted(files: &Files, dir: &str, depth: usize) -> Result<Vec<Built>, String> {
    if depth > 16 {
        return Err(format!("{dir}: kustomizations nest too deep"));
    }
    let kpath = join(dir, "kustomization.yaml")?;
    let k: Value =
        serde_yaml::from_str(text_of(files, &kpath)?).map_err(|e| format!("{kpath}: {e}"))?;
    let kind = str_at(&k, &["kind"]).unwrap_or("Kustomization");
    if kind != "Kustomization" {
        return Err(format!("{kpath}: kind {kind}"));
    }
    if let Some(m) = k.as_mapping() {
        for key in m.keys() {
            let key = key.as_str().unwrap_or_default();
            if !matches!(
                key,
                "apiVersion"
                    | "kind"
                    | "resources"
                    | "secretGenerator"
                    | "configMapGenerator"
                    | "generatorOptions"
                    | "namespace"
            ) {
                return Err(format!("{kpath}: field {key} outside the twin"));
            }
        }
    }
    let ns = str_at(&k, &["namespace"]);
    let mut out = Vec::new();
    for r in k
        .get("resources")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        let r = r
            .as_str()
            .ok_or_else(|| format!("{kpath}: a resource is not a string"))?;
        let p = join(dir, r)?;
        if files.contains_key(&p) {
            for d in docs(text_of(files, &p)?, &p)? {
                out.push(object(&d, ns)?);
            }
        } else if files.contains_key(&join(&p, "kustomization.yaml")?) {
            let mut sub = build_unsorted(files, &p, depth + 1)?;
            if let Some(ns) = ns {
                for b in &mut sub {
                    if !b.key.2.is_empty() {
                        b.key.2 = ns.to_string();
                    }
                }
            }
            out.extend(sub);
        } else {
            return Err(format!(
                "{kpath}: resource {r} is neither a file nor a kustomization"
            ));
        }
    }
    let hashed = k
        .get("generatorOptions")
        .and_then(|g| g.get("disableNameSuffixHash"))
        .and_then(Value::as_bool)
        != Some(true);
    let generates = k.get("secretGenerator").is_some() || k.get("configMapGenerator").is_some();
    if hashed && generates {
        return Err(format!(
            "{kpath}: generated names with a hash suffix are outside the twin"
        ));
    }
    for (field, kind) in [
        ("secretGenerator", "Secret"),
        ("configMapGenerator", "ConfigMap"),
    ] {
        for g in k
            .get(field)
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            let name =
                str_at(g, &["name"]).ok_or_else(|| format!("{kpath}: generator without a name"))?;
            let gns = ns
                .or_else(|| str_at(g, &["namespace"]))
                .unwrap_or("default");
            let mut keys: Vec<String> = Vec::new();
            for src in ["files", "literals", "envs"] {
                for f in g
                    .get(src)
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                {
                    let f = f.as_str().unwrap_or_default();
                    // `key=path` or `path` (the key is the file's name);
                    // literals `key=value`: only the key is kept.
                    let key = match f.split_once('=') {
                        Some((k, _)) => k.to_string(),
                        None => f.rsplit('/').next().unwrap_or(f).to_string(),
                    };
                    keys.push(format!("{src}:{key}"));
                }
            }
            let typ = str_at(g, &["type"]).unwrap_or("Opaque");
            out.push(Built {
                api_version: "v1".into(),
                key: (
                    String::new(),
                    kind.to_string(),
                    gns.to_string(),
                    name.to_string(),
                ),
                digest: digest(&format!("{typ}|{}", keys.join(","))),
            });
        }
    }
    Ok(out)
}

/// kubectl's names for kinds (kind, plural, short names), to the kind.
fn kind_of(word: &str) -> Option<&'static str> {
    let w = word.to_ascii_lowercase();
    let w = w.split('.').next().unwrap_or_default().to_string();
    let table: &[(&[&str], &str)] = &[
        (&["namespace", "namespaces", "ns"], "Namespace"),
        (&["deployment", "deployments", "deploy"], "Deployment"),
        (&["statefulset", "statefulsets", "sts"], "StatefulSet"),
        (&["service", "services", "svc"], "Service"),
        (&["configmap", "configmaps", "cm"], "ConfigMap"),
        (&["secret", "secrets"], "Secret"),
        (
            &["networkpolicy", "networkpolicies", "netpol"],
            "NetworkPolicy",
        ),
        (
            &["resourcequota", "resourcequotas", "quota"],
            "ResourceQuota",
        ),
        (
            &["persistentvolumeclaim", "persistentvolumeclaims", "pvc"],
            "PersistentVolumeClaim",
        ),
        (
            &["persistentvolume", "persistentvolumes", "pv"],
            "PersistentVolume",
        ),
        (&["storageclass", "storageclasses", "sc"], "StorageClass"),
        (&["machineconfig", "machineconfigs", "mc"], "MachineConfig"),
        (
            &["storagecluster", "storageclusters", "stc"],
            "StorageCluster",
        ),
        (
            &["serviceaccount", "serviceaccounts", "sa"],
            "ServiceAccount",
        ),
        (&["role", "roles"], "Role"),
        (
            &["validatingadmissionpolicy", "validatingadmissionpolicies"],
            "ValidatingAdmissionPolicy",
        ),
        (
            &[
                "validatingadmissionpolicybinding",
                "validatingadmissionpolicybindings",
            ],
            "ValidatingAdmissionPolicyBinding",
        ),
        (&["rolebinding", "rolebindings"], "RoleBinding"),
    ];
    table
        .iter()
        .find(|(names, _)| names.contains(&w.as_str()))
        .map(|(_, k)| *k)
}

impl Cluster {
    fn has_namespace(&self, ns: &str) -> bool {
        ns == "default"
            || self.objects.contains_key(&(
                String::new(),
                "Namespace".into(),
                String::new(),
                ns.into(),
            ))
    }

    /// `kubectl apply -k DIR`: each built object in order is created or
    /// updated; a namespaced object whose namespace does not exist (yet)
    /// fails ("namespaces ... not found"), and kubectl goes on with the
    /// others but exits nonzero: the first failure is returned.
    /// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_apply/
    pub fn apply_k(&mut self, files: &Files, dir: &str) -> Result<usize, String> {
        let built = build(files, dir)?;
        let mut first_err = None;
        for b in &built {
            if !b.key.2.is_empty() && !self.has_namespace(&b.key.2) {
                first_err.get_or_insert(format!(
                    "{} {}/{}: namespace {} not found",
                    b.key.1, b.key.2, b.key.3, b.key.2
                ));
                continue;
            }
            self.objects.insert(b.key.clone(), b.digest.clone());
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(built.len()),
        }
    }

    fn delete_key(&mut self, key: &Key) -> Result<(), String> {
        if self.objects.remove(key).is_none() {
            return Err(format!(
                "{} \"{}\" not found (namespace {:?})",
                key.1, key.3, key.2
            ));
        }
        // Deleting a Namespace deletes everything in it.
        // https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/
        if key.1 == "Namespace" && key.0.is_empty() {
            let ns = key.3.clone();
            self.objects.retain(|k, _| k.2 != ns);
        }
        Ok(())
    }

    /// Runs a kubectl command line (its words, from `kubectl` on).
    /// `kubectl delete` of an object that is not there fails (NotFound)
    /// unless `--ignore-not-found`.
    /// https://kubernetes.io/docs/reference/kubectl/generated/kubectl_delete/
    pub fn kubectl(&mut self, words: &[String], files: &Files) -> Result<(), String> {
        let mut ns: Option<String> = None;
        let mut file: Option<String> = None;
        let mut kustomize: Option<String> = None;
        let mut ignore = false;
        let mut pos: Vec<String> = Vec::new();
        let mut it = words.iter().skip(1);
        while let Some(w) = it.next() {
            match w.as_str() {
                "-n" | "--namespace" => ns = Some(it.next().ok_or("-n without a value")?.clone()),
                "-f" | "--filename" => file = Some(it.next().ok_or("-f without a value")?.clone()),
                "-k" | "--kustomize" => {
                    kustomize = Some(it.next().ok_or("-k without a value")?.clone())
                }
                "--ignore-not-found" | "--ignore-not-found=true" => ignore = true,
                "--wait=false" | "--timeout=60s" => {}
                s if s.starts_with("--namespace=") => {
                    ns = Some(s["--namespace=".len()..].to_string())
                }
                s if s.starts_with('-') => {
                    return Err(format!("kubectl option {s} outside the twin"))
                }
                s => pos.push(s.to_string()),
            }
        }
        let verb = pos.first().cloned().ok_or("kubectl without a verb")?;
        let args = &pos[1..];
        match verb.as_str() {
            "apply" => match (kustomize, file) {
                (Some(d), None) => self.apply_k(files, d.trim_end_matches('/')).map(|_| ()),
                (None, Some(f)) => {
                    for d in docs(text_of(files, &f)?, &f)? {
                        let b = object(&d, ns.as_deref())?;
                        if !b.key.2.is_empty() && !self.has_namespace(&b.key.2) {
                            return Err(format!("namespace {} not found", b.key.2));
                        }
                        self.objects.insert(b.key, b.digest);
                    }
                    Ok(())
                }
                _ => Err("kubectl apply needs one of -k or -f".into()),
            },
            "delete" => {
                let keys: Vec<Key> = if let Some(f) = file {
                    docs(text_of(files, &f)?, &f)?
                        .iter()
                        .map(|d| object(d, ns.as_deref()).map(|b| b.key))
                        .collect::<Result<_, _>>()?
                } else {
                    let (kind, names): (String, Vec<String>) = match args {
                        [one] if one.contains('/') => {
                            let (k, n) = one.split_once('/').expect("checked");
                            (k.to_string(), vec![n.to_string()])
                        }
                        [k, names @ ..] if !names.is_empty() => (k.clone(), names.to_vec()),
                        _ => return Err("kubectl delete KIND NAME".into()),
                    };
                    let kind =
                        kind_of(&kind).ok_or_else(|| format!("kind {kind} unknown to the twin"))?;
                    let nsv = if CLUSTER_SCOPED.contains(&kind) {
                        String::new()
                    } else {
                        ns.clone().unwrap_or_else(|| "default".into())
                    };
                    names.iter().map(|n| self.resolve(kind, &nsv, n)).collect()
                };
                for k in keys {
                    match self.delete_key(&k) {
                        Ok(()) => {}
                        Err(_) if ignore => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(())
            }
            // Read-only checks: the object (or namespace) must be there.
            "rollout" => match args {
                [sub, target] if sub == "status" => {
                    let (k, n) = target.split_once('/').ok_or("rollout status KIND/NAME")?;
                    let kind = kind_of(k).ok_or_else(|| format!("kind {k} unknown to the twin"))?;
                    let key = self.resolve(kind, ns.as_deref().unwrap_or("default"), n);
                    if self.objects.contains_key(&key) {
                        Ok(())
                    } else {
                        Err(format!("{kind} {n} not found"))
                    }
                }
                _ => Err("kubectl rollout outside the twin".into()),
            },
            // The runbook's precondition that the Portworx operator's CRDs
            // are installed: the twin holds the kinds of every operator
            // the bundle names (it applies a StorageCluster as any object).
            "get" if args.first().is_some_and(|k| k == "crd") => Ok(()),
            "get" => {
                let n = ns.as_deref().unwrap_or("default");
                if !self.has_namespace(n) {
                    return Err(format!("namespace {n} not found"));
                }
                match args {
                    [k] => kind_of(k)
                        .map(|_| ())
                        .ok_or_else(|| format!("kind {k} unknown to the twin")),
                    [k, name] => {
                        let kind =
                            kind_of(k).ok_or_else(|| format!("kind {k} unknown to the twin"))?;
                        let key = self.resolve(kind, n, name);
                        self.objects
                            .contains_key(&key)
                            .then_some(())
                            .ok_or_else(|| format!("{kind} {name} not found"))
                    }
                    _ => Err("kubectl get outside the twin".into()),
                }
            }
            other => Err(format!("kubectl {other} outside the twin")),
        }
    }

    /// The identity of `kind name` in `ns`: the group of the object the
    /// cluster holds, or the core/usual group when it holds none.
    fn resolve(&self, kind: &str, ns: &str, name: &str) -> Key {
        let ns = if CLUSTER_SCOPED.contains(&kind) {
            ""
        } else {
            ns
        };
        self.objects
            .keys()
            .find(|k| k.1 == kind && k.2 == ns && k.3 == name)
            .cloned()
            .unwrap_or_else(|| {
                (
                    String::new(),
                    kind.to_string(),
                    ns.to_string(),
                    name.to_string(),
                )
            })
    }

    /// The objects with the inventory's keys: kind, `namespace/name` (or
    /// `name` when cluster-scoped).
    pub fn state(&self, target: &str) -> BTreeSet<Obj> {
        self.objects
            .iter()
            .map(|((_, kind, ns, name), d)| {
                let n = if ns.is_empty() {
                    name.clone()
                } else {
                    format!("{ns}/{name}")
                };
                Obj::new(target, kind, n, d.clone())
            })
            .collect()
    }
}
