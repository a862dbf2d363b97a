import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ResourceQuantities } from "../config/types";
import type { PodSecurityProfile } from "../config/security";
import type { WorkloadPlan, WorkloadPort } from "../config/plan";
import { httpRoute } from "./gateway";

type Input<T> = pulumi.Input<T>;
export type EnvVar = k8s.types.input.core.v1.EnvVar;

/** What every part of the platform is given besides its own records. */
export interface PartArgs {
    readonly namespace: pulumi.Input<string>;
    readonly commonLabels: Readonly<Record<string, string>>;
    /** What every container of every pod gets (the plan's everyPod), passed on to hardenPod. */
    readonly podEnv: readonly EnvVar[];
}
type Probe = k8s.types.input.core.v1.Probe;
type Container = k8s.types.input.core.v1.Container;
type Volume = k8s.types.input.core.v1.Volume;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;
type PodSpec = k8s.types.input.core.v1.PodSpec;
/** A container whose env is a list (not an Output of one), so the every-pod env can go in front of it. */
export type PodContainer = Omit<Container, "env"> & { env?: Input<EnvVar>[] };

/** A workload's record from the plan, and what only the part that owns it knows how to render. */
export interface WorkloadArgs {
    readonly namespace: Input<string>;
    readonly commonLabels: Readonly<Record<string, string>>;
    /** Name, image, ports, scale, resources, hardening, ingress, rollout and stop (config/plan.ts). */
    readonly plan: WorkloadPlan;
    /** Annotations of the pods (besides the security exceptions), e.g. the content hash of the credentials they read. */
    readonly podAnnotations?: Readonly<Record<string, Input<string>>>;
    /** What every container gets (PartArgs.podEnv). */
    readonly podEnv: readonly EnvVar[];
    readonly env?: Input<EnvVar>[];
    readonly command?: string[];
    readonly startupProbe?: Probe;
    readonly readinessProbe?: Probe;
    readonly livenessProbe?: Probe;
    readonly serviceAccountName?: Input<string>;
    /** Only pods that call the Kubernetes API get a service account token. */
    readonly automountServiceAccountToken?: boolean;
    readonly initContainers?: PodContainer[];
    /** Containers beside the main one in every pod (e.g. Jenkins' home archiver, which needs its volume). */
    readonly sidecars?: PodContainer[];
    readonly volumes?: Volume[];
    readonly volumeMounts?: VolumeMount[];
}

/** Pod Security `restricted` for a container: what every container gets unless its part has an exception. */
export const restrictedContainer: Readonly<k8s.types.input.core.v1.SecurityContext> = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
};

/** The pod-level half: non-root with the image's uid/gid, the runtime's default seccomp profile. */
export function restrictedPod(profile: PodSecurityProfile): k8s.types.input.core.v1.PodSecurityContext {
    return {
        runAsNonRoot: true,
        runAsUser: profile.uid,
        runAsGroup: profile.gid,
        fsGroup: profile.gid,
        // Skip the recursive chown of large volumes that already have the right owner.
        fsGroupChangePolicy: "OnRootMismatch",
        seccompProfile: { type: "RuntimeDefault" },
    };
}

/** The emptyDir volume name for a writable path, e.g. /usr/share/kibana/data -> rw-usr-share-kibana-data. */
export function writableVolumeName(path: string): string {
    return `rw${path.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`.replace(/-+$/, "").slice(0, 63);
}

/** Annotation on a pod template listing its part's exceptions (control -> reason), for reviewers and policy checks. */
export const EXCEPTIONS_ANNOTATION = "security.egov-platform/exceptions";

/**
 * On a workload's delete, the provider's default is a foreground cascade: it waits until every ReplicaSet and
 * pod is gone (each pod's grace period included) before the next delete in dependency order may start. kubectl
 * deletes in the background, and so do we: the object goes at once and the garbage collector removes its pods.
 * A claim's delete still waits for the pods that mount it (pvc-protection), and the namespace's for everything.
 */
