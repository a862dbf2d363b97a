// The service graph: which workload talks to which, on which port, derived once from the catalog and the
// parts the stack config turns on. Env wiring, deploy order, network policy and the config-server contract
// all read it; nothing else decides who talks to whom.
import type { PlatformConfig } from "./types";
import { BackendServiceSpec, frontends, infraPorts } from "./catalog";
import { BACKUP_JOB, OS_SNAPSHOT_JOB } from "./volumes";
import { partsOn } from "./parts";
import type { SideNamespace } from "./parts";
import { serverOf, serverRecords } from "./servers";
import type { ServerRecords } from "./servers";

export type NodeKind = "backend" | "frontend" | "infra";

export interface GraphNode {
    /** The workload's `app` label and Service name. */
    readonly name: string;
    readonly kind: NodeKind;
    /** Ports the workload serves, by port name. */
    readonly ports: Readonly<Record<string, number>>;
    /** Its pods' labels: what its own policy and its peers' policies select. */
    readonly podLabels: Readonly<Record<string, string>>;
    /** Ports reached from outside the namespace through the ingress controller. */
    readonly publicPorts: readonly number[];
    /** Talks to the Kubernetes API (needs a service account token and egress to the API server). */
    readonly callsKubernetesApi: boolean;
    /** Its pods are started by another workload at run time (not by this program), e.g. Jenkins agents. */
    readonly startedBy?: string;
    /** Runs in a namespace of its own (config/parts.ts sideNamespaces), not the application's. */
    readonly home?: SideNamespace;
}

export interface GraphEdge {
    readonly from: string;
    readonly to: string;
    readonly port: number;
    /** Why the client talks to the server, for reviewers and generated docs. */
    readonly why: string;
    /** The client cannot start usefully before the server is ready: a deploy-order dependency. */
    readonly readyBefore: boolean;
}

export interface ServiceGraph {
    readonly nodes: ReadonlyMap<string, GraphNode>;
    readonly edges: readonly GraphEdge[];
    /** Edges whose client is `name`. */
    dependenciesOf(name: string): GraphEdge[];
    /** Edges whose server is `name`. */
    clientsOf(name: string): GraphEdge[];
    /** Whether `from` may open a connection to `to` on `port`. */
    allows(from: string, to: string, port: number): boolean;
    /** Every workload, each after the servers it needs ready first (readyBefore edges). */
    readonly deployOrder: readonly string[];
    /** The infrastructure servers' records (config/servers.ts): their nodes and edges come from these. */
    readonly servers: ServerRecords;
}

/** Workload (app label) of the schema migration Job (config/migrations.ts). */
export const MIGRATE_JOB = "mysql-migrate";

/** Frontend workload name (app label) of a frontend catalog entry. */
export const frontendName = (name: string) => `frontend-${name}`;

/**
 * Builds the graph for a stack config. `services` is the backend catalog in force (built-in entries plus
 * any the stack config adds); tests pass their own.
 */
