// The seam around every infrastructure server (database, broker, log store, log shipper, log UI, tracing, CI):
// one catalog entry per server says what its clients need to know, and serverRecords() resolves the entries
// the stack turns on into records. The service graph (edges, deploy order, network policy), the wiring contract
// (host names and ports the services are given), the plan and the boot check read only these records; the
// component named by `implementation` renders the server and hands its dependents the contract of
// components/server.ts. Swapping an implementation is a new component and a changed entry here (docs/design.md).
import type { PlatformConfig } from "./types";
import { infraNodePorts, infraPorts } from "./catalog";
import { partsOn } from "./parts";
import type { PartsOn } from "./parts";

export const serverRoles = ["database", "broker", "logStore", "logShipper", "logUi", "tracing", "ci"] as const;
export type ServerRole = (typeof serverRoles)[number];

/** The components that render a server (components/server.ts lists which class implements each). */
export const serverImplementations = ["mysql-statefulset", "rabbitmq-statefulset", "opensearch", "fluent-bit", "opensearch-dashboards", "zipkin", "jenkins"] as const;
export type ServerImplementation = (typeof serverImplementations)[number];

/**
 * What a client waits for before it starts. pods-ready: the server's pods ready and its Services there.
 * schema-migrated: that, then the schema migration Job completed (config/migrations.ts).
 */
export type Readiness = "pods-ready" | "schema-migrated";

/** The credentials the platform generates for a server's clients (components/credentials.ts). */
export type ServerSecret = "mysql" | "rabbitmq";

export interface ServerPort {
    readonly name: string;
    readonly port: number;
    /** Used when the Service type is NodePort. */
    readonly nodePort?: number;
    /** Served by a second Service of its own, named <server>-<ownService> (e.g. Jenkins' agent port). */
    readonly ownService?: string;
}

/** One infrastructure server in the catalog. */
export interface ServerSpec {
    /** The Service name and the pods' `app` label. */
    readonly name: string;
    readonly role: ServerRole;
    readonly implementation: ServerImplementation;
    /** The part that turns it on; always deployed when unset. */
    readonly part?: keyof Pick<PartsOn, "tracing" | "logging" | "ci">;
    readonly ports: readonly ServerPort[];
    /** The port (by name) its clients connect to. */
    readonly clientPort: string;
    /** Its UI, reached from outside through the ingress controller at <hostPrefix>.<domain>. */
    readonly ui?: { readonly port: string; readonly hostPrefix: string };
    /** The Secret its clients read and the keys they read from it. */
    readonly secret?: { readonly name: ServerSecret; readonly keys: readonly string[] };
    readonly ready: Readiness;
    /** Other servers (by role) it needs ready before it starts, and why. */
    readonly needs?: readonly { readonly role: ServerRole; readonly why: string }[];
    /** Calls the Kubernetes API (a service account token and egress to the API server). */
    readonly callsKubernetesApi?: boolean;
    /** The stack output `endpoints.<name>`: host:port, or an http:// or https:// URL. */
    readonly endpoint?: "host:port" | "http" | "https";
}

export const serverCatalog: readonly ServerSpec[] = [
    {
        name: "mysql", role: "database", implementation: "mysql-statefulset", ports: [{ name: "mysql", port: infraPorts.mysql }], clientPort: "mysql",
        secret: { name: "mysql", keys: ["username", "password"] }, ready: "schema-migrated", endpoint: "host:port",
    },
    {
        name: "rabbitmq", role: "broker", implementation: "rabbitmq-statefulset",
        ports: [
            { name: "amqp", port: infraPorts.rabbitmqAmqp, nodePort: infraNodePorts.rabbitmqAmqp },
            { name: "management", port: infraPorts.rabbitmqManagement, nodePort: infraNodePorts.rabbitmqManagement },
        ],
        clientPort: "amqp", ui: { port: "management", hostPrefix: "rabbitmq" }, secret: { name: "rabbitmq", keys: ["username", "password"] },
        ready: "pods-ready", endpoint: "host:port",
    },
    {
        name: "zipkin", role: "tracing", implementation: "zipkin", part: "tracing",
        ports: [{ name: "http", port: infraPorts.zipkin, nodePort: infraNodePorts.zipkin }], clientPort: "http",
        ui: { port: "http", hostPrefix: "zipkin" }, ready: "pods-ready", endpoint: "http",
    },
    {
        name: "opensearch", role: "logStore", implementation: "opensearch", part: "logging",
        ports: [{ name: "http", port: infraPorts.opensearch }, { name: "transport", port: infraPorts.opensearchTransport }], clientPort: "http",
        ready: "pods-ready", endpoint: "https",
    },
    {
        // Fluent Bit keeps the logstash Service and port: the services' appender sends to logstash_hostname as before.
        name: "logstash", role: "logShipper", implementation: "fluent-bit", part: "logging",
        ports: [{ name: "tcp-json", port: infraPorts.logstash }],
        clientPort: "tcp-json", ready: "pods-ready", needs: [{ role: "logStore", why: "ships the services' log events" }], endpoint: "host:port",
    },
    {
        name: "dashboards", role: "logUi", implementation: "opensearch-dashboards", part: "logging",
        ports: [{ name: "http", port: infraPorts.dashboards, nodePort: infraNodePorts.dashboards }],
        clientPort: "http", ui: { port: "http", hostPrefix: "dashboards" }, ready: "pods-ready", needs: [{ role: "logStore", why: "queries the log index" }],
    },
    {
        name: "jenkins", role: "ci", implementation: "jenkins", part: "ci",
        ports: [
            { name: "http", port: infraPorts.jenkinsHttp, nodePort: infraNodePorts.jenkinsHttp },
            { name: "jnlp", port: infraPorts.jenkinsAgent, nodePort: infraNodePorts.jenkinsAgent, ownService: "jnlp" },
        ],
        clientPort: "http", ui: { port: "http", hostPrefix: "jenkins" }, ready: "pods-ready", callsKubernetesApi: true,
    },
];

