//! Pod security: what every generated pod sets, per cluster kind, and the Pod
//! Security Admission level of the namespaces that hold them.
//!
//! - Everywhere: `seccompProfile: RuntimeDefault`, `runAsNonRoot: true`,
//!   `allowPrivilegeEscalation: false`, capabilities `drop: [ALL]` and no
//!   service account token unless the workload asks for one. These are the
//!   controls of the Pod Security Standards' "restricted" profile
//!   (https://kubernetes.io/docs/concepts/security/pod-security-standards/).
//! - Plain Kubernetes: the pod runs as the image's documented user
//!   (`runAsUser`, `runAsGroup`, `fsGroup`), so that root-entrypoint images
//!   (mongo, postgres) skip their `chown` + `gosu` step-down, which fails
//!   without CAP_CHOWN/SETUID/SETGID
//!   (https://github.com/docker-library/postgres/issues/907), and the kubelet
//!   can verify `runAsNonRoot` for images whose USER is a name (haproxy).
//! - OpenShift: the restricted-v2 SCC assigns the UID, GID and fsGroup from the
//!   namespace's range (`runAsUser: MustRunAsRange`, `fsGroup: MustRunAs`),
//!   so none is set; it requires dropping ALL capabilities, no privilege
//!   escalation and the `runtime/default` seccomp profile
//!   (https://raw.githubusercontent.com/openshift/cluster-kube-apiserver-operator/master/bindata/bootkube/scc-manifests/0000_20_kube-apiserver-operator_00_scc-restricted-v2.yaml).

use super::types::*;
use crate::ir::ClusterKind;

/// Pod Security Admission labels
/// (https://kubernetes.io/docs/concepts/security/pod-security-admission/#pod-security-admission-labels-for-namespaces).
pub const PSA_ENFORCE: &str = "pod-security.kubernetes.io/enforce";
pub const PSA_AUDIT: &str = "pod-security.kubernetes.io/audit";
pub const PSA_WARN: &str = "pod-security.kubernetes.io/warn";

/// The pod-level securityContext. `user`/`group` are used on plain
/// Kubernetes only; `group` defaults to `user`.
pub fn pod(kind: ClusterKind, user: Option<u64>, group: Option<u64>) -> PodSecurityContext {
    let (run_as_user, gid) = match kind {
        ClusterKind::Kubernetes => (user, group.or(user)),
        ClusterKind::Openshift => (None, None),
    };
    PodSecurityContext {
        fs_group: gid,
        run_as_group: gid,
        run_as_non_root: true,
        run_as_user,
        seccomp_profile: SeccompProfile {
            type_: "RuntimeDefault",
        },
    }
}

/// The container-level securityContext.
pub fn container(read_only_root: bool) -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: false,
        capabilities: Capabilities { drop: vec!["ALL"] },
        read_only_root_filesystem: read_only_root,
    }
}

/// Labels for a namespace whose pods all meet `level` (enforced, audited and
/// warned at that level).
pub fn psa_labels(level: &str) -> [(String, String); 3] {
    [
        (PSA_AUDIT.to_string(), level.to_string()),
        (PSA_ENFORCE.to_string(), level.to_string()),
        (PSA_WARN.to_string(), level.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_sets_the_ids_openshift_leaves_them() {
        let k = pod(ClusterKind::Kubernetes, Some(999), None);
        assert_eq!(
            (k.run_as_user, k.run_as_group, k.fs_group),
            (Some(999), Some(999), Some(999))
        );
        let g = pod(ClusterKind::Kubernetes, Some(1000), Some(2000));
        assert_eq!((g.run_as_group, g.fs_group), (Some(2000), Some(2000)));
        let o = pod(ClusterKind::Openshift, Some(999), Some(999));
        assert_eq!(
            (o.run_as_user, o.run_as_group, o.fs_group),
            (None, None, None)
        );
        assert!(o.run_as_non_root && k.run_as_non_root);
        assert_eq!(o.seccomp_profile.type_, "RuntimeDefault");
    }
}
