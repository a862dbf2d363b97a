// The one declaration of the stack config: every key and nested field with its type, default, allowed values and
// meaning, and whether it may hold a secret. The reader (config/reader.ts) validates by it; `npm run docs:config`
// generates from it Pulumi.yaml's `config:` block, README.md's settings table and schema/stack-config.schema.json.
// Rules across keys (prod needs a fixed tag, refresh >= expiration, ...) stay in config/index.ts.
import { defaultImages, ImageKey } from "./catalog";
import { DIGEST, parseImageRef } from "./images";
import {
    CIDR, CRON, cronProblems, DNS_LABEL, DNS_SUBDOMAIN, IMAGE_TAG, IPV4, isTimeZone, LABEL_VALUE, looksLikeKubeconfigContents, MIRROR, MYSQL_IDENT,
    QUANTITY, REGISTRY, STORAGE_SIZE, timeZoneSuggestion, USERNAME,
} from "./patterns";
import {
    Environment, environments, gatewayImplementations, ingressKinds, pullPolicies, ResourcePart, ResourceQuantities, resourceParts, rotatedCredentials, serviceTypes, storageBackends,
    volumeSizes,
} from "./types";

/** A default that depends on the stack's environment. */
export interface ByEnvironment<T> { readonly byEnvironment: Readonly<Record<Environment, T>> }
export type Default<T> = T | ByEnvironment<T>;

interface Base {
    /** What the setting does, for Pulumi.yaml, the README and editors (plain text, `code` allowed). */
    readonly description: string;
    /** A document (path, or README anchor #...) that explains more. */
    readonly see?: string;
    /** Must be set (every stack states it; inside an object: whenever the object is set). */
    readonly required?: boolean;
    /** The default when it is computed from other keys (the reader is given it), as the docs show it. */
    readonly defaultText?: string;
    /**
     * Holds a secret: true always, or a test of the value (kubeconfig holds one when it is the contents); such a value is
     * never echoed. false: named like a credential but holds none (declared, so the name is not taken for a secret).
     */
    readonly secret?: boolean | ((value: unknown) => boolean);
}
export interface StringNode extends Base {
    readonly kind: "string";
    readonly pattern: RegExp;
    /** What is allowed, as messages say it ("expected <allowed>"). */
    readonly allowed: string;
    readonly default?: Default<string>;
    /** A check beyond the pattern: undefined when the value is fine, else the whole "expected ..." text. */
    readonly check?: (value: string) => string | undefined;
}
export interface EnumNode extends Base { readonly kind: "enum"; readonly values: readonly string[]; readonly default?: Default<string> }
export interface BooleanNode extends Base { readonly kind: "boolean"; readonly default?: Default<boolean> }
export interface IntegerNode extends Base { readonly kind: "integer"; readonly min: number; readonly max: number; readonly default?: Default<number> }
/** A decimal number; given as a YAML number or a string of digits. */
export interface NumberNode extends Base {
    readonly kind: "number"; readonly min: number; readonly max: number; readonly allowed: string; readonly default?: number;
}
export interface ListNode extends Base {
    readonly kind: "list";
    readonly items: SchemaNode;
    /** What is allowed of the whole list, as messages say it. */
    readonly allowed: string;
    readonly maxItems?: number;
    readonly default?: readonly (string | number)[];
}
export interface ObjectNode extends Base {
    readonly kind: "object";
    readonly fields: Readonly<Record<string, SchemaNode>>;
    /** Documented as one row (its fields in the description), not a row per field. */
    readonly summary?: boolean;
}
/** An object whose keys are names the stack chooses (workloads, image references). */
export interface MapNode extends Base { readonly kind: "map"; readonly keyName: string; readonly values: SchemaNode }
export type SchemaNode = StringNode | EnumNode | BooleanNode | IntegerNode | NumberNode | ListNode | ObjectNode | MapNode;

const str = (n: Omit<StringNode, "kind">): StringNode => ({ kind: "string", ...n });
const oneOf = (n: Omit<EnumNode, "kind">): EnumNode => ({ kind: "enum", ...n });
const bool = (n: Omit<BooleanNode, "kind">): BooleanNode => ({ kind: "boolean", ...n });
const int = (n: Omit<IntegerNode, "kind">): IntegerNode => ({ kind: "integer", ...n });
const list = (n: Omit<ListNode, "kind">): ListNode => ({ kind: "list", ...n });
const obj = (description: string, fields: Record<string, SchemaNode>, more: Partial<ObjectNode> = {}): ObjectNode =>
    ({ kind: "object", description, fields, ...more });
