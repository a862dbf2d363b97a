// The plan: the one pure step between the validated config and the components. It resolves the config, the
// catalog and the service graph into one record per workload and per shared part (image after mirror and
// digest, ports, scale and maximum pods, resources, security profile, volumes, ingress, what it waits for).
// Components render these records and decide nothing; they import only types from config/. No Pulumi here:
// tests/plan.test.ts calls planPlatform() directly.
import { createHash } from "crypto";
import type {
    Environment, GatewayRef, IngressKind, Migration, NetworkPolicyConfig, OffsiteConfig, PlatformConfig, PullPolicy, ResourcePart, ResourceQuantities, RotatedCredential,
    ServiceType, StorageBackend,
} from "./types";
import { frontends, infraPorts } from "./catalog";
import type { BackendServiceSpec, FrontendSpec, ImageKey } from "./catalog";
import { BUILT_FOR_ANNOTATION, readinessPath } from "./frontends";
import { frontendName, serviceGraph } from "./graph";
import type { ServiceGraph } from "./graph";
import { frontendImageId, platformImageName, resolveImage } from "./images";
import { OPENSEARCH_CREDENTIAL_KEYS, OPENSEARCH_SECRET, OPENSEARCH_USERS } from "./opensearch";
import { LEGACY_DATA_DIRECTORY, mysqlSeriesOf, serverCnf } from "./mysql";
import { deployedParts, partHomes, partsOn, publicUrl, sideNamespaces } from "./parts";
import type { PartsOn, SideNamespace } from "./parts";

/** The application's namespace and, by part, the namespaces of their own. */
export type NamespacesOf = { readonly app: string } & Partial<Record<SideNamespace, string>>;
import {
    defaultProgressDeadlineSeconds, deploymentStrategy, eurekaOutOfServiceScript, preStopPauseSeconds, progressReportMarginSeconds, shutdown,
    statefulSetStrategy, terminationGracePeriodSeconds,
} from "./rollout";
import { heapEnv } from "./runtime";
import type { HeapEnv } from "./runtime";
import { enforcedLevel, jobSecurity, podSecurity } from "./security";
import { packagedProperties, proxyBodySize } from "./uploads";
import type { PodSecurityLevel, PodSecurityProfile } from "./security";
import { accessModeFor, BACKUP_JOB, OS_SNAPSHOT_JOB, OS_SNAPSHOT_PATH, isAutoscaled, maxPodsOf, platformVolumes, volumeRoles } from "./volumes";
import type { AccessMode, VolumeRole, VolumeUse } from "./volumes";
import {
    backendConfigMapData, CONFIG_REPO_DIR, CONFIG_SERVER, GENERATED_REPO_DIR, servesUserFiles, settingsFor, SHARED_DIR,
} from "./wiring";
import type { SecretName, WiredWorkload, WiringContext } from "./wiring";
import { servedConfigFiles } from "./served";
import { HISTORY_TABLE, migrationFiles, migrationSetHash } from "./migrations";
import { MIGRATE_JOB } from "./graph";
import { serverOf } from "./servers";
import type { ServerPort, ServerRecord, ServerRecords } from "./servers";
import { brokerConf } from "./rabbitmq";

export interface WorkloadPort {
    readonly name: string;
    readonly port: number;
    /** Used when the Service type is NodePort. */
    readonly nodePort?: number;
}

export interface IngressPlan {
    /** An Ingress, or an HTTPRoute attached to `gateway` (docs/gateway-api.md). */
    readonly kind: IngressKind;
    readonly host: string;
    /** The Service port the Ingress routes to. */
    readonly port: number;
    readonly className?: string;
    /** With kind HTTPRoute: the Gateway (TLS terminates at its listener; the request-size limit is its controller's policy). */
    readonly gateway?: GatewayRef;
    readonly tlsSecretName?: string;
    readonly waitForAddress: boolean;
    /**
     * ingress-nginx's proxy-body-size (or the Gateway controller's equivalent policy), on the routes uploads pass
     * through (config/uploads.ts); else the proxy's default (nginx: 1m).
     */
    readonly maxBodySize?: string;
}

/** How the container stops: a preStop command that pauses (and de-registers), and the grace period after it. */
export interface StopPlan {
    readonly preStop: string[];
    readonly terminationGracePeriodSeconds: number;
}

/** How a workload is rolled and how long `up` waits for it (config/rollout.ts). */
export interface RolloutPlan {
    /** A Deployment's or a StatefulSet's update strategy. */
    readonly strategy: Readonly<Record<string, unknown>>;
    /** A Deployment's progress deadline. */
    readonly progressDeadlineSeconds: number;
    /** The provider's create/update timeout (a little after the deadline), when the stack sets readinessTimeout. */
    readonly waitTimeout?: string;
    readonly minReadySeconds?: number;
}

/** One workload: a Deployment or StatefulSet, its Services, and optionally an Ingress and an autoscaler. */
export interface WorkloadPlan {
    /** Also the Service name, i.e. the in-cluster host name, and the `app` label. */
    readonly name: string;
    readonly tier: string;
    readonly kind: "Deployment" | "StatefulSet";
    /** After the mirror and digest pinning (config/images.ts). */
    readonly image: string;
    readonly imagePullPolicy?: PullPolicy;
    readonly ports: readonly WorkloadPort[];
    /** Ports exposed by a second Service of their own, e.g. Jenkins' agent port (name suffix -> ports). */
    readonly extraServices?: Readonly<Record<string, readonly WorkloadPort[]>>;
    readonly serviceType: ServiceType;
    /** A fixed count, or the autoscaler's minimum. */
    readonly replicas: number;
    readonly autoscaling?: { readonly maxReplicas: number; readonly targetCPUUtilizationPercentage: number };
    /** The most pods it can run at once (spread and disruption budget from 2). */
    readonly maxPods: number;
    readonly resources: ResourceQuantities;
    /** The heap setting of its main container's runtime, from its memory limit (config/runtime.ts). */
    readonly heap?: HeapEnv;
    readonly security: PodSecurityProfile;
    readonly ingress?: IngressPlan;
    readonly rollout: RolloutPlan;
    readonly stop?: StopPlan;
    /** Workloads whose pods must be ready (and Services there) before this one is created: the graph's readyBefore edges. */
    readonly waitsFor: readonly string[];
}

