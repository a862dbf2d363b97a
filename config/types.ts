// The shape of the validated stack config: types and the closed sets of values, no logic. Read by every module
// that needs a config type (import type), so none of them imports the reader back.
import type { BackendServiceSpec, ImageKey } from "./catalog";
import type { FrontendImage } from "./frontends";

export const storageBackends = ["nfs", "cinder", "hostpath"] as const;
export type StorageBackend = (typeof storageBackends)[number];
export const environments = ["dev", "staging", "prod"] as const;
export type Environment = (typeof environments)[number];
export const serviceTypes = ["ClusterIP", "NodePort"] as const;
export type ServiceType = (typeof serviceTypes)[number];
export const pullPolicies = ["Always", "IfNotPresent", "Never"] as const;
/** How the public hosts are routed: networking.k8s.io Ingresses, or Gateway API HTTPRoutes attached to a Gateway. */
export const ingressKinds = ["Ingress", "HTTPRoute"] as const;
export type IngressKind = (typeof ingressKinds)[number];
/** The Gateway controllers whose request-size policy the program renders; other: none rendered (docs/gateway-api.md). */
export const gatewayImplementations = ["nginx-gateway-fabric", "envoy-gateway", "other"] as const;
export type GatewayImplementation = (typeof gatewayImplementations)[number];
export type PullPolicy = (typeof pullPolicies)[number];

export type Quantities = {
    readonly cpu: string;
    readonly memory: string;
    readonly "ephemeral-storage": string;
};
export interface ResourceQuantities {
    readonly requests: Quantities;
    readonly limits: Quantities;
}

/** Parts with their own `resources.<part>` defaults; init containers get their part's. */
export const resourceParts = ["backend", "frontend", "mysql", "rabbitmq", "opensearch", "fluentBit", "dashboards", "zipkin",
    "jenkins", "nfsProvisioner"] as const;
export type ResourcePart = (typeof resourceParts)[number];

export interface NetworkPolicyConfig {
    readonly enabled: boolean;
    /** Namespace of the ingress controller, whose pods may reach the public ports. */
    readonly ingressNamespace: string;
    /**
     * The pods admitted to the public ports: the ingress controller's namespace (ingress.kind Ingress), or the
     * Gateway's data plane (HTTPRoute: networkPolicy.gatewayDataPlane, by default from ingress.gateway).
     */
    readonly publicFrom: { readonly namespace: string; readonly podLabels: Readonly<Record<string, string>> };
    /** Where the Kubernetes API server's endpoints are, for pods that call it. */
    readonly apiServer: { readonly cidrs: readonly string[]; readonly ports: readonly number[] };
    /** Extra egress per workload (app name) to CIDRs outside the cluster, e.g. Jenkins to the git server. */
    readonly externalEgress: Readonly<Record<string, readonly string[]>>;
}

/** A Gateway (the cluster's) that HTTPRoutes attach to, and the controller that runs it. */
export interface GatewayRef {
    readonly name: string;
    readonly namespace: string;
    /** The listener the routes attach to; all the Gateway's listeners that admit them when unset. */
    readonly sectionName?: string;
    readonly implementation: GatewayImplementation;
}