const onOff = (description: string, def: Default<boolean>): ObjectNode =>
    obj(description, { enabled: bool({ description: `Deploy ${description.replace(/\.$/, "")}.`, default: def }) });

export const CRON_ALLOWED = "a cron schedule of five fields (minute hour day month weekday), e.g. \"30 2 * * *\", or @daily";
const cron = (description: string, def: string): StringNode => str({
    description, default: def, pattern: CRON, allowed: CRON_ALLOWED,
    check: (v) => {
        const bad = cronProblems(v);
        return bad.length > 0 ? `a cron schedule whose fields are in range (${bad.join("; ")}), e.g. "30 2 * * *"` : undefined;
    },
});
const cidrs = (description: string, def?: readonly string[]): ListNode => list({
    description, default: def, allowed: "a list of IPv4 CIDRs such as 10.0.0.0/8",
    items: str({ description: "An IPv4 CIDR.", pattern: CIDR, allowed: "an IPv4 CIDR such as 10.0.0.0/8" }),
});
const IMAGE_ALLOWED = `an image reference such as ${defaultImages.mysql}`;
const imageRef = (description: string, def?: string): StringNode => str({
    description, default: def, pattern: /^\S+$/, allowed: IMAGE_ALLOWED,
    check: (v) => {
        const parsed = parseImageRef(v);
        return typeof parsed === "string" ? `${IMAGE_ALLOWED} (${parsed})` : undefined;
    },
});

/** Requests / limits per part: cpu, memory, ephemeral-storage (emptyDir scratch space counts against it). */
const q = (cpu: string, memory: string, eph: string) => ({ cpu, memory, "ephemeral-storage": eph });
export const defaultResources: Readonly<Record<ResourcePart, ResourceQuantities>> = {
    backend: { requests: q("250m", "512Mi", "256Mi"), limits: q("1000m", "1Gi", "1Gi") },
    frontend: { requests: q("100m", "128Mi", "256Mi"), limits: q("500m", "512Mi", "1Gi") },
    mysql: { requests: q("250m", "512Mi", "512Mi"), limits: q("1", "1Gi", "2Gi") },
    rabbitmq: { requests: q("100m", "256Mi", "512Mi"), limits: q("1", "1Gi", "2Gi") },
    opensearch: { requests: q("250m", "1Gi", "1Gi"), limits: q("1", "2Gi", "4Gi") },
    // Fluent Bit is C: tens of MiB where Logstash's JVM needed 768Mi; its buffer is in memory.
    fluentBit: { requests: q("50m", "64Mi", "128Mi"), limits: q("500m", "256Mi", "512Mi") },
    dashboards: { requests: q("100m", "512Mi", "256Mi"), limits: q("1", "1Gi", "1Gi") },
    zipkin: { requests: q("100m", "256Mi", "128Mi"), limits: q("1", "1Gi", "512Mi") },
    jenkins: { requests: q("250m", "1Gi", "512Mi"), limits: q("2", "2Gi", "4Gi") },
    // Each container of csi-driver-nfs's pods; the memory limit is the node plugin's in its upstream manifests.
    nfsProvisioner: { requests: q("10m", "32Mi", "16Mi"), limits: q("200m", "300Mi", "64Mi") },
};
/** The fields of resources.<part>.requests / .limits and the Kubernetes resource each sets. */
export const resourceFields = [
    ["cpu", "cpu", "a CPU quantity such as 250m or 1"],
    ["memory", "memory", "a memory quantity such as 512Mi or 1Gi"],
    ["ephemeralStorage", "ephemeral-storage", "a storage quantity such as 256Mi or 1Gi"],
] as const;
const quantities = (part: ResourcePart, kind: "requests" | "limits"): ObjectNode => obj(`${kind === "requests" ? "Requests" : "Limits"} of ${part}.`,
    Object.fromEntries(resourceFields.map(([field, k8s, allowed]) =>
        [field, str({ description: `${k8s} ${kind}.`, pattern: QUANTITY, allowed, default: defaultResources[part][kind][k8s] })])));