/** An env var of the wiring contract, resolved: from a shared ConfigMap key, a Secret key or a literal. */
export type PlannedEnv =
    | { readonly name: string; readonly from: "configMap"; readonly configMap: "backend" | "common" }
    | { readonly name: string; readonly from: "secret"; readonly secret: SecretName; readonly key: string }
    /** A key of a Secret the user creates (its name from stack config). */
    | { readonly name: string; readonly from: "userSecret"; readonly secretName: string; readonly key: string }
    | { readonly name: string; readonly from: "literal"; readonly value: string };

/** What every container of every pod gets (never a Secret: it is in pods that read no credential too). */
export type PodEnv = Exclude<PlannedEnv, { readonly from: "secret" | "userSecret" }>;

/** A backend service or a frontend: a workload with the wiring contract's env. */
export interface ApplicationPlan {
    readonly workload: WorkloadPlan;
    readonly env: readonly PlannedEnv[];
    /** The credentials it reads: a new value of any of them rolls its pods. */
    readonly credentials: readonly SecretName[];
}

export interface ServicePlan extends ApplicationPlan {
    readonly spec: BackendServiceSpec;
    /** Where the shared backend volume is mounted, when the service needs it. */
    readonly sharedVolumeMount?: string;
    /** Is the config server: it mounts the files the platform generates (and the user's). */
    readonly servesConfig: boolean;
}

export interface FrontendPlan extends ApplicationPlan {
    readonly spec: FrontendSpec;
    readonly podAnnotations: Readonly<Record<string, string>>;
    /** The readiness probe's path: the health route of a patched build, else `/` (config/frontends.ts readinessPath). */
    readonly readinessPath: string;
    /** Why the image is not one built for this stack, to be shown as a warning. */
    readonly warning?: string;
}

export interface StorageClassPlan {
    readonly backend: StorageBackend;
    /** `<namespace>-<nameSuffix>`: what the claims name, whoever creates the class. */
    readonly name: string;
    /** The Pulumi resource name: the first class keeps "class", so a stack that had one class keeps its state. */
    readonly resourceName: string;
    /** The class name after the namespace: `<backend>-<hash of the immutable fields>`. */
    readonly nameSuffix: string;
    /** The CSI or built-in provisioner (nfs: the stack's csi-driver-nfs). */
    readonly provisioner: string;
    readonly parameters: Readonly<Record<string, string>>;
    readonly mountOptions?: readonly string[];
    /**
     * Replaced under the same name when its immutable fields change (nfs: its name keeps the hash of the
     * nfs-subdir-external-provisioner class, so the claims, their static volumes and their data stay).
     */
    readonly replaceInPlace: boolean;
    readonly reclaimPolicy: "Retain" | "Delete";
    readonly volumeBindingMode: "Immediate" | "WaitForFirstConsumer";
    readonly allowVolumeExpansion: boolean;
}

export interface VolumePlan extends VolumeUse {
    readonly backend: StorageBackend;
    readonly accessMode: AccessMode;
    /** A pre-bound NFS volume (nfs.staticVolumes): no provisioner involved, the kubelet's in-tree NFS mount. */
    readonly staticNfs: boolean;
    /** Its class's name; the claim's name carries it: moving to another class is a new claim, never an in-place edit. */
    readonly className: string;
    readonly claimName: string;
    /** The pre-bound PersistentVolume's name (staticNfs). */
    readonly volumeName?: string;
}

export interface StoragePlan {
    readonly protect: boolean;
    /** false: the classes, volumes and the provisioner are the cluster admin's; the stack makes only the claims. */
    readonly clusterScoped: boolean;
    readonly classes: readonly StorageClassPlan[];
    readonly backendOf: Readonly<Record<VolumeRole, StorageBackend>>;
    readonly volumes: readonly VolumePlan[];
    readonly nfs: { readonly server: string; readonly path: string };
    /** csi-driver-nfs (its controller Deployment, node DaemonSet and CSIDriver), when a role is on nfs. */
    readonly nfsDriver?: NfsDriverPlan;
}

export interface NfsDriverPlan {
    /** The CSI driver name the nfs class names: one per stack (CSIDriver is cluster-wide; stacks share clusters). */
    readonly name: string;
    readonly images: { readonly plugin: string; readonly provisioner: string; readonly registrar: string; readonly livenessProbe: string };
    readonly imagePullPolicy: PullPolicy;
    /** Every container's (resources.nfsProvisioner). */
    readonly resources: ResourceQuantities;
    readonly security: PodSecurityProfile;
    /** Its own namespace (config/parts.ts sideNamespaces): its account's cluster-wide rights and privileged pods stay out of the application's. */
    readonly namespace: string;
    /** Prefix of its cluster-scoped objects (ClusterRole, binding): carries the namespace, so stacks can share a cluster. */
    readonly clusterName: string;
    /** The kubelet's directory of the driver's socket: one per driver name, so two stacks' node plugins do not meet. */
    readonly pluginDir: string;
    /** The liveness probes' ports on the host's network (controller, node): per stack, see nfsHealthPorts. */
    readonly healthPorts: { readonly controller: number; readonly node: number };
}

