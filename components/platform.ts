import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig, ResourcePart } from "../config/types";
import { frontends } from "../config/catalog";
import { frontendName, serviceGraph } from "../config/graph";
import { backendConfigMapData, CONFIG_SERVER, generatedConfigFiles, servesUserFiles, WiredWorkload, WiringContext } from "../config/wiring";
import { APP_HOME, BackendService } from "./backend-service";
import { ConfigServerFiles } from "./config-server";
import { resolveImage } from "../config/images";
import { offsiteWorkloads, platformVolumes } from "../config/volumes";
import { Backup } from "./backup";
import { enforcedLevel } from "../config/security";
import { Ci } from "./ci";
import { Credentials } from "./credentials";
import { RotationJob } from "./rotation";
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
    /** The shared role's class (kept for consumers that read one class). */
    storageClass: pulumi.Output<string>;
    /** Class by volume role. */
    storageClasses: Record<"shared" | "data", pulumi.Output<string>>;
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

        const commonConfig = new k8s.core.v1.ConfigMap("common-configmap", {
            metadata: { namespace, labels: { ...commonLabels, tier: "backend", app: "configmap" } },
            data: { APP_HOME, TZ: cfg.timezone },
        }, parent);
        // Everything the services are given comes from the wiring contract, which reads the service graph.
        const graph = serviceGraph(cfg);
        const wiring: WiringContext = { cfg, graph, services: cfg.services };
        const wired: WiredWorkload[] = [
            ...cfg.services.map((spec) => ({ name: spec.name, spec })),
            ...frontends.map((f) => ({ name: frontendName(f.name) })),
        ];
        const backendConfig = new k8s.core.v1.ConfigMap("backend-configmap", {
            metadata: { namespace, labels: { ...commonLabels, tier: "backend", app: "configmap" } },
            data: backendConfigMapData(wired, wiring),
        }, parent);

        const timezoneEnv: EnvVar = { name: "TZ", valueFrom: { configMapKeyRef: { name: commonConfig.metadata.name, key: "TZ" } } };
        const part: PartArgs = { namespace, config: cfg, commonLabels, timezoneEnv };

        const credentials = new Credentials("credentials", {
            namespace,
            commonLabels,
            databaseUsername: cfg.database.username,
            messagingUsername: cfg.messaging.username,
            discoveryUsername: cfg.discovery.username,
            generations: cfg.rotation,
            rotationJob: (credential, generation, next, scripts, opts) =>
                new RotationJob(`${credential}-rotate`, { ...part, credential, generation, next, scripts }, opts),
        }, parent);

        // One claim per volume of config/volumes.ts, on its role's class (shared or data).
        const storage = new Storage("storage", {
            namespace,
            storage: cfg.storage,
            provisionerImage: resolveImage(cfg, "nfsProvisioner"),
            provisionerResources: cfg.resources.nfsProvisioner,
            commonLabels,
            volumes: platformVolumes(cfg),
        }, parent);
        const claim = (volume: string) => storage.claims[volume].metadata.name;

        const database = new Database("database", { ...part, credentials, claimName: claim("mysql") }, parent);
        const esSnapshotClaimName = storage.claims["es-snapshots"] ? claim("es-snapshots") : undefined;
        const backup = !cfg.backup.enabled ? undefined : new Backup("backup", {
                ...part, credentials, claimName: claim("backup"), mysqlHost: database.workload.service.metadata.name, mysqlPort: database.port,
                esSnapshotClaimName,
            }, parent);
        // Jenkins' home goes off-site from a container beside Jenkins (its volume is ReadWriteOnce: no second pod).
        const backupScripts = backup && offsiteWorkloads(cfg).includes("jenkins") ? backup.scripts.metadata.name : undefined;
        const messaging = new Messaging("messaging", { ...part, credentials, claimName: claim("rabbitmq") }, parent);
        const tracing = cfg.tracing.enabled ? new Tracing("tracing", part, parent) : undefined;
        const logging = cfg.logging.enabled ? new Logging("logging", { ...part, elasticsearchClaimName: claim("elasticsearch"), snapshotClaimName: esSnapshotClaimName }, parent) : undefined;
        if (cfg.ci.enabled) new Ci("ci", { ...part, claimName: claim("jenkins"), archiveScripts: backupScripts }, parent);

        const serverFiles = new ConfigServerFiles("config-server", {
            namespace,
            commonLabels,
            generatedFiles: generatedConfigFiles(wired, wiring),
            repoFiles: servesUserFiles({ cfg }) && cfg.configServer.source === "directory" ? cfg.configServer.files : undefined,
        }, parent);

        // Deploy order from the service graph: a service waits only for the servers it needs ready first
        // (the reference applied everything in one fixed order instead), and only for what "ready" means
        // there (pods ready, Service created), not for the server's autoscaler or ingress.
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
                sharedClaimName: claim("backend"),
                wiring,
                ...(spec.name === CONFIG_SERVER ? { volumes: serverFiles.volumes, volumeMounts: serverFiles.volumeMounts } : {}),
            }, { ...parent, dependsOn });
            this.backends[spec.name] = svc;
            servers[spec.name] = svc.workload;
        }
        for (const spec of frontends) {
            this.frontends[spec.name] = new Frontend(`frontend-${spec.name}`, {
                ...part, spec, wiring, credentials, backendConfigMap: backendConfig.metadata.name, commonConfigMap: commonConfig.metadata.name,
            }, parent);
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
            configServer: pulumi.interpolate`http://${this.backends[CONFIG_SERVER].workload.host}:8888`,
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
            storageClass: storage.classNames.shared,
            storageClasses: storage.classNames,
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
    if (cfg.storage.shared.backend === "nfs" || cfg.storage.data.backend === "nfs") parts.push("nfsProvisioner");
    return parts;
}
