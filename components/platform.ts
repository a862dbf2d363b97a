import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PlatformConfig, ResourcePart } from "../config";
import { frontends } from "../config/catalog";
import { serviceGraph } from "../config/graph";
import { enforcedLevel } from "../config/security";
import { APP_HOME, BackendConfigKey, BackendService } from "./backend-service";
import { Ci } from "./ci";
import { Credentials } from "./credentials";
import { Database } from "./database";
import { Frontend } from "./frontend";
import { Logging, LOGSTASH_PORT } from "./logging";
import { Messaging } from "./messaging";
import { NetworkPolicies } from "./network-policy";
import { Storage } from "./storage";
import { Tracing } from "./tracing";
import { EnvVar, PartArgs, publicUrl, Workload } from "./workload";

export interface PlatformArgs {
    readonly config: PlatformConfig;
}

/** The stack's output contract, read by other stacks through StackReference. */
export interface PlatformOutputs {
    namespace: pulumi.Output<string>;
    storageClass: pulumi.Output<string>;
    urls: Record<string, string>;
    endpoints: Record<string, pulumi.Output<string>>;
    secretNames: Record<"mysql" | "rabbitmq" | "eureka" | "token", pulumi.Output<string>>;
    credentials: pulumi.Output<unknown>;
}

/** The whole eGovFrame MSA platform in one namespace. */
export class Platform extends pulumi.ComponentResource {
    public readonly outputs: PlatformOutputs;
    public readonly backends: Record<string, BackendService> = {};
    public readonly frontends: Record<string, Frontend> = {};

    constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:Platform", name, {}, opts);
        const parent = { parent: this };
        const cfg = args.config;
        const commonLabels = {
            "app.kubernetes.io/part-of": "egov-platform",
            "app.kubernetes.io/managed-by": "pulumi",
            env: cfg.environment,
        };

        // Pod Security admission: enforce the strictest level every deployed part meets; warn and audit at
        // restricted always, so an exception stays visible. "latest" follows the cluster's own version.
        const level = enforcedLevel(deployedParts(cfg));
        const podSecurityLabels = {
            "pod-security.kubernetes.io/enforce": level,
            "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/warn-version": "latest",
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/audit-version": "latest",
        };
        // Deleting the namespace would delete the protected claims with it, so it is protected alike.
        const namespace: pulumi.Output<string> = cfg.createNamespace
            ? new k8s.core.v1.Namespace("namespace", { metadata: { name: cfg.namespace, labels: { ...commonLabels, ...podSecurityLabels } } },
                { ...parent, protect: cfg.storage.protect }).metadata.name
            : pulumi.output(cfg.namespace);
        const svcHost = (svc: string) => pulumi.interpolate`${svc}.${namespace}.svc.cluster.local`;

        const commonConfig = new k8s.core.v1.ConfigMap("common-configmap", {
            metadata: { namespace, labels: { ...commonLabels, tier: "backend", app: "configmap" } },
            data: { APP_HOME, TZ: cfg.timezone },
        }, parent);
        const backendData: Partial<Record<BackendConfigKey, pulumi.Output<string>>> = {
            EUREKA_INSTANCE_HOSTNAME: svcHost("discovery"),
            APIGATEWAY_HOSTNAME: svcHost("apigateway"),
            SPRING_CLOUD_CONFIG_URI: pulumi.interpolate`http://${svcHost("config")}:8888`,
            MYSQL_HOSTNAME: svcHost("mysql"),
            RABBITMQ_HOSTNAME: svcHost("rabbitmq"),
        };
        if (cfg.tracing.enabled) backendData.ZIPKIN_HOSTNAME = svcHost("zipkin");
        if (cfg.logging.enabled) backendData.LOGSTASH_HOSTNAME = svcHost("logstash");
        const backendConfig = new k8s.core.v1.ConfigMap("backend-configmap", {
            metadata: { namespace, labels: { ...commonLabels, tier: "backend", app: "configmap" } },
            data: backendData,
        }, parent);

        const timezoneEnv: EnvVar = { name: "TZ", valueFrom: { configMapKeyRef: { name: commonConfig.metadata.name, key: "TZ" } } };
        const part: PartArgs = { namespace, config: cfg, commonLabels, timezoneEnv };

        const credentials = new Credentials("credentials", {
            namespace,
            commonLabels,
            databaseUsername: cfg.database.username,
            messagingUsername: cfg.messaging.username,
            discoveryUsername: cfg.discovery.username,
        }, parent);

        const claims: Record<string, string> = { backend: cfg.storage.sizes.shared, mysql: cfg.storage.sizes.mysql };
        if (cfg.ci.enabled) claims.jenkins = cfg.storage.sizes.jenkins;
        const storage = new Storage("storage", {
            namespace,
            storage: cfg.storage,
            provisionerImage: cfg.images.nfsProvisioner,
            provisionerResources: cfg.resources.nfsProvisioner,
            commonLabels,
            claims,
        }, parent);

