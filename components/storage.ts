import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StorageBackend } from "../config/types";
import type { NfsDriverPlan, StoragePlan } from "../config/plan";
import type { VolumeRole } from "../config/volumes";
import { DELETE_IN_BACKGROUND, exceptionAnnotations, hardenPod, PartArgs, PodContainer } from "./workload";

export interface StorageArgs extends PartArgs {
    /** Classes, one claim per volume (config/volumes.ts) and the NFS driver when a role is on nfs. */
    readonly plan: StoragePlan;
    /** The driver's own namespace (created by the platform when the stack is cluster-scoped). */
    readonly provisionerNamespace?: pulumi.Input<string>;
}



/**
 * One StorageClass per backend the volume roles use (shared and data may differ: NFS and Cinder in prod),
 * csi-driver-nfs when one is nfs, and one claim per volume on its role's class.
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

        // Namespace-scoped (clusterScoped: false): the classes, the volumes and the driver are the cluster admin's
        // (npm run render's _admin/), named as the plan names them; the stack makes the claims only.
        if (st.clusterScoped) {
            if (st.nfsDriver && st.classes.some((c) => c.backend === "nfs")) this.nfsDriver(args, st.nfsDriver, labels);
            for (const c of st.classes) {
                this.storageClasses[c.backend] = new k8s.storage.v1.StorageClass(c.resourceName, {
                    metadata: { name: c.name, labels: { ...labels, app: c.backend } },
                    provisioner: c.provisioner,
                    parameters: { ...c.parameters },
                    mountOptions: c.mountOptions ? [...c.mountOptions] : undefined,
                    reclaimPolicy: c.reclaimPolicy,
                    allowVolumeExpansion: c.allowVolumeExpansion,
                    volumeBindingMode: c.volumeBindingMode,
                }, {
                    ...parent,
                    // Same name, new immutable fields: the old class goes first. Bound claims and volumes do not read
                    // their class again; new claims wait for the new one (dependsOn below).
                    ...(c.replaceInPlace ? {
                        deleteBeforeReplace: true,
                        replaceOnChanges: ["provisioner", "parameters", "mountOptions", "reclaimPolicy", "volumeBindingMode"],
                    } : {}),
                });
            }
        }
        const classOf = (role: VolumeRole): pulumi.Output<string> =>
            pulumi.output(st.classes.find((c) => c.backend === st.backendOf[role])!.name);
        this.classNames = { shared: classOf("shared"), data: classOf("data") };

        for (const v of st.volumes) {
            // The plan's name, not the class's output: a class replaced in place leaves its claims as they are.
            const className = classOf(v.role);
            const cls = this.storageClasses[v.backend];
            const accessMode = v.accessMode;
            let volumeName: pulumi.Input<string> | undefined = v.volumeName;
            if (v.staticNfs && st.clusterScoped) {
                // Static NFS volumes, pre-bound to their claim, need no running driver (as in the reference): the
                // kubelet's in-tree NFS mount, at the path they always had.
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
                }, { ...parent, protect: st.protect, dependsOn: cls ? [cls] : [] });
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
            }, { ...parent, protect: st.protect, dependsOn: cls ? [cls] : [] });
        }

        this.registerOutputs({ classNames: this.classNames });
    }

    /**
     * csi-driver-nfs as its upstream deploy/v4.13.4 manifests install it (controller Deployment, node DaemonSet,
     * CSIDriver), without the resizer and snapshotter (NFS classes do not expand, the stack takes no volume
     * snapshots), under a driver name of the stack's own, with least-privilege RBAC.
     */
    private nfsDriver(args: StorageArgs, drv: NfsDriverPlan, labels: Record<string, string>) {
        const parent = { parent: this };
        // In a namespace of its own: its account's rights on every PersistentVolume and its privileged pods stay out of
        // reach of whatever can start pods in the application's namespace (Jenkins, a pipeline).
        const home = args.provisionerNamespace ?? drv.namespace;
        const ns = pulumi.output(home);
        const appLabels = { ...labels, app: "nfs" };
        const meta = (name: pulumi.Input<string>) => ({ name, namespace: home, labels: appLabels });

        new k8s.storage.v1.CSIDriver("nfs-csi-driver", {
            metadata: { name: drv.name, labels: appLabels },
            // No attach step; the kubelet gives the volume to the pod's fsGroup (File), as the provisioner's volumes were.
            spec: { attachRequired: false, volumeLifecycleModes: ["Persistent"], fsGroupPolicy: "File" },
        }, parent);

        const controllerSa = new k8s.core.v1.ServiceAccount("csi-nfs-controller", { metadata: meta("csi-nfs-controller-sa") }, parent);
        const nodeSa = new k8s.core.v1.ServiceAccount("csi-nfs-node", {
            metadata: meta("csi-nfs-node-sa"), automountServiceAccountToken: false,
        }, parent);
        // The external provisioner's rules of the upstream manifests, less snapshots and Secrets (no snapshotter, no
        // secret parameters in the class) and with leader election in its own namespace only.
        const clusterRole = new k8s.rbac.v1.ClusterRole("csi-nfs-controller", {
            metadata: { name: `${drv.clusterName}-provisioner`, labels: appLabels },
            rules: [
                { apiGroups: [""], resources: ["persistentvolumes"], verbs: ["get", "list", "watch", "create", "patch", "delete"] },
                { apiGroups: [""], resources: ["persistentvolumeclaims"], verbs: ["get", "list", "watch", "update"] },
                { apiGroups: ["storage.k8s.io"], resources: ["storageclasses"], verbs: ["get", "list", "watch"] },
                { apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch", "create", "update", "patch"] },
                { apiGroups: ["storage.k8s.io"], resources: ["csinodes"], verbs: ["get", "list", "watch"] },
                { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
            ],
        }, parent);
        new k8s.rbac.v1.ClusterRoleBinding("csi-nfs-controller", {
            metadata: { name: `${drv.clusterName}-provisioner`, labels: appLabels },
            subjects: [{ kind: "ServiceAccount", name: controllerSa.metadata.name, namespace: ns }],
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole.metadata.name },
        }, parent);
        const role = new k8s.rbac.v1.Role("csi-nfs-controller", {
            metadata: meta("csi-nfs-leader-election"),
            rules: [{ apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "list", "watch", "create", "update", "patch"] }],
        }, parent);
        new k8s.rbac.v1.RoleBinding("csi-nfs-controller", {
            metadata: meta("csi-nfs-leader-election"),
            subjects: [{ kind: "ServiceAccount", name: controllerSa.metadata.name, namespace: ns }],
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
        }, parent);

        const socket = "/csi/csi.sock";
        const sidecar = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
        // Mounts NFS: privileged with CAP_SYS_ADMIN, as upstream runs it.
        const plugin = (port: number, mounts: k8s.types.input.core.v1.VolumeMount[]): PodContainer => ({
            name: "nfs",
            image: drv.images.plugin,
            imagePullPolicy: drv.imagePullPolicy,
            args: ["--v=2", "--nodeid=$(NODE_ID)", "--endpoint=unix://" + socket, `--drivername=${drv.name}`],
            env: [{ name: "NODE_ID", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
            // The image's mount helpers (mount.nfs, rpc.statd for NFSv3 locks) write under /etc, /run and /var/lib/nfs.
            securityContext: { privileged: true, capabilities: { add: ["SYS_ADMIN"], drop: ["ALL"] }, allowPrivilegeEscalation: true, readOnlyRootFilesystem: false },
            livenessProbe: { httpGet: { host: "localhost", path: "/healthz", port }, failureThreshold: 5, initialDelaySeconds: 30, timeoutSeconds: 10, periodSeconds: 30 },
            volumeMounts: mounts,
        });
        const liveness = (port: number): PodContainer => ({
            name: "liveness-probe",
            image: drv.images.livenessProbe,
            imagePullPolicy: drv.imagePullPolicy,
            args: [`--csi-address=${socket}`, "--probe-timeout=3s", `--http-endpoint=localhost:${port}`, "--v=2"],
            securityContext: sidecar,
            volumeMounts: [{ name: "socket-dir", mountPath: "/csi" }],
        });
        const harden = { security: drv.security, resources: drv.resources, image: drv.images.plugin, podEnv: args.podEnv };
        const annotations = exceptionAnnotations(drv.security);
        // The host's network: a mount made in a pod's network namespace breaks when that pod goes (upstream's reason).
        const hostNet = { hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" };

        const controllerSelector = { app: "csi-nfs-controller", tier: "storage" };
        new k8s.apps.v1.Deployment("csi-nfs-controller", {
            metadata: { ...meta("csi-nfs-controller"), annotations: DELETE_IN_BACKGROUND },
            spec: {
                replicas: 1,
                // One leader; its health port is on the host: the old pod goes before the new one starts.
                strategy: { type: "Recreate" },
                selector: { matchLabels: controllerSelector },
                template: {
                    metadata: { labels: { ...labels, ...controllerSelector }, annotations },
                    spec: hardenPod({
                        ...hostNet,
                        serviceAccountName: controllerSa.metadata.name,
                        nodeSelector: { "kubernetes.io/os": "linux" },
                        containers: [
                            {
                                name: "csi-provisioner",
                                image: drv.images.provisioner,
                                imagePullPolicy: drv.imagePullPolicy,
                                args: ["--v=2", `--csi-address=${socket}`, "--leader-election", "--leader-election-namespace=$(POD_NAMESPACE)",
                                    // Adds the claim's name and namespace to the request: the class's subDir pattern needs them.
                                    "--extra-create-metadata=true", "--timeout=1200s", "--retry-interval-max=30m"],
                                env: [{ name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } }],
                                securityContext: sidecar,
                                volumeMounts: [{ name: "socket-dir", mountPath: "/csi" }],
                            },
                            liveness(drv.healthPorts.controller),
                            plugin(drv.healthPorts.controller, [{ name: "socket-dir", mountPath: "/csi" }]),
                        ],
                        volumes: [{ name: "socket-dir", emptyDir: {} }],
                    }, { ...harden, automountServiceAccountToken: true }),
                },
            },
        }, parent);

        const nodeSelector = { app: "csi-nfs-node", tier: "storage" };
        const kubelet = "/var/lib/kubelet";
        new k8s.apps.v1.DaemonSet("csi-nfs-node", {
            metadata: { ...meta("csi-nfs-node"), annotations: DELETE_IN_BACKGROUND },
            spec: {
                updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
                selector: { matchLabels: nodeSelector },
                template: {
                    metadata: { labels: { ...labels, ...nodeSelector }, annotations },
                    spec: hardenPod({
                        ...hostNet,
                        serviceAccountName: nodeSa.metadata.name,
                        // Every node a pod with an NFS volume can land on, tainted or not.
                        priorityClassName: "system-node-critical",
                        nodeSelector: { "kubernetes.io/os": "linux" },
                        tolerations: [{ operator: "Exists" }],
                        containers: [
                            liveness(drv.healthPorts.node),
                            {
                                name: "node-driver-registrar",
                                image: drv.images.registrar,
                                imagePullPolicy: drv.imagePullPolicy,
                                args: ["--v=2", `--csi-address=${socket}`, `--kubelet-registration-path=${drv.pluginDir}/csi.sock`],
                                securityContext: sidecar,
                                volumeMounts: [{ name: "socket-dir", mountPath: "/csi" }, { name: "registration-dir", mountPath: "/registration" }],
                            },
                            plugin(drv.healthPorts.node, [
                                { name: "socket-dir", mountPath: "/csi" },
                                // Its mounts show in the kubelet's view of the pods' directories.
                                { name: "pods-mount-dir", mountPath: `${kubelet}/pods`, mountPropagation: "Bidirectional" },
                            ]),
                        ],
                        volumes: [
                            { name: "socket-dir", hostPath: { path: drv.pluginDir, type: "DirectoryOrCreate" } },
                            { name: "pods-mount-dir", hostPath: { path: `${kubelet}/pods`, type: "Directory" } },
                            { name: "registration-dir", hostPath: { path: `${kubelet}/plugins_registry`, type: "Directory" } },
                        ],
                    }, harden),
                },
            },
        }, parent);
    }
}
