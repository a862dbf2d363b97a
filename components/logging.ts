import * as crypto from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { PlatformPlan, WorkloadPlan } from "../config/plan";
import { OUTSIDE_GIT_ANNOTATION } from "./backup";
import { CREDENTIALS_HASH_ANNOTATION } from "./credentials";
import { workloadsWaitFor, PartArgs, probes, Workload } from "./workload";
import { ServedServer, ServerComponent, servedWorkload } from "./server";

export interface LoggingArgs extends PartArgs {
    /** The three workloads' records, the users, the TLS Secret and the snapshot repository's path when snapshots go off-site. */
    readonly plan: NonNullable<PlatformPlan["logging"]>;
    /** Claim on the data class for OpenSearch's indices. */
    readonly opensearchClaimName: pulumi.Input<string>;
    /** Claim (shared class) for the snapshot repository, when snapshots go off-site (components/backup.ts). */
    readonly snapshotClaimName?: pulumi.Input<string>;
}

const OS_HOME = "/usr/share/opensearch";
const DASHBOARDS_HOME = "/usr/share/opensearch-dashboards";
/** Where the TLS Secret's files are, relative to OpenSearch's config directory (the security plugin reads only there). */
const CERTS = "certs";

/** A security plugin internal user: the password's bcrypt hash goes into internal_users.yml, the password into the Secret. */
function internalUser(name: string, hash: pulumi.Output<string>, backendRoles: readonly string[], reserved: boolean): pulumi.Output<string> {
    return hash.apply((h) => `${name}:\n  hash: "${h}"\n  reserved: ${reserved}\n  backend_roles: [${backendRoles.map((r) => `"${r}"`).join(", ")}]\n`);
}

/**
 * OpenSearch (a StatefulSet on a data volume, security plugin with TLS from a Secret made outside git), the Fluent Bit
 * shipper (TCP JSON from the services' Logstash appender -> OpenSearch) and OpenSearch Dashboards behind an Ingress.
 * Every user (admin, kibanaserver, logstash, snapshot) has a generated password; only their bcrypt hashes reach
 * OpenSearch (internal_users.yml in a Secret), read when the security index is first made.
 */
export class Logging extends pulumi.ComponentResource implements ServerComponent {
    public readonly served: Readonly<Record<string, ServedServer>>;
    public readonly opensearch: Workload;
    public readonly logstash: Workload;
    public readonly dashboards: Workload;
    public readonly opensearchUrl: pulumi.Output<string>;
    /** The Secret with every user's password (keys: plan.credentialKeys). */
    public readonly credentials: k8s.core.v1.Secret;
    /**
     * The shipper listens here for the services' LogstashTcpSocketAppender (newline-delimited JSON maps);
     * the services get this port in logstash_hostname (config/wiring.ts).
     */
    public readonly logstashPort: number;

