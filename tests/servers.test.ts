// The seam around the infrastructure servers (config/servers.ts, components/server.ts): each server's record is
// what the rendered stack carries (Service, pods, network policy, the services' wiring, the outputs), and nothing
// outside the server components addresses a server by a name or port of its own.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { loadConfig } from "../config";
import { serviceGraph } from "../config/graph";
import type { ServiceGraph } from "../config/graph";
import { planPlatform } from "../config/plan";
import { serverCatalog, serverRecords } from "../config/servers";
import type { ServerSpec } from "../config/servers";
import { bootCheck, editable, failures } from "../scripts/lib/boot-check";
import { readFacts } from "../scripts/lib/boot-derive";
import { deploy, Obj, ROOT, sourceOf, stackConfig } from "./support/harness";

const configOf = (stack: "dev" | "prod", overrides: Record<string, unknown> = {}) => loadConfig(sourceOf(stackConfig(stack, overrides)), stack);
const serverComponents = ["database.ts", "messaging.ts", "tracing.ts", "logging.ts", "ci.ts", "server.ts"];

/** Where a file addresses an infrastructure server itself: its port numbers, catalog ports, or its name as a host, edge or claim. */
export function serverLiterals(text: string, names: readonly string[], ports: readonly number[]): string[] {
    const found: string[] = [];
    const name = `["'\`](${names.join("|")})["'\`]`;
    const rules: [string, RegExp][] = [
        ["catalog port", /\binfra(Node)?Ports\.(mysql|rabbitmq\w*|zipkin|opensearch\w*|logstash\w*|dashboards|jenkins\w*)\b/],
        ["port number", new RegExp(`(?<![\\w.-])(${ports.join("|")})(?![\\w.])`)],
        ["server name as host, edge or volume", new RegExp(`(host|edgeTo|claim|servers\\[|value:\\s*)[^;]*${name}`, "i")],
        ["server name in a URL", new RegExp(`://(${names.join("|")})[:/]`)],
        ["a server component's internals", /\b(database|messaging|tracing|logging|ci)\.(workload|host|port|managementPort|opensearch|logstash|dashboards|opensearchUrl|logstashPort)\b/],
    ];
    text.split("\n").forEach((raw, i) => {
        // Comments and the wiring contract's documentation fields describe upstream; they address nothing.
        const line = raw.replace(/(^|\s)\/\/.*$/, "").replace(/^\s*\*.*$/, "")
            .replace(/\b(upstream|feeds|overriddenBy|who|reason|why):\s*(`[^`]*`|"[^"]*")/g, "");
        for (const [what, re] of rules) if (re.test(line)) found.push(`${i + 1}: ${what}: ${raw.trim()}`);
    });
    return found;
}

describe("infrastructure servers: one record each, read by everything else", () => {
    for (const stack of ["dev", "prod"] as const) {
        it(`${stack}: every record's host, ports and labels are what the rendered Service, pods and network policies carry`, async () => {
            const cfg = configOf(stack);
            const plan = planPlatform(cfg);
            const d = await deploy(stackConfig(stack), stack);
            assert.ok(plan.servers.all.length >= 2, "a database and a broker at least");
            const policies = d.of("NetworkPolicy").filter((p) => p.metadata.namespace === cfg.namespace);
            for (const r of plan.servers.all) {
                assert.strictEqual(r.host, `${r.service}.${cfg.namespace}.svc.cluster.local`);
                const own = r.ports.filter((p) => !p.ownService);
                const svc = d.find("Service", r.service);
                assert.ok(svc, `${r.name}: a Service ${r.service}`);
                assert.deepStrictEqual(svc!.spec.ports.map((p: Obj) => [p.name, p.port]), own.map((p) => [p.name, p.port]), `${r.name}: Service ports`);
                for (const [k, v] of Object.entries(r.podLabels)) assert.strictEqual(svc!.spec.selector[k], v, `${r.name}: the Service selects ${k}=${v}`);
                for (const p of r.ports.filter((x) => x.ownService)) {
                    const extra = d.find("Service", `${r.service}-${p.ownService}`);
                    assert.deepStrictEqual(extra?.spec.ports.map((x: Obj) => x.port), [p.port], `${r.name}: Service ${r.service}-${p.ownService}`);
                }
                const workload = d.find("StatefulSet", `${r.name}-statefulset`) ?? d.find("Deployment", `${r.name}-deployment`);
                assert.ok(workload, `${r.name}: its workload`);
                const tpl = workload!.spec.template;
                for (const [k, v] of Object.entries(r.podLabels)) assert.strictEqual(tpl.metadata.labels[k], v, `${r.name}: pods labelled ${k}=${v}`);
                const containerPorts = tpl.spec.containers[0].ports.map((p: Obj) => p.containerPort);
                for (const p of r.ports) assert.ok(containerPorts.includes(p.port), `${r.name}: container port ${p.port}`);
                if (!plan.networkPolicy) continue;
                const own_ = policies.find((p) => p.metadata.name === r.name);
                assert.deepStrictEqual(own_?.spec.podSelector.matchLabels, r.podLabels, `${r.name}: its policy selects its pods`);
                // Every client's egress names the record's labels and the client port; the server admits it there.
                const clients = plan.networkPolicy.graph.clientsOf(r.name);
                assert.ok(clients.length > 0 || r.role === "logUi" || r.role === "ci", `${r.name}: has clients`);
                for (const e of clients.filter((x) => !plan.networkPolicy!.graph.nodes.get(x.from)?.home)) {
                    const egress = (policies.find((p) => p.metadata.name === e.from)?.spec.egress ?? []) as Obj[];
                    assert.ok(egress.some((rule) => rule.ports.some((p: Obj) => p.port === e.port)
                        && rule.to.some((t: Obj) => JSON.stringify(t.podSelector?.matchLabels) === JSON.stringify(r.podLabels))),
                    `${e.from} -> ${r.name}:${e.port} in ${e.from}'s egress`);
                    assert.ok(r.ports.some((p) => p.port === e.port), `${e.from} -> ${r.name}: port ${e.port} is one of the record's`);
                }
            }
            // The services are given the records' hosts and ports.
            const backend = d.of("ConfigMap").find((c) => c.metadata.name.startsWith("backend-configmap"))!;
            const db = plan.servers.byRole.database!;
            assert.strictEqual(backend.data.MYSQL_HOSTNAME, db.host);
            const shipper = plan.servers.byRole.logShipper;
            if (shipper) assert.strictEqual(backend.data.logstash_hostname, `${shipper.host}:${shipper.clientPort}`);
            else assert.strictEqual(backend.data.logstash_hostname, undefined);
            const tracing = plan.servers.byRole.tracing;
            if (tracing) assert.ok(backend.data.MANAGEMENT_ZIPKIN_TRACING_ENDPOINT.startsWith(`http://${tracing.host}:${tracing.clientPort}/`));
            const migrate = d.of("Job").find((j) => j.metadata.name.startsWith("mysql-migrate"))!;
            const env = Object.fromEntries(migrate.spec.template.spec.containers[0].env.map((e: Obj) => [e.name, e.value]));
            assert.deepStrictEqual([env.MYSQL_HOST, env.MYSQL_PORT], [db.service, String(db.clientPort)]);
            // Outputs: a URL per UI, an endpoint per record that asks for one.
            for (const r of plan.servers.all) {
                if (r.ui) assert.strictEqual(d.exports.urls[r.name], `${cfg.ingress.tlsSecretName ? "https" : "http"}://${r.ui.hostPrefix}.${cfg.domain}`);
                if (r.endpoint) assert.strictEqual(d.exports.endpoints[r.name], `${r.endpoint === "host:port" ? "" : `${r.endpoint}://`}${r.host}:${r.clientPort}`);
                else assert.strictEqual(d.exports.endpoints[r.name], undefined);
            }
        });
    }

    it("the parts a stack turns off have no record, and nothing renders or wires them", async () => {
        const raw = stackConfig("dev", { logging: { enabled: false }, tracing: { enabled: false }, ci: { enabled: false } });
        const cfg = loadConfig(sourceOf(raw), "dev");
        const servers = planPlatform(cfg).servers;
        assert.deepStrictEqual(servers.all.map((r) => r.name), ["mysql", "rabbitmq"]);
        const d = await deploy(raw, "dev");
        for (const gone of ["zipkin", "opensearch", "logstash", "dashboards", "jenkins"]) assert.strictEqual(d.find("Service", gone), undefined, gone);
        assert.deepStrictEqual(Object.keys(d.exports.endpoints).sort(), ["apigateway", "configServer", "discovery", "mysql", "rabbitmq"]);
    });

    it("refuses a catalog that two servers share a role in, a client port it does not serve, or a need nobody serves", () => {
        const cfg = configOf("dev");
        const mysql = serverCatalog.find((s) => s.name === "mysql")!;
        const with_ = (...extra: ServerSpec[]) => [...serverCatalog, ...extra];
        assert.throws(() => serverRecords(cfg, with_({ ...mysql, name: "postgres" })), /two servers have role database \(mysql, postgres\)/);
        assert.throws(() => serverRecords(cfg, serverCatalog.map((s) => (s === mysql ? { ...mysql, clientPort: "sql" } : s))),
            /mysql has no port named sql \(ports: mysql\)/);
        const noStore = serverCatalog.filter((s) => s.role !== "logStore");
        assert.throws(() => serverRecords(cfg, noStore), /logstash needs a logStore, which this stack does not deploy/);
        // A moved port moves with its record: nothing else holds it.
        const moved = serverRecords(cfg, serverCatalog.map((s) => (s === mysql ? { ...mysql, ports: [{ name: "mysql", port: 3307 }] } : s)));
        assert.strictEqual(moved.byRole.database!.clientPort, 3307);
    });

    it("the boot check reads the records: a server's host, port and the graph's edge to it", async () => {
        const raw = stackConfig("dev");
        const graph = serviceGraph(loadConfig(sourceOf(raw), "dev"));
        const facts = readFacts();
        const d = await deploy(raw, "dev");
        const fails = (r: ReturnType<typeof editable>, g: ServiceGraph = graph) =>
            failures(bootCheck(facts, r, g)).map((x) => `${x.workload} ${x.finding.key}: ${x.finding.detail}`);
        assert.deepStrictEqual(fails(editable(d)), []);

        const otherHost = editable(d);
        otherHost.of("ConfigMap").find((c) => c.metadata.name.startsWith("backend-configmap"))!.data.MYSQL_HOSTNAME = "mysql.elsewhere.svc.cluster.local";
        const hostFails = fails(otherHost);
        assert.ok(hostFails.length > 0 && hostFails.every((f) => /is not where mysql is \(its record: mysql\.egov-dev\.svc\.cluster\.local\)/.test(f)), hostFails.join("\n"));

        const dbClients = graph.clientsOf("mysql").map((e) => e.from).filter((c) => graph.nodes.get(c)?.kind === "backend").sort();
        assert.strictEqual(dbClients.length, 6);
        const otherPort = editable(d);
        const gen = otherPort.of("ConfigMap").find((c) => c.metadata.name.startsWith("config-generated-configmap"))!;
        for (const k of Object.keys(gen.data)) gen.data[k] = String(gen.data[k]).replace(/(mysql:\/\/\S+?):3306\//g, "$1:3307/");
        // (The conformance check also reports the served file's change; the record check names the port.)
        const portFails = fails(otherPort).filter((f) => / spring\.(datasource|r2dbc)\.url: /.test(f));
        assert.deepStrictEqual(portFails.map((f) => f.split(" ")[0]).sort(), dbClients, portFails.join("\n"));
        assert.ok(portFails.every((f) => /port 3307: mysql serves 3306 \(its record\)$/.test(f)), portFails.join("\n"));

        // A graph without the database edges: the network policy would refuse what the services are wired to.
        const noEdge: ServiceGraph = { ...graph, allows: (from, to, port) => to !== "mysql" && graph.allows(from, to, port) };
        const edgeFails = fails(editable(d), noEdge);
        assert.ok(edgeFails.some((f) => /^user-service spring\.datasource\.url: .*no edge user-service -> mysql:3306/.test(f)), edgeFails.join("\n"));
    });

    it("outside the server components, no component, nor the wiring, addresses a server by a name or port of its own", () => {
        const names = serverCatalog.map((s) => s.name);
        const ports = [...new Set(serverCatalog.flatMap((s) => s.ports.map((p) => p.port)))];
        const files = [
            ...fs.readdirSync(path.join(ROOT, "components")).filter((f) => f.endsWith(".ts") && !serverComponents.includes(f)).map((f) => `components/${f}`),
            "config/wiring.ts", "config/served.ts",
        ];
        const found = files.flatMap((f) => serverLiterals(fs.readFileSync(path.join(ROOT, f), "utf8"), names, ports).map((x) => `${f}:${x}`));
        assert.deepStrictEqual(found, []);
        // The check finds what it looks for.
        const bad = [
            "env: [{ name: \"MYSQL_HOST\", value: \"mysql\" }, { name: \"MYSQL_PORT\", value: \"3306\" }],",
            "const db = new Database(\"database\", { claimName: claim(\"mysql\") });",
            "url: `http://rabbitmq:${infraPorts.rabbitmqManagement}`,",
            "mysqlHost: database.workload.service.metadata.name,",
            "// a comment naming mysql:3306 is fine",
            "upstream: \"config/x.yml: jdbc:mysql://${mysql.hostname}:3306/db\", value: (ctx) => serverFor(ctx, \"database\").host,",
        ].join("\n");
        assert.deepStrictEqual(serverLiterals(bad, names, ports).map((x) => x.split(":").slice(0, 2).join(":")), [
            "1: port number", "1: server name as host, edge or volume", "2: server name as host, edge or volume", "3: catalog port",
            "3: server name in a URL", "4: a server component's internals",
        ]);
    });
});