/** A server of this stack, resolved: everything its clients, the graph and the boot check know of it. */
export interface ServerRecord {
    readonly name: string;
    readonly role: ServerRole;
    readonly implementation: ServerImplementation;
    /** The Service name: what clients in the application's namespace may use. */
    readonly service: string;
    /** The Service's cluster DNS name: what the services are given. */
    readonly host: string;
    readonly ports: readonly ServerPort[];
    /** Port number by port name. */
    readonly port: Readonly<Record<string, number>>;
    /** The port its clients connect to. */
    readonly clientPort: number;
    /** The pods' labels: what its own ingress policy and its clients' egress select. */
    readonly podLabels: Readonly<Record<string, string>>;
    readonly ui?: { readonly port: number; readonly hostPrefix: string };
    readonly secret?: ServerSpec["secret"];
    readonly ready: Readiness;
    readonly needs: readonly { readonly server: string; readonly why: string }[];
    readonly callsKubernetesApi: boolean;
    readonly endpoint?: ServerSpec["endpoint"];
}

/** The stack's servers by name, in catalog order, and by role. */
export interface ServerRecords {
    readonly byName: Readonly<Record<string, ServerRecord>>;
    readonly byRole: Readonly<Partial<Record<ServerRole, ServerRecord>>>;
    readonly all: readonly ServerRecord[];
}

/** The records of the servers the stack turns on (pure: the graph, the wiring and the plan call it). */
export function serverRecords(cfg: Pick<PlatformConfig, "namespace" | "tracing" | "logging" | "ci" | "backup" | "networkPolicy" | "storage">,
    catalog: readonly ServerSpec[] = serverCatalog): ServerRecords {
    const on = partsOn(cfg);
    const specs = catalog.filter((s) => s.part === undefined || on[s.part]);
    const roleOf = new Map(specs.map((s) => [s.role, s.name]));
    const all = specs.map((s): ServerRecord => {
        const port = Object.fromEntries(s.ports.map((p) => [p.name, p.port]));
        const portNamed = (name: string) => {
            if (port[name] === undefined) throw new Error(`server catalog: ${s.name} has no port named ${name} (ports: ${Object.keys(port).join(", ")})`);
            return port[name];
        };
        return {
            name: s.name,
            role: s.role,
            implementation: s.implementation,
            service: s.name,
            host: `${s.name}.${cfg.namespace}.svc.cluster.local`,
            ports: s.ports,
            port,
            clientPort: portNamed(s.clientPort),
            podLabels: { app: s.name },
            ui: s.ui ? { port: portNamed(s.ui.port), hostPrefix: s.ui.hostPrefix } : undefined,
            secret: s.secret,
            ready: s.ready,
            needs: (s.needs ?? []).map((n) => {
                const server = roleOf.get(n.role);
                if (!server) throw new Error(`server catalog: ${s.name} needs a ${n.role}, which this stack does not deploy`);
                return { server, why: n.why };
            }),
            callsKubernetesApi: s.callsKubernetesApi ?? false,
            endpoint: s.endpoint,
        };
    });
    const byRole: Partial<Record<ServerRole, ServerRecord>> = {};
    for (const r of all) {
        if (byRole[r.role]) throw new Error(`server catalog: two servers have role ${r.role} (${byRole[r.role]!.name}, ${r.name})`);
        byRole[r.role] = r;
    }
    return { byName: Object.fromEntries(all.map((r) => [r.name, r])), byRole, all };
}

/** The server of a role the stack must have (database, broker): an error naming the role when it has none. */
export function serverOf(servers: ServerRecords, role: ServerRole): ServerRecord {
    const r = servers.byRole[role];
    if (!r) throw new Error(`no ${role} server in this stack (config/servers.ts serverCatalog)`);
    return r;
}
