// The workload catalog: what the platform deploys, as data. A new built-in backend service is one entry
// here; an agency adds its own through the `services` stack config key (config/services.ts).

/** Which shared settings a backend service reads from the backend ConfigMap and which secrets it needs. */
export interface BackendServiceSpec {
    /** Service name: the in-cluster DNS name, the Eureka id and the image suffix. */
    readonly name: string;
    /** Full image reference; unset for built-ins, whose image is <image.registry>/egovframe-msa-edu-backend-<name>:<image.tag>. */
    readonly image?: string;
    readonly port: number;
    /** Reads MySQL (DB_USERNAME / DB_PASSWORD and MYSQL_HOSTNAME). */
    readonly needsDatabase: boolean;
    /** Mounts the shared backend volume at APP_HOME. */
    readonly needsSharedVolume: boolean;
    /** Registers with (and authenticates to) the discovery server. */
    readonly usesDiscovery: boolean;
    /** Reads its settings from the config server. */
    readonly usesConfigServer: boolean;
    /** Talks to RabbitMQ (Spring Cloud Bus and events). */
    readonly usesMessaging: boolean;
    /** Is the Eureka server itself: its own user comes from SPRING_SECURITY_USER_*. */
    readonly isDiscoveryServer: boolean;
    /** Is the API gateway: it routes requests to every service with routedByGateway. */
    readonly isGateway: boolean;
    /** Receives API requests through the gateway. */
    readonly routedByGateway: boolean;
    /** Ships its logs (Logstash TCP appender) to the log shipper when logging is on. */
    readonly shipsLogs: boolean;
    /** Sends traces to Zipkin. */
    readonly usesTracing: boolean;
    /** Signs or verifies JWTs (TOKEN_SECRET). */
    readonly usesToken: boolean;
    /** Sets SERVER_PORT explicitly (the reference does so for the business services). */
    readonly setsServerPort: boolean;
    /** Public host prefix when exposed through an Ingress, e.g. "api" gives api.<domain>. */
    readonly ingressHost?: string;
    /** The reference's NodePort, used when serviceType is NodePort. */
    readonly nodePort?: number;
    /** Other services it calls directly through Eureka (Feign / load-balanced clients in its source). */
    readonly calls?: readonly string[];
    /** The database it uses and through which API (its starter: data-jpa = jdbc, data-r2dbc = r2dbc); default jdbc on database.name. */
    readonly database?: { readonly name: string; readonly api: "jdbc" | "r2dbc" };
    /**
     * Readiness path, when the service's security does not let Spring's probe groups through: the liveness check
     * is then the TCP accept. Default: /actuator/health/readiness and /actuator/health/liveness.
     */
    readonly readinessPath?: string;
    /** Extra plain env vars (never secrets). */
    readonly env?: Readonly<Record<string, string>>;
}

const business = {
    // Above 1024: the pods run as uid 1000 with every capability dropped, and containerd 1.x and CRI-O do not
    // open the privileged ports to them (upstream's SERVER_PORT=80 would fail with "Permission denied" there).
    port: 8080,
    needsDatabase: true,
    usesDiscovery: true,
    usesConfigServer: true,
    usesMessaging: true,
    isDiscoveryServer: false,
    isGateway: false,
    routedByGateway: true,
    shipsLogs: true,
    usesTracing: true,
    usesToken: true,
    setsServerPort: true,
} as const;

export const backendServices: readonly BackendServiceSpec[] = [
    {
        name: "config", port: 8888, needsDatabase: false, needsSharedVolume: false, usesDiscovery: false,
        usesConfigServer: false, usesMessaging: true, isDiscoveryServer: false, isGateway: false, routedByGateway: false,
        shipsLogs: true, usesTracing: false,
        usesToken: false, setsServerPort: false,
    },
    {
        name: "discovery", port: 8761, needsDatabase: false, needsSharedVolume: false, usesDiscovery: false,
        usesConfigServer: false, usesMessaging: false, isDiscoveryServer: true, isGateway: false, routedByGateway: false,
        // Upstream discovery has no logback-spring.xml and no Logstash encoder: it logs to stdout only.
        shipsLogs: false, usesTracing: false,
        usesToken: false, setsServerPort: false,
        ingressHost: "discovery", nodePort: 30002,
    },
    {
        name: "apigateway", port: 8000, needsDatabase: false, needsSharedVolume: false, usesDiscovery: true,
        usesConfigServer: true, usesMessaging: true, isDiscoveryServer: false, isGateway: true, routedByGateway: false,
        shipsLogs: true, usesTracing: false,
        usesToken: true, setsServerPort: false,
        ingressHost: "api", nodePort: 30001,
        // WebFluxSecurityConfig permits /actuator/?* (one segment): /actuator/health/readiness would go to
        // ReactiveAuthorization, which asks the gateway's own Service, empty until the pod is ready.
        readinessPath: "/actuator/health",
    },
    // calls: upstream DelegatingAuthorizationService (http://user-service/...), @FeignClient and @ReactiveFeignClient.
    // database: upstream config/<service>.yml's URL (jdbc:mysql://.../msaportal, r2dbc:mysql://.../reservation, ...).
    { name: "user-service", ...business, needsSharedVolume: false, database: { name: "msaportal", api: "jdbc" } },
    { name: "portal-service", ...business, needsSharedVolume: true, calls: ["user-service", "board-service"], database: { name: "msaportal", api: "jdbc" } },
    { name: "board-service", ...business, needsSharedVolume: true, calls: ["user-service"], database: { name: "msaportal", api: "jdbc" } },
    { name: "reserve-item-service", ...business, needsSharedVolume: false, database: { name: "msaportal", api: "r2dbc" } },
    {
        name: "reserve-check-service", ...business, needsSharedVolume: false, calls: ["user-service", "reserve-item-service"],
        database: { name: "reservation", api: "r2dbc" },
    },
    { name: "reserve-request-service", ...business, needsSharedVolume: false, database: { name: "reservation", api: "r2dbc" } },
];

