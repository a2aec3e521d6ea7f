//! The subset of Kubernetes and kustomize object types tenantc emits, as serde
//! types, so that YAML is produced by a serializer and never pasted together.

use serde::Serialize;
use std::collections::BTreeMap;

pub type Labels = BTreeMap<String, String>;

#[derive(Serialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: Labels,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A top-level object: apiVersion, kind, metadata and the kind's body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Object<B: Serialize> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    #[serde(flatten)]
    pub body: B,
}

#[derive(Serialize)]
pub struct Empty {}

#[derive(Serialize)]
pub struct ConfigMapBody {
    pub data: BTreeMap<String, String>,
}

#[derive(Serialize)]
pub struct Spec<S: Serialize> {
    pub spec: S,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentSpec {
    pub replicas: u64,
    pub selector: LabelSelector,
    pub template: PodTemplate,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: Labels,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

#[derive(Serialize)]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: &'static str,
    pub values: Vec<String>,
}

#[derive(Serialize)]
pub struct PodTemplate {
    pub metadata: PodMeta,
    pub spec: PodSpec,
}

#[derive(Serialize)]
pub struct PodMeta {
    pub labels: Labels,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    pub automount_service_account_token: bool,
    pub containers: Vec<Container>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<NameRef>,
    pub security_context: PodSecurityContext,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<PodVolume>,
}

/// A pod's securityContext: https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodSecurityContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fs_group: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_as_group: Option<u64>,
    pub run_as_non_root: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_as_user: Option<u64>,
    pub seccomp_profile: SeccompProfile,
}

#[derive(Serialize, Default)]
pub struct SeccompProfile {
    #[serde(rename = "type")]
    pub type_: &'static str,
}

/// A container's requests and limits (cpu, memory).
#[derive(Serialize, Default)]
pub struct ContainerResources {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: BTreeMap<&'static str, String>,
}