export const DELETE_IN_BACKGROUND: Readonly<Record<string, string>> = { "pulumi.com/deletionPropagationPolicy": "background" };

export function exceptionAnnotations(profile: PodSecurityProfile): Record<string, string> | undefined {
    const ex = profile.exceptions ?? {};
    return Object.keys(ex).length > 0 ? { [EXCEPTIONS_ANNOTATION]: JSON.stringify(ex) } : undefined;
}

export interface HardenArgs {
    readonly security: PodSecurityProfile;
    readonly resources: ResourceQuantities;
    /** Image of the init container that seeds `seededPaths` (the part's own image). */
    readonly image: string;
    readonly automountServiceAccountToken?: boolean;
    /** Env every container gets, in front of its own (the plan's everyPod: TZ). */
    readonly podEnv: readonly EnvVar[];
}

/** A one-shot script Job's container: the script comes from a ConfigMap mounted read-only. */
export interface ScriptJobContainer {
    readonly name: string;
    readonly image: string;
    readonly imagePullPolicy?: string;
    readonly command: string[];
    readonly env: EnvVar[];
    readonly scripts: { readonly volume: string; readonly mountPath: string; readonly configMap: pulumi.Input<string>; readonly mode: number };
}

/**
 * The pod of a one-shot script Job (schema migration, credential rotation): one container running a script of a
 * ConfigMap, with a small in-memory /tmp (the root filesystem is read-only), hardened like every pod and bounded
 * as a script that only talks to one server needs.
 */
export function scriptJobPod(c: ScriptJobContainer, h: Pick<HardenArgs, "podEnv" | "security">): PodSpec {
    return hardenPod({
        restartPolicy: "Never",
        containers: [{
            name: c.name,
            imagePullPolicy: c.imagePullPolicy,
            image: c.image,
            command: c.command,
            env: [...c.env, { name: "TMPDIR", value: "/tmp" }],
            volumeMounts: [{ name: c.scripts.volume, mountPath: c.scripts.mountPath, readOnly: true }, { name: "tmp", mountPath: "/tmp" }],
        }],
        volumes: [
            { name: c.scripts.volume, configMap: { name: c.scripts.configMap, defaultMode: c.scripts.mode } },
            { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "4Mi" } },
        ],
    }, {
        podEnv: h.podEnv,
        security: h.security,
        image: c.image,
        resources: {
            requests: { cpu: "50m", memory: "64Mi", "ephemeral-storage": "16Mi" },
            limits: { cpu: "500m", memory: "256Mi", "ephemeral-storage": "64Mi" },
        },
    });
}

/**
 * Makes a pod spec meet Pod Security `restricted` (unless the profile lists an exception) and bounds every
 * container: security contexts, requests and limits incl. ephemeral-storage on init containers too,
 * emptyDirs for the image's writable paths, the every-pod env, and no service account token unless asked for.
 * Exported for pods built outside Workload (CronJobs, Jobs, the provisioner): every pod the stack renders passes here.
 */
