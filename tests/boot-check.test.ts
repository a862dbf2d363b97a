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
import { bootCheck, editable, failures, pathMatches, Rendered } from "../scripts/lib/boot-check";
import { BootFacts, DEFAULT_UPSTREAM, deriveFacts, deriveService, factsJson, readFacts } from "../scripts/lib/boot-derive";
import { deploy, Deployed, Obj, ROOT, sourceOf, stackConfig } from "./support/harness";

const facts = readFacts();
const container = (r: Rendered, name: string) => r.find("Deployment", `${name}-deployment`)!.spec.template.spec.containers[0] as Obj;
const failed = (r: Rendered, f: BootFacts = facts) => failures(bootCheck(f, r)).map((x) => `${x.workload} ${x.finding.key} [${x.finding.needs}] ${x.finding.detail}`);

describe("the boot check", function () {
    this.timeout(60000);
    let dev: Deployed;
    before(async () => {
        dev = await deploy(stackConfig("dev"));
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

    it("passes on every committed stack", async () => {
        const stacks = fs.readdirSync(ROOT).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => s !== undefined);
        assert.ok(stacks.includes("dev") && stacks.includes("prod"));
        for (const stack of stacks) {
            const raw = stackConfig(stack as "dev" | "prod");
            const d = await deploy(raw, stack);
            const reports = bootCheck(facts, d, serviceGraph(loadConfig(sourceOf(raw), stack)));
            assert.deepStrictEqual(failures(reports).map((x) => `${x.workload} ${x.finding.key}: ${x.finding.detail}`), [], stack);
            assert.strictEqual(reports.length, 11, "nine services and two frontends");
            assert.ok(reports.every((r) => r.findings.length > 0));
        }
    });

    describe("catches each start-up failure the stacks had, put back", () => {
        it("1: gateway probes its security sends to ReactiveAuthorization (itself)", () => {
            const r = editable(dev);
            container(r, "apigateway").readinessProbe = { httpGet: { path: "/actuator/health/readiness", port: 8000 } };
            const f = failed(r);
            assert.strictEqual(f.length, 1, f.join("\n"));
            assert.match(f[0], /^apigateway readinessProbe \[backend\/apigateway\/.*\/WebFluxSecurityConfig\.java:72\] GET \/actuator\/health\/readiness: matches no permitAll pattern .*access\(check\)/);
        });

        it("2: a config server serving only overrides (no complete configuration per service)", () => {
            const r = editable(dev);
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
            const r = editable(dev);
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
            const r = editable(dev) as ReturnType<typeof editable>;
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
            const r = editable(dev);
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
                const f = failed(dev, withNew);
                assert.strictEqual(f.length, 2, f.join("\n"));
                assert.match(f[0], /^user-service audit\.retention-days \[backend\/user-service\/.*\/AuditConfig\.java:5\] not set anywhere/);
                assert.match(f[1], /^user-service egov\.mail\.sender-address \[backend\/user-service\/.*\/MailProperties\.java:6\] not set anywhere/);
            } finally {
                fs.rmSync(root, { recursive: true, force: true });
            }
        });
    });
});
