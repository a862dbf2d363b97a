// The boot check (scripts/lib/boot-check.ts): the facts derived from the upstream source hold for every committed
// stack, the committed facts are what the source says, and each start-up failure the stacks once had is caught
// when it is put back, naming the service, the key and the upstream line that needs it.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseDocument } from "yaml";
import { loadConfig } from "../config";
import { serviceGraph } from "../config/graph";
import { UPSTREAM } from "../config/wiring";
import { bootCheck, editable, failures, formatReport, pathMatches, Rendered } from "../scripts/lib/boot-check";
import { BootFacts, DEFAULT_UPSTREAM, deriveFacts, deriveService, factsJson, readFacts } from "../scripts/lib/boot-derive";
import { flatYaml } from "../scripts/lib/boot-conformance";
import { CLIENT_DRIVERS, urlParamsOf, versionBelow } from "../config/mysql";
import { deploy, Deployed, Obj, ROOT, sourceOf, stackConfig } from "./support/harness";
import { BROKER_CONF_FILE } from "../components/messaging";

const facts = readFacts();
const container = (r: Rendered, name: string) => r.find("Deployment", `${name}-deployment`)!.spec.template.spec.containers[0] as Obj;
const failed = (r: Rendered, f: BootFacts = facts) => failures(bootCheck(f, r)).map((x) => `${x.workload} ${x.finding.key} [${x.finding.needs}] ${x.finding.detail}`);
/** Failures of what the source needs, without the conformance check's (which name the application's config file). */
const needsFailed = (r: Rendered, f: BootFacts = facts) => failed(r, f).filter((x) => !/ \[config\/[^\]]+\] /.test(x));

/**
 * What the served configuration lacked before issue 26, per service: the keys upstream's config/<service>.yml sets
 * that the code needs (mail, Spring Cloud Stream), and the gateway's health indicators of other servers turned off.
 * The stacks serve them now (the application's files, config/served.ts); the tests take them away again.
 */
const ATTACHMENT = { "spring.cloud.stream.bindings.attachmentEntity-out-0.destination": "attachment-entity.topic" };
const FIX: Record<string, Record<string, string>> = {
    "apigateway": {
        "management.health.binders.enabled": "false",
        "health.config.enabled": "false",
        "spring.cloud.discovery.client.composite-indicator.enabled": "false",
    },
    "user-service": { "spring.mail.host": "smtp.gmail.com" },
    "board-service": ATTACHMENT,
    "reserve-check-service": ATTACHMENT,
    "portal-service": {
        "spring.cloud.stream.function.definition": "attachmentEntity;busConsumer",
        "spring.cloud.stream.bindings.attachmentEntity-in-0.destination": "attachment-entity.topic",
        "spring.cloud.stream.bindings.attachmentEntity-in-0.group": "attachment",
        ...ATTACHMENT,
    },
    "reserve-item-service": {
        "spring.cloud.stream.function.definition": "reserveRequest;busConsumer",
        "spring.cloud.stream.bindings.reserveRequest-in-0.destination": "reserve-request.topic",
        "spring.cloud.stream.bindings.reserveRequest-in-0.group": "reserved",
        "spring.cloud.stream.bindings.inventoryUpdated-out-0.destination": "inventory-updated.topic",
    },
    "reserve-request-service": {
        "spring.cloud.stream.function.definition": "inventoryUpdated;busConsumer",
        "spring.cloud.stream.bindings.reserveRequest-out-0.destination": "reserve-request.topic",
        "spring.cloud.stream.bindings.inventoryUpdated-in-0.destination": "inventory-updated.topic",
        "spring.cloud.stream.bindings.inventoryUpdated-in-0.group": "reserved",
        ...ATTACHMENT,
    },
};

/** A copy of the rendered objects whose served files of a client carry `add` (in its own file) and lack `drop` (in all). */
function serving(d: Rendered, add: Record<string, Record<string, string>> = {}, drop: Record<string, string[]> = {}): ReturnType<typeof editable> {
    const r = editable(d);
    // The stack derives SPRING_CLOUD_FUNCTION_DEFINITION from the served definition (config/wiring.ts): a test that
    // changes the served one renders without it, so the served files alone decide, as they would in such a stack.
    for (const svc of new Set([...Object.keys(add), ...Object.keys(drop)])) {
        if (![...Object.keys(add[svc] ?? {}), ...(drop[svc] ?? [])].some((k) => k.endsWith("function.definition"))) continue;
        for (const dep of r.of("Deployment").filter((x) => x.metadata.name.startsWith(`${svc}-deployment`))) {
            for (const c of dep.spec.template.spec.containers) c.env = (c.env ?? []).filter((e: { name: string }) => e.name !== "SPRING_CLOUD_FUNCTION_DEFINITION");
        }
    }
    const gen = r.of("ConfigMap").find((c) => c.metadata.name.startsWith("config-generated-configmap"))!;
    for (const svc of new Set([...Object.keys(add), ...Object.keys(drop)])) {
        for (const file of [`${svc}_application.yml`, `${svc}_${svc}.yml`]) {
            if (gen.data[file] === undefined) continue;
            const flat = flatYaml(gen.data[file]);
            for (const k of [...(drop[svc] ?? []), ...Object.keys(add[svc] ?? {})]) delete flat[k];
            if (file === `${svc}_${svc}.yml`) Object.assign(flat, add[svc] ?? {});
            gen.data[file] = `${Object.entries(flat).map(([k, v]) => `'${k}': '${v.replace(/'/g, "''")}'`).join("\n")}\n`;
        }
    }
    return r;
}
const without = (svc: string, ...keys: string[]) => serving(devRef!, {}, { [svc]: keys });
let devRef: Deployed | undefined;