export interface PlatformConfig {
    readonly environment: Environment;
    /**
     * The one cluster this stack targets; never the ambient kubeconfig context. local: the stack runs on the local
     * test cluster (stack key localCluster), which scripts/deploy.sh builds and starts; never the stack's name.
     */
    readonly cluster: { readonly kubeconfig?: string; readonly context?: string; readonly local: boolean };
    readonly namespace: string;
    /** Never with clusterScoped false. */
    readonly createNamespace: boolean;
    /** false: the program creates nothing cluster-scoped and nothing outside its namespace; the cluster's admin does (npm run render's _admin/). */
    readonly clusterScoped: boolean;
    readonly domain: string;
    readonly ingress: {
        readonly kind: IngressKind;
        /** The Gateway the HTTPRoutes attach to (kind HTTPRoute only). */
        readonly gateway?: GatewayRef;
        readonly className?: string;
        /** Wait for the ingress controller to assign an address (needs a controller in the cluster). */
        readonly waitForAddress: boolean;
        /** The hosts' TLS Secret: made outside git, or by the program from `tls` (then named TLS_SECRET_NAME). */
        readonly tlsSecretName?: string;
        /** The certificate chain and its key from encrypted stack config `tls`: the program creates the Secret. */
        readonly tls?: { readonly certificate: string; readonly key: string };
    };
    readonly image: {
        readonly registry: string;
        readonly tag: string;
        readonly pullPolicy: PullPolicy;
        /** Every image the stack runs must be pinned by digest. */
        readonly requireDigests: boolean;
    };
    /** Source references of the third-party images; config/images.ts resolves what containers run. */
    readonly images: Readonly<Record<ImageKey, string>>;
    /** Registry prefix every image is pulled through, e.g. harbor.agency.go.kr/egov. */
    readonly imageMirror?: string;
    /** Pinned digests by fully qualified source reference (images.lock.json, then the imageDigests key). */
    readonly imageDigests: Readonly<Record<string, string>>;
    /** Images past their end of support the policy pack lets prod run until a date (config/support.ts). */
    readonly supportWaivers: Readonly<Partial<Record<ImageKey, { readonly reason: string; readonly until: string }>>>;
    /** Per frontend: the image built for this stack (frontends.lock.json) or a warning why there is none that fits. */
    readonly frontendImages: Readonly<Record<string, FrontendImage>>;
    /** allowPublishedImages: prod may run the published frontend images when frontends.lock.json has none for it. */
    readonly frontends: { readonly allowPublishedImages: boolean };
    readonly serviceType: ServiceType;
    /** The backend catalog in force: the built-in services, then those the `services` key adds. */
    readonly services: readonly BackendServiceSpec[];
    /** Replica count per scalable workload (backend service name or frontend-<name>). */
    readonly replicas: Readonly<Record<string, number>>;
    /** Seconds `pulumi up` waits for an application workload's pods to become ready before failing. */
    readonly readinessTimeout: number;
    /** minReadySeconds: how long a new pod must stay ready before a rollout counts it available (config/rollout.ts). */
    readonly rollout: { readonly minReadySeconds: number };
    readonly autoscaling: {
        readonly enabled: boolean;
        readonly maxReplicas: number;
        readonly targetCPUUtilizationPercentage: number;
    };
    readonly resources: Readonly<Record<ResourcePart, ResourceQuantities>>;
    readonly networkPolicy: NetworkPolicyConfig;
    readonly timezone: string;
    readonly storage: {
        /** Backend per volume role; `setBy` is the config key that chose it (for messages). */
        readonly shared: { readonly backend: StorageBackend; readonly setBy: string };
        readonly data: { readonly backend: StorageBackend; readonly setBy: string };
        /** Protect data volumes from deletion and keep released volumes (Retain). */
        readonly protect: boolean;
        readonly sizes: Readonly<Record<VolumeSize, string>>;
        readonly nfs: { readonly server: string; readonly path: string; readonly staticVolumes: boolean };
        readonly cinder: { readonly type?: string; readonly availabilityZone?: string };
    };
    readonly database: {
        readonly name: string;
        readonly username: string;
        /** Databases created for the application user (the first is MYSQL_DATABASE). */
        readonly databases: readonly string[];
        /**
         * Versioned migrations, in the order they apply: the application checkout's SQL (config/migrations.ts
         * APPLICATION_SQL), then the user's files (database.initScriptsPath) in name order.
         */
        readonly migrations: readonly Migration[];
    };
    readonly messaging: { readonly username: string };
    readonly discovery: { readonly username: string };
    /** MySQL dumps by a CronJob to a volume on the data class, keeping the last `retention`; see docs/day-2.md. */
    readonly backup: {
        readonly enabled: boolean;
        readonly schedule: string;
        readonly retention: number;
        /** Copies of every dump (and its checksums) in S3-compatible storage off the cluster. */
        readonly offsite?: OffsiteConfig;
        /** The scheduled restore drill (needs offsite): the newest off-site copy into scratch databases, checked against its manifest. */
        readonly drill: { readonly enabled: boolean; readonly schedule: string };
    };
    /** Generation per credential: raising one rotates it on the next `up` (`npm run rotate`). */
    readonly rotation: Readonly<Record<RotatedCredential, number>>;
    readonly logging: {
        readonly enabled: boolean;
        /** The Secret (made outside git, kubernetes.io/tls with ca.crt) of OpenSearch's node certificate: transport and HTTP TLS. */
        readonly tlsSecretName: string;
    };
    readonly tracing: {
        readonly enabled: boolean;
        /** management.tracing.sampling.probability of every traced service (0 to 1). */
        readonly samplingProbability: number;
    };
    /** The application checkout the stack deploys: its config/ is served as written (config/served.ts). */
    readonly application: ApplicationCheckout;
    /** What the config server serves above the applications' own configuration (see config/served.ts). */
    readonly configServer: ConfigServerSource;
    /** JWT lifetimes user-service signs with (token.expiration_time / token.refresh_time, served in ms). */
    readonly token: { readonly expirationSeconds: number; readonly refreshSeconds: number };
    /** The mail account of the services whose application files set spring.mail.host: a Secret you create (username, password). */
    readonly mail: { readonly credentialsSecretName?: string };
    readonly ci: { readonly enabled: boolean };
}