/** Flags an added service may set; the gateway and the discovery server stay built-in. */
export const serviceFlags = [
    "needsDatabase", "needsSharedVolume", "usesDiscovery", "usesConfigServer", "usesMessaging", "routedByGateway",
    "shipsLogs", "usesTracing", "usesToken", "setsServerPort",
] as const;
const flagMeaning: Record<(typeof serviceFlags)[number], string> = {
    needsDatabase: "gets the MySQL credentials and the database", needsSharedVolume: "mounts the shared volume at APP_HOME",
    usesDiscovery: "registers with Eureka", usesConfigServer: "reads its configuration from the config server",
    usesMessaging: "gets the RabbitMQ credentials", routedByGateway: "is routed by apigateway", shipsLogs: "ships logs to the log shipper (Logstash appender)",
    usesTracing: "reports to Zipkin", usesToken: "gets the JWT signing key", setsServerPort: "gets SERVER_PORT set to port (default true)",
};
// A Service name is an RFC 1035 label: it must start with a letter.
const SERVICE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const MAX_ADDED_SERVICES = 200;
export const addedService = obj("A backend service added to the catalog.", {
    name: str({ description: "Its name (Deployment, Service, Eureka app).", required: true, pattern: SERVICE_NAME,
        allowed: "a DNS label starting with a letter: lower-case letters, digits and '-', at most 63 characters" }),
    image: str({ description: "Its image.", required: true, pattern: /^[a-z0-9]+([._/:@-][A-Za-z0-9_.-]+)*$/,
        allowed: "an image reference such as registry.example.go.kr/egov/notice-service:1.0.0" }),
    port: int({ description: "The port it listens on (from 1024: the pods run without root and every capability dropped).", required: true, min: 1024, max: 65535 }),
    replicas: int({ description: "Its replica count.", defaultText: "replicas", min: 1, max: 50 }),
    ingressHost: str({ description: "Public at <ingressHost>.<domain> when set.", pattern: DNS_LABEL,
        allowed: "a host prefix (a DNS label): the service is then public at <prefix>.<domain>" }),
    ...Object.fromEntries(serviceFlags.map((f) => [f, bool({ description: `It ${flagMeaning[f]}.`, default: f === "setsServerPort" })])),
}, { summary: true });