export function hardenPod(spec: Omit<PodSpec, "containers" | "initContainers"> & { containers: PodContainer[]; initContainers?: PodContainer[]; volumes?: Volume[] },
    h: HardenArgs): PodSpec {
    const ex = h.security.exceptions ?? {};
    // A privileged part (config/security.ts) sets its containers' contexts itself, in a namespace of its own.
    const unrestricted = ex.restricted !== undefined || ex.privileged !== undefined;
    const containerContext = {
        ...(unrestricted ? {} : restrictedContainer),
        readOnlyRootFilesystem: ex.readOnlyRootFilesystem === undefined,
    };
    const resources = { requests: h.resources.requests, limits: h.resources.limits };
    const volumes: Volume[] = [...(spec.volumes ?? [])];
    const extraMounts: VolumeMount[] = [];
    const seeds: Array<{ path: string; volume: string }> = [];
    const mounted = new Set(spec.containers.flatMap((c) => ((c.volumeMounts ?? []) as VolumeMount[]).map((m) => m.mountPath)));
    const seeded = h.security.seededPaths ?? [];
    for (const path of [...h.security.writablePaths, ...seeded]) {
        if (mounted.has(path)) continue; // the part mounts its own volume there (a claim, or an emptyDir it fills)
        const name = writableVolumeName(path);
        volumes.push({ name, emptyDir: {} });
        extraMounts.push({ name, mountPath: path });
        if (seeded.includes(path)) seeds.push({ path, volume: name });
    }
    const harden = (c: PodContainer): Container => ({
        ...c,
        env: [...h.podEnv, ...(c.env ?? [])],
        resources: c.resources ?? resources,
        securityContext: { ...containerContext, ...(c.securityContext as object | undefined) },
    });
    // The image's files at a seeded path are copied into its emptyDir before the main container starts.
    const seedContainer: PodContainer[] = seeds.length === 0 ? [] : [{
        name: "seed-writable-paths",
        image: h.image,
        command: ["sh", "-c", seeds.map((x) => `if [ -d ${x.path} ]; then cp -R ${x.path}/. /seed/${x.volume}/; fi`).join(" && ")],
        volumeMounts: seeds.map((x) => ({ name: x.volume, mountPath: `/seed/${x.volume}` })),
    }];
    const initContainers = [...seedContainer, ...(spec.initContainers ?? [])].map(harden);
    return {
        ...spec,
        automountServiceAccountToken: h.automountServiceAccountToken ?? false,
        securityContext: { ...(unrestricted ? { seccompProfile: { type: "RuntimeDefault" } } : restrictedPod(h.security)), ...(spec.securityContext as object | undefined) },
        initContainers: initContainers.length > 0 ? initContainers : undefined,
        containers: spec.containers.map((c) => harden({ ...c, volumeMounts: [...((c.volumeMounts ?? []) as VolumeMount[]), ...extraMounts] })),
        volumes: volumes.length > 0 ? volumes : undefined,
    };
}

const probe = (action: Probe, timing: Omit<Probe, "httpGet" | "tcpSocket" | "exec" | "grpc">): Probe => ({ ...action, ...timing });
const startupTiming = { initialDelaySeconds: 10, periodSeconds: 5, successThreshold: 1, failureThreshold: 36 };
const readinessTiming = { periodSeconds: 10, timeoutSeconds: 3, successThreshold: 1, failureThreshold: 3 };
const livenessTiming = { periodSeconds: 30, timeoutSeconds: 5, successThreshold: 1, failureThreshold: 3 };

/**
 * Probes that mean different things: readiness asks whether the workload can take traffic now, liveness
 * only whether the process is alive (a TCP accept unless the image has a liveness endpoint), so a busy or
 * degraded pod leaves the Service's endpoints instead of being restarted. The startup probe (default: the
 * liveness check, 36 x 5 s) holds both off until the first start is done.
 */
export function probes(ready: Probe, live: Probe, start: Probe = live, startFailureThreshold = 36):
    Pick<WorkloadArgs, "startupProbe" | "readinessProbe" | "livenessProbe"> {
    return {
        startupProbe: probe(start, { ...startupTiming, failureThreshold: startFailureThreshold }),
        readinessProbe: probe(ready, readinessTiming),
        livenessProbe: probe(live, livenessTiming),
    };
}

/** Spring Boot's separate health groups (2.3+): liveness = the application state, readiness = can take traffic. */
// The probe groups are switched on by MANAGEMENT_ENDPOINT_HEALTH_PROBES_ENABLED, a setting of the wiring contract.
export function springBootProbes(port: number): Pick<WorkloadArgs, "startupProbe" | "readinessProbe" | "livenessProbe"> {
    return probes({ httpGet: { path: "/actuator/health/readiness", port } }, { httpGet: { path: "/actuator/health/liveness", port } });
}