export function serviceGraph(cfg: PlatformConfig, services: readonly BackendServiceSpec[] = cfg.services): ServiceGraph {
    const nodes = new Map<string, GraphNode>();
    const edges: GraphEdge[] = [];
    const node = (n: Omit<GraphNode, "podLabels"> & { podLabels?: GraphNode["podLabels"] }) =>
        nodes.set(n.name, { ...n, podLabels: n.podLabels ?? { app: n.name } });
    const on = partsOn(cfg);
    const edge = (from: string, to: string, port: number, why: string, readyBefore = false) =>
        edges.push({ from, to, port, why, readyBefore });

    for (const s of services) {
        node({ name: s.name, kind: "backend", ports: { http: s.port }, publicPorts: s.ingressHost ? [s.port] : [], callsKubernetesApi: false });
    }
    for (const f of frontends) {
        node({ name: frontendName(f.name), kind: "frontend", ports: { http: f.port }, publicPorts: [f.port], callsKubernetesApi: false });
    }
    // The infrastructure servers, from their records: ports, labels, public UI port and the servers they need first.
    const servers = serverRecords(cfg);
    for (const r of servers.all) {
        node({ name: r.name, kind: "infra", ports: r.port, podLabels: r.podLabels, publicPorts: r.ui ? [r.ui.port] : [], callsKubernetesApi: r.callsKubernetesApi });
    }
    for (const r of servers.all) for (const n of r.needs) edge(r.name, n.server, servers.byName[n.server].clientPort, n.why, true);
    const database = serverOf(servers, "database");
    const broker = serverOf(servers, "broker");
    const { logStore, logShipper, tracing, ci } = servers.byRole;
    if (on.backup) {
        // The backup CronJob's pods (and the restore pod made from its template): clients only.
        node({ name: BACKUP_JOB, kind: "infra", ports: {}, publicPorts: [], callsKubernetesApi: false });
        edge(BACKUP_JOB, database.name, database.clientPort, "dumps the application databases (and restores them)");
    }
    if (on.opensearchSnapshots && logStore) {
        // Takes snapshots through OpenSearch's API, then copies the repository to the object store (external egress).
        node({ name: OS_SNAPSHOT_JOB, kind: "infra", ports: {}, publicPorts: [], callsKubernetesApi: false });
        edge(OS_SNAPSHOT_JOB, logStore.name, logStore.clientPort, "takes and deletes snapshots (backup.offsite)");
    }
    // The migration Job: a client of MySQL, once it is ready; the database's clients wait for it (components/platform.ts).
    node({ name: MIGRATE_JOB, kind: "infra", ports: {}, publicPorts: [], callsKubernetesApi: false });
    edge(MIGRATE_JOB, database.name, database.clientPort, "applies the pending schema migrations (jobs/migrate/migrate.sh)", true);
    // The rotate and retire Jobs (from a credential's first rotation on): clients of the server whose users they set.
    if (cfg.rotation.mysql > 0) {
        node({ name: "mysql-rotate", kind: "infra", ports: {}, publicPorts: [], callsKubernetesApi: false });
        edge("mysql-rotate", database.name, database.clientPort, "sets up the next generation's user, locks the previous one (npm run rotate)");
    }
    if (cfg.rotation.rabbitmq > 0) {
        node({ name: "rabbitmq-rotate", kind: "infra", ports: {}, publicPorts: [], callsKubernetesApi: false });
        edge("rabbitmq-rotate", broker.name, broker.port.management, "sets up the next generation's user, retires the previous one (npm run rotate)");
    }
    if (on.nfs) {
        // csi-driver-nfs: the controller creates the volumes of NFS claims through the API (and their directories on the
        // share); the node plugin mounts them for the kubelet over its socket. Both on the host's network (no port served).
        node({ name: "csi-nfs-controller", kind: "infra", ports: {}, publicPorts: [], callsKubernetesApi: true, home: "storage" });
        node({ name: "csi-nfs-node", kind: "infra", ports: {}, publicPorts: [], callsKubernetesApi: false, home: "storage" });
    }
    if (ci) {
        // Agent pods of the Kubernetes plugin (their pod templates carry app=jenkins-agent) call back to the controller.
        node({ name: "jenkins-agent", kind: "infra", ports: {}, publicPorts: [], callsKubernetesApi: false, startedBy: ci.name, home: "ci" });
        edge("jenkins-agent", ci.name, ci.port.http, "agents download their remoting jar and report over HTTP");
        edge("jenkins-agent", ci.name, ci.port.jnlp, "agents connect to the controller (inbound TCP)");
    }

    const gateway = services.find((s) => s.isGateway);
    for (const s of services) {
        if (s.usesConfigServer) edge(s.name, "config", infraPorts.config, "reads its settings from the config server", true);
        if (s.usesDiscovery) edge(s.name, "discovery", infraPorts.discovery, "registers with and looks up Eureka", true);
        if (s.needsDatabase) edge(s.name, database.name, database.clientPort, "reads and writes its tables", true);
        if (s.usesMessaging) edge(s.name, broker.name, broker.clientPort, "Spring Cloud Bus and events", true);
        if (s.usesTracing && tracing) edge(s.name, tracing.name, tracing.clientPort, "sends trace spans");
        if (s.shipsLogs && logShipper) edge(s.name, logShipper.name, logShipper.clientPort, "ships log events");
        if (gateway && s.routedByGateway) edge(gateway.name, s.name, s.port, "routes API requests to the service");
        for (const callee of s.calls ?? []) {
            const target = services.find((t) => t.name === callee);
            edge(s.name, callee, target?.port ?? 0, "calls the service directly (Eureka-resolved pod address)");
        }
    }
    if (gateway) {
        // ReactiveAuthorization checks each request through apigateway.host, i.e. the gateway's own Service.
        edge(gateway.name, gateway.name, gateway.port, "checks authorizations through its own route (apigateway.host)");
        for (const f of frontends) edge(frontendName(f.name), gateway.name, gateway.port, "server-side rendering calls the API");
    }

    for (const e of edges) {
        if (!nodes.has(e.from)) throw new Error(`service graph: edge from unknown workload ${e.from}`);
        if (!nodes.has(e.to)) throw new Error(`service graph: ${e.from} needs ${e.to}, which this stack does not deploy`);
    }

    // Depth-first topological sort; a readyBefore cycle would deadlock a deploy, so it is an error.
    const deployOrder: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (name: string, path: string[]) => {
        if (state.get(name) === "done") return;
        if (state.get(name) === "visiting") throw new Error(`service graph: readiness cycle ${[...path, name].join(" -> ")}`);
        state.set(name, "visiting");
        for (const e of edges) if (e.from === name && e.readyBefore) visit(e.to, [...path, name]);
        state.set(name, "done");
        deployOrder.push(name);
    };
    for (const name of nodes.keys()) visit(name, []);

    return {
        nodes,
        edges,
        deployOrder,
        servers,
        dependenciesOf: (name) => edges.filter((e) => e.from === name),
        clientsOf: (name) => edges.filter((e) => e.to === name),
        allows: (from, to, port) => edges.some((e) => e.from === from && e.to === to && e.port === port),
    };
}