const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const S3_PREFIX = /^([A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*)?$/;

/** Default of rollout.minReadySeconds: how long a new pod must stay ready before the rollout goes on. */
export const minReadySecondsDefault: Readonly<Record<Environment, number>> = { dev: 0, staging: 10, prod: 10 };

/** Every `egov-platform:` key, in the order the docs list them. */
export const STACK_SCHEMA = {
    environment: oneOf({
        description: "The stack's environment, stated in every stack (never defaulted, not even from the stack name). prod refuses image tag " +
            "latest and unprotected storage, and defaults to Cinder for data volumes, backups on and at most 6 replicas.",
        values: environments, required: true,
    }),
    kubeconfig: str({
        description: "Path (`~` allowed) to, or contents of, the target cluster's kubeconfig; contents only encrypted (`pulumi config set --secret`). " +
            "This or kubeContext is required.",
        pattern: /^.+$/s, allowed: "a kubeconfig path or contents", secret: (v) => typeof v === "string" && looksLikeKubeconfigContents(v),
    }),
    kubeContext: str({ description: "Context of the target cluster in the kubeconfig. This or kubeconfig is required.", pattern: /^\S+$/,
        allowed: "a kubeconfig context name" }),
    localCluster: bool({
        description: "true: the stack runs on the local test cluster, which `npm run deploy` builds (Go) and starts itself (Pulumi.dev.yaml). " +
            "Never inferred from the stack's name; refused in prod.",
        default: false,
    }),
    namespace: str({ description: "Namespace everything is deployed to, not kube-*; in-cluster host names derive from it.", default: "egov",
        pattern: DNS_LABEL, allowed: "a DNS label: lower-case letters, digits and '-', at most 63 characters" }),
    createNamespace: bool({
        description: "Create the namespace; false when it is provided (pre-created: the program neither creates nor changes it; label it for " +
            "Pod Security, or apply _admin/_cluster/Namespace/<ns>.yaml of `npm run render`). Not read with clusterScoped false, which never creates it.",
        default: true,
    }),
    clusterScoped: bool({
        description: "false: the stack creates objects in its namespace only (no namespace, StorageClass, PersistentVolume, ClusterRole, nor the " +
            "<ns>-storage / <ns>-ci namespaces' objects), so its identity needs only the Role `npm run render` writes; the cluster's admin " +
            "applies the _admin/ folder it writes.",
        default: true, see: "#namespace-scoped-deployment-no-cluster-admin",
    }),
    domain: str({
        description: "Base domain of the public hosts: api., discovery., admin., portal., rabbitmq., zipkin., dashboards., jenkins. + domain.",
        default: "egov.localtest.me", pattern: DNS_SUBDOMAIN, allowed: "a DNS domain such as egov.example.go.kr",
    }),
    ingress: obj("The routes of the public hosts: Ingresses, or Gateway API HTTPRoutes.", {
        kind: oneOf({ description: "Ingress (an Ingress controller such as ingress-nginx) or HTTPRoute (gateway.networking.k8s.io/v1, attached " +
            "to ingress.gateway); same hosts, TLS and request-size limits.", default: "Ingress", values: ingressKinds, see: "docs/gateway-api.md" }),
        className: str({ description: "IngressClass of every Ingress (kind Ingress only).", default: "nginx", pattern: DNS_SUBDOMAIN,
            allowed: "an IngressClass name" }),
        waitForAddress: bool({ description: "Wait for the ingress controller to assign an address (a cluster without one never does).", default: false }),
        tlsSecretName: str({ description: "TLS Secret (made outside git, in the namespace) for every host; URLs become https. Or the stack key tls.",
            pattern: DNS_SUBDOMAIN, allowed: "a Secret name" }),
        gateway: obj("The cluster's Gateway the HTTPRoutes attach to: required with kind HTTPRoute, refused with Ingress. TLS terminates at " +
            "its listener, which names the TLS Secret (a ReferenceGrant is rendered when the Gateway is in another namespace).", {
            name: str({ description: "The Gateway's name.", required: true, pattern: DNS_SUBDOMAIN, allowed: "a Gateway name" }),
            namespace: str({ description: "The Gateway's namespace.", required: true, pattern: DNS_LABEL, allowed: "a namespace name" }),
            sectionName: str({ description: "The listener the routes attach to (e.g. the HTTPS one); every listener admitting them when unset; " +
                "required in prod with TLS.", pattern: DNS_SUBDOMAIN, allowed: "a listener name" }),
            implementation: oneOf({ description: "The Gateway's controller: the request-size limit is rendered as its policy (nginx-gateway-fabric: " +
                "ClientSettingsPolicy; envoy-gateway: BackendTrafficPolicy); other: none, the limit is the controller's own.",
                required: true, values: gatewayImplementations, see: "docs/gateway-api.md" }),
        }, { see: "docs/gateway-api.md" }),
    }),
    tls: obj("The public hosts' PEM certificate chain and key, encrypted (`pulumi config set --secret --path tls.key < FILE`): the program " +
        "makes Secret ingress-tls and serves https. Not with ingress.tlsSecretName.", {
        certificate: str({ description: "The PEM certificate chain of the public hosts (*.<domain>).", required: true, secret: true,
            pattern: /-----BEGIN CERTIFICATE-----/, allowed: "the PEM certificate chain of the public hosts (*.<domain>)" }),
        key: str({ description: "Its PEM private key.", required: true, secret: true, pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
            allowed: "its PEM private key" }),
    }, { secret: true }),
    image: obj("The platform's images (egovframe-msa-edu-backend-<service>, -frontend-<name>).", {
        registry: str({ description: "Registry/repository prefix of the platform images.", default: "egovframe", pattern: REGISTRY,
            allowed: "a registry/repository prefix such as egovframe or registry.example.go.kr/egov" }),
        tag: str({ description: "Tag of the platform images; prod refuses latest.", default: "latest", pattern: IMAGE_TAG, allowed: "an image tag" }),
        pullPolicy: oneOf({ description: "imagePullPolicy of every container.", default: "IfNotPresent", values: pullPolicies }),
        requireDigests: bool({ description: "true refuses, naming each one, every image the stack runs without a digest pin.", default: false }),
    }),
    images: obj("Sources of the third-party images (config/catalog.ts).", Object.fromEntries((Object.keys(defaultImages) as ImageKey[]).map((k) =>
        [k, imageRef(k === "frontendBase" ? "The Node.js base npm run frontends builds the frontend images on." :
            k === "rclone" ? "The backup jobs' uploader to S3-compatible storage." : `Source of the ${k} image.`, defaultImages[k])]))),
    frontends: obj("The frontend images.", {
        allowPublishedImages: bool({
            description: "true lets prod run the published frontend images when frontends.lock.json has none built for the stack " +
                "(their API address and public URL are unknown).", default: false, see: "docs/frontends.md",
        }),
    }),
    imageMirror: str({
        description: "Registry every image (platform and third-party, init containers and jobs too) is pulled through: " +
            "<imageMirror>/<source registry>/<repository>:<tag>.",
        pattern: MIRROR, see: "#air-gapped-clusters-and-change-review",
        allowed: "a registry host with an optional path, e.g. harbor.agency.go.kr/egov (the host needs a dot, a port or to be localhost)",
    }),
    imageDigests: {
        kind: "map", keyName: "<image reference>",
        description: `Digest pins by source reference, over images.lock.json, e.g. {"docker.io/library/${defaultImages.mysql}": "sha256:..."}.`,
        values: str({ description: "The digest.", pattern: DIGEST, allowed: "a digest sha256:<64 hex digits>" }),
    },
    supportWaivers: {
        kind: "map", keyName: "<image key>", see: "docs/support.md",
        description: "Images past their end of support (config/support.ts) that the policy pack lets prod run until a date, e.g. while a move " +
            "to the supported default is under way: image key (as in images) -> {reason, until}. After until the waiver lapses.",
        values: obj("A waiver.", {
            reason: str({ description: "Why, for the security review.", required: true, pattern: /\S/, allowed: "a reason" }),
            until: str({ description: "The last day it holds.", required: true, pattern: /^\d{4}-\d{2}-\d{2}$/, allowed: "a date YYYY-MM-DD" }),
        }),
    },
    serviceType: oneOf({ description: "Type of the Services: NodePort uses the reference's node ports (30001-30012).", default: "ClusterIP",
        values: serviceTypes }),
    replicas: int({ description: "Replicas of every application workload; the autoscaler's minimum when autoscaling.", default: 1, min: 1, max: 50 }),
    serviceReplicas: {
        kind: "map", keyName: "<workload>", defaultText: "replicas",
        description: "Replicas per workload: the service names (built-in and added), frontend-admin, frontend-portal; discovery is always 1.",
        values: int({ description: "Its replica count.", min: 1, max: 50 }),
    },
    services: list({
        description: "Backend services added to the built-in nine: [{name, image, port, replicas, ingressHost, <flags>}]; flags (false unless " +
            `set, setsServerPort true): ${serviceFlags.join(", ")}. Each gets what a built-in service gets.`,
        see: "#adding-a-service", items: addedService, maxItems: MAX_ADDED_SERVICES, allowed: "a list (structured config)",
    }),
    readinessTimeout: int({
        description: "Seconds a service's or frontend's rollout may make no progress (its progressDeadlineSeconds); `pulumi up` fails 10 s " +
            "later naming it. Raise it for many replicas of slow-starting pods.", default: 600, min: 10, max: 7200,
    }),
    rollout: obj("How workloads are replaced.", {
        minReadySeconds: int({ description: "Seconds a new pod must stay ready before a rollout counts it available and replaces the next.",
            default: { byEnvironment: minReadySecondsDefault }, min: 0, max: 300, see: "docs/operating-production.md" }),
    }),
    autoscaling: obj("HorizontalPodAutoscalers (autoscaling/v2, CPU) of the application workloads.", {
        enabled: bool({ description: "An autoscaler per application workload; its minimum is the workload's replica count.", default: true }),
        maxReplicas: int({ description: "The autoscalers' maximum; at least every replica count.", default: { byEnvironment: { dev: 3, staging: 3, prod: 6 } }, min: 1, max: 100 }),
        targetCPUUtilizationPercentage: int({ description: "The CPU utilisation the autoscalers aim at.", default: 70, min: 1, max: 100 }),
    }),
    resources: obj(`Requests and limits per part: {requests: {cpu, memory, ephemeralStorage}, limits: {...}} for ${resourceParts.join(", ")}; ` +
        "the services' and frontends' heaps follow limits.memory.", Object.fromEntries(resourceParts.map((p) =>
        [p, obj(`Resources of ${p}.`, { requests: quantities(p, "requests"), limits: quantities(p, "limits") })])),
    { summary: true, defaultText: "per part (config/schema.ts defaultResources)", see: "docs/security.md" }),
    networkPolicy: obj("Default-deny NetworkPolicies derived from the service graph.", {
        enabled: bool({ description: "Deploy the policies.", default: true }),
        ingressNamespace: str({ description: "Namespace of the ingress controller, whose pods may reach the public ports.", default: "ingress-nginx",
            pattern: DNS_LABEL, allowed: "the namespace name of the ingress controller" }),
        gatewayDataPlane: obj("The Gateway's data plane pods (ingress.kind HTTPRoute), which may reach the public ports.", {
            namespace: str({ description: "Their namespace.", defaultText: "envoy-gateway: envoy-gateway-system, else ingress.gateway.namespace",
                pattern: DNS_LABEL, allowed: "a namespace name" }),
            podLabels: { kind: "map", keyName: "<label>", description: "Labels they carry.",
                defaultText: "nginx-gateway-fabric: gateway.networking.k8s.io/gateway-name; envoy-gateway: gateway.envoyproxy.io/owning-gateway-{name,namespace}; other: none",
                values: str({ description: "The label's value.", pattern: LABEL_VALUE, allowed: "a label value" }) },
        }, { see: "docs/gateway-api.md" }),
        apiServer: obj("Where the Kubernetes API server is, for the pods that call it.", {
            cidrs: cidrs("The API server's addresses.", ["0.0.0.0/0"]),
            ports: list({ description: "The API server's ports.", default: [443, 6443], allowed: "a list of TCP ports (1-65535)",
                items: int({ description: "A TCP port.", min: 1, max: 65535 }) }),
        }),
        externalEgress: { kind: "map", keyName: "<workload>", see: "docs/security.md",
            description: "Egress per workload (its app label) to CIDRs outside the cluster, e.g. jenkins to the git server.",
            values: cidrs("The CIDRs it may reach.") },
    }, { see: "docs/security.md" }),
    timezone: str({
        description: "TZ of every container, init containers and jobs included: an IANA zone Node's ICU knows.", default: "Asia/Seoul",
        pattern: /^.+$/, allowed: "an IANA time zone such as Asia/Seoul",
        check: (v) => (isTimeZone(v) ? undefined : `an IANA time zone such as Asia/Seoul or UTC (${timeZoneSuggestion(v)})`),
    }),
    storage: obj("Volumes: a backend per volume role (nfs, cinder: Cinder CSI, RWO, data only; hostpath: local clusters). ReadWriteOnce " +
        "volumes that more than one pod could mount are refused.", {
        backend: oneOf({ description: "One backend for both roles (one line).", values: storageBackends }),
        shared: obj("The shared (RWX) volume.", { backend: oneOf({ description: "Backend of the shared volume.", default: "nfs", values: storageBackends }) }),
        data: obj("The data (RWO) volumes: MySQL, Jenkins, OpenSearch, RabbitMQ, backups.", {
            backend: oneOf({ description: "Backend of the data volumes.", default: { byEnvironment: { dev: "nfs", staging: "nfs", prod: "cinder" } }, values: storageBackends }),
        }),
        protect: bool({ description: "Claims, static volumes and the namespace get Pulumi's protect; volumes are Retained. prod refuses false.",
            default: { byEnvironment: { dev: false, staging: false, prod: true } } }),
        sizes: obj("Volume sizes.", Object.fromEntries(volumeSizes.map((v) =>
            [v, str({ description: `Size of the ${v} volume.`, default: "5Gi", pattern: STORAGE_SIZE, allowed: "a size such as 5Gi" })]))),
        nfs: obj("The NFS server.", {
            server: str({ description: "The NFS server's address; required when a role uses nfs.", default: "", pattern: new RegExp(`${IPV4.source}|${DNS_SUBDOMAIN.source}`),
                allowed: "an NFS server address (IPv4 or DNS name)" }),
            path: str({ description: "The NFS export path.", default: "/srv/nfs", pattern: /^\/[^\s]*$/, allowed: "an absolute export path" }),
            staticVolumes: bool({ description: "Pre-bound PersistentVolumes at <path>/<namespace>/<claim> (no driver needed: in-tree NFS mounts); false lets " +
                "csi-driver-nfs create them (a directory <namespace>-<claim>-<volume> each).", default: true }),
        }),
        cinder: obj("Cinder volumes.", {
            type: str({ description: "Cinder volume type of the claims.", pattern: /^[\w.-]+$/, allowed: "a Cinder volume type" }),
            availabilityZone: str({ description: "Availability zone of the Cinder volumes.", pattern: /^[\w.-]+$/, allowed: "an availability zone" }),
        }),
    }, { see: "#storage-data-and-backups" }),
    database: obj("MySQL.", {
        name: str({ description: "MYSQL_DATABASE.", default: "msaportal", pattern: MYSQL_IDENT, allowed: "a MySQL identifier" }),
        username: str({ description: "The application user (not root); its password is generated.", default: "msaportal", pattern: MYSQL_IDENT,
            allowed: "a MySQL user name" }),
        databases: list({ description: "Databases created and granted to that user; every database the services use.",
            defaultText: "[msaportal, reservation]", allowed: "a list of MySQL identifiers",
            items: str({ description: "A database.", pattern: MYSQL_IDENT, allowed: "a MySQL identifier" }) }),
        initScriptsPath: str({
            description: "A .sql file or a directory of them: your schema migrations, applied once each after the application's, in file-name " +
                "order; a user, grant, password or DROP statement is refused; at most 900 KiB with the application's.",
            pattern: /^.+$/, allowed: "a path to a .sql file or a directory of .sql files", see: "docs/day-2.md#schema-migrations",
        }),
    }),
    messaging: obj("RabbitMQ.", {
        username: str({ description: "The RabbitMQ user; its password is generated.", default: "egov", pattern: USERNAME, allowed: "a user name" }),
    }),
    discovery: obj("The Eureka server (one replica, never autoscaled).", {
        username: str({ description: "The Eureka user; its password is generated.", default: "eureka", pattern: USERNAME, allowed: "a user name" }),
    }),
    backup: obj("MySQL dumps to a volume on the data class; restore with npm run db:restore.", {
        enabled: bool({ description: "Take the dumps.", default: { byEnvironment: { dev: false, staging: false, prod: true } } }),
        schedule: cron("When the dumps are taken, in timezone.", "30 2 * * *"),
        retention: int({ description: "Dumps kept on the volume.", default: 7, min: 1, max: 365 }),
        offsite: obj("Copies of every dump (and its checksums) in S3-compatible storage off the cluster.", {
            endpoint: str({ description: "The store's URL (http only to loopback or an in-cluster Service).", required: true,
                pattern: /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?\/?$/, allowed: "the object store's URL, https://host[:port]" }),
            bucket: str({ description: "The bucket.", required: true, pattern: S3_BUCKET, allowed: "an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)" }),
            prefix: str({ description: "Key prefix under the bucket.", default: "", pattern: S3_PREFIX,
                allowed: "a key prefix such as egov/prod (no leading or trailing slash)" }),
            region: str({ description: "The region the store expects.", default: "us-east-1", pattern: /^[a-z0-9-]{1,32}$/,
                allowed: "a region name the store accepts, e.g. us-east-1" }),
            credentialsSecretName: str({ description: "A Secret created outside git in the namespace, keys access-key-id and secret-access-key; " +
                "or the stack key offsiteCredentials (one of the two is required).", pattern: DNS_SUBDOMAIN,
            allowed: "the name of a Secret (created outside git) with keys access-key-id and secret-access-key, or offsiteCredentials (encrypted)" }),
            caConfigMap: str({ description: "A ConfigMap with key ca.crt: the CA of the endpoint's certificate (else the image's CAs).",
                pattern: DNS_SUBDOMAIN, allowed: "the name of a ConfigMap with key ca.crt" }),
            retention: int({ description: "Dumps kept in the bucket.", default: 30, min: 1, max: 3650 }),
            cidrs: cidrs("The store's addresses: the backup pods' only egress outside the cluster (required with networkPolicy.enabled).", []),
            opensearch: obj("OpenSearch snapshots (with logging on), mirrored to the store.", {
                schedule: cron("When the snapshots are taken, in timezone.", "0 3 * * *"),
                retention: int({ description: "Snapshots kept.", default: 14, min: 1, max: 3650 }),
            }),
            jenkins: obj("Jenkins' home (with ci on), archived daily.", {
                time: str({ description: "When the archive is made (time of day in timezone).", default: "03:30", pattern: /^([01][0-9]|2[0-3]):[0-5][0-9]$/,
                    allowed: "a time of day HH:MM, e.g. \"03:30\"" }),
                retention: int({ description: "Archives kept.", default: 7, min: 1, max: 3650 }),
            }),
        }, { see: "docs/day-2.md" }),
        drill: obj("The weekly restore drill: the newest off-site copy into scratch databases, checked against its manifest.", {
            enabled: bool({ description: "Run the drill (needs offsite).", defaultText: "prod with offsite: true, else false" }),
            schedule: cron("When the drill runs, in timezone.", "30 4 * * 0"),
        }),
    }, { see: "#storage-data-and-backups" }),
    offsiteCredentials: obj("The key pair of backup.offsite's store, encrypted: the program makes Secret backup-offsite-credentials. Not with " +
        "backup.offsite.credentialsSecretName.", {
        accessKeyId: str({ description: "The store's access key id.", required: true, secret: true, pattern: /^\S+$/, allowed: "the store's access key id" }),
        secretAccessKey: str({ description: "Its secret access key.", required: true, secret: true, pattern: /^\S+$/, allowed: "its secret access key" }),
    }, { secret: true, see: "docs/day-2.md" }),
    rotation: obj("Credential generations: raising one (npm run rotate) rotates that credential on the next up.", Object.fromEntries(
        rotatedCredentials.map((c) => [c, int({ description: `Generation of the ${c} credential.`, default: 0, min: 0, max: 1_000_000, secret: false })])),
    { see: "#day-2-rotate-back-up-restore-drill" }),
    logging: obj("OpenSearch, its Dashboards and the Fluent Bit log shipper (the services' Logstash appender sends to it).", {
        enabled: bool({ description: "Deploy OpenSearch, Dashboards and the shipper.", default: true }),
        tlsSecretName: str({ description: "Secret (made outside git, in the namespace; type kubernetes.io/tls with ca.crt, as cert-manager " +
            "writes) of OpenSearch's node certificate: its security plugin's transport and HTTP TLS, trusted by Dashboards, the shipper " +
            "and the snapshot job. npm run opensearch:certs makes one.", default: "opensearch-tls", pattern: DNS_SUBDOMAIN,
        allowed: "the name of a Secret with keys tls.crt, tls.key and ca.crt" }),
    }, { see: "docs/day-2.md" }),
    tracing: obj("Zipkin.", {
        enabled: bool({ description: "Deploy Zipkin.", default: true }),
        samplingProbability: { kind: "number", description: "Share of requests the services trace.", default: 0.1, min: 0, max: 1,
            allowed: "a number from 0 to 1 (share of requests traced)" },
    }),
    ci: onOff("Jenkins.", true),
    applicationCheckout: str({
        description: "Your checkout of egovframe-msa-edu (relative paths are read from this project's directory) at the version the platform's " +
            "facts come from (config/application.ts UPSTREAM): its config/ is what the config server serves.",
        required: true, pattern: /^.+$/, allowed: "a checkout of egovframe-msa-edu", see: "#how-the-services-are-configured",
    }),
    mail: obj("The SMTP account of the services whose application files set spring.mail.host (user-service).", {
        credentialsSecretName: str({ description: "A Secret you create in the namespace, keys username and password; unset, they send with no password.",
            pattern: DNS_SUBDOMAIN, allowed: "the name of a Secret in the namespace with keys username and password (your SMTP account)" }),
    }),
    configServer: obj("What the config server serves above the applications' own configuration: path or git; neither: only that.", {
        path: str({ description: "A directory of Spring config files (*.yml, *.yaml, *.properties), shipped in a ConfigMap.", pattern: /^.+$/,
            allowed: "a directory of Spring config files (*.yml, *.yaml, *.properties), e.g. the application's config/ directory" }),
        git: obj("A git repository.", {
            uri: str({ description: "The repository's URL.", required: true, pattern: /^(https?|ssh|git|file):\/\/\S+$|^[\w.-]+@[\w.-]+:\S+$/,
                allowed: "a git repository URL such as https://git.example.go.kr/egov/config.git" }),
            label: str({ description: "Branch, tag or commit served.", default: "main", pattern: /^[\w./-]+$/, allowed: "a branch, tag or commit" }),
            searchPaths: str({ description: "Folders of the repository searched.", pattern: /^[\w.{}/,*-]+$/, allowed: "comma-separated folders of the repository, e.g. config" }),
        }),
    }, { see: "#how-the-services-are-configured" }),
    token: obj("Lifetimes of the JWTs user-service issues (served as token.expiration_time / token.refresh_time in ms).", {
        expirationSeconds: int({ description: "Access token lifetime.", default: 7200, min: 60, max: 30 * 86400 }),
        refreshSeconds: int({ description: "Refresh token lifetime; at least expirationSeconds.", default: 86400, min: 60, max: 365 * 86400 }),
    }),
} as const satisfies Record<string, SchemaNode>;

export type ConfigKey = keyof typeof STACK_SCHEMA;
/** Every `egov-platform:` key the program reads; a stack key not listed here fails the run. */
export const CONFIG_KEYS = Object.keys(STACK_SCHEMA) as ConfigKey[];

/** The segments of a key path as messages write it: storage.nfs.server, services[0].port, imageDigests["mysql:5.7"]. */
export function pathSegments(keyPath: string): Array<{ readonly name: string } | { readonly index: number }> {
    return [...keyPath.matchAll(/\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]|\.?([^.[]+)/g)]
        .map((m) => (m[2] !== undefined ? { index: Number(m[2]) } : { name: m[1] ?? m[3] }));
}

/** The declared node of each segment of a key path, undefined from the first one the schema does not declare. */
export function nodesAlong(keyPath: string): Array<SchemaNode | undefined> {
    const out: Array<SchemaNode | undefined> = [];
    let node: SchemaNode | undefined;
    pathSegments(keyPath).forEach((seg, i) => {
        if (i === 0) node = "name" in seg ? (STACK_SCHEMA as Record<string, SchemaNode>)[seg.name] : undefined;
        else if (node === undefined) node = undefined;
        else if ("index" in seg) node = node.kind === "list" ? node.items : undefined;
        else if (node.kind === "object") node = node.fields[seg.name];
        else if (node.kind === "map") node = node.values;
        else node = undefined;
        out.push(node);
    });
    return out;
}

/** The declared node of a key path; undefined for what the schema does not declare (an unknown field). */
export function nodeAt(keyPath: string): SchemaNode | undefined {
    return nodesAlong(keyPath).at(-1);
}

/** A node's default for an environment (undefined when it has none of its own). */
export function defaultFor<T>(d: Default<T> | undefined, environment: Environment): T | undefined {
    if (d !== null && typeof d === "object" && "byEnvironment" in d) return d.byEnvironment[environment];
    return d;
}