describe("the boot check", function () {
    this.timeout(60000);
    let dev: Deployed;
    before(async () => {
        dev = await deploy(stackConfig("dev"));
        devRef = dev;
    });

    describe("the facts", () => {
        it("are what the upstream source says (regenerated from ../shared/reference)", function () {
            if (!fs.existsSync(path.join(DEFAULT_UPSTREAM, "backend"))) {
                // The committed facts are all the other tests need; this one needs the tree beside the project.
                this.skip();
            }
            assert.deepStrictEqual(JSON.parse(factsJson(deriveFacts(DEFAULT_UPSTREAM))), facts,
                "scripts/lib/boot-facts.json differs from the source: npm run boot-check -- --stack dev --write-facts, then review the diff");
        });

        it("come from the commit the wiring contract refers to, each with its file and line", () => {
            assert.strictEqual(facts.commit, UPSTREAM.commit);
            assert.strictEqual(facts.services.length, 9);
            for (const s of facts.services) {
                for (const r of s.requires) assert.ok(r.file && r.line > 0, `${s.name} ${r.key}`);
                for (const p of s.security?.permits ?? []) assert.ok(p.file.endsWith(".java") && p.line > 0, `${s.name} ${p.pattern}`);
            }
            const need = (svc: string, key: string) => facts.services.find((s) => s.name === svc)!.requires.find((r) => r.key === key);
            assert.match(need("board-service", "messages.directory")!.file, /module-common\/.*MessageSourceConfig\.java$/, "scanned from module-common");
            assert.strictEqual(need("user-service", "token.expiration_time")!.line, 54);
            assert.ok(need("reserve-item-service", "spring.r2dbc.url"), "R2DBC starter");
            assert.ok(!need("reserve-item-service", "spring.datasource.url"), "no JPA starter of its own");
            assert.ok(!need("user-service", "spring.r2dbc.url"), "R2dbcAutoConfiguration excluded in its application.yml");
            const gw = facts.services.find((s) => s.name === "apigateway")!;
            assert.ok(gw.security!.permits.some((p) => p.pattern === "/actuator/?*"));
            assert.ok(gw.security!.permits.some((p) => p.pattern === "/user-service/api/v1/authorizations/check"), "constants resolved per class");
            assert.match(gw.security!.otherwise.value, /access\(check\)/);
            assert.ok(facts.frontends.find((f) => f.name === "admin")!.buildTime.some((b) => b.reads === "SERVER_API_URL"));
        });
    });

    it("matches paths as Spring's PathPattern does", () => {
        assert.ok(pathMatches("/actuator/?*", "/actuator/health"));
        assert.ok(!pathMatches("/actuator/?*", "/actuator/health/readiness"), "one segment only");
        assert.ok(!pathMatches("/actuator/?*", "/actuator/"));
        assert.ok(pathMatches("/actuator/**", "/actuator/health/readiness"));
        assert.ok(pathMatches("/actuator/**", "/actuator"));
        assert.ok(pathMatches("/?*-service/actuator/?*", "/user-service/actuator/health"));
        assert.ok(!pathMatches("/?*-service/actuator/?*", "/-service/actuator/health"));
        assert.ok(pathMatches("/swagger*/**", "/swagger-ui/index.html"));
        assert.ok(!pathMatches("/swagger-ui.html", "/swagger-uiXhtml"), "a dot is literal");
        assert.ok(pathMatches("/api/{id}/x", "/api/7/x"));
    });

    it("passes on every committed stack, which serves what issue 26 found missing", async () => {
        const stacks = fs.readdirSync(ROOT).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => s !== undefined);
        assert.ok(stacks.includes("dev") && stacks.includes("prod"));
        for (const stack of stacks) {
            const raw = stackConfig(stack as "dev" | "prod");
            const d = await deploy(raw, stack);
            const graph = serviceGraph(loadConfig(sourceOf(raw), stack));
            const reports = bootCheck(facts, d, graph);
            assert.deepStrictEqual(failures(reports).map((x) => `${x.workload} ${x.finding.key}: ${x.finding.detail}`), [], stack);
            const gen = d.of("ConfigMap").find((c) => c.metadata.name.startsWith("config-generated-configmap"))!;
            for (const [svc, props] of Object.entries(FIX)) {
                const served = { ...flatYaml(gen.data[`${svc}_application.yml`]), ...flatYaml(gen.data[`${svc}_${svc}.yml`]) };
                for (const [k, v] of Object.entries(props)) assert.strictEqual(served[k], v, `${stack} ${svc} ${k}`);
            }
            assert.strictEqual(reports.length, 14, "nine services, the broker, two frontends, OpenSearch and its shipper");
            assert.ok(reports.every((r) => r.findings.length > 0));
        }
    });

    describe("catches each start-up failure the stacks had, put back", () => {
        it("1: gateway probes its security sends to ReactiveAuthorization (itself)", () => {
            const r = serving(dev);
            container(r, "apigateway").readinessProbe = { httpGet: { path: "/actuator/health/readiness", port: 8000 } };
            const f = failed(r);
            assert.strictEqual(f.length, 1, f.join("\n"));
            assert.match(f[0], /^apigateway readinessProbe \[backend\/apigateway\/.*\/WebFluxSecurityConfig\.java:72\] GET \/actuator\/health\/readiness: matches no permitAll pattern .*access\(check\)/);
        });

        it("2: a config server serving only overrides (no complete configuration per service)", () => {
            const r = serving(dev);
            const gen = r.of("ConfigMap").find((c) => c.metadata.name.startsWith("config-generated-configmap"))!;
            for (const [file, text] of Object.entries(gen.data as Record<string, string>)) {
                if (file.endsWith("_application.yml")) delete gen.data[file];
                else {
                    const doc = parseDocument(text);
                    for (const p of [["spring", "datasource", "url"], ["spring", "r2dbc", "url"]]) if (doc.getIn(p) !== undefined) doc.deleteIn(p);
                    gen.data[file] = doc.toString();
                }
            }
            const f = failed(r);
            for (const svc of ["user-service", "portal-service", "board-service", "reserve-item-service", "reserve-check-service", "reserve-request-service"]) {
                assert.ok(f.some((x) => x.startsWith(`${svc} messages.directory [backend/egovframe-cloud-module-common/`) && /MessageSourceConfig\.java:42\]/.test(x)), `${svc}\n${f.join("\n")}`);
            }
            assert.ok(f.some((x) => x.startsWith("user-service token.expiration_time [backend/user-service/src/main/java/org/egovframe/cloud/userservice/config/TokenProvider.java:54]")));
            assert.ok(f.some((x) => x.startsWith("user-service spring.datasource.url [backend/user-service/build.gradle:43]")));
            assert.ok(f.some((x) => x.startsWith("reserve-check-service spring.r2dbc.url [backend/reserve-check-service/build.gradle:45]")));
            assert.ok(!f.some((x) => x.startsWith("apigateway messages.directory")), "the gateway packages its own messages.directory");
            // And the conformance check names what was lost: the application's own file, for every client.
            for (const svc of ["apigateway", "user-service", "reserve-request-service"]) {
                assert.ok(f.some((x) => x.startsWith(`${svc} config/application.yml [config/application.yml] not served`)), `${svc}\n${f.join("\n")}`);
            }
        });

        it("3: port 80 as uid 1000 with every capability dropped", () => {
            const r = serving(dev);
            const c = container(r, "user-service");
            c.env = (c.env as Obj[]).map((e) => (e.name === "SERVER_PORT" ? { name: e.name, value: "80" } : e));
            c.ports = [{ name: "http", containerPort: 80 }];
            for (const p of ["startupProbe", "readinessProbe", "livenessProbe"]) c[p] = { ...c[p], httpGet: { ...c[p].httpGet, port: 80 } };
            const f = failed(r);
            assert.strictEqual(f.length, 1, f.join("\n"));
            assert.match(f[0], /^user-service bind :80 \[backend\/user-service\/src\/main\/resources\/application\.yml:2\] uid 1000 .*Permission denied/);
            // The same pod with the safe sysctl binds.
            r.find("Deployment", "user-service-deployment")!.spec.template.spec.securityContext.sysctls = [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }];
            assert.deepStrictEqual(failed(r), []);
        });

        it("4: an override served to every client, naming a variable some lack", () => {
            const r = serving(dev);
            r.all.push({
                kind: "ConfigMap",
                obj: {
                    metadata: { name: "config-server-configmap" },
                    data: { "overrides.yml": "spring:\n  cloud:\n    config:\n      server:\n        overrides:\n          '[spring.datasource.username]': '\\${DB_USERNAME}'\n" },
                },
            });
            const server = r.find("Deployment", "config-deployment")!.spec.template.spec;
            server.volumes.push({ name: "server-settings", configMap: { name: "config-server-configmap" } });
            server.containers[0].volumeMounts.push({ name: "server-settings", mountPath: "/etc/egov/config-server" });
            server.containers[0].env.push({ name: "SPRING_CONFIG_ADDITIONAL_LOCATION", value: "file:/etc/egov/config-server/overrides.yml" });
            const f = failed(r);
            assert.deepStrictEqual(f.map((x) => x.split(" [")[0]), ["apigateway spring.datasource.username"], f.join("\n"));
            assert.match(f[0], /served override config-server-configmap\/overrides\.yml\] served \$\{DB_USERNAME\}, which apigateway has nowhere/);
        });

        it("5: config clients that start without the config server (fail-fast false)", () => {
            const r = serving(dev);
            const c = container(r, "board-service");
            c.env = (c.env as Obj[]).filter((e) => e.name !== "SPRING_CLOUD_CONFIG_FAIL_FAST");
            const f = failed(r);
            assert.strictEqual(f.length, 1, f.join("\n"));
            assert.match(f[0], /^board-service spring\.cloud\.config\.fail-fast \[backend\/board-service\/build\.gradle:48\] false <- backend\/board-service\/src\/main\/resources\/bootstrap\.yml:6: is false/);
        });

        it("a required key new in the source", () => {
            // A synthetic upstream tree: user-service gains a bean reading a key nothing sets.
            const root = fs.mkdtempSync(path.join(os.tmpdir(), "egov-upstream-"));
            try {
                const java = path.join(root, "backend/user-service/src/main/java/org/egovframe/cloud/userservice");
                fs.mkdirSync(path.join(java, "config"), { recursive: true });
                fs.mkdirSync(path.join(root, "backend/user-service/src/main/resources"), { recursive: true });
                fs.writeFileSync(path.join(root, "backend/user-service/src/main/resources/application.yml"), "spring:\n  application:\n    name: user-service\n");
                fs.writeFileSync(path.join(java, "UserServiceApplication.java"),
                    "package org.egovframe.cloud.userservice;\n@SpringBootApplication\npublic class UserServiceApplication {}\n");
                fs.writeFileSync(path.join(java, "config/AuditConfig.java"), "package org.egovframe.cloud.userservice.config;\n\n@Configuration\n" +
                    "public class AuditConfig {\n    @Value(\"${audit.retention-days}\")\n    private int days;\n    @Value(\"${audit.enabled:true}\")\n    private boolean on;\n}\n");
                fs.writeFileSync(path.join(java, "config/MailProperties.java"), "package org.egovframe.cloud.userservice.config;\n\n" +
                    "@Validated\n@ConfigurationProperties(prefix = \"egov.mail\")\npublic class MailProperties {\n    @NotBlank\n    private String senderAddress;\n" +
                    "    private String signature;\n}\n");
                const derived = deriveService(root, "user-service");
                assert.deepStrictEqual(derived.requires.map((x) => `${x.key} ${x.file}:${x.line}`), [
                    "audit.retention-days backend/user-service/src/main/java/org/egovframe/cloud/userservice/config/AuditConfig.java:5",
                    "egov.mail.sender-address backend/user-service/src/main/java/org/egovframe/cloud/userservice/config/MailProperties.java:6",
                ], "a key with a default, or a field without a constraint, is not required");
                const withNew: BootFacts = {
                    ...facts,
                    services: facts.services.map((s) => (s.name === "user-service" ? { ...s, requires: [...s.requires, ...derived.requires] } : s)),
                };
                const f = failed(serving(dev), withNew);
                assert.strictEqual(f.length, 2, f.join("\n"));
                assert.match(f[0], /^user-service audit\.retention-days \[backend\/user-service\/.*\/AuditConfig\.java:5\] not set anywhere/);
                assert.match(f[1], /^user-service egov\.mail\.sender-address \[backend\/user-service\/.*\/MailProperties\.java:6\] not set anywhere/);
            } finally {
                fs.rmSync(root, { recursive: true, force: true });
            }
        });
    });
    describe("OpenSearch and its shipper (issue 31)", () => {
        const report = (r: Rendered, workload: string) => bootCheck(facts, r).find((x) => x.workload === workload)!;
        const osContainer = (r: Rendered) => r.find("StatefulSet", "opensearch-statefulset")!.spec.template.spec.containers[0] as Obj;

        it("passes the stack as rendered: the initial admin password from the generated Secret, no demo configuration, TLS", () => {
            const os = report(editable(dev), "opensearch");
            assert.deepStrictEqual(os.findings.map((x) => `${x.status} ${x.key}`), ["ok OPENSEARCH_INITIAL_ADMIN_PASSWORD", "ok DISABLE_INSTALL_DEMO_CONFIG",
                "ok opensearch.yml", "note TLS Secret"]);
            assert.match(os.findings[0].detail, /^Secret opensearch-credentials admin-password \(generated\)$/);
            const shipper = report(editable(dev), "logstash");
            assert.deepStrictEqual(shipper.findings.map((x) => `${x.status} ${x.key}: ${x.detail}`), [
                "ok logstash_hostname: logstash.egov-dev.svc.cluster.local:8088: a tcp input on 8088 reading JSON maps, one per line as the appender writes them",
                "ok opensearch output: opensearch.egov-dev.svc.cluster.local:9200 as logstash, tls On, verify On"]);
        });

        it("refuses a stack without the initial admin password, with it in plain text, or naming a Secret the stack lacks", () => {
            const r = editable(dev);
            const c = osContainer(r);
            c.env = (c.env as Obj[]).filter((e) => e.name !== "OPENSEARCH_INITIAL_ADMIN_PASSWORD");
            assert.deepStrictEqual(failed(r), ["opensearch OPENSEARCH_INITIAL_ADMIN_PASSWORD [opensearchproject/opensearch 2.12+ (opensearch-docker-entrypoint.sh)] " +
                "not set: the image refuses to start without a strong initial admin password"]);
            c.env.push({ name: "OPENSEARCH_INITIAL_ADMIN_PASSWORD", value: "Adm1n-Passw0rd" });
            assert.match(failed(r).join(), /a plain value in the pod spec/);
            c.env[c.env.length - 1] = { name: "OPENSEARCH_INITIAL_ADMIN_PASSWORD", valueFrom: { secretKeyRef: { name: "opensearch-credentials", key: "password" } } };
            assert.match(failed(r).join(), /Secret opensearch-credentials with key password: the stack renders none/);
        });

        it("refuses the demo configuration, an opensearch.yml without TLS, and a shipper the appender cannot reach", () => {
            const r = editable(dev);
            const c = osContainer(r);
            c.env = (c.env as Obj[]).filter((e) => e.name !== "DISABLE_INSTALL_DEMO_CONFIG");
            const cm = r.of("ConfigMap").find((x) => x.metadata.name.startsWith("opensearch-configmap"))!;
            cm.data["opensearch.yml"] = cm.data["opensearch.yml"].replace("plugins.security.ssl.http.enabled: true", "plugins.security.ssl.http.enabled: false");
            const fb = r.of("ConfigMap").find((x) => x.metadata.name.startsWith("logstash-configmap"))!;
            fb.data["fluent-bit.conf"] = fb.data["fluent-bit.conf"].replace(/Port(\s+)8088/, "Port$15170").replace(/tls\.verify(\s+)On/, "tls.verify$1Off");
            assert.deepStrictEqual(failed(r).map((x) => x.replace(/ \[.*?\] /, " ")), [
                "opensearch DISABLE_INSTALL_DEMO_CONFIG unset: the image installs its demo certificates and users",
                "opensearch opensearch.yml plugins.security.ssl.http.enabled is not true: passwords would cross the network in clear",
                "logstash logstash_hostname logstash.egov-dev.svc.cluster.local:8088: the tcp input listens on 5170 (format json)",
                "logstash opensearch output opensearch.egov-dev.svc.cluster.local:9200 as logstash, tls On, verify Off",
            ]);
        });
    });

    describe("sees what keys alone do not (issue 26)", () => {
        const upstreamTree = fs.existsSync(path.join(DEFAULT_UPSTREAM, "backend"));

        it("upstream's config/<service>.yml sets what mail and Spring Cloud Stream need, but one destination (a declared fix)", () => {
            const differ: string[] = [];
            for (const [svc, props] of Object.entries(FIX)) {
                const up = facts.configRepository[`${svc}.yml`] ?? {};
                for (const [k, v] of Object.entries(props)) {
                    if ((k.startsWith("spring.cloud.stream.") || k.startsWith("spring.mail.")) && up[k]?.value !== v) differ.push(`${svc} ${k}`);
                }
            }
            // Upstream's reserve-request-service.yml has no destination for the attachment binding its ReserveService
            // sends to (through AbstractService.sendAttachmentEntityInfo): the check found it; config/served.ts adds it.
            assert.deepStrictEqual(differ, ["reserve-request-service spring.cloud.stream.bindings.attachmentEntity-out-0.destination"]);
            const f = failed(without("reserve-request-service", "spring.cloud.stream.bindings.attachmentEntity-out-0.destination"));
            assert.ok(f.some((x) => /^reserve-request-service spring\.cloud\.stream\.bindings\.attachmentEntity-out-0\.destination \[.*ReserveService\.java:82\]/.test(x)), f.join("\n"));
        });

        it("a bean auto-configured only under a property: JavaMailSender needs spring.mail.host (or jndi-name)", () => {
            const need = facts.services.find((s) => s.name === "user-service")!.requires.find((r) => r.key === "spring.mail.host")!;
            assert.strictEqual(`${need.file}:${need.line}`, "backend/user-service/src/main/java/org/egovframe/cloud/userservice/service/user/UserService.java:136");
            assert.match(need.why, /^JavaMailSender injected by UserService\.java:136 \(MailSenderAutoConfiguration: .*spring\.mail\.host/);
            assert.ok(!facts.services.some((s) => s.name !== "user-service" && s.requires.some((r) => r.key === "spring.mail.host")), "only where the starter is");
            // Issue 26's problem 1, put back: the platform stops serving the application's spring.mail.host.
            const all = failed(without("user-service", "spring.mail.host"));
            const f = needsFailed(without("user-service", "spring.mail.host"));
            assert.strictEqual(f.length, 1, f.join("\n"));
            assert.match(f[0], /^user-service spring\.mail\.host \[backend\/user-service\/.*\/UserService\.java:136\] not set anywhere.*JavaMailSender injected/);
            assert.ok(all.some((x) => /^user-service spring\.mail\.host \[config\/user-service\.yml:11\] the application's user-service\.yml sets it/.test(x)), all.join("\n"));
            assert.deepStrictEqual(needsFailed(serving(dev, { "user-service": { "spring.mail.jndi-name": "mail/Session" } }, { "user-service": ["spring.mail.host"] })), [],
                "the other condition");
        });

        it("a new bean injecting JavaMailSender, in a copy of the source, is a requirement", function () {
            if (!upstreamTree) this.skip();
            const root = fs.mkdtempSync(path.join(os.tmpdir(), "egov-upstream-"));
            try {
                for (const dir of ["backend", "config"]) fs.cpSync(path.join(DEFAULT_UPSTREAM, dir), path.join(root, dir), { recursive: true });
                for (const fe of ["admin", "portal"]) {
                    fs.mkdirSync(path.join(root, "frontend", fe), { recursive: true });
                    fs.copyFileSync(path.join(DEFAULT_UPSTREAM, "frontend", fe, "next.config.js"), path.join(root, "frontend", fe, "next.config.js"));
                }
                const dir = path.join(root, "backend/portal-service/build.gradle");
                fs.writeFileSync(dir, fs.readFileSync(dir, "utf8").replace(/(\n\s*implementation 'org\.springframework\.boot:spring-boot-starter-web'\n)/,
                    "$1    implementation 'org.springframework.boot:spring-boot-starter-mail'\n"));
                const java = path.join(root, "backend/portal-service/src/main/java/org/egovframe/cloud/portalservice/service/notice");
                fs.mkdirSync(java, { recursive: true });
                fs.writeFileSync(path.join(java, "NoticeMailer.java"), "package org.egovframe.cloud.portalservice.service.notice;\n\n" +
                    "@Service\npublic class NoticeMailer {\n    private final JavaMailSender sender;\n\n" +
                    "    public NoticeMailer(JavaMailSender sender, StreamBridge streamBridge) {\n        this.sender = sender;\n" +
                    "        streamBridge.send(\"noticeSent-out-0\", \"x\");\n    }\n}\n");
                const derived = deriveFacts(root);
                const portal = derived.services.find((s) => s.name === "portal-service")!;
                const mail = portal.requires.filter((r) => r.key === "spring.mail.host");
                assert.deepStrictEqual(mail.map((r) => `${r.file}:${r.line}`), ["backend/portal-service/src/main/java/org/egovframe/cloud/portalservice/service/notice/NoticeMailer.java:7"]);
                assert.ok(portal.stream!.sends.some((x) => x.binding === "noticeSent-out-0" && x.line === 9), JSON.stringify(portal.stream!.sends));
                const f = failed(serving(dev), derived);
                assert.ok(f.some((x) => x.startsWith("portal-service spring.mail.host [backend/portal-service/src/main/java/org/egovframe/cloud/portalservice/service/notice/NoticeMailer.java:7]")), f.join("\n"));
                assert.ok(f.some((x) => x.startsWith("portal-service spring.cloud.stream.bindings.noticeSent-out-0.destination [backend/portal-service/") && /NoticeMailer\.java:9/.test(x)), f.join("\n"));
            } finally {
                fs.rmSync(root, { recursive: true, force: true });
            }
        });

        it("Spring Cloud Stream: functional beans and StreamBridge bindings derived, with the shared helper's callers", () => {
            const st = (svc: string) => facts.services.find((s) => s.name === svc)!.stream!;
            assert.deepStrictEqual(st("reserve-item-service").functions.map((x) => `${x.name} ${x.bindings.join(",")}`), ["reserveRequest reserveRequest-in-0"]);
            assert.deepStrictEqual(st("reserve-item-service").sends.map((x) => `${x.binding} ${x.file.split("/").pop()}:${x.line}`), ["inventoryUpdated-out-0 ReserveItemService.java:260"]);
            assert.deepStrictEqual(st("reserve-request-service").sends.map((x) => x.binding).sort(), ["attachmentEntity-out-0", "reserveRequest-out-0"]);
            assert.match(st("board-service").sends[0].via!, /PostsService\.java:406$/, "AbstractService.sendAttachmentEntityInfo called by the service");
            assert.deepStrictEqual(st("user-service").sends, [], "user-service never calls the helper");
            assert.ok(st("apigateway").bus);
        });

        it("Spring Cloud Stream: a function missing from the definition, busConsumer left out, a binding without a destination, a destination nobody consumes", () => {
            assert.deepStrictEqual(needsFailed(serving(dev)), [], "the stacks give every definition in the key the binder reads");
            let f = needsFailed(serving(dev, { "portal-service": { "spring.cloud.function.definition": "attachmentEntity" } }));
            assert.strictEqual(f.length, 1, f.join("\n"));
            assert.match(f[0], /^portal-service spring\.cloud\.function\.definition busConsumer \[backend\/portal-service\/build\.gradle:55\] attachmentEntity <- served .*not listed/);
            // What the services ran with before the stack gave the key the binder reads: the application's files say
            // spring.cloud.stream.function.definition (Stream 3.0's name), which the binder ignores.
            f = needsFailed(serving(dev, { "reserve-item-service": { "spring.cloud.stream.function.definition": "reserveRequest;busConsumer" } }));
            assert.ok(f.some((x) => /^reserve-item-service spring\.cloud\.stream\.function\.definition \[.*\] reserveRequest;busConsumer <- served .*no longer reads; it reads spring\.cloud\.function\.definition/.test(x)), f.join("\n"));
            // Issue 26's problem 2, put back: the definition and the bindings of the application's files not served.
            f = needsFailed(without("reserve-item-service", "spring.cloud.stream.function.definition"));
            assert.deepStrictEqual(f.map((x) => x.split(" [")[0]), ["reserve-item-service spring.cloud.function.definition reserveRequest",
                "reserve-item-service spring.cloud.function.definition busConsumer"], f.join("\n"));
            assert.match(f[0], /ReserveEventConfig\.java:45\] unset, and reserveRequest, busConsumer are all functional beans/);
            f = needsFailed(without("reserve-request-service", "spring.cloud.stream.bindings.reserveRequest-out-0.destination"));
            assert.deepStrictEqual(f.map((x) => x.split(" [")[0]), [
                "reserve-item-service stream reserveRequest-in-0 -> reserve-request.topic",
                "reserve-request-service spring.cloud.stream.bindings.reserveRequest-out-0.destination",
            ], f.join("\n"));
            assert.match(f[1], /ReserveService\.java:118\] not set anywhere/);
            assert.match(f[0], /no producer of reserve-request\.topic in the stack/);
            f = needsFailed(serving(dev, { "board-service": { "spring.cloud.stream.bindings.attachmentEntity-out-0.destination": "attachment.topic" } }));
            assert.strictEqual(f.length, 1, f.join("\n"));
            assert.match(f[0], /^board-service stream attachmentEntity-out-0 -> attachment\.topic \[.*PostsService\.java:406\] no consumer of attachment\.topic/);
            const report = bootCheck(facts, serving(dev)).find((r) => r.workload === "reserve-item-service")!;
            assert.match(formatReport(report), /ok {3}stream reserveRequest-in-0 -> reserve-request\.topic: produced by reserve-request-service \(reserveRequest-out-0\)/);
        });

        it("the gateway's readiness path: each indicator of another server FAILs, named with its property", () => {
            assert.deepStrictEqual(failed(editable(dev)), [], "the stacks serve the overrides");
            // Issue 26's problem 4, put back: the gateway's aggregate health follows the broker, the config server and Eureka.
            const f = failed(without("apigateway", "management.health.binders.enabled", "health.config.enabled", "spring.cloud.discovery.client.composite-indicator.enabled"));
            const gw = f.filter((x) => x.startsWith("apigateway "));
            assert.deepStrictEqual(gw.map((x) => x.split(" [")[0]), ["apigateway readinessProbe health binders",
                "apigateway readinessProbe health clientConfigServer", "apigateway readinessProbe health discoveryComposite"], gw.join("\n"));
            assert.match(gw[0], /\[backend\/apigateway\/build\.gradle:31\] GET \/actuator\/health is the aggregate .*Fix: serve management\.health\.binders\.enabled=false/);
            assert.match(gw[1], /Fix: serve health\.config\.enabled=false/);
            assert.match(gw[2], /Fix: serve spring\.cloud\.discovery\.client\.composite-indicator\.enabled=false/);
            const back = needsFailed(serving(dev, { apigateway: { "management.health.rabbit.enabled": "true" } }));
            assert.deepStrictEqual(back.map((x) => x.split(" [")[0]), ["apigateway readinessProbe health rabbit"], "the broker's own indicator, turned back on");
            // Every indicator off by default is enough too; the business services probe the readiness group (readinessState only).
            assert.deepStrictEqual(needsFailed(serving(dev, { apigateway: { "management.health.defaults.enabled": "false" } },
                { apigateway: ["management.health.binders.enabled", "management.health.rabbit.enabled"] })), []);
            const r = serving(dev);
            r.find("Deployment", "user-service-deployment")!.spec.template.spec.containers[0].env.push({ name: "MANAGEMENT_ENDPOINT_HEALTH_GROUP_READINESS_INCLUDE", value: "readinessState,db" });
            const u = failed(r);
            assert.deepStrictEqual(u.map((x) => x.split(" [")[0]), ["user-service readinessProbe health db"], u.join("\n"));
        });

        it("directories created at start-up lie on a writable volume (the root filesystem is read-only)", () => {
            const r = serving(dev);
            const c = container(r, "portal-service");
            const mount = (c.volumeMounts as Obj[]).find((m) => m.mountPath === "/srv/nfs")!;
            mount.readOnly = true;
            let f = failed(r);
            assert.deepStrictEqual(f.map((x) => x.split(" [")[0]), ["portal-service writes file.directory/messages", "portal-service writes file.directory"], f.join("\n"));
            assert.match(f[0], /MessageSourceFiles\.java:57\] \/srv\/nfs\/msa-attach-volume\/messages <- served .*read-only: the bean fails to start/);
            c.volumeMounts = (c.volumeMounts as Obj[]).filter((m) => m.mountPath !== "/srv/nfs");
            f = failed(r);
            assert.match(f.find((x) => x.includes("FileStorageUtils.java:98"))!, /on no volume of the container: the root filesystem is read-only/);
        });
    });

    describe("the queues the binder and bus declare, against RabbitMQ 4 (issue 31)", () => {
        /** A copy serving `add`, whose broker runs `image` and whose rabbitmq.conf fragment is `conf` (unchanged when undefined). */
        const broker = (add: Record<string, Record<string, string>> = {}, image?: string, conf?: (text: string) => string) => {
            const r = serving(dev, add);
            const sts = r.find("StatefulSet", "rabbitmq-statefulset")!;
            if (image) sts.spec.template.spec.containers[0].image = image;
            const cm = r.of("ConfigMap").find((c) => c.metadata.name.startsWith("rabbitmq-configmap"))!;
            if (conf) cm.data[BROKER_CONF_FILE] = conf(cm.data[BROKER_CONF_FILE]);
            return r;
        };
        const noPermit = (t: string) => t.split("\n").filter((l) => !l.startsWith("deprecated_features.permit.queue_master_locator")).join("\n");
        const busServices = facts.services.filter((s) => s.stream?.bus).map((s) => s.name).sort();

        it("derives each declaration from the served bindings: durable group queues, exclusive bus queues; 4.3 accepts all with the declared permit", () => {
            assert.deepStrictEqual(failed(broker()), []);
            const reports = bootCheck(facts, broker());
            const text = reports.map(formatReport).join("\n");
            assert.match(text, /ok {3}queue attachmentEntity-in-0: attachment-entity\.topic\.attachment: durable \(group attachment\); RabbitMQ 4\.3 .* accepts it/);
            assert.match(text, /ok {3}queue reserveRequest-in-0: reserve-request\.topic\.reserved: durable \(group reserved\)/);
            assert.match(text, /ok {3}queue inventoryUpdated-in-0: inventory-updated\.topic\.reserved: durable/);
            const bus = reports.filter((r) => r.findings.some((x) => x.key === "queue busConsumer-in-0")).map((r) => r.workload).sort();
            assert.deepStrictEqual(bus, busServices, "every service with spring-cloud-starter-bus-amqp binds the bus");
            assert.match(text, /queue busConsumer-in-0: springCloudBus\.anonymous\.<random>: non-durable exclusive auto-delete x-queue-master-locator=client-local .*permits queue_master_locator/);
            const rabbit = formatReport(reports.find((r) => r.workload === "rabbitmq")!);
            assert.match(rabbit, /series 4\.3; rabbitmq\.conf from rabbitmq-configmap/);
            assert.match(rabbit, /ok {3}deprecated_features\.permit\.queue_master_locator: needed by apigateway busConsumer-in-0, /);
        });

        it("FAILs each bus queue without the permit on 4.3, naming service and binding; 4.2 accepts them without it", () => {
            const f = failed(broker({}, undefined, noPermit));
            assert.deepStrictEqual(f.map((x) => x.split(" [")[0]).sort(), busServices.map((s) => `${s} queue busConsumer-in-0`));
            assert.match(f[0], /refuses it: the x-queue-master-locator queue argument: deprecated feature queue_master_locator, denied by default from 4\.3/);
            assert.deepStrictEqual(failed(broker({}, "rabbitmq:4.2.5-management", noPermit)), []);
        });

        it("FAILs a served binding whose queue 4.3 refuses (transient non-exclusive, lazy, quorum and exclusive), accepted where it still is", () => {
            const transient = { "portal-service": { "spring.cloud.stream.rabbit.bindings.attachmentEntity-in-0.consumer.durableSubscription": "false" } };
            let f = needsFailed(broker(transient));
            assert.strictEqual(f.length, 1, f.join("\n"));
            assert.match(f[0], /^portal-service queue attachmentEntity-in-0 \[.*EventStreamConfig\.java:22\] attachment-entity\.topic\.attachment: non-durable auto-delete \(group attachment, durableSubscription=false\); .*deprecated feature transient_nonexcl_queues/);
            assert.deepStrictEqual(needsFailed(broker(transient, "rabbitmq:3.13-management")), [], "3.13 still permits it by default");
            assert.deepStrictEqual(needsFailed(broker(transient, undefined, (t) => `${t}deprecated_features.permit.transient_nonexcl_queues = true\n`)), [], "a permit lets it through");
            f = needsFailed(broker({ "reserve-item-service": { "spring.cloud.stream.rabbit.bindings.reserveRequest-in-0.consumer.lazy": "true" } }));
            assert.strictEqual(f.length, 1, f.join("\n"));
            assert.match(f[0], /^reserve-item-service queue reserveRequest-in-0 .*x-queue-mode=lazy: classic queue storage v1 \(lazy mode\) removed in 4\.3/);
            f = needsFailed(broker({ "user-service": { "spring.cloud.stream.rabbit.default.consumer.quorum.enabled": "true" } }));
            assert.strictEqual(f.length, 1, f.join("\n"));
            assert.match(f[0], /^user-service queue busConsumer-in-0 .*a quorum queue must be durable/);
            // A durable group queue may be a quorum queue: accepted.
            assert.deepStrictEqual(needsFailed(broker({ "portal-service": { "spring.cloud.stream.rabbit.bindings.attachmentEntity-in-0.consumer.quorum.enabled": "true" } })), []);
        });

        it("FAILs a rabbitmq.conf key 4.x dropped, and a declared permit no queue needs any more", () => {
            let f = failed(broker({}, undefined, (t) => `${t}cluster_partition_handling = autoheal\n`));
            assert.deepStrictEqual(f.map((x) => x.split(" [")[0]), ["rabbitmq cluster_partition_handling"]);
            assert.match(f[0], /not honoured from RabbitMQ 4\.3/);
            const noBus = structuredClone(facts) as BootFacts;
            for (const s of noBus.services) if (s.stream) (s.stream as { bus: boolean }).bus = false;
            f = failed(broker(), noBus).filter((x) => x.startsWith("rabbitmq "));
            assert.strictEqual(f.length, 1, f.join("\n"));
            assert.match(f[0], /deprecated_features\.permit\.queue_master_locator .*declared permit no longer needed/);
        });
    });

    describe("the tables and columns the entities map (issue 27)", () => {
        it("each entity's table is created by a migration in its service's database; one that is not FAILs, naming the class and the table", () => {
            const ok = bootCheck(facts, dev).flatMap((r) => r.findings.filter((x) => x.key.startsWith("table ")).map((x) => `${r.workload} ${x.key} ${x.status}`));
            // Both kinds, read from the source: JPA (default snake_case naming) and R2DBC's @Table.
            assert.ok(ok.includes("user-service table role_authorization ok") && ok.includes("reserve-item-service table reserve_item ok"), ok.join("\n"));
            assert.ok(ok.length >= 30 && ok.every((x) => x.endsWith(" ok")), ok.join("\n"));
            // A migration set without the site table (and reservation's reserve): the entities that map them fail.
            const r = editable(dev);
            const cm = r.of("ConfigMap").find((c) => c.data?.["manifest.tsv"] !== undefined)!;
            cm.data["manifest.tsv"] = (cm.data["manifest.tsv"] as string).split("\n")
                .map((l) => l.split("\t")).map((m) => (m.length < 5 ? m : [...m.slice(0, 4), m[4].split(",").filter((t) => t !== "site" && t !== "reserve").join(","), ...m.slice(5)]))
                .map((m) => m.join("\t")).join("\n");
            const f = failed(r).filter((x) => / table /.test(x));
            assert.deepStrictEqual(f.map((x) => x.split(" [")[0]), ["portal-service table site", "reserve-check-service table reserve", "reserve-request-service table reserve"], f.join("\n"));
            assert.match(f[0], /domain\/menu\/Site\.java:\d+\] jpa entity Site maps table site, which no migration creates in msaportal/);
        });

        it("each entity's columns exist in the CREATE TABLE the migrations leave; a missing one FAILs, naming class, field, table and column", () => {
            const cols = bootCheck(facts, dev).flatMap((r) => r.findings.filter((x) => /^columns? /.test(x.key)).map((x) => `${r.workload} ${x.key} ${x.status}`));
            assert.ok(cols.filter((x) => x.endsWith(" ok")).length === 29, cols.join("\n"));
            // The one declared upstream gap is reported, not failed.
            assert.deepStrictEqual(cols.filter((x) => !x.endsWith(" ok")), ["reserve-item-service column code.create_date note"]);
            // Derived from names, superclasses, embeddables and join columns alike.
            const of = (svc: string, cls: string) => facts.services.find((x) => x.name === svc)!.entities!.find((e) => e.class === cls)!.columns;
            assert.deepStrictEqual(of("board-service", "Comment").slice(0, 3).map((c) => `${c.field}=${c.name}`), ["commentId.postsId.boardNo=board_no", "commentId.postsId.postsNo=posts_no", "commentId.commentNo=comment_no"]);
            assert.ok(of("portal-service", "Menu").some((c) => c.field === "parent" && c.name === "parent_menu_id"));
            assert.ok(of("portal-service", "Menu").some((c) => c.field === "isUse" && c.name === "use_at"));
            assert.ok(!of("portal-service", "Menu").some((c) => c.field === "children"), "the @OneToMany side has no column");
            assert.ok(of("reserve-check-service", "Reserve").some((c) => c.field === "userEmail" && c.name === "user_email_addr"));
            assert.ok(!of("reserve-check-service", "Reserve").some((c) => c.field === "user"), "@Transient");
            assert.ok(of("user-service", "User").some((c) => c.name === "last_modified_by" && /servlet\/domain\/BaseEntity\.java$/.test(c.file)));
            // A migration set whose site table lacks site_name (a CREATE TABLE edited), and a declared gap that no longer holds.
            const r = editable(dev);
            const cm = r.of("ConfigMap").find((c) => c.data?.["manifest.tsv"] !== undefined)!;
            const sqlOf = Object.keys(cm.data).filter((k) => k.endsWith(".sql") && /CREATE TABLE[^(]*`site`/.test(cm.data[k] as string));
            assert.strictEqual(sqlOf.length, 1, "one migration creates site");
            cm.data[sqlOf[0]] = (cm.data[sqlOf[0]] as string).replace(/(CREATE TABLE[^(]*`site`[\s\S]*?)\n\s*`site_name`[^\n]*/, "$1");
            for (const k of Object.keys(cm.data).filter((x) => /CREATE TABLE[^(]*`code`/.test(cm.data[x] as string))) {
                cm.data[k] = (cm.data[k] as string).replace(/(CREATE TABLE[^(]*`code`[\s\S]*?)`created_date`/, "$1`create_date`");
            }
            const f = failed(r).filter((x) => / columns? /.test(x));
            // Renaming code.created_date also takes it from the JPA entities that map it through BaseTimeEntity.
            assert.deepStrictEqual(f.map((x) => x.split(" [")[0]), ["board-service column code.created_date", "portal-service column code.created_date",
                "portal-service column site.site_name", "reserve-item-service column code.create_date"], f.join("\n"));
            assert.match(f[2], /domain\/menu\/Site\.java:\d+\] jpa entity Site field name maps column site_name of table site, which the CREATE TABLE of msaportal does not define/);
            assert.match(f[3], /declared upstream gap no longer holds/);
        });

        it("a field added to an entity in a copy of the source, whose column no migration creates, FAILs naming it; a mapping it cannot derive FAILs naming the construct", function () {
            if (!fs.existsSync(path.join(DEFAULT_UPSTREAM, "backend"))) this.skip();
            const root = fs.mkdtempSync(path.join(os.tmpdir(), "egov-upstream-"));
            try {
                for (const dir of ["backend", "config"]) fs.cpSync(path.join(DEFAULT_UPSTREAM, dir), path.join(root, dir), { recursive: true });
                for (const fe of ["admin", "portal"]) {
                    fs.mkdirSync(path.join(root, "frontend", fe), { recursive: true });
                    fs.copyFileSync(path.join(DEFAULT_UPSTREAM, "frontend", fe, "next.config.js"), path.join(root, "frontend", fe, "next.config.js"));
                }
                const site = path.join(root, "backend/portal-service/src/main/java/org/egovframe/cloud/portalservice/domain/menu/Site.java");
                fs.writeFileSync(site, fs.readFileSync(site, "utf8").replace(/(public class Site extends BaseEntity \{\n)/,
                    "$1    @Column(name = \"siteHostName\", length = 100)\n    private String host;\n\n    @ManyToOne\n    private Site mirror;\n\n"));
                const derived = deriveFacts(root);
                const f = failed(serving(dev), derived).filter((x) => / columns? /.test(x));
                assert.deepStrictEqual(f.map((x) => x.split(" [")[0]), ["portal-service columns of site", "portal-service column site.site_host_name"], f.join("\n"));
                assert.match(f[0], /Site\.java:\d+\] jpa entity Site field mirror: its columns cannot be derived \(@ManyToOne\/@OneToOne without @JoinColumn\(name\)\)/);
                assert.match(f[1], /Site\.java:\d+\] jpa entity Site field host maps column site_host_name of table site, which the CREATE TABLE of msaportal does not define/);
            } finally {
                fs.rmSync(root, { recursive: true, force: true });
            }
        });
    });

    describe("the database drivers under MySQL 8.4's caching_sha2_password (issue 27)", () => {
        const urlKey = { jdbc: "spring.datasource.url", r2dbc: "spring.r2dbc.url" } as const;
        const driverFindings = (r: Rendered, f: BootFacts = facts) => bootCheck(f, r).flatMap((x) => x.findings
            .filter((y) => y.key.startsWith("driver ")).map((y) => `${x.workload} ${y.key} ${y.status}`));

        it("every JDBC and R2DBC URL each stack serves carries what its driver (from build.gradle) needs", async () => {
            for (const stack of ["dev", "prod"] as const) {
                const d = stack === "dev" ? dev : await deploy(stackConfig(stack), stack);
                const gen = d.of("ConfigMap").find((c) => c.metadata.name.startsWith("config-generated-configmap"))!;
                const expected: string[] = [];
                for (const svc of facts.services) {
                    const served = { ...flatYaml(gen.data[`${svc.name}_application.yml`] ?? ""), ...flatYaml(gen.data[`${svc.name}_${svc.name}.yml`] ?? "") };
                    for (const drv of svc.drivers ?? []) {
                        const known = CLIENT_DRIVERS.find((c) => c.artifact === drv.artifact);
                        assert.ok(known, `${svc.name}: ${drv.artifact} is not in CLIENT_DRIVERS`);
                        const url = served[urlKey[known.api]];
                        if (url === undefined) continue; // on the classpath, no connection of this API
                        assert.ok(!versionBelow(drv.version ?? known.sinceVersion, known.sinceVersion), `${svc.name} ${drv.artifact} ${drv.version}`);
                        const params = urlParamsOf(url);
                        for (const [k, v] of Object.entries(known.urlParams)) assert.strictEqual(params[k], v, `${stack} ${svc.name} ${urlKey[known.api]} ${url}`);
                        expected.push(`${svc.name} driver ${drv.artifact} ok`);
                    }
                }
                // Both APIs, from the source: Connector/J (JPA services) and r2dbc-mysql (the reservation services).
                assert.ok(expected.some((x) => x.includes("mysql-connector-j")) && expected.some((x) => x.includes("r2dbc-mysql")), expected.join("\n"));
                assert.deepStrictEqual(driverFindings(d).sort(), expected.sort(), stack);
            }
        });

        it("FAILs a URL without it, a driver too old for caching_sha2_password and a driver it does not know, naming the build.gradle line", () => {
            const gen = (r: Rendered) => r.of("ConfigMap").find((c) => c.metadata.name.startsWith("config-generated-configmap"))!;
            const r = editable(dev);
            const file = gen(r).data["reserve-check-service_reserve-check-service.yml"] as string;
            gen(r).data["reserve-check-service_reserve-check-service.yml"] = file.replace(/([?&])sslMode=REQUIRED/, "$1sslMode=PREFERRED");
            const f = failed(r).filter((x) => / driver /.test(x));
            assert.strictEqual(f.length, 1, f.join("\n"));
            assert.match(f[0], /^reserve-check-service driver io\.asyncer:r2dbc-mysql \[backend\/reserve-check-service\/build\.gradle:\d+\] spring\.r2dbc\.url .* lacks sslMode=REQUIRED: r2dbc-mysql: full caching_sha2_password authentication only over TLS/);

            const swap: Record<string, { artifact: string; version: string }> = {
                "user-service": { artifact: "mysql:mysql-connector-java", version: "5.1.49" },
                "board-service": { artifact: "org.mariadb.jdbc:mariadb-java-client", version: "3.5.1" },
            };
            const edited: BootFacts = {
                ...facts,
                services: facts.services.map((x) => (swap[x.name] ? { ...x, drivers: [{ ...x.drivers![0], ...swap[x.name] }] } : x)),
            };
            const g = failed(dev, edited).filter((x) => / driver /.test(x));
            assert.strictEqual(g.length, 2, g.join("\n"));
            assert.match(g.find((x) => x.startsWith("user-service"))!, /version 5\.1\.49: caching_sha2_password's full authentication needs 8\.0\.13 or later/);
            assert.match(g.find((x) => x.startsWith("board-service"))!, /org\.mariadb\.jdbc:mariadb-java-client .*not a driver config\/mysql\.ts CLIENT_DRIVERS knows/);
        });
    });

    describe("the conformance of what is served with the application's own files", () => {
        /** A copy of the upstream tree, as a team's checkout; `edit` changes it before the stack renders from it. */
        const copyOfUpstream = (edit: (root: string) => void): string => {
            const root = fs.mkdtempSync(path.join(os.tmpdir(), "egov-checkout-"));
            // backend/ and the init SQL: the schema the platform migrates (config/migrations.ts).
            for (const dir of ["backend", "config", "k8s/environments/databases/mysql/init"]) {
                fs.cpSync(path.join(DEFAULT_UPSTREAM, dir), path.join(root, dir), { recursive: true });
            }
            for (const fe of ["admin", "portal"]) {
                fs.mkdirSync(path.join(root, "frontend", fe), { recursive: true });
                fs.copyFileSync(path.join(DEFAULT_UPSTREAM, "frontend", fe, "next.config.js"), path.join(root, "frontend", fe, "next.config.js"));
            }
            fs.copyFileSync(path.join(DEFAULT_UPSTREAM, "SOURCE_COMMIT"), path.join(root, "SOURCE_COMMIT"));
            edit(root);
            return root;
        };

        it("names every key of the application's files served as written or overridden, with the reason", () => {
            const report = bootCheck(facts, dev).find((r) => r.workload === "reserve-item-service")!;
            const text = formatReport(report);
            assert.match(text, /ok {3}config\/reserve-item-service\.yml: \d+ of \d+ keys served as written/);
            assert.match(text, /ok {3}spring\.r2dbc\.password: credential: served changed \(declared: the generated credential/);
            assert.match(text, /note config\/reserve-item-service-test\.yml: not served: profile test/);
        });

        it("fails on a key dropped, changed or added without a declared override, naming service, key, file and line", () => {
            const f = failed(serving(dev, { "board-service": { "springdoc.swagger-ui.enabled": "true", "egov.extra": "x" } }, { "portal-service": ["ftp.port"] }));
            assert.deepStrictEqual(f.map((x) => x.split("] ")[0] + "]"), [
                "board-service springdoc.swagger-ui.enabled [config/board-service.yml:24]",
                "board-service egov.extra [config/board-service.yml]",
                "portal-service ftp.port [config/portal-service.yml:31]",
            ], f.join("\n"));
            assert.match(f[0], /served as "true", the application's board-service\.yml has "false": no override in config\/served\.ts declares the change/);
            assert.match(f[2], /is not served it: no override in config\/served\.ts declares dropping it/);
        });

        it("serves a key new in the application's files with no change here, and the check agrees", async function () {
            if (!fs.existsSync(path.join(DEFAULT_UPSTREAM, "backend"))) this.skip();
            const root = copyOfUpstream((r) => fs.appendFileSync(path.join(r, "config/user-service.yml"), "\nnotice:\n  banner: hello from upstream\n"));
            try {
                const raw = { ...stackConfig("dev"), applicationCheckout: root };
                const d = await deploy(raw);
                const served = d.of("ConfigMap").find((c) => c.metadata.name.startsWith("config-generated-configmap"))!.data["user-service_user-service.yml"];
                assert.strictEqual(flatYaml(served)["notice.banner"], "hello from upstream");
                const derived = deriveFacts(root);
                assert.ok(derived.configRepository["user-service.yml"]["notice.banner"]);
                assert.deepStrictEqual(failed(d, derived), []);
                // The committed facts do not know the key: served but set by no file they have, it is named.
                assert.ok(failed(d).some((x) => x.startsWith("user-service notice.banner [config/user-service.yml] served as")), failed(d).join("\n"));
            } finally {
                fs.rmSync(root, { recursive: true, force: true });
            }
        });

        it("refuses a checkout that is missing or at another version, naming the setting and both versions", function () {
            if (!fs.existsSync(path.join(DEFAULT_UPSTREAM, "backend"))) this.skip();
            const root = copyOfUpstream((r) => fs.writeFileSync(path.join(r, "SOURCE_COMMIT"), "0123456789abcdef0123456789abcdef01234567 Mon Jan 1\n"));
            try {
                assert.throws(() => loadConfig(sourceOf({ ...stackConfig("dev"), applicationCheckout: root }), "dev"),
                    new RegExp(`applicationCheckout: ".*" is at 0123456789abcdef0123456789abcdef01234567, but this platform's facts were derived from ${UPSTREAM.commit}`));
            } finally {
                fs.rmSync(root, { recursive: true, force: true });
            }
            assert.throws(() => loadConfig(sourceOf({ ...stackConfig("dev"), applicationCheckout: "/nonexistent/egovframe-msa-edu" }), "dev"),
                /applicationCheckout: "\/nonexistent\/egovframe-msa-edu" is not allowed; expected a checkout of egovframe-msa-edu .*no config\/application\.yml/);
            assert.throws(() => loadConfig(sourceOf({ ...stackConfig("dev"), applicationCheckout: undefined as unknown as string }), "dev"),
                /applicationCheckout: not set/);
        });
    });
});
