import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformPlan } from "../config/plan";
import type { SideNamespace } from "../config/parts";
import { BackendService, plainEnv } from "./backend-service";
import { ConfigServerFiles } from "./config-server";
import { ConfigSecrets } from "./config-secrets";
import { Backup } from "./backup";
import { Ci } from "./ci";
import { Credentials, ServerCredential } from "./credentials";
import { RotationJob } from "./rotation";
import { Database } from "./database";
import { Frontend } from "./frontend";
import { GatewayTlsGrant } from "./gateway";
import { Logging } from "./logging";
import { Messaging } from "./messaging";
import { MigrationJob } from "./migration";
import { NetworkPolicies } from "./network-policy";
import { Storage } from "./storage";
import { Tracing } from "./tracing";
import type { ServedServer, ServerComponent } from "./server";
import { workloadsWaitFor, PartArgs } from "./workload";

export interface PlatformArgs {
    /** The stack resolved into records (config/plan.ts planPlatform). */
    readonly plan: PlatformPlan;
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
        const plan = args.plan;
        const commonLabels = plan.commonLabels;

        // Deleting the namespace would delete the protected claims with it, so it is protected alike.
        const namespace: pulumi.Output<string> = plan.namespace.create
            ? new k8s.core.v1.Namespace("namespace", { metadata: { name: plan.namespace.name, labels: { ...plan.namespace.labels } } },
                { ...parent, protect: plan.namespace.protect }).metadata.name
            : pulumi.output(plan.namespace.name);
        // The provisioner's and the CI agents' own namespaces: the admin's when the stack is namespace-scoped.
        const side: Partial<Record<SideNamespace, pulumi.Output<string>>> = {};
        if (plan.clusterScoped) {
            for (const [part, ns] of Object.entries(plan.namespace.side) as [SideNamespace, { name: string; labels: Record<string, string> }][]) {
                side[part] = new k8s.core.v1.Namespace(`namespace-${part}`, { metadata: { name: ns.name, labels: { ...ns.labels } } }, parent).metadata.name;
            }
        }

        if (plan.configSecrets.length > 0) new ConfigSecrets("config-secrets", { namespace, commonLabels, secrets: plan.configSecrets }, parent);
        if (plan.gatewayTlsGrant) new GatewayTlsGrant("gateway-tls", { namespace, commonLabels, ...plan.gatewayTlsGrant }, parent);

        const commonConfig = new k8s.core.v1.ConfigMap("common-configmap", {
            metadata: { namespace, labels: { ...commonLabels, tier: "backend", app: "configmap" } },
            data: { ...plan.commonConfig },
        }, parent);
        // Everything the services are given comes from the wiring contract, which reads the service graph.
        const backendConfig = new k8s.core.v1.ConfigMap("backend-configmap", {
            metadata: { namespace, labels: { ...commonLabels, tier: "backend", app: "configmap" } },
            data: { ...plan.backendConfig },
        }, parent);

        // Every part gets it and hands it to hardenPod, which puts it in every container.
        const podEnv = plainEnv(plan.everyPod.env, { backendConfigMap: backendConfig.metadata.name, commonConfigMap: commonConfig.metadata.name });
        const part: PartArgs = { namespace, commonLabels, podEnv };

        const credentials = new Credentials("credentials", {
            namespace,
            commonLabels,
            databaseUsername: plan.credentials.databaseUsername,
            messagingUsername: plan.credentials.messagingUsername,
            discoveryUsername: plan.credentials.discoveryUsername,
            generations: plan.rotation.generations,
            rotationJob: (credential, generation, next, scripts, opts) =>
                new RotationJob(`${credential}-rotate`, { ...part, plan: plan.rotation, credential, generation, action: "rotate", next, scripts }, opts),
        }, parent);

        // One claim per volume of config/volumes.ts, on its role's class (shared or data).
        const storage = new Storage("storage", { ...part, plan: plan.storage, provisionerNamespace: side.storage }, parent);
        const claim = (volume: string) => storage.claims[volume].metadata.name;

