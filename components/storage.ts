import { createHash } from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PlatformConfig, ResourceQuantities } from "../config";
import { podSecurity } from "../config/security";
import { exceptionAnnotations, hardenPod } from "./workload";

export interface StorageArgs {
    readonly namespace: pulumi.Input<string>;
    readonly storage: PlatformConfig["storage"];
    readonly provisionerImage: string;
    readonly provisionerResources: ResourceQuantities;
    readonly commonLabels: Readonly<Record<string, string>>;
    /** Claims to create: logical claim name -> size. */
    readonly claims: Readonly<Record<string, string>>;
}

/** What a class's volumes can be mounted by: NFS is shared, block and host-path volumes are not. */
export function accessModeFor(backend: PlatformConfig["storage"]["backend"]): "ReadWriteMany" | "ReadWriteOnce" {
    return backend === "nfs" ? "ReadWriteMany" : "ReadWriteOnce";
}

const provisioners = {
    cinder: "cinder.csi.openstack.org",
    // The controller manager's built-in provisioner (--enable-hostpath-provisioner): single-node and local clusters only.
    hostpath: "kubernetes.io/host-path",
} as const;

/**
 * The StorageClass of the selected backend (nfs | cinder | hostpath), the NFS provisioner when it is nfs,
 * and the platform's volume claims on that class.
 */
export class Storage extends pulumi.ComponentResource {
    public readonly storageClass: k8s.storage.v1.StorageClass;
    public readonly claims: Record<string, k8s.core.v1.PersistentVolumeClaim> = {};
    public readonly className: pulumi.Output<string>;

    constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:Storage", name, {}, opts);
        const parent = { parent: this };
        const st = args.storage;
        const labels = { ...args.commonLabels, tier: "storage" };
        const reclaimPolicy = st.protect ? "Retain" : "Delete";
        const ns = pulumi.output(args.namespace);

        let provisioner: pulumi.Input<string>;
        if (st.backend === "nfs") {
            provisioner = this.nfsProvisioner(args, labels).provisionerName;
        } else {
            provisioner = provisioners[st.backend];
        }

        const parameters: Record<string, string> = {};
        if (st.backend === "nfs") parameters.archiveOnDelete = st.protect ? "true" : "false";
        if (st.backend === "cinder") {
            if (st.cinder.type) parameters.type = st.cinder.type;
            if (st.cinder.availabilityZone) parameters.availability = st.cinder.availabilityZone;
        }
        // Named <namespace>-<backend>-<hash of its immutable fields>: changing the provisioner or a parameter makes
        // a new class, and with it new claims, instead of an update the API server refuses (even in preview).
        const immutable = { backend: st.backend, parameters, reclaimPolicy };
        const hash = createHash("sha256").update(JSON.stringify(immutable)).digest("hex").slice(0, 6);
        this.storageClass = new k8s.storage.v1.StorageClass("class", {
            metadata: { name: pulumi.interpolate`${ns}-${st.backend}-${hash}`, labels: { ...labels, app: st.backend } },
            provisioner,
            parameters,
            reclaimPolicy,
            allowVolumeExpansion: st.backend === "cinder",
            volumeBindingMode: "Immediate",
        }, parent);
        this.className = this.storageClass.metadata.name;

        const accessMode = accessModeFor(st.backend);
        for (const [claim, size] of Object.entries(args.claims)) {
            // Static NFS volumes, pre-bound to their claim, need no running provisioner (as in the reference).
            // Claim names carry the class: moving to another class is a new claim, never an in-place edit.
            const claimName = pulumi.interpolate`${claim}-pvc-${this.className}`;
            let volumeName: pulumi.Output<string> | undefined;
            if (st.backend === "nfs" && st.nfs.staticVolumes) {
                const pv = new k8s.core.v1.PersistentVolume(`${claim}-pv`, {
                    metadata: { name: pulumi.interpolate`${claim}-pv-${this.className}`, labels: { ...labels, app: claim } },
                    spec: {
                        capacity: { storage: size },
                        accessModes: [accessMode],
                        storageClassName: this.className,
                        persistentVolumeReclaimPolicy: "Retain",
                        claimRef: { namespace: ns, name: claimName },
                        nfs: { server: st.nfs.server, path: pulumi.interpolate`${st.nfs.path}/${ns}/${claim}` },
                    },
                }, { ...parent, protect: st.protect });
                volumeName = pv.metadata.name;
            }
            this.claims[claim] = new k8s.core.v1.PersistentVolumeClaim(`${claim}-pvc`, {
                metadata: {
                    name: claimName,
                    namespace: args.namespace,
                    labels: { ...labels, app: claim },
                },
                spec: {
                    accessModes: [accessMode],
                    storageClassName: this.className,
                    volumeName,
                    resources: { requests: { storage: size } },
                },
            }, { ...parent, protect: st.protect });
        }

        this.registerOutputs({ className: this.className });
    }

    /** The NFS subdir provisioner with least-privilege RBAC (no PodSecurityPolicy rule: that API is gone). */
    private nfsProvisioner(args: StorageArgs, labels: Record<string, string>) {
        const parent = { parent: this };
        const st = args.storage;
        const ns = pulumi.output(args.namespace);
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
            metadata: meta("nfs-provisioner-deployment"),
            spec: {
                replicas: 1,
                strategy: { type: "Recreate" },
                selector: { matchLabels: selector },
                template: {
                    metadata: { labels: { ...labels, ...selector }, annotations: exceptionAnnotations(podSecurity.nfsProvisioner) },
                    spec: hardenPod({
                        serviceAccountName: sa.metadata.name,
                        containers: [{
                            name: "nfs-provisioner",
                            image: args.provisionerImage,
                            env: [
                                { name: "PROVISIONER_NAME", value: provisionerName },
                                { name: "NFS_SERVER", value: st.nfs.server },
                                { name: "NFS_PATH", value: st.nfs.path },
                            ],
                            volumeMounts: [{ name: "nfs-root", mountPath: "/persistentvolumes" }],
                        }],
                        volumes: [{ name: "nfs-root", persistentVolumeClaim: { claimName: rootClaim.metadata.name } }],
                    }, {
                        security: podSecurity.nfsProvisioner,
                        resources: args.provisionerResources,
                        image: args.provisionerImage,
                        // It watches claims and creates volumes through the API.
                        automountServiceAccountToken: true,
                    }),
                },
            },
        }, parent);
        return { provisionerName };
    }
}