/// An emptyDir volume source (no fields set).
#[derive(Serialize)]
pub struct EmptyDir {}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Affinity {
    pub pod_affinity: PodAffinity,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodAffinity {
    pub required_during_scheduling_ignored_during_execution: Vec<PodAffinityTerm>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodAffinityTerm {
    pub label_selector: LabelSelector,
    pub namespaces: Vec<String>,
    pub topology_key: &'static str,
}

#[derive(Serialize)]
pub struct NameRef {
    pub name: String,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: String,
    pub image: String,
    pub image_pull_policy: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<ContainerResources>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPort>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    pub security_context: SecurityContext,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_from: Option<EnvVarSource>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVarSource {
    pub secret_key_ref: SecretKeyRef,
}

#[derive(Serialize)]
pub struct SecretKeyRef {
    pub name: String,
    pub key: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    pub exec: ExecAction,
    pub initial_delay_seconds: u64,
    pub timeout_seconds: u64,
    pub period_seconds: u64,
    pub failure_threshold: u64,
}

#[derive(Serialize)]
pub struct ExecAction {
    pub command: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatefulSetSpec {
    pub service_name: String,
    pub replicas: u64,
    pub selector: LabelSelector,
    pub template: PodTemplate,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volume_claim_templates: Vec<ClaimTemplate>,
}

#[derive(Serialize)]
pub struct ClaimTemplate {
    pub metadata: NameRef,
    pub spec: ClaimTemplateSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimTemplateSpec {
    pub access_modes: Vec<&'static str>,
    pub resources: Resources,
    pub storage_class_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    pub name: String,
    pub container_port: u16,
    pub protocol: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    pub name: String,
    pub mount_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_path: Option<String>,
    pub read_only: bool,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SecurityContext {
    pub allow_privilege_escalation: bool,
    pub capabilities: Capabilities,
    pub read_only_root_filesystem: bool,
}

#[derive(Serialize, Default)]
pub struct Capabilities {
    pub drop: Vec<&'static str>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodVolume {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projected: Option<Projected>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map: Option<NameRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persistent_volume_claim: Option<ClaimRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub empty_dir: Option<EmptyDir>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Projected {
    pub sources: Vec<ProjectedSource>,
}

#[derive(Serialize)]
pub struct ProjectedSource {
    pub secret: NameRef,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRef {
    pub claim_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    #[serde(rename = "type")]
    pub type_: &'static str,
    #[serde(rename = "clusterIP")]
    pub cluster_ip: String,
    pub ports: Vec<ServicePort>,
    pub selector: Labels,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_traffic_policy: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    pub name: String,
    pub port: u16,
    pub protocol: &'static str,
    pub target_port: u16,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageClassBody {
    pub provisioner: &'static str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<&'static str, String>,
    pub reclaim_policy: &'static str,
    pub volume_binding_mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_volume_expansion: Option<bool>,
}

/// `core.libopenstorage.org/v1` StorageCluster spec: the fields tenantc sets.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageClusterSpec {
    pub image: String,
    pub image_pull_policy: &'static str,
    pub kvdb: Kvdb,
    pub cloud_storage: CloudStorage,
    pub secrets_provider: &'static str,
    pub stork: Stork,
    pub autopilot: Enabled,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub runtime_options: BTreeMap<String, String>,
    pub csi: Enabled,
    pub monitoring: Monitoring,
    pub env: Vec<EnvVar>,
}

#[derive(Serialize)]
pub struct Kvdb {
    pub internal: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudStorage {
    pub device_specs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kvdb_device_spec: Option<String>,
}

#[derive(Serialize)]
pub struct Stork {
    pub enabled: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
pub struct Enabled {
    pub enabled: bool,
}

#[derive(Serialize)]
pub struct Monitoring {
    pub telemetry: Enabled,
    pub prometheus: Prometheus,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prometheus {
    pub enabled: bool,
    pub export_metrics: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PvSpec {
    pub capacity: BTreeMap<&'static str, String>,
    pub access_modes: Vec<&'static str>,
    pub persistent_volume_reclaim_policy: &'static str,
    pub storage_class_name: String,
    pub volume_mode: &'static str,
    pub mount_options: Vec<String>,
    pub nfs: NfsSource,
    pub claim_ref: PvClaimRef,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NfsSource {
    pub server: String,
    pub path: String,
    pub read_only: bool,
}

#[derive(Serialize)]
pub struct PvClaimRef {
    pub namespace: String,
    pub name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PvcSpec {
    pub access_modes: Vec<&'static str>,
    pub resources: Resources,
    pub storage_class_name: String,
    pub volume_mode: &'static str,
    pub volume_name: String,
}

#[derive(Serialize)]
pub struct Resources {
    pub requests: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Kustomization {
    pub api_version: &'static str,
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secret_generator: Vec<SecretGenerator>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generator_options: Option<GeneratorOptions>,
}

#[derive(Serialize, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SecretGenerator {
    pub name: String,
    pub namespace: String,
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub files: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GeneratorOptions {
    pub disable_name_suffix_hash: bool,
}

/// A NetworkPolicy's spec (networking.k8s.io/v1), ingress only:
/// https://kubernetes.io/docs/concepts/services-networking/network-policies/
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicySpec {
    pub pod_selector: LabelSelector,
    pub policy_types: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<IngressRule>,
}

#[derive(Serialize)]
pub struct IngressRule {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<PolicyPeer>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PolicyPort>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PolicyPeer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_selector: Option<LabelSelector>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_block: Option<IpBlock>,
}

#[derive(Serialize)]
pub struct IpBlock {
    pub cidr: String,
}

#[derive(Serialize)]
pub struct PolicyPort {
    pub protocol: &'static str,
    pub port: u16,
}

/// A ResourceQuota's spec (v1):
/// https://kubernetes.io/docs/concepts/policy/resource-quotas/#storage-resource-quota
#[derive(Serialize)]
pub struct ResourceQuotaSpec {
    pub hard: BTreeMap<String, String>,
}

/// An OpenShift MachineConfig's spec: an Ignition config.
#[derive(Serialize)]
pub struct MachineConfigSpec {
    pub config: IgnitionConfig,
}

#[derive(Serialize)]
pub struct IgnitionConfig {
    pub ignition: IgnitionVersion,
    pub storage: IgnitionStorage,
    pub systemd: IgnitionSystemd,
}

#[derive(Serialize)]
pub struct IgnitionVersion {
    pub version: &'static str,
}

#[derive(Serialize)]
pub struct IgnitionStorage {
    pub files: Vec<IgnitionFile>,
}

#[derive(Serialize)]
pub struct IgnitionFile {
    pub path: &'static str,
    pub mode: u32,
    pub overwrite: bool,
    pub contents: IgnitionContents,
}

#[derive(Serialize)]
pub struct IgnitionContents {
    pub source: String,
}

#[derive(Serialize)]
pub struct IgnitionSystemd {
    pub units: Vec<IgnitionUnit>,
}

#[derive(Serialize)]
pub struct IgnitionUnit {
    pub name: &'static str,
    pub enabled: bool,
}

/// A ValidatingAdmissionPolicy's spec (admissionregistration.k8s.io/v1,
/// stable since Kubernetes 1.30):
/// https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/
/// and the API reference,
/// https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/validating-admission-policy-v1/
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionPolicySpec {
    pub failure_policy: &'static str,
    pub match_constraints: MatchResources,
    pub variables: Vec<NamedExpression>,
    pub validations: Vec<Validation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchResources {
    pub resource_rules: Vec<ResourceRule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRule {
    pub api_groups: Vec<&'static str>,
    pub api_versions: Vec<&'static str>,
    pub operations: Vec<&'static str>,
    pub resources: Vec<&'static str>,
}

#[derive(Serialize)]
pub struct NamedExpression {
    pub name: &'static str,
    pub expression: String,
}

#[derive(Serialize)]
pub struct Validation {
    pub expression: String,
    pub message: String,
    pub reason: &'static str,
}

/// A ValidatingAdmissionPolicyBinding's spec: without `matchResources` it
/// applies to every namespace.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionBindingSpec {
    pub policy_name: String,
    pub validation_actions: Vec<&'static str>,
}