export interface BackupPlan {
    readonly jobName: string;
    readonly schedule: string;
    readonly timezone: string;
    readonly retention: number;
    readonly databases: readonly string[];
    readonly images: { readonly mysql: string; readonly rclone: string; readonly opensearch: string };
    readonly imagePullPolicy: PullPolicy;
    /** The pods' users: MySQL's for the dump, restore and drill pods, OpenSearch's for the snapshot pod. */
    readonly security: { readonly mysql: PodSecurityProfile; readonly opensearch: PodSecurityProfile };
    readonly mysqlPort: number;
    readonly offsite?: OffsiteConfig;
    /** The restore drill, when on: its schedule and the scratch space its fetched copy needs. */
    readonly drill?: { readonly schedule: string; readonly scratchSize: string };
    /** OpenSearch snapshots mirrored off-site, when on. */
    readonly opensearchSnapshot?: {
        readonly jobName: string; readonly schedule: string; readonly retention: number; readonly repoPath: string; readonly url: string;
        /** The snapshot user, the Secret and key of its password, and the TLS Secret whose ca.crt verifies OpenSearch. */
        readonly user: string; readonly credentialsSecret: string; readonly passwordKey: string; readonly tlsSecretName: string;
    };
}

export interface RotationPlan {
    readonly imagePullPolicy: PullPolicy;
    readonly generations: Readonly<Record<RotatedCredential, number>>;
    readonly mysql: {
        readonly image: string; readonly host: string; readonly port: number; readonly security: PodSecurityProfile;
        /** The application user of each slot (slotUsers); generation N uses slot N % 2. */
        readonly users: readonly [string, string];
        /** The databases each slot's user is granted, as the init SQL grants them. */
        readonly databases: readonly string[];
    };
    readonly rabbitmq: { readonly image: string; readonly url: string; readonly users: readonly [string, string]; readonly security: PodSecurityProfile };
}

/**
 * The two users a server-side credential alternates between: generation N uses slot N % 2, so a rotation sets the
 * password of the user nobody uses while the pods keep theirs (docs/day-2.md). Slot 0 is the configured name (a stack
 * deployed before rotation keeps its user); slot 1 the name with `_b`, within MySQL's 32 characters.
 */
export function slotUsers(username: string): readonly [string, string] {
    const base = username.slice(0, 30);
    return [username, `${base}_b` === username ? `${base}_c` : `${base}_b`];
}

/** The user of a credential's generation. */
export const generationUser = (username: string, generation: number): string => slotUsers(username)[generation % 2];

/** The Job that applies the pending schema migrations before the database's clients roll (jobs/migrate/migrate.sh). */
export interface MigrationPlan {
    /** The Job's workload (app label): its node in the service graph. */
    readonly app: string;
    /** <app>-<hash of the migration set>: a new set is a new Job, which applies only what is new. */
    readonly jobName: string;
    readonly migrations: readonly Migration[];
    /** The ConfigMap's data: the runner's manifest and one SQL file per migration (config/migrations.ts migrationFiles). */
    readonly files: Readonly<Record<string, string>>;
    readonly historyTable: string;
    readonly image: string;
    readonly imagePullPolicy: PullPolicy;
    readonly host: string;
    readonly port: number;
    readonly security: PodSecurityProfile;
}

