import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StorageBackend } from "../config/types";
import type { StoragePlan } from "../config/plan";
import type { VolumeRole } from "../config/volumes";
import { DELETE_IN_BACKGROUND, exceptionAnnotations, hardenPod, PartArgs } from "./workload";

export interface StorageArgs extends PartArgs {
    /** Classes, one claim per volume (config/volumes.ts) and the NFS provisioner when a role is on nfs. */
    readonly plan: StoragePlan;
}

/**
 * One StorageClass per backend the volume roles use (shared and data may differ: NFS and Cinder in prod),
 * the NFS provisioner when one is nfs, and one claim per volume on its role's class.
 */
export class Storage extends pulumi.ComponentResource {
    /** Classes by backend. */
    public readonly storageClasses: Partial<Record<StorageBackend, k8s.storage.v1.StorageClass>> = {};
    public readonly claims: Record<string, k8s.core.v1.PersistentVolumeClaim> = {};
    /** Class name by role. */
    public readonly classNames: Record<VolumeRole, pulumi.Output<string>>;

    constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:Storage", name, {}, opts);
        const parent = { parent: this };
        const st = args.plan;
        const labels = { ...args.commonLabels, tier: "storage" };
        const ns = pulumi.output(args.namespace);

        for (const c of st.classes) {
            const provisioner = c.provisioner ?? this.nfsProvisioner(args, labels).provisionerName;
            this.storageClasses[c.backend] = new k8s.storage.v1.StorageClass(c.resourceName, {
                metadata: { name: pulumi.interpolate`${ns}-${c.nameSuffix}`, labels: { ...labels, app: c.backend } },
                provisioner,
                parameters: { ...c.parameters },
                reclaimPolicy: c.reclaimPolicy,
                allowVolumeExpansion: c.allowVolumeExpansion,
                volumeBindingMode: c.volumeBindingMode,
            }, parent);
        }
        const classOf = (role: VolumeRole) => this.storageClasses[st.backendOf[role]]!.metadata.name;
        this.classNames = { shared: classOf("shared"), data: classOf("data") };

        for (const v of st.volumes) {
            const className = classOf(v.role);
            const accessMode = v.accessMode;
            // Static NFS volumes, pre-bound to their claim, need no running provisioner (as in the reference).
            // Claim names carry the class: moving to another class is a new claim, never an in-place edit.
            const claimName = pulumi.interpolate`${v.name}-pvc-${className}`;
            let volumeName: pulumi.Output<string> | undefined;
            if (v.staticNfs) {
                const pv = new k8s.core.v1.PersistentVolume(`${v.name}-pv`, {
                    metadata: { name: pulumi.interpolate`${v.name}-pv-${className}`, labels: { ...labels, app: v.name } },
                    spec: {
                        capacity: { storage: v.size },
                        accessModes: [accessMode],
                        storageClassName: className,
                        persistentVolumeReclaimPolicy: "Retain",
                        claimRef: { namespace: ns, name: claimName },
                        nfs: { server: st.nfs.server, path: pulumi.interpolate`${st.nfs.path}/${ns}/${v.name}` },
                    },
                }, { ...parent, protect: st.protect });
                volumeName = pv.metadata.name;
            }
            this.claims[v.name] = new k8s.core.v1.PersistentVolumeClaim(`${v.name}-pvc`, {
                metadata: {
                    name: claimName,
                    namespace: args.namespace,
                    labels: { ...labels, app: v.name, "egov-platform/volume-role": v.role },
                },
                spec: {
                    accessModes: [accessMode],
                    storageClassName: className,
                    volumeName,
                    resources: { requests: { storage: v.size } },
                },
            }, { ...parent, protect: st.protect });
        }