    constructor(name: string, args: LoggingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:Logging", name, {}, opts);
        const parent = { parent: this };
        const plan = args.plan;
        const base = { namespace: args.namespace, commonLabels: args.commonLabels, podEnv: args.podEnv };
        const labels = { ...args.commonLabels, tier: "logging" };
        const portOf = (w: WorkloadPlan, name: string) => w.ports.find((p) => p.name === name)!.port;
        const osPort = portOf(plan.opensearch, "http");
        const dashboardsPort = portOf(plan.dashboards, "http");
        const LOGSTASH_PORT = this.logstashPort = portOf(plan.logstash, "tcp-json");
        const snapshots = plan.snapshotPath;
        const users = plan.users;
        // What the graph says must be ready first (OpenSearch, for the shipper and Dashboards).
        const after = (w: WorkloadPlan) => ({ ...parent, transformations: w.waitsFor.includes(plan.opensearch.name) ? [workloadsWaitFor(this.opensearch.ready)] : [] });

        // The security plugin's password rules (2.12+: upper, lower, digit, special; scored strong): 32 characters with
        // specials the env, YAML, basic auth and shell quoting all pass unchanged.
        const password = (user: string) => new random.RandomPassword(`opensearch-${user}-password`, {
            length: 32, special: true, overrideSpecial: "-_.", minSpecial: 2, minUpper: 2, minLower: 2, minNumeric: 2,
        }, parent);
        const admin = password("admin");
        const kibanaserver = password("dashboards");
        const logstash = password("logstash");
        const snapshot = password("snapshot");
        this.credentials = new k8s.core.v1.Secret("opensearch-credentials", {
            metadata: { name: plan.credentialsSecret, namespace: args.namespace, labels: { ...labels, app: plan.opensearch.name } },
            type: "Opaque",
            stringData: {
                [plan.credentialKeys.admin]: pulumi.secret(admin.result),
                [plan.credentialKeys.dashboards]: pulumi.secret(kibanaserver.result),
                [plan.credentialKeys.logstash]: pulumi.secret(logstash.result),
                [plan.credentialKeys.snapshot]: pulumi.secret(snapshot.result),
            },
        }, parent);
        // The pods reading these passwords roll when one changes (the annotation every credential reader carries).
        // Not secret: a digest of 32-character random values reveals none of them.
        const credentialsHash = { [CREDENTIALS_HASH_ANNOTATION]: pulumi.unsecret(pulumi.all([admin.result, kibanaserver.result, logstash.result, snapshot.result])
            .apply((v) => `${plan.credentialsSecret}=${crypto.createHash("sha256").update(JSON.stringify(v)).digest("hex").slice(0, 16)}`)) };
        const secretRef = (key: string) => ({ secretKeyRef: { name: this.credentials.metadata.name, key } });
        // The CA only: clients verify OpenSearch's certificate, and never see its key.
        const outsideGit = { [OUTSIDE_GIT_ANNOTATION]: JSON.stringify({ secrets: [plan.tlsSecretName], configMaps: [] }) };
        const caVolume = { name: "opensearch-ca", secret: { secretName: plan.tlsSecretName, items: [{ key: "ca.crt", path: "ca.crt" }] } };

        // The security plugin's users and role mappings (the image's other opensearch-security/ files stay). Hashes
        // only, but kept in a Secret: a hash is still a guessing target.
        // The files' values, from which both the objects and the pods' config hash are made: a resource's outputs
        // would not do (after a refresh a Secret has no stringData, and the hash went unknown: a needless update).
        const securityFiles = {
            "internal_users.yml": pulumi.secret(pulumi.all([
                internalUser(users.admin, admin.bcryptHash, ["admin"], true),
                internalUser(users.dashboards, kibanaserver.bcryptHash, [], true),
                internalUser(users.logstash, logstash.bcryptHash, ["logstash"], false),
                internalUser(users.snapshot, snapshot.bcryptHash, [], false),
            ]).apply((u) => `_meta:\n  type: "internalusers"\n  config_version: 2\n${u.join("")}`)),
            "roles_mapping.yml": rolesMapping(users),
        };
        const osFiles = { "opensearch.yml": opensearchYml(snapshots) };
        const securityConfig = new k8s.core.v1.Secret("opensearch-security", {
            metadata: { namespace: args.namespace, labels: { ...labels, app: plan.opensearch.name } },
            type: "Opaque",
            stringData: securityFiles,
        }, parent);

        const osConfig = new k8s.core.v1.ConfigMap("opensearch-configmap", {
            metadata: { namespace: args.namespace, labels: { ...labels, app: plan.opensearch.name } },
            data: osFiles,
        }, parent);
        // A new opensearch.yml or user set rolls the pod (the security files are read at start). Not secret: a digest of
        // bcrypt hashes of 32 random characters reveals none of them.
        const configHash = pulumi.unsecret(pulumi.all([osFiles, securityFiles]).apply((d) =>
            crypto.createHash("sha256").update(JSON.stringify(d)).digest("hex").slice(0, 16)));
        const configDir = `${OS_HOME}/config`;
        this.opensearch = new Workload(plan.opensearch.name, {
            ...base,
            plan: plan.opensearch,
            podAnnotations: { ...outsideGit, ...credentialsHash, "egov-platform/config-hash": configHash },
            env: [
                // Required by the image from 2.12 on; it becomes admin's password (internal_users.yml holds the same one).
                { name: "OPENSEARCH_INITIAL_ADMIN_PASSWORD", valueFrom: secretRef(plan.credentialKeys.admin) },
                // Our certificates and users, never the image's demo ones (public keys, well-known passwords).
                { name: "DISABLE_INSTALL_DEMO_CONFIG", value: "true" },
                { name: "OPENSEARCH_JAVA_OPTS", value: "-Xms512m -Xmx512m" },
            ],
            // Ready: the REST API answers over TLS for a user (the security index is initialised); alive: it accepts.
            ...probes({ exec: { command: ["sh", "-c", `curl -sf --cacert ${configDir}/${CERTS}/ca.crt -u "${users.admin}:$OPENSEARCH_INITIAL_ADMIN_PASSWORD" ` +
                `"https://localhost:${osPort}/_cluster/health?local=true" >/dev/null`] } }, { tcpSocket: { port: osPort } }),
            volumeMounts: [
                { name: "opensearch-data", mountPath: `${OS_HOME}/data` },
                { name: "config", mountPath: `${configDir}/opensearch.yml`, subPath: "opensearch.yml" },
                { name: "security", mountPath: `${configDir}/opensearch-security/internal_users.yml`, subPath: "internal_users.yml" },
                { name: "security", mountPath: `${configDir}/opensearch-security/roles_mapping.yml`, subPath: "roles_mapping.yml" },
                { name: "tls", mountPath: `${configDir}/${CERTS}`, readOnly: true },
                ...(snapshots ? [{ name: "snapshots", mountPath: snapshots }] : []),
            ],
            volumes: [
                { name: "opensearch-data", persistentVolumeClaim: { claimName: args.opensearchClaimName } },
                { name: "config", configMap: { name: osConfig.metadata.name } },
                { name: "security", secret: { secretName: securityConfig.metadata.name } },
                // tls.key readable by the opensearch user only (fsGroup owns the files).
                { name: "tls", secret: { secretName: plan.tlsSecretName, defaultMode: 0o440 } },
                ...(snapshots && args.snapshotClaimName ? [{ name: "snapshots", persistentVolumeClaim: { claimName: args.snapshotClaimName } }] : []),
            ],
        }, parent);
        this.opensearchUrl = pulumi.interpolate`https://${this.opensearch.host}:${osPort}`;

        const shipperConfig = new k8s.core.v1.ConfigMap("logstash-configmap", {
            metadata: { namespace: args.namespace, labels: { ...labels, app: plan.logstash.name } },
            data: { "fluent-bit.conf": this.opensearch.host.apply((host) => fluentBitConf({
                inputPort: LOGSTASH_PORT, healthPort: plan.logstashMonitoringPort, opensearchHost: host, opensearchPort: osPort,
                user: users.logstash, passwordEnv: "OPENSEARCH_PASSWORD", caFile: "/fluent-bit/certs/ca.crt",
            })) },
        }, parent);
        this.logstash = new Workload(plan.logstash.name, {
            ...base,
            plan: plan.logstash,
            podAnnotations: { ...outsideGit, ...credentialsHash },
            env: [{ name: "OPENSEARCH_PASSWORD", valueFrom: secretRef(plan.credentialKeys.logstash) }],
            // Readiness: the input accepts; liveness: the health endpoint (fails after repeated output errors).
            ...probes({ tcpSocket: { port: LOGSTASH_PORT } }, { httpGet: { path: "/api/v1/health", port: plan.logstashMonitoringPort } }),
            volumeMounts: [
                { name: "config", mountPath: "/fluent-bit/etc/fluent-bit.conf", subPath: "fluent-bit.conf" },
                { name: "opensearch-ca", mountPath: "/fluent-bit/certs", readOnly: true },
            ],
            volumes: [{ name: "config", configMap: { name: shipperConfig.metadata.name } }, caVolume],
        }, after(plan.logstash));

        const dashboardsConfig = new k8s.core.v1.ConfigMap("dashboards-configmap", {
            metadata: { namespace: args.namespace, labels: { ...labels, app: plan.dashboards.name } },
            data: {
                "opensearch_dashboards.yml": pulumi.interpolate`server.name: dashboards
server.host: "0.0.0.0"
opensearch.hosts: ["${this.opensearchUrl}"]
opensearch.ssl.verificationMode: full
opensearch.ssl.certificateAuthorities: ["${DASHBOARDS_HOME}/config/${CERTS}/ca.crt"]
opensearch.requestHeadersAllowlist: ["authorization", "securitytenant"]
opensearch_security.multitenancy.enabled: false
opensearch_security.cookie.secure: ${plan.dashboardsHttps}
`,
            },
        }, parent);
        this.dashboards = new Workload(plan.dashboards.name, {
            ...base,
            plan: plan.dashboards,
            podAnnotations: { ...outsideGit, ...credentialsHash },
            // The image's entrypoint maps these to opensearch.username / opensearch.password.
            env: [{ name: "OPENSEARCH_USERNAME", value: users.dashboards }, { name: "OPENSEARCH_PASSWORD", valueFrom: secretRef(plan.credentialKeys.dashboards) }],
            // Ready: the security plugin's login page (every API path answers 401 before login); alive: the port accepts.
            ...probes({ httpGet: { path: "/app/login", port: dashboardsPort } }, { tcpSocket: { port: dashboardsPort } }),
            // Only opensearch_dashboards.yml is replaced; the image's other config files stay.
            volumeMounts: [
                { name: "config", mountPath: `${DASHBOARDS_HOME}/config/opensearch_dashboards.yml`, subPath: "opensearch_dashboards.yml" },
                { name: "opensearch-ca", mountPath: `${DASHBOARDS_HOME}/config/${CERTS}`, readOnly: true },
            ],
            volumes: [{ name: "config", configMap: { name: dashboardsConfig.metadata.name } }, caVolume],
        }, after(plan.dashboards));

        const { logStore, logShipper, logUi } = plan.records;
        this.served = {
            [logStore.name]: servedWorkload(logStore, this.opensearch),
            [logShipper.name]: servedWorkload(logShipper, this.logstash),
            [logUi.name]: servedWorkload(logUi, this.dashboards),
        };
        this.registerOutputs({ opensearchUrl: this.opensearchUrl });
    }
}