/** An HTTP readiness path and a TCP liveness check on the same port, for images without a liveness endpoint. */
export function httpProbes(path: string, port: number): Pick<WorkloadArgs, "startupProbe" | "readinessProbe" | "livenessProbe"> {
    return probes({ httpGet: { path, port } }, { tcpSocket: { port } });
}

/**
 * One workload: a Deployment or StatefulSet, its Service(s), and optionally an Ingress (or HTTPRoute) and an autoscaler.
 * The workload's selector, its pod labels and its Services' selectors are one object, so they cannot
 * drift apart, and a Service never waits for its workload to exist before it is sent.
 */
export class Workload extends pulumi.ComponentResource {
    public readonly workload: k8s.apps.v1.Deployment | k8s.apps.v1.StatefulSet;
    public readonly service: k8s.core.v1.Service;
    public readonly extraServices: k8s.core.v1.Service[] = [];
    public readonly ingress?: k8s.networking.v1.Ingress;
    /** With ingress.kind HTTPRoute: the route and, where the controller has one, its request-size policy. */
    public readonly routes?: k8s.apiextensions.CustomResource[];
    public readonly autoscaler?: k8s.autoscaling.v2.HorizontalPodAutoscaler;
    /** The governing Service of a StatefulSet: stable per-pod DNS names `<pod>.<name>-headless`. */
    public readonly headlessService?: k8s.core.v1.Service;
    public readonly disruptionBudget?: k8s.policy.v1.PodDisruptionBudget;
    /** Host name of the Service inside the cluster. */
    public readonly host: pulumi.Output<string>;
    /** What a client that needs this workload ready first depends on: its pods ready and its Services there. */
    public readonly ready: pulumi.Resource[];

    constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:Workload", name, {}, opts);
        const parent = { parent: this };
        const plan = args.plan;
        const kind = plan.kind;
        const selector = { app: plan.name, tier: plan.tier };
        const labels = { ...args.commonLabels, ...selector, "app.kubernetes.io/name": plan.name };
        const metadata = (suffix: string) => ({ name: `${plan.name}${suffix}`, namespace: args.namespace, labels });

        // More than one pod possible: spread them and let a drain take one at a time.
        const podSpec = hardenPod({
            topologySpreadConstraints: plan.maxPods > 1 ? spreadConstraints(selector) : undefined,
            serviceAccountName: args.serviceAccountName,
            initContainers: args.initContainers,
            containers: [{
                name: plan.name,
                image: plan.image,
                imagePullPolicy: plan.imagePullPolicy,
                command: args.command,
                ports: [...plan.ports, ...Object.values(plan.extraServices ?? {}).flat()]
                    .map((p) => ({ name: p.name, containerPort: p.port })),
                env: [...(plan.heap ? [{ name: plan.heap.name, value: plan.heap.value }] : []), ...(args.env ?? [])],
                startupProbe: args.startupProbe,
                readinessProbe: args.readinessProbe,
                livenessProbe: args.livenessProbe,
                volumeMounts: args.volumeMounts,
                lifecycle: plan.stop ? { preStop: { exec: { command: plan.stop.preStop } } } : undefined,
            }, ...(args.sidecars ?? [])],
            terminationGracePeriodSeconds: plan.stop?.terminationGracePeriodSeconds,
            volumes: args.volumes,
        }, {
            security: plan.security, resources: plan.resources, image: plan.image, automountServiceAccountToken: args.automountServiceAccountToken,
            podEnv: args.podEnv,
        });
        const annotations = { ...exceptionAnnotations(plan.security), ...args.podAnnotations };
        const template = { metadata: { labels, annotations: Object.keys(annotations).length ? annotations : undefined }, spec: podSpec };
        // An autoscaler owns spec.replicas: leaving it out keeps `pulumi up` from resetting the scale.
        const replicas = plan.autoscaling ? undefined : plan.replicas;
        const timeout = plan.rollout.waitTimeout;
        const workloadOpts = { ...parent, customTimeouts: timeout ? { create: timeout, update: timeout } : undefined };
        const minReadySeconds = plan.rollout.minReadySeconds;
        const workloadMetadata = metadata(kind === "StatefulSet" ? "-statefulset" : "-deployment");