        this.registerOutputs({ classNames: this.classNames });
    }

    /** The NFS subdir provisioner with least-privilege RBAC (no PodSecurityPolicy rule: that API is gone). */
    private nfsProvisioner(args: StorageArgs, labels: Record<string, string>) {
        const parent = { parent: this };
        const st = args.plan;
        const ns = pulumi.output(args.namespace);
        const nfs = st.provisioner!;
        const meta = (name: pulumi.Input<string>) => ({ name, namespace: args.namespace, labels: { ...labels, app: "nfs" } });
        // Cluster-scoped names carry the namespace so two stacks can share a cluster.
        const clusterName = pulumi.interpolate`${ns}-nfs-provisioner`;
        const provisionerName = pulumi.interpolate`egov-platform/${ns}-nfs`;

        const sa = new k8s.core.v1.ServiceAccount("nfs-provisioner", { metadata: meta("nfs-provisioner-sa") }, parent);
        const clusterRole = new k8s.rbac.v1.ClusterRole("nfs-provisioner", {
            metadata: { name: clusterName, labels: { ...labels, app: "nfs" } },
            rules: [
                { apiGroups: [""], resources: ["persistentvolumes"], verbs: ["get", "list", "watch", "create", "delete"] },
                { apiGroups: [""], resources: ["persistentvolumeclaims"], verbs: ["get", "list", "watch", "update"] },
                { apiGroups: ["storage.k8s.io"], resources: ["storageclasses"], verbs: ["get", "list", "watch"] },
                { apiGroups: [""], resources: ["events"], verbs: ["create", "update", "patch"] },
            ],
        }, parent);
        new k8s.rbac.v1.ClusterRoleBinding("nfs-provisioner", {
            metadata: { name: clusterName, labels: { ...labels, app: "nfs" } },
            subjects: [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: ns }],
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole.metadata.name },
        }, parent);
        // Leader election runs in its own namespace only.
        const role = new k8s.rbac.v1.Role("nfs-provisioner", {
            metadata: meta("nfs-provisioner-leader-election"),
            rules: [
                { apiGroups: [""], resources: ["endpoints"], verbs: ["get", "list", "watch", "create", "update", "patch"] },
                { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "list", "watch", "create", "update", "patch"] },
            ],
        }, parent);
        new k8s.rbac.v1.RoleBinding("nfs-provisioner", {
            metadata: meta("nfs-provisioner-leader-election"),
            subjects: [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: ns }],
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
        }, parent);

        // The export root reaches the pod as a claim on a pre-bound volume, not an inline nfs volume, which Pod
        // Security `restricted` does not allow.
        const rootClaimName = "nfs-provisioner-root";
        const rootPv = new k8s.core.v1.PersistentVolume("nfs-provisioner-root", {
            metadata: { name: pulumi.interpolate`${ns}-nfs-provisioner-root`, labels: { ...labels, app: "nfs" } },
            spec: {
                capacity: { storage: "1Mi" },
                accessModes: ["ReadWriteMany"],
                storageClassName: "",
                persistentVolumeReclaimPolicy: "Retain",
                claimRef: { namespace: ns, name: rootClaimName },
                nfs: { server: st.nfs.server, path: st.nfs.path },
            },
        }, parent);
        const rootClaim = new k8s.core.v1.PersistentVolumeClaim("nfs-provisioner-root", {
            metadata: meta(rootClaimName),
            spec: { accessModes: ["ReadWriteMany"], storageClassName: "", volumeName: rootPv.metadata.name, resources: { requests: { storage: "1Mi" } } },
        }, parent);

        const selector = { app: "nfs-provisioner", tier: "storage" };
        new k8s.apps.v1.Deployment("nfs-provisioner", {
            metadata: { ...meta("nfs-provisioner-deployment"), annotations: DELETE_IN_BACKGROUND },
            spec: {
                replicas: 1,
                strategy: { type: "Recreate" },
                selector: { matchLabels: selector },
                template: {
                    metadata: { labels: { ...labels, ...selector }, annotations: exceptionAnnotations(nfs.security) },
                    spec: hardenPod({
                        serviceAccountName: sa.metadata.name,
                        containers: [{
                            name: "nfs-provisioner",
                            image: nfs.image,
                            env: [
                                { name: "PROVISIONER_NAME", value: provisionerName },
                                { name: "NFS_SERVER", value: st.nfs.server },
                                { name: "NFS_PATH", value: st.nfs.path },
                            ],
                            volumeMounts: [{ name: "nfs-root", mountPath: "/persistentvolumes" }],
                        }],
                        volumes: [{ name: "nfs-root", persistentVolumeClaim: { claimName: rootClaim.metadata.name } }],
                    }, {
                        security: nfs.security,
                        resources: nfs.resources,
                        image: nfs.image,
                        podEnv: args.podEnv,
                        // It watches claims and creates volumes through the API.
                        automountServiceAccountToken: true,
                    }),
                },
            },
        }, parent);
        return { provisionerName };
    }
}