export interface FrontendSpec {
    readonly name: "admin" | "portal";
    readonly port: number;
    readonly ingressHost: string;
    readonly nodePort: number;
}

export const frontends: readonly FrontendSpec[] = [
    { name: "admin", port: 3000, ingressHost: "admin", nodePort: 30011 },
    { name: "portal", port: 3000, ingressHost: "portal", nodePort: 30012 },
];

/** Names of the built-in workloads a user can give per-service replica counts for (config adds its own services). */
export const scalableNames: readonly string[] = [
    ...backendServices.map((s) => s.name),
    ...frontends.map((f) => `frontend-${f.name}`),
];

/** Workload and Service names the platform's other parts use, whether or not the stack turns them on. */
export const infraWorkloadNames: readonly string[] = [
    "mysql", "rabbitmq", "zipkin", "opensearch", "logstash", "dashboards", "jenkins", "jenkins-jnlp", "csi-nfs-controller", "csi-nfs-node",
];

/** Public host prefixes of the infrastructure UIs (<prefix>.<domain>). */
export const infraIngressHosts: readonly string[] = ["rabbitmq", "zipkin", "dashboards", "jenkins"];

/** Third-party images, overridable per stack through the `images` config key (for mirrors). */
export const defaultImages = {
    // 8.4 LTS (config/mysql.ts SUPPORTED_MYSQL); a patch release Docker Hub's official image publishes.
    mysql: "mysql:8.4.11",
    // 4.3: the only series with community support (RabbitMQ supports the latest minor only; 3.13 ended 2024-09).
    // Spring Cloud Bus's queues need one permit there (config/rabbitmq.ts BROKER_SETTINGS).
    rabbitmq: "rabbitmq:4.3.6-management",
    zipkin: "openzipkin/zipkin:3.4",
    // OpenSearch 2.19 (Apache-2.0), the last 2.x minor, maintained beside 3.x; Dashboards must be the same version.
    opensearch: "opensearchproject/opensearch:2.19.3",
    dashboards: "opensearchproject/opensearch-dashboards:2.19.3",
    // The log shipper (Apache-2.0, CNCF): its tcp input reads the services' LogstashTcpSocketAppender JSON, its
    // opensearch output writes logstash-YYYY.MM.DD indices as Logstash did (components/logging.ts).
    fluentBit: "fluent/fluent-bit:5.2.1",
    // The LTS line current in Dec 2026 (2.580.3, 25 Nov 2026) on JDK 21: the project no longer publishes JDK 11 images.
    jenkins: "jenkins/jenkins:2.580.3-lts-jdk21",
    // csi-driver-nfs v4.13.4 (Kubernetes SIG Storage, the successor of nfs-subdir-external-provisioner) and the
    // sidecars of its deploy/v4.13.4 manifests, at their versions there.
    nfsPlugin: "registry.k8s.io/sig-storage/nfsplugin:v4.13.4",
    csiProvisioner: "registry.k8s.io/sig-storage/csi-provisioner:v6.3.0",
    csiNodeDriverRegistrar: "registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.17.0",
    csiLivenessProbe: "registry.k8s.io/sig-storage/livenessprobe:v2.19.0",
    // Not run by a workload: the base `npm run frontends` assembles the frontend images on (docs/frontends.md).
    // Node.js = FRONTEND_NODE_VERSION (toolchain/versions.env), glibc like the hosts the apps are built on.
    frontendBase: "node:22.23.5-bookworm-slim",
    /** The backup jobs' uploader to S3-compatible storage (backup.offsite); its version is RCLONE_VERSION of toolchain/versions.env. */
    rclone: "rclone/rclone:1.76.0",
} as const;

export type ImageKey = keyof typeof defaultImages;

/** Ports the infrastructure parts serve on (and the config and discovery servers), one place for all. */
export const infraPorts = {
    config: 8888,
    discovery: 8761,
    mysql: 3306,
    rabbitmqAmqp: 5672,
    rabbitmqManagement: 15672,
    zipkin: 9411,
    opensearch: 9200,
    opensearchTransport: 9300,
    /** The shipper's TCP input: the port the services' Logstash appender sends to (logstash_hostname), as before. */
    logstash: 8088,
    /** Fluent Bit's HTTP server (its health endpoint, the liveness and readiness probes). */
    logstashMonitoring: 2020,
    dashboards: 5601,
    jenkinsHttp: 8080,
    jenkinsAgent: 50000,
} as const;

/** NodePorts of the reference's infrastructure Services. */
export const infraNodePorts = {
    rabbitmqAmqp: 30003,
    rabbitmqManagement: 30004,
    dashboards: 30005,
    jenkinsHttp: 30006,
    jenkinsAgent: 30007,
    zipkin: 30008,
} as const;