export interface PlatformPlan {
    readonly environment: Environment;
    readonly namespace: {
        readonly name: string;
        readonly create: boolean;
        /** Deleting it would delete the protected claims with it. */
        readonly protect: boolean;
        readonly labels: Readonly<Record<string, string>>;
        /** The namespaces of the provisioner and the CI agents, with their labels (config/parts.ts sideNamespaces). */
        readonly side: Partial<Record<SideNamespace, { readonly name: string; readonly labels: Readonly<Record<string, string>> }>>;
    };
    /** false: the stack creates objects in its namespace only; the rest is the cluster admin's (npm run render's _admin/). */
    readonly clusterScoped: boolean;
    readonly commonLabels: Readonly<Record<string, string>>;
    /**
     * Secrets the program makes from encrypted stack config (tls, offsiteCredentials), in the namespace
     * it may create, so no step outside the program has to place them before the first up. Values are secrets.
     */
    readonly configSecrets: readonly { readonly name: string; readonly type: string; readonly app: string; readonly data: Readonly<Record<string, string>> }[];
    /** HTTPRoutes with TLS and the Gateway in another namespace: its listeners may read the TLS Secret of this one. */
    readonly gatewayTlsGrant?: { readonly gatewayNamespace: string; readonly secretName: string };
    readonly timezone: string;
    readonly parts: PartsOn;
    readonly podSecurityLevel: PodSecurityLevel;
    /** Data of the common ConfigMap (APP_HOME, TZ). */
    readonly commonConfig: Readonly<Record<string, string>>;
    /** What every container of every pod the stack renders gets, Jobs, init containers and sidecars included. */
    readonly everyPod: { readonly env: readonly PodEnv[] };
    /** Data of the backend ConfigMap, from the wiring contract. */
    readonly backendConfig: Readonly<Record<string, string>>;
    readonly configServer: {
        /** `<client>/<file>` -> text: the applications' config files as served to each client (config/served.ts). */
        readonly generatedFiles: Readonly<Record<string, string>>;
        readonly generatedDir: string;
        /** The user's files (configServer.path), served above the generated ones. */
        readonly repoFiles?: Readonly<Record<string, string>>;
        readonly repoDir: string;
    };
    readonly credentials: { readonly databaseUsername: string; readonly messagingUsername: string; readonly discoveryUsername: string };
    readonly rotation: RotationPlan;
    readonly storage: StoragePlan;
    /** The infrastructure servers' records (config/servers.ts): what their clients, the graph and the boot check know of them. */
    readonly servers: ServerRecords;
    readonly database: {
        readonly record: ServerRecord;
        readonly workload: WorkloadPlan;
        readonly databaseName: string;
        /** SQL run once on an empty data directory: the databases and the application user's grants. */
        readonly initScripts: Readonly<Record<string, string>>;
        readonly migration: MigrationPlan;
        /** The server's series (undefined: not a supported one), its my.cnf per role and its data directory on the claim. */
        readonly server: { readonly series?: string; readonly primaryCnf: string; readonly replicaCnf: string; readonly dataDirectory: string };
    };
    /** conf: the rabbitmq.conf fragment for the configured image (config/rabbitmq.ts BROKER_SETTINGS). */
    readonly messaging: { readonly record: ServerRecord; readonly workload: WorkloadPlan; readonly conf: string };
    readonly tracing?: { readonly record: ServerRecord; readonly workload: WorkloadPlan };
    readonly logging?: {
        /** The records of the log store, the shipper and the UI, by the role each plays. */
        readonly records: { readonly logStore: ServerRecord; readonly logShipper: ServerRecord; readonly logUi: ServerRecord };
        readonly opensearch: WorkloadPlan; readonly logstash: WorkloadPlan; readonly dashboards: WorkloadPlan;
        /** The Secret (made outside git: tls.crt, tls.key, ca.crt) of OpenSearch's certificate (logging.tlsSecretName). */
        readonly tlsSecretName: string;
        /** The Secret the program makes with every OpenSearch user's generated password, and its keys. */
        readonly credentialsSecret: string;
        readonly credentialKeys: typeof OPENSEARCH_CREDENTIAL_KEYS;
        /** The security plugin's users: admin (OPENSEARCH_INITIAL_ADMIN_PASSWORD), Dashboards' server user, the shipper, the snapshot job. */
        readonly users: typeof OPENSEARCH_USERS;
        /** Dashboards' public URL is https: its session cookie gets Secure. */
        readonly dashboardsHttps: boolean;
        /** path.repo of OpenSearch, when its snapshots go off-site. */
        readonly snapshotPath?: string;
        /** Fluent Bit's HTTP server (its health endpoint, the liveness probe). */
        readonly logstashMonitoringPort: number;
    };
    readonly ci?: {
        readonly record: ServerRecord;
        readonly workload: WorkloadPlan;
        /** Where Jenkins starts its agents: a namespace of their own, where its account may create pods. */
        readonly agentNamespace: string;
        /** The home archiver beside Jenkins, when its home goes off-site. */
        readonly archive?: { readonly image: string; readonly imagePullPolicy: PullPolicy; readonly offsite: OffsiteConfig };
    };
    readonly backup?: BackupPlan;
    /** Backend services, each after the servers it needs ready first. */
    readonly services: readonly ServicePlan[];
    readonly frontends: readonly FrontendPlan[];
    readonly networkPolicy?: {
        readonly graph: ServiceGraph; readonly config: NetworkPolicyConfig; readonly serviceType: ServiceType;
        /** The application's namespace and the side namespaces, for peers across them. */
        readonly namespaces: NamespacesOf;
    };
    /** Public URLs by workload (stack output). */
    readonly urls: Readonly<Record<string, string>>;
    /** The in-cluster endpoints of the output contract: workload and port. */
    readonly endpoints: Readonly<Record<"configServer" | "discovery" | "apigateway", { readonly workload: string; readonly port: number }>>;
}

const provisioners: Readonly<Record<Exclude<StorageBackend, "nfs">, string>> = {
    cinder: "cinder.csi.openstack.org",
    // The controller manager's built-in provisioner (--enable-hostpath-provisioner): single-node and local clusters only.
    hostpath: "kubernetes.io/host-path",
};

/** The server settings and data directory of the MySQL image's series (config/mysql.ts). */
function mysqlServer(image: string): PlatformPlan["database"]["server"] {
    const series = mysqlSeriesOf(image);
    return {
        series: series?.series, primaryCnf: serverCnf("primary"), replicaCnf: serverCnf("replica"),
        dataDirectory: series?.dataDirectory ?? LEGACY_DATA_DIRECTORY,
    };
}

/**
 * SQL run once on an empty data directory: the application's databases, granted to both rotation slots' users. The
 * image's entrypoint has created the Secret's user (the slot of the stack's generation) with its password; the
 * other slot's user is created locked, without a password, until a rotation gives it one (jobs/rotate/mysql.sh).
 */