/** opensearch.yml: one node; the security plugin on, TLS on transport and HTTP from the Secret's PEM files. */
export function opensearchYml(snapshotPath: string | undefined): string {
    const pem = (layer: "transport" | "http") => [
        `plugins.security.ssl.${layer}.pemcert_filepath: ${CERTS}/tls.crt`,
        `plugins.security.ssl.${layer}.pemkey_filepath: ${CERTS}/tls.key`,
        `plugins.security.ssl.${layer}.pemtrustedcas_filepath: ${CERTS}/ca.crt`,
    ];
    return [
        "cluster.name: egov-logs",
        "network.host: 0.0.0.0",
        "discovery.type: single-node",
        ...(snapshotPath ? [`path.repo: ["${snapshotPath}"]`] : []),
        ...pem("transport"),
        // One node: its certificate is issued for the Service names, not for each node's own.
        "plugins.security.ssl.transport.enforce_hostname_verification: false",
        "plugins.security.ssl.http.enabled: true",
        ...pem("http"),
        // The users and role mappings of config/opensearch-security/ make the security index on the first start.
        "plugins.security.allow_default_init_securityindex: true",
        // admin (all_access) manages users and roles through the REST API; there is no admin certificate.
        "plugins.security.restapi.roles_enabled: [\"all_access\"]",
        "plugins.security.audit.type: internal_opensearch",
        "plugins.security.system_indices.enabled: true",
        "",
    ].join("\n");
}