        if (kind === "StatefulSet") {
            // Clients keep using the `<name>` Service; the StatefulSet is governed by a headless one.
            const headlessName = `${plan.name}-headless`;
            this.workload = new k8s.apps.v1.StatefulSet(plan.name, {
                metadata: { ...workloadMetadata, annotations: DELETE_IN_BACKGROUND },
                spec: {
                    serviceName: headlessName, replicas, selector: { matchLabels: selector }, template,
                    updateStrategy: plan.rollout.strategy, minReadySeconds,
                },
            }, workloadOpts);
        } else {
            this.workload = new k8s.apps.v1.Deployment(plan.name, {
                metadata: { ...workloadMetadata, annotations: DELETE_IN_BACKGROUND },
                spec: {
                    replicas,
                    selector: { matchLabels: selector },
                    strategy: plan.rollout.strategy,
                    minReadySeconds,
                    progressDeadlineSeconds: plan.rollout.progressDeadlineSeconds,
                    template,
                },
            }, workloadOpts);
        }

        // The provider's Service check waits until the endpoints list ready pods, then sleeps a fixed 10 s
        // for them to settle. Pod readiness is already awaited on the workload above, which clients depend
        // on, and the selector is checked against the pod labels by the unit invariants; so the Service is
        // only created, never awaited (a LoadBalancer, whose address is worth waiting for, would be).
        const serviceAnnotations = plan.serviceType === "ClusterIP" || plan.serviceType === "NodePort"
            ? { "pulumi.com/skipAwait": "true" } : undefined;
        const makeService = (svcName: string, ports: readonly WorkloadPort[]) =>
            new k8s.core.v1.Service(svcName, {
                metadata: { name: svcName, namespace: args.namespace, labels, annotations: serviceAnnotations },
                spec: {
                    type: plan.serviceType,
                    selector,
                    ports: ports.map((p) => ({
                        name: p.name,
                        port: p.port,
                        targetPort: p.name,
                        protocol: "TCP",
                        nodePort: plan.serviceType === "NodePort" ? p.nodePort : undefined,
                    })),
                },
            }, parent);
        this.service = makeService(plan.name, plan.ports);
        if (kind === "StatefulSet") {
            this.headlessService = new k8s.core.v1.Service(`${plan.name}-headless`, {
                metadata: { name: `${plan.name}-headless`, namespace: args.namespace, labels, annotations: serviceAnnotations },
                spec: {
                    type: "ClusterIP",
                    clusterIP: "None",
                    // Pods resolve their own name before they are ready (RabbitMQ does so at boot).
                    publishNotReadyAddresses: true,
                    selector,
                    ports: plan.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: "TCP" })),
                },
            }, parent);
        }
        for (const [suffix, ports] of Object.entries(plan.extraServices ?? {})) {
            this.extraServices.push(makeService(`${plan.name}-${suffix}`, ports));
        }
        this.host = pulumi.interpolate`${this.service.metadata.name}.${this.service.metadata.namespace}.svc.cluster.local`;
        this.ready = [this.workload, this.service, ...this.extraServices];

        if (plan.autoscaling) {
            this.autoscaler = new k8s.autoscaling.v2.HorizontalPodAutoscaler(plan.name, {
                metadata: metadata("-hpa-cpu"),
                spec: {
                    // By name, not by the workload's output: the autoscaler need not wait for the pods to be ready.
                    scaleTargetRef: { apiVersion: "apps/v1", kind, name: workloadMetadata.name },
                    minReplicas: plan.replicas,
                    maxReplicas: plan.autoscaling.maxReplicas,
                    metrics: [{
                        type: "Resource",
                        resource: {
                            name: "cpu",
                            target: { type: "Utilization", averageUtilization: plan.autoscaling.targetCPUUtilizationPercentage },
                        },
                    }],
                },
            }, parent);
        }

        if (plan.maxPods > 1) {
            // maxUnavailable (not minAvailable): at one replica the budget still allows one eviction, so a drain
            // never blocks; at more it keeps all but one running. Unready pods never hold a drain up either.
            this.disruptionBudget = new k8s.policy.v1.PodDisruptionBudget(plan.name, {
                metadata: metadata("-pdb"),
                spec: { maxUnavailable: 1, unhealthyPodEvictionPolicy: "AlwaysAllow", selector: { matchLabels: selector } },
            }, parent);
        }

        if (plan.ingress?.kind === "HTTPRoute") {
            this.routes = httpRoute(plan.name, plan.ingress, this.service.metadata.name, metadata, parent);
        } else if (plan.ingress) {
            const ing = plan.ingress;
            this.ingress = new k8s.networking.v1.Ingress(plan.name, {
                metadata: {
                    ...metadata("-ingress"),
                    annotations: orNone({
                        // Without an ingress controller no address is ever assigned; waiting would hang `pulumi up`.
                        ...(ing.waitForAddress ? {} : { "pulumi.com/skipAwait": "true" }),
                        ...(ing.maxBodySize ? { [PROXY_BODY_SIZE_ANNOTATION]: ing.maxBodySize } : {}),
                    }),
                },
                spec: {
                    ingressClassName: ing.className,
                    tls: ing.tlsSecretName ? [{ hosts: [ing.host], secretName: ing.tlsSecretName }] : undefined,
                    rules: [{
                        host: ing.host,
                        http: {
                            paths: [{
                                path: "/",
                                pathType: "Prefix",
                                backend: { service: { name: this.service.metadata.name, port: { number: ing.port } } },
                            }],
                        },
                    }],
                },
            }, parent);
        }

        this.registerOutputs({ host: this.host });
    }
}