        // The infrastructure servers: each component takes its records and serves them (components/server.ts); what
        // follows reads only that contract. A server's data volume is named after it (config/volumes.ts).
        const db = plan.database.record;
        const database = new Database("database", { ...part, plan: plan.database, credentials, claimName: claim(db.name) }, parent);
        // The schema, once the database is ready; its clients wait for the Job too (below): ready means migrated.
        const migration = new MigrationJob("mysql-migrate", { ...part, plan: plan.database.migration, credentials },
            { ...parent, dependsOn: database.served[db.name].ready });
        const osSnapshotClaimName = plan.parts.opensearchSnapshots ? claim("opensearch-snapshots") : undefined;
        const backup = !plan.backup ? undefined : new Backup("backup", {
                ...part, plan: plan.backup, credentials, claimName: claim("backup"), mysqlHost: database.served[db.name].service,
                osSnapshotClaimName,
            }, parent);
        // Jenkins' home goes off-site from a container beside Jenkins (its volume is ReadWriteOnce: no second pod).
        const backupScripts = backup && plan.ci?.archive ? backup.scripts.metadata.name : undefined;
        const messaging = new Messaging("messaging", { ...part, plan: plan.messaging, credentials, claimName: claim(plan.messaging.record.name) }, parent);
        const tracing = plan.tracing ? new Tracing("tracing", { ...part, plan: plan.tracing }, parent) : undefined;
        const logging = plan.logging
            ? new Logging("logging", { ...part, plan: plan.logging, opensearchClaimName: claim(plan.logging.records.logStore.name),
                snapshotClaimName: osSnapshotClaimName }, parent)
            : undefined;
        const ci = plan.ci
            ? new Ci("ci", { ...part, plan: plan.ci, claimName: claim(plan.ci.record.name), archiveScripts: backupScripts, agentNamespace: side.ci,
                createAgentRbac: plan.clusterScoped }, parent)
            : undefined;
        const serverComponents: (ServerComponent | undefined)[] = [database, messaging, tracing, logging, ci];
        const served: Record<string, ServedServer> = Object.assign({}, ...serverComponents.map((c) => c?.served ?? {}));
        for (const r of plan.servers.all) {
            if (!served[r.name]) throw new Error(`platform: no component serves ${r.name} (${r.role}, implementation ${r.implementation})`);
        }

        const serverFiles = new ConfigServerFiles("config-server", { namespace, commonLabels, plan: plan.configServer }, parent);

        if (plan.networkPolicy) {
            const np = plan.networkPolicy;
            const policyArgs = { graph: np.graph, config: np.config, serviceType: np.serviceType, namespaces: np.namespaces, commonLabels };
            new NetworkPolicies("network-policy", { ...policyArgs, namespace }, parent);
            for (const [home, ns] of Object.entries(side) as [SideNamespace, pulumi.Output<string>][]) {
                new NetworkPolicies(`network-policy-${home}`, { ...policyArgs, namespace: ns, home }, parent);
            }
        }
        // Deploy order from the service graph: a service waits only for the servers it needs ready first
        // (the reference applied everything in one fixed order instead), and only for what "ready" means
        // there (pods ready, Service created), not for the server's autoscaler or ingress.
        const servers: Record<string, pulumi.Resource[]> = Object.fromEntries(Object.values(served).map((s) =>
            [s.record.name, s.record.ready === "schema-migrated" ? [...s.ready, migration.job] : s.ready]));
        for (const svc of plan.services) {
            const dependsOn = svc.workload.waitsFor.flatMap((to) => {
                const server = servers[to];
                if (!server) throw new Error(`deploy order: ${svc.spec.name} needs ${to} ready first, but no workload ${to} was built before it`);
                return server;
            });
            const built = new BackendService(svc.spec.name, {
                ...part,
                plan: svc,
                credentials,
                backendConfigMap: backendConfig.metadata.name,
                commonConfigMap: commonConfig.metadata.name,
                sharedClaimName: claim("backend"),
                ...(svc.servesConfig ? { volumes: serverFiles.volumes, volumeMounts: serverFiles.volumeMounts } : {}),
            }, { ...parent, transformations: [workloadsWaitFor(dependsOn)] });
            this.backends[svc.spec.name] = built;
            servers[svc.spec.name] = built.workload.ready;
        }
        for (const f of plan.frontends) {
            this.frontends[f.spec.name] = new Frontend(`frontend-${f.spec.name}`, {
                ...part, plan: f, credentials, backendConfigMap: backendConfig.metadata.name, commonConfigMap: commonConfig.metadata.name,
            }, parent);
        }

        // A rotation's last step, once every consumer has rolled onto the new user: the previous user is locked, so its
        // password stops working (docs/day-2.md). Every backend is waited for (a superset of the credential's readers).
        const rolled = Object.values(this.backends).flatMap((b) => b.workload.ready);
        for (const [credential, rotate] of Object.entries(credentials.rotationJobs) as [ServerCredential, pulumi.Resource][]) {
            new RotationJob(`${credential}-retire`, {
                ...part, plan: plan.rotation, credential, generation: plan.rotation.generations[credential], action: "retire",
                scripts: credentials.rotateScripts!,
            }, { ...parent, dependsOn: [rotate, credentials.secrets[credential], ...rolled] });
        }

        const at = (e: { workload: string; port: number }) => ({ host: this.backends[e.workload].workload.host, port: e.port });
        const [config, discovery, gateway] = [at(plan.endpoints.configServer), at(plan.endpoints.discovery), at(plan.endpoints.apigateway)];
        const endpoints: Record<string, pulumi.Output<string>> = {
            configServer: pulumi.interpolate`http://${config.host}:${config.port}`,
            discovery: pulumi.interpolate`http://${discovery.host}:${discovery.port}/eureka`,
            apigateway: pulumi.interpolate`http://${gateway.host}:${gateway.port}`,
        };
        for (const { record, host } of Object.values(served)) {
            if (record.endpoint === "http" || record.endpoint === "https") endpoints[record.name] = pulumi.interpolate`${record.endpoint}://${host}:${record.clientPort}`;
            else if (record.endpoint === "host:port") endpoints[record.name] = pulumi.interpolate`${host}:${record.clientPort}`;
        }
        const urls = { ...plan.urls };

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