/** roles_mapping.yml: the image's built-in roles, given to our users (the logstash role writes logstash-* indices). */
export function rolesMapping(users: { readonly admin: string; readonly dashboards: string; readonly logstash: string; readonly snapshot: string }): string {
    return [
        "_meta:", "  type: \"rolesmapping\"", "  config_version: 2",
        "all_access:", "  reserved: false", "  backend_roles: [\"admin\"]",
        "kibana_server:", "  reserved: true", `  users: ["${users.dashboards}"]`,
        "logstash:", "  reserved: false", "  backend_roles: [\"logstash\"]",
        "manage_snapshots:", "  reserved: false", `  users: ["${users.snapshot}"]`,
        "own_index:", "  reserved: false", "  users: [\"*\"]",
        "",
    ].join("\n");
}

export interface FluentBitSettings {
    readonly inputPort: number;
    readonly healthPort: number;
    readonly opensearchHost: string;
    readonly opensearchPort: number;
    readonly user: string;
    /** Env var holding the user's password (Fluent Bit expands ${VAR} in its config). */
    readonly passwordEnv: string;
    readonly caFile: string;
}

/**
 * fluent-bit.conf: the tcp input reads the JSON maps LogstashTcpSocketAppender writes (one per line); the opensearch
 * output writes them as Logstash's elasticsearch output did (logstash-YYYY.MM.DD, @timestamp = time received, as the
 * services' encoder sends no timestamp), over TLS verified against the CA, as the logstash user.
 */
export function fluentBitConf(s: FluentBitSettings): string {
    return `[SERVICE]
    Flush           1
    Log_Level       info
    HTTP_Server     On
    HTTP_Listen     0.0.0.0
    HTTP_Port       ${s.healthPort}
    Health_Check    On

[INPUT]
    Name            tcp
    Tag             services
    Listen          0.0.0.0
    Port            ${s.inputPort}
    Format          json
    # A stack trace (stack_trace) can be long: up to 1 MiB per event.
    Buffer_Size     1024

[OUTPUT]
    Name            opensearch
    Match           *
    Host            ${s.opensearchHost}
    Port            ${s.opensearchPort}
    HTTP_User       ${s.user}
    HTTP_Passwd     \${${s.passwordEnv}}
    tls             On
    tls.verify      On
    tls.ca_file     ${s.caFile}
    Logstash_Format On
    Logstash_Prefix logstash
    Suppress_Type_Name On
    Replace_Dots    On
    Trace_Error     On
    Retry_Limit     False
`;
}