export function databasesSql(db: PlatformConfig["database"]): string {
    const users = slotUsers(db.username);
    return users.map((u) => `CREATE USER IF NOT EXISTS '${u}'@'%' ACCOUNT LOCK;\n`).join("") + db.databases
        .map((name) => `CREATE DATABASE IF NOT EXISTS \`${name}\`;\n${users.map((u) => `GRANT ALL PRIVILEGES ON \`${name}\`.* TO '${u}'@'%';\n`).join("")}`)
        .join("");
}

/**
 * A preStop hook that runs `before` (best effort: a failure never holds the pod up), then pauses so routers stop
 * sending requests before SIGTERM; the grace period covers the pause and the process's own shutdown.
 */
export function pausingStop(pauseSeconds: number, shutdownSeconds: number, before?: string): StopPlan {
    const pause = `sleep ${pauseSeconds}`;
    return {
        preStop: ["sh", "-c", before ? `{ ${before}; } >/dev/null 2>&1 || true; ${pause}` : pause],
        terminationGracePeriodSeconds: terminationGracePeriodSeconds(pauseSeconds, shutdownSeconds),
    };
}

/** Ingress settings for a public host `<prefix>.<domain>` from the stack config. */
export function ingressFor(cfg: Pick<PlatformConfig, "domain" | "ingress">, hostPrefix: string, port: number, maxBodySize?: string): IngressPlan {
    const route = cfg.ingress.kind === "HTTPRoute";
    return {
        kind: cfg.ingress.kind,
        host: `${hostPrefix}.${cfg.domain}`,
        port,
        className: route ? undefined : cfg.ingress.className,
        gateway: route ? cfg.ingress.gateway : undefined,
        tlsSecretName: cfg.ingress.tlsSecretName,
        waitForAddress: cfg.ingress.waitForAddress,
        maxBodySize,
    };
}

/** The whole stack as records: what the components render. */
export function planPlatform(cfg: PlatformConfig): PlatformPlan {
    const on = partsOn(cfg);
    const graph = serviceGraph(cfg);
    const wiring: WiringContext = { cfg, graph, services: cfg.services };
    const wired: WiredWorkload[] = [
        ...cfg.services.map((spec) => ({ name: spec.name, spec })),
        ...frontends.map((f) => ({ name: frontendName(f.name) })),
    ];
    const waitsFor = (name: string) => graph.dependenciesOf(name).filter((e) => e.readyBefore).map((e) => e.to);
    const infraRollout = (kind: WorkloadPlan["kind"]): RolloutPlan => ({
        strategy: kind === "StatefulSet" ? statefulSetStrategy : deploymentStrategy,
        progressDeadlineSeconds: defaultProgressDeadlineSeconds,
    });

    // Third-party servers: one pod, their own ports and hardening, no pull policy of the platform's images.
    const infra = (name: string, part: Extract<ResourcePart, ImageKey>, kind: WorkloadPlan["kind"], tier: string, ports: WorkloadPort[], more: Partial<WorkloadPlan> = {}): WorkloadPlan => ({
        name, tier, kind,
        image: resolveImage(cfg, part),
        ports,
        serviceType: cfg.serviceType,
        replicas: 1,
        maxPods: 1,
        resources: cfg.resources[part],
        security: podSecurity[part],
        rollout: infraRollout(kind),
        waitsFor: waitsFor(name),
        ...more,
    });

    // A server's workload from its record: its ports (one with a Service of its own goes there), its UI's Ingress;
    // a server without a UI is reached inside the cluster only.
    const servers = graph.servers;
    const db = serverOf(servers, "database");
    const broker = serverOf(servers, "broker");
    const servedPort = (p: ServerPort): WorkloadPort => (p.nodePort === undefined ? { name: p.name, port: p.port } : { name: p.name, port: p.port, nodePort: p.nodePort });
    const serverWorkload = (r: ServerRecord, part: Extract<ResourcePart, ImageKey>, kind: WorkloadPlan["kind"], tier: string): WorkloadPlan => {
        const own = r.ports.filter((p) => p.ownService !== undefined);
        const extraServices: Record<string, WorkloadPort[]> = {};
        for (const p of own) extraServices[p.ownService!] = [...(extraServices[p.ownService!] ?? []), servedPort(p)];
        return infra(r.name, part, kind, tier, r.ports.filter((p) => p.ownService === undefined).map(servedPort), {
            ...(own.length > 0 ? { extraServices } : {}),
            ...(r.ui ? { ingress: ingressFor(cfg, r.ui.hostPrefix, r.ui.port) } : { serviceType: "ClusterIP" }),
        });
    };
    const role = <R extends keyof ServerRecords["byRole"]>(r: R) => serverOf(servers, r);

    // Uploads reach the services through the gateway: from browsers at api.<domain>, and at the frontends' hosts, whose
    // /server/* the Next.js servers pass on to the gateway.
    const uploadBodySize = proxyBodySize(cfg.services.filter((s) => s.routedByGateway).map((s) => s.name), packagedProperties(cfg.application));
    // The platform's own images: scale, pull policy, heap, the stack's readiness timeout and rollout pace.
    const application = (name: string, tier: "backend" | "frontend", image: string, port: number, nodePort: number | undefined,
        ingressHost: string | undefined, carriesUploads: boolean, stop: StopPlan): WorkloadPlan => ({
        name, tier, kind: "Deployment",
        image,
        imagePullPolicy: cfg.image.pullPolicy,
        ports: [{ name: "http", port, nodePort }],
        serviceType: cfg.serviceType,
        replicas: cfg.replicas[name],
        autoscaling: isAutoscaled(cfg, name) ? cfg.autoscaling : undefined,
        maxPods: maxPodsOf(cfg, name),
        resources: cfg.resources[tier],
        heap: heapEnv(tier === "backend" ? "jvm" : "node", cfg.resources[tier].limits.memory),
        security: podSecurity[tier],
        ingress: ingressHost ? ingressFor(cfg, ingressHost, port, carriesUploads ? uploadBodySize : undefined) : undefined,
        rollout: {
            strategy: deploymentStrategy,
            // The provider does not stop at ProgressDeadlineExceeded, only at its timeout: a little after the deadline,
            // so Kubernetes' own verdict on the stuck rollout is part of the error `up` reports.
            progressDeadlineSeconds: cfg.readinessTimeout,
            waitTimeout: `${cfg.readinessTimeout + progressReportMarginSeconds}s`,
            minReadySeconds: cfg.rollout.minReadySeconds,
        },
        stop,
        waitsFor: waitsFor(name),
    });
    const wiredEnv = (w: WiredWorkload): PlannedEnv[] => settingsFor(w, wiring).map((s): PlannedEnv => {
        switch (s.source.from) {
            case "configMap": return { name: s.env, from: "configMap", configMap: s.source.configMap };
            case "secret": return { name: s.env, from: "secret", secret: s.source.secret, key: s.source.key };
            case "userSecret": return { name: s.env, from: "userSecret", secretName: s.value?.(wiring, w) ?? "", key: s.source.key };
            case "literal": return { name: s.env, from: "literal", value: s.value?.(wiring, w) ?? "" };
        }
    });
    const credentialsOf = (w: WiredWorkload): SecretName[] =>
        [...new Set(settingsFor(w, wiring).flatMap((s) => (s.source.from === "secret" ? [s.source.secret] : [])))].sort();

    const byOrder = (name: string) => graph.deployOrder.indexOf(name);
    const services: ServicePlan[] = [...cfg.services].sort((a, b) => byOrder(a.name) - byOrder(b.name)).map((spec) => {
        const w = { name: spec.name, spec };
        // A service added through stack config brings its own image; it moves below the mirror like every other.
        const image = resolveImage(cfg, spec.image ? { ref: spec.image } : { platform: platformImageName("backend", spec.name) });
        // De-registered from Eureka and out of the endpoints before SIGTERM; then Spring drains in-flight requests.
        const stop = pausingStop(preStopPauseSeconds(spec.usesDiscovery), shutdown.springShutdownSeconds,
            spec.usesDiscovery ? eurekaOutOfServiceScript(spec.name, infraPorts.discovery) : undefined);
        return {
            spec,
            workload: application(spec.name, "backend", image, spec.port, spec.nodePort, spec.ingressHost, spec.isGateway, stop),
            env: [...wiredEnv(w), ...Object.entries(spec.env ?? {}).map(([name, value]): PlannedEnv => ({ name, from: "literal", value }))],
            credentials: credentialsOf(w),
            sharedVolumeMount: spec.needsSharedVolume ? SHARED_DIR : undefined,
            servesConfig: spec.name === CONFIG_SERVER,
        };
    });
    const frontendPlans: FrontendPlan[] = frontends.map((spec) => {
        const name = frontendName(spec.name);
        const built = cfg.frontendImages[spec.name];
        const w = { name };
        return {
            spec,
            // The image built for the stack (frontends.lock.json, config/frontends.ts); its pods say what it was built for.
            workload: application(name, "frontend", resolveImage(cfg, frontendImageId(cfg, spec.name)), spec.port, spec.nodePort, spec.ingressHost, true,
                // Out of the Service's endpoints (and the ingress controller's upstreams) before SIGTERM.
                pausingStop(preStopPauseSeconds(false), shutdown.frontendShutdownSeconds)),
            env: wiredEnv(w),
            credentials: credentialsOf(w),
            podAnnotations: { [BUILT_FOR_ANNOTATION]: built?.built ? JSON.stringify(built.built.builtFor) : "unknown" },
            readinessPath: readinessPath(spec.name, built?.built),
            warning: built?.warning,
        };
    });

    const commonLabels = { "app.kubernetes.io/part-of": "egov-platform", "app.kubernetes.io/managed-by": "pulumi", env: cfg.environment };
    // Pod Security admission: enforce the strictest level every deployed part meets; warn and audit at
    // restricted always, so an exception stays visible. "latest" follows the cluster's own version.
    const level = enforcedLevel(deployedParts(cfg).filter((p) => partHomes[p] === undefined));
    // A side namespace enforces what its own parts need (storage: privileged for the NFS driver).
    const sideLevel = (part: SideNamespace) => enforcedLevel(deployedParts(cfg).filter((p) => partHomes[p] === part));
    const podSecurityLabels = {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": "latest",
    };

    const urls: Record<string, string> = {};
    for (const s of [...cfg.services, ...frontends]) if (s.ingressHost) urls[s.name] = publicUrl(cfg, s.ingressHost);
    for (const r of servers.all) if (r.ui) urls[r.name] = publicUrl(cfg, r.ui.hostPrefix);

    const serviceNamed = (pick: (s: BackendServiceSpec) => boolean, what: string) => {
        const s = cfg.services.find(pick);
        if (!s) throw new Error(`plan: the catalog has no ${what}`);
        return { workload: s.name, port: s.port };
    };
    const offsite = on.offsite ? cfg.backup.offsite : undefined;
    const side = sideNamespaces(cfg);

    return {
        environment: cfg.environment,
        namespace: {
            name: cfg.namespace, create: cfg.createNamespace, protect: cfg.storage.protect, labels: { ...commonLabels, ...podSecurityLabels },
            // ci: restricted, Jenkins' agent pod templates must meet it (docs/security.md). storage: privileged, the NFS
            // driver mounts on the nodes; warn and audit at that level too, as nothing else runs there.
            side: Object.fromEntries(Object.entries(side).map(([part, name]) => {
                const l = sideLevel(part as SideNamespace);
                const labels = l === "privileged" ? { ...podSecurityLabels, "pod-security.kubernetes.io/enforce": l,
                    "pod-security.kubernetes.io/warn": l, "pod-security.kubernetes.io/audit": l } : podSecurityLabels;
                return [part, { name, labels: { ...commonLabels, ...labels } }];
            })),
        },
        clusterScoped: cfg.clusterScoped,
        commonLabels,
        configSecrets: [
            ...(cfg.ingress.tls && cfg.ingress.tlsSecretName ? [{ name: cfg.ingress.tlsSecretName, type: "kubernetes.io/tls", app: "ingress",
                data: { "tls.crt": cfg.ingress.tls.certificate, "tls.key": cfg.ingress.tls.key } }] : []),
            ...(offsite?.credentials ? [{ name: offsite.credentialsSecretName, type: "Opaque", app: "backup",
                data: { "access-key-id": offsite.credentials.accessKeyId, "secret-access-key": offsite.credentials.secretAccessKey } }] : []),
        ],
        gatewayTlsGrant: cfg.ingress.gateway && cfg.ingress.tlsSecretName && cfg.ingress.gateway.namespace !== cfg.namespace
            ? { gatewayNamespace: cfg.ingress.gateway.namespace, secretName: cfg.ingress.tlsSecretName } : undefined,
        timezone: cfg.timezone,
        parts: on,
        podSecurityLevel: level,
        commonConfig: { APP_HOME: SHARED_DIR },
        // TZ: the JVM's and Node's default zone, and the zone of `date` in the jobs' and the archiver's scripts.
        // A literal, not a ConfigMap key: a Job's pod template is immutable and names no auto-named object, and a new
        // time zone rolls the pods that read it.
        everyPod: { env: [{ name: "TZ", from: "literal", value: cfg.timezone }] },
        backendConfig: backendConfigMapData(wired, wiring),
        configServer: {
            generatedFiles: servedConfigFiles(wired, wiring),
            generatedDir: GENERATED_REPO_DIR,
            repoFiles: servesUserFiles({ cfg }) && cfg.configServer.source === "directory" ? cfg.configServer.files : undefined,
            repoDir: CONFIG_REPO_DIR,
        },
        credentials: {
            databaseUsername: generationUser(cfg.database.username, cfg.rotation.mysql),
            messagingUsername: generationUser(cfg.messaging.username, cfg.rotation.rabbitmq),
            discoveryUsername: cfg.discovery.username,
        },
        rotation: {
            imagePullPolicy: cfg.image.pullPolicy,
            generations: cfg.rotation,
            mysql: {
                image: resolveImage(cfg, "mysql"), host: db.service, port: db.clientPort, security: jobSecurity.mysqlClient,
                users: slotUsers(cfg.database.username), databases: cfg.database.databases,
            },
            rabbitmq: {
                image: resolveImage(cfg, "rabbitmq"), url: `http://${broker.service}:${broker.port.management}`, users: slotUsers(cfg.messaging.username),
                security: jobSecurity.rabbitmqClient,
            },
        },
        storage: planStorage(cfg, on),
        servers,
        database: {
            record: db,
            workload: serverWorkload(db, "mysql", "StatefulSet", "database"),
            databaseName: cfg.database.name,
            initScripts: { "00-egov-databases.sql": databasesSql(cfg.database) },
            server: mysqlServer(resolveImage(cfg, "mysql")),
            migration: {
                app: MIGRATE_JOB,
                jobName: `${MIGRATE_JOB}-${migrationSetHash(cfg.database.migrations)}`,
                migrations: cfg.database.migrations,
                files: migrationFiles(cfg.database.migrations),
                historyTable: HISTORY_TABLE,
                image: resolveImage(cfg, "mysql"),
                imagePullPolicy: cfg.image.pullPolicy,
                host: db.service,
                port: db.clientPort,
                security: jobSecurity.mysqlClient,
            },
        },
        messaging: { record: broker, workload: serverWorkload(broker, "rabbitmq", "StatefulSet", "backend"), conf: brokerConf(cfg.images.rabbitmq) },
        tracing: !servers.byRole.tracing ? undefined : { record: role("tracing"), workload: serverWorkload(role("tracing"), "zipkin", "Deployment", "backend") },
        logging: !servers.byRole.logStore ? undefined : {
            records: { logStore: role("logStore"), logShipper: role("logShipper"), logUi: role("logUi") },
            opensearch: serverWorkload(role("logStore"), "opensearch", "StatefulSet", "logging"),
            logstash: serverWorkload(role("logShipper"), "fluentBit", "Deployment", "logging"),
            dashboards: serverWorkload(role("logUi"), "dashboards", "Deployment", "logging"),
            snapshotPath: on.opensearchSnapshots ? OS_SNAPSHOT_PATH : undefined,
            tlsSecretName: cfg.logging.tlsSecretName,
            credentialsSecret: OPENSEARCH_SECRET,
            credentialKeys: OPENSEARCH_CREDENTIAL_KEYS,
            users: OPENSEARCH_USERS,
            dashboardsHttps: cfg.ingress.tlsSecretName !== undefined,
            logstashMonitoringPort: infraPorts.logstashMonitoring,
        },
        ci: !servers.byRole.ci ? undefined : {
            record: role("ci"),
            workload: serverWorkload(role("ci"), "jenkins", "StatefulSet", "cicd"),
            agentNamespace: side.ci ?? cfg.namespace,
            archive: on.jenkinsArchive && offsite ? { image: resolveImage(cfg, "rclone"), imagePullPolicy: cfg.image.pullPolicy, offsite } : undefined,
        },
        backup: !on.backup ? undefined : {
            jobName: BACKUP_JOB,
            schedule: cfg.backup.schedule,
            timezone: cfg.timezone,
            retention: cfg.backup.retention,
            databases: cfg.database.databases,
            images: { mysql: resolveImage(cfg, "mysql"), rclone: resolveImage(cfg, "rclone"), opensearch: resolveImage(cfg, "opensearch") },
            imagePullPolicy: cfg.image.pullPolicy,
            security: { mysql: jobSecurity.mysqlClient, opensearch: jobSecurity.opensearchClient },
            mysqlPort: db.clientPort,
            offsite,
            drill: on.drill ? { schedule: cfg.backup.drill.schedule, scratchSize: cfg.storage.sizes.backup } : undefined,
            opensearchSnapshot: on.opensearchSnapshots && offsite ? {
                jobName: OS_SNAPSHOT_JOB, schedule: offsite.opensearch.schedule, retention: offsite.opensearch.retention,
                repoPath: OS_SNAPSHOT_PATH, url: `https://${role("logStore").service}:${role("logStore").clientPort}`,
                user: OPENSEARCH_USERS.snapshot, credentialsSecret: OPENSEARCH_SECRET, passwordKey: OPENSEARCH_CREDENTIAL_KEYS.snapshot,
                tlsSecretName: cfg.logging.tlsSecretName,
            } : undefined,
        },
        services,
        frontends: frontendPlans,
        networkPolicy: on.networkPolicy ? { graph, config: cfg.networkPolicy, serviceType: cfg.serviceType, namespaces: { app: cfg.namespace, ...side } } : undefined,
        urls,
        endpoints: {
            configServer: serviceNamed((s) => s.name === CONFIG_SERVER, "config server"),
            discovery: serviceNamed((s) => s.isDiscoveryServer, "discovery server"),
            apigateway: serviceNamed((s) => s.isGateway, "API gateway"),
        },
    };
}