/** The Secrets the program creates from encrypted stack config (tls, offsiteCredentials). */
export const TLS_SECRET_NAME = "ingress-tls";
export const OFFSITE_SECRET_NAME = "backup-offsite-credentials";

export const rotatedCredentials = ["mysql", "rabbitmq", "eureka", "token"] as const;
export type RotatedCredential = (typeof rotatedCredentials)[number];

/** S3-compatible object storage the agency runs, for copies of the backups. */
export interface OffsiteConfig {
    /** https://host[:port] (http only for a loopback or in-cluster test server). */
    readonly endpoint: string;
    readonly bucket: string;
    /** Key prefix under the bucket, without leading or trailing slash; may be empty. */
    readonly prefix: string;
    readonly region: string;
    /**
     * The Secret with keys access-key-id and secret-access-key: created outside git in the namespace, or by the program
     * from `credentials` (then named OFFSITE_SECRET_NAME).
     */
    readonly credentialsSecretName: string;
    /** The store's key pair from encrypted stack config `offsiteCredentials`: the program creates the Secret. */
    readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
    /** A ConfigMap with key ca.crt: the CA that signed the endpoint's certificate (else the image's CAs). */
    readonly caConfigMap?: string;
    /** Backups kept in the bucket (the oldest beyond this are deleted after a successful upload). */
    readonly retention: number;
    /** The store's address range: the backup pods' only egress outside the cluster (network policy). */
    readonly cidrs: readonly string[];
    /** OpenSearch snapshots (with logging on): a snapshot repository on the shared class, mirrored to the store. */
    readonly opensearch: { readonly schedule: string; readonly retention: number };
    /** Jenkins' home (with ci on): a tar.gz archive every day at `time` (HH:MM in `timezone`), the newest `retention` kept. */
    readonly jenkins: { readonly time: string; readonly retention: number };
}

/** The application checkout (stack config applicationCheckout), read once: where it is, its commit, its config/ files. */
export interface ApplicationCheckout {
    readonly path: string;
    readonly commit: string;
    /** config/*.yml by file name, as written. */
    readonly configFiles: Readonly<Record<string, string>>;
    /** The application's SQL files (config/migrations.ts APPLICATION_SQL) by path in the checkout, as written. */
    readonly sqlFiles: Readonly<Record<string, string>>;
    /** Each backend service's packaged backend/<service>/src/main/resources/application.yml, as written. */
    readonly packagedConfig: Readonly<Record<string, string>>;
}

/** A statement of an application file that never runs (config/migrations.ts NEVER_RUN): where, what, why. */
export interface StrippedStatement {
    readonly file: string;
    readonly line: number;
    readonly what: string;
    readonly reason: string;
}

/** One schema migration: applied once to its database by jobs/migrate/migrate.sh, recorded with its checksum. */
export interface Migration {
    /** Its identity in the history table: "1.2" (application file 1, second `use` segment), "user/<file>". */
    readonly version: string;
    readonly name: string;
    readonly origin: "application" | "user";
    readonly database: string;
    /** The SQL as run (after stripping), and its sha256. */
    readonly sql: string;
    readonly checksum: string;
    /** Tables it creates: when all exist already (a database filled by hand), it is recorded as baselined, not run. */
    readonly creates: readonly string[];
    readonly stripped: readonly StrippedStatement[];
}

/**
 * The application config repository: files from a local directory (shipped in a ConfigMap) or a git
 * repository, served above the files the platform generates for each service; with neither, only those.
 */
export type ConfigServerSource =
    | { readonly source: "directory"; readonly files: Readonly<Record<string, string>> }
    | { readonly source: "git"; readonly uri: string; readonly label: string; readonly searchPaths?: string };

export const volumeSizes = ["shared", "mysql", "jenkins", "opensearch", "rabbitmq", "backup"] as const;
export type VolumeSize = (typeof volumeSizes)[number];

/** Raw config by key, as Pulumi gives it: a string, or undefined when unset. */
export type ConfigSource = (key: string) => string | undefined;

/** A structured config value as Pulumi hands it over (JSON). */
export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