        const database = new Database("database", { ...part, credentials, claimName: storage.claims.mysql.metadata.name }, parent);
        const messaging = new Messaging("messaging", { ...part, credentials }, parent);
        const tracing = cfg.tracing.enabled ? new Tracing("tracing", part, parent) : undefined;
        const logging = cfg.logging.enabled ? new Logging("logging", part, parent) : undefined;
        if (cfg.ci.enabled) new Ci("ci", { ...part, claimName: storage.claims.jenkins.metadata.name }, parent);

        // Deploy order from the service graph: a service waits only for the servers it needs ready first
        // (the reference applied everything in one fixed order instead), and only for what "ready" means
        // there (pods ready, Service created), not for the server's autoscaler or ingress.
        const graph = serviceGraph(cfg);
        if (cfg.networkPolicy.enabled) {
            new NetworkPolicies("network-policy", { namespace, graph, config: cfg.networkPolicy, serviceType: cfg.serviceType, commonLabels }, parent);
        }
        const servers: Record<string, Workload> = { mysql: database.workload, rabbitmq: messaging.workload };
        const inOrder = [...cfg.services].sort((a, b) => graph.deployOrder.indexOf(a.name) - graph.deployOrder.indexOf(b.name));
        for (const spec of inOrder) {
            const dependsOn = graph.dependenciesOf(spec.name).filter((e) => e.readyBefore).flatMap((e) => {
                const server = servers[e.to];
                if (!server) throw new Error(`deploy order: ${spec.name} needs ${e.to} ready first, but no workload ${e.to} was built before it`);
                return server.ready;
            });
            const svc = new BackendService(spec.name, {
                ...part,
                spec,
                credentials,
                backendConfigMap: backendConfig.metadata.name,
                commonConfigMap: commonConfig.metadata.name,
                sharedClaimName: storage.claims.backend.metadata.name,
            }, { ...parent, dependsOn });
            this.backends[spec.name] = svc;
            servers[spec.name] = svc.workload;
        }
        for (const spec of frontends) {
            this.frontends[spec.name] = new Frontend(`frontend-${spec.name}`, { ...part, spec }, parent);
        }

        const urls: Record<string, string> = {};
        for (const s of [...cfg.services, ...frontends]) if (s.ingressHost) urls[s.name] = publicUrl(cfg, s.ingressHost);
        urls.rabbitmq = publicUrl(cfg, "rabbitmq");
        if (tracing) urls.zipkin = publicUrl(cfg, "zipkin");
        if (logging) urls.kibana = publicUrl(cfg, "kibana");
        if (cfg.ci.enabled) urls.jenkins = publicUrl(cfg, "jenkins");

        const endpoints: Record<string, pulumi.Output<string>> = {
            mysql: pulumi.interpolate`${database.host}:${database.port}`,
            rabbitmq: pulumi.interpolate`${messaging.host}:${messaging.port}`,
            configServer: backendData.SPRING_CLOUD_CONFIG_URI as pulumi.Output<string>,
            discovery: pulumi.interpolate`http://${this.backends.discovery.workload.host}:8761/eureka`,
            apigateway: pulumi.interpolate`http://${this.backends.apigateway.workload.host}:8000`,
        };
        if (tracing) endpoints.zipkin = pulumi.interpolate`http://${tracing.host}:${tracing.port}`;
        if (logging) {
            endpoints.elasticsearch = logging.elasticsearchUrl;
            endpoints.logstash = pulumi.interpolate`${logging.logstash.host}:${LOGSTASH_PORT}`;
        }

        this.outputs = {
            namespace,
            storageClass: storage.className,
            urls,
            endpoints,
            secretNames: {
                mysql: credentials.mysql.name,
                rabbitmq: credentials.rabbitmq.name,
                eureka: credentials.eureka.name,
                token: credentials.token.name,
            },
            credentials: pulumi.secret(credentials.values),
        };
        this.registerOutputs({ ...this.outputs });
    }
}

/** The parts (by their resources/security key) this config deploys. */
export function deployedParts(cfg: PlatformConfig): ResourcePart[] {
    const parts: ResourcePart[] = ["backend", "frontend", "mysql", "rabbitmq"];
    if (cfg.tracing.enabled) parts.push("zipkin");
    if (cfg.logging.enabled) parts.push("elasticsearch", "logstash", "kibana");
    if (cfg.ci.enabled) parts.push("jenkins");
    if (cfg.storage.backend === "nfs") parts.push("nfsProvisioner");
    return parts;
}
