import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StorageBackend } from "../config/types";
import type { StoragePlan } from "../config/plan";
import type { VolumeRole } from "../config/volumes";
import { DELETE_IN_BACKGROUND, exceptionAnnotations, hardenPod, PartArgs } from "./workload";

export interface StorageArgs extends PartArgs {
    /** Classes, one claim per volume (config/volumes.ts) and the NFS provisioner when a role is on nfs. */
    readonly plan: StoragePlan;
    /** The provisioner's own namespace (created by the platform when the stack is cluster-scoped). */
    readonly provisionerNamespace?: pulumi.Input<string>;
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

        // Namespace-scoped (clusterScoped: false): the classes, the volumes and the provisioner are the cluster admin's
        // (npm run render's _admin/), named as the plan names them; the stack makes the claims only.
        if (st.clusterScoped) {
            for (const c of st.classes) {
                const provisioner = c.provisioner ?? this.nfsProvisioner(args, labels).provisionerName;
                this.storageClasses[c.backend] = new k8s.storage.v1.StorageClass(c.resourceName, {
                    metadata: { name: c.name, labels: { ...labels, app: c.backend } },
                    provisioner,
                    parameters: { ...c.parameters },
                    reclaimPolicy: c.reclaimPolicy,
                    allowVolumeExpansion: c.allowVolumeExpansion,
                    volumeBindingMode: c.volumeBindingMode,
                }, parent);
            }
        }
        const classOf = (role: VolumeRole): pulumi.Output<string> => {
            const backend = st.backendOf[role];
            return this.storageClasses[backend]?.metadata.name ?? pulumi.output(st.classes.find((c) => c.backend === backend)!.name);
        };
        this.classNames = { shared: classOf("shared"), data: classOf("data") };

        for (const v of st.volumes) {
            const className = classOf(v.role);
            const accessMode = v.accessMode;
            let volumeName: pulumi.Input<string> | undefined = v.volumeName;
            if (v.staticNfs && st.clusterScoped) {
                // Static NFS volumes, pre-bound to their claim, need no running provisioner (as in the reference).
                const pv = new k8s.core.v1.PersistentVolume(`${v.name}-pv`, {
                    metadata: { name: v.volumeName, labels: { ...labels, app: v.name } },
                    spec: {
                        capacity: { storage: v.size },
                        accessModes: [accessMode],
                        storageClassName: className,
                        persistentVolumeReclaimPolicy: "Retain",
                        claimRef: { namespace: ns, name: v.claimName },
                        nfs: { server: st.nfs.server, path: pulumi.interpolate`${st.nfs.path}/${ns}/${v.name}` },
                    },
                }, { ...parent, protect: st.protect });
                volumeName = pv.metadata.name;
            }
            this.claims[v.name] = new k8s.core.v1.PersistentVolumeClaim(`${v.name}-pvc`, {
                metadata: {
                    name: v.claimName,
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
        const nfs = st.provisioner!;
        // In a namespace of its own: its account's rights on every PersistentVolume stay out of reach of whatever can
        // start pods in the application's namespace (Jenkins, a pipeline).
        const home = args.provisionerNamespace ?? nfs.namespace;
        const ns = pulumi.output(home);
        const meta = (name: pulumi.Input<string>) => ({ name, namespace: home, labels: { ...labels, app: "nfs" } });
        const clusterName = nfs.clusterName;
        const provisionerName = nfs.name;

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
            metadata: { name: `${clusterName}-root`, labels: { ...labels, app: "nfs" } },
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