/** The CSI driver name of a stack's csi-driver-nfs: `<namespace>.nfs.csi.k8s.io`, shortened with a hash past 63 characters. */
export function nfsDriverName(namespace: string): string {
    const suffix = ".nfs.csi.k8s.io";
    if (namespace.length + suffix.length <= 63) return `${namespace}${suffix}`;
    const hash = createHash("sha256").update(namespace).digest("hex").slice(0, 6);
    return `${namespace.slice(0, 63 - suffix.length - 7).replace(/-+$/, "")}-${hash}${suffix}`;
}

/**
 * The ports the driver's liveness probes listen on in the host's network (upstream: 29652 and 29653): per stack, from
 * its namespace, in 29700-29899, so two stacks' driver pods on one node rarely meet (they would: 1 in 100).
 */
export function nfsHealthPorts(namespace: string): { controller: number; node: number } {
    const base = 29700 + 2 * (parseInt(createHash("sha256").update(namespace).digest("hex").slice(0, 8), 16) % 100);
    return { controller: base, node: base + 1 };
}

/** One StorageClass per backend the volume roles use, one claim per volume of config/volumes.ts on its role's class. */
function planStorage(cfg: PlatformConfig, on: PartsOn): StoragePlan {
    const st = cfg.storage;
    const reclaimPolicy = st.protect ? "Retain" : "Delete";
    const backends = [...new Set(volumeRoles.map((r) => st[r].backend))];
    const driverName = nfsDriverName(cfg.namespace);
    const classes = backends.map((backend, i): StorageClassPlan => {
        const parameters: Record<string, string> = {};
        // The name's hash over the fields the class had with nfs-subdir-external-provisioner (archiveOnDelete): the
        // class keeps its name under csi-driver-nfs, so do the claims and static volumes that carry it (docs/day-2.md).
        const named: Record<string, string> = {};
        if (backend === "nfs") {
            named.archiveOnDelete = st.protect ? "true" : "false";
            parameters.server = st.nfs.server;
            parameters.share = st.nfs.path;
            // nfs-subdir-external-provisioner's directory per volume, <namespace>-<claim>-<volume>, under the export.
            parameters.subDir = "${pvc.metadata.namespace}-${pvc.metadata.name}-${pv.metadata.name}";
            // A deleted volume's directory is renamed archived-<dir> when protected (archiveOnDelete "true"), else removed.
            parameters.onDelete = st.protect ? "archive" : "delete";
        }
        if (backend === "cinder") {
            if (st.cinder.type) parameters.type = st.cinder.type;
            if (st.cinder.availabilityZone) parameters.availability = st.cinder.availabilityZone;
        }
        // Block volumes are zonal: bind where the pod is scheduled, or a pod can land in another zone than its volume.
        const volumeBindingMode = backend === "cinder" ? "WaitForFirstConsumer" : "Immediate";
        // Named after a hash of its immutable fields: changing the provisioner or a parameter makes a new class, and
        // with it new claims, instead of an update the API server refuses (even in preview).
        const hash = createHash("sha256").update(JSON.stringify({ backend, parameters: backend === "nfs" ? named : parameters, reclaimPolicy, volumeBindingMode }))
            .digest("hex").slice(0, 6);
        return {
            backend,
            name: `${cfg.namespace}-${backend}-${hash}`,
            resourceName: i === 0 ? "class" : `class-${backend}`,
            nameSuffix: `${backend}-${hash}`,
            provisioner: backend === "nfs" ? driverName : provisioners[backend],
            parameters,
            // hard: I/O waits out a server outage instead of failing (database files). No nfsvers: the client takes the
            // highest version the server offers, as it did for the provisioner's volumes.
            mountOptions: backend === "nfs" ? ["hard"] : undefined,
            replaceInPlace: backend === "nfs",
            reclaimPolicy,
            volumeBindingMode,
            allowVolumeExpansion: backend === "cinder",
        };
    });
    const classOf = (backend: StorageBackend) => classes.find((c) => c.backend === backend)!.name;
    return {
        protect: st.protect,
        clusterScoped: cfg.clusterScoped,
        classes,
        backendOf: { shared: st.shared.backend, data: st.data.backend },
        volumes: platformVolumes(cfg).map((v) => {
            const className = classOf(st[v.role].backend);
            const staticNfs = st[v.role].backend === "nfs" && st.nfs.staticVolumes;
            return {
                ...v,
                backend: st[v.role].backend,
                accessMode: accessModeFor(st[v.role].backend, v.role),
                staticNfs,
                className,
                claimName: `${v.name}-pvc-${className}`,
                volumeName: staticNfs ? `${v.name}-pv-${className}` : undefined,
            };
        }),
        nfs: { server: st.nfs.server, path: st.nfs.path },
        nfsDriver: on.nfs ? {
            name: driverName,
            images: {
                plugin: resolveImage(cfg, "nfsPlugin"), provisioner: resolveImage(cfg, "csiProvisioner"),
                registrar: resolveImage(cfg, "csiNodeDriverRegistrar"), livenessProbe: resolveImage(cfg, "csiLivenessProbe"),
            },
            imagePullPolicy: cfg.image.pullPolicy,
            resources: cfg.resources.nfsProvisioner, security: podSecurity.nfsProvisioner,
            namespace: sideNamespaces(cfg).storage!,
            clusterName: `${cfg.namespace}-nfs-csi`,
            pluginDir: `/var/lib/kubelet/plugins/${driverName}`,
            healthPorts: nfsHealthPorts(cfg.namespace),
        } : undefined,
    };
}