/** ingress-nginx's request body limit (other controllers ignore it). */
export const PROXY_BODY_SIZE_ANNOTATION = "nginx.ingress.kubernetes.io/proxy-body-size";

const orNone = (o: Record<string, string>): Record<string, string> | undefined => (Object.keys(o).length > 0 ? o : undefined);

/**
 * Pods of one workload across nodes (hard: a node loss takes at most its share; cordoned and tainted nodes do
 * not count, so a drain can always place the evicted pods) and across zones (soft: nodes without zone labels
 * still schedule).
 */
export function spreadConstraints(selector: Record<string, string>): k8s.types.input.core.v1.TopologySpreadConstraint[] {
    return [
        {
            topologyKey: "kubernetes.io/hostname", maxSkew: 1, whenUnsatisfiable: "DoNotSchedule", nodeTaintsPolicy: "Honor",
            labelSelector: { matchLabels: selector },
        },
        { topologyKey: "topology.kubernetes.io/zone", maxSkew: 1, whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } },
    ];
}

/**
 * Only the pods' owner (Deployment or StatefulSet) of a component waits for `dependsOn`: its pods are what need the
 * servers. The component, its Services, disruption budget, autoscaler and ingress are created at once. A file backend
 * rewrites the whole state when a step begins, when it ends and when a component registers its outputs, so each
 * write made early is made while the state is small (ten times the services: docs/speed.md). URNs do not change.
 */
export function workloadsWaitFor(dependsOn: pulumi.Resource[]): pulumi.ResourceTransformation {
    return ({ resource, props, opts }) =>
        resource instanceof k8s.apps.v1.Deployment || resource instanceof k8s.apps.v1.StatefulSet
            ? { props, opts: pulumi.mergeOptions(opts, { dependsOn }) }
            : undefined;
}
