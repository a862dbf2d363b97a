// The wiring contract (config/wiring.ts) holds on the rendered objects: who gets which setting from where, what the
// config server serves, and how logging and tracing switches reach the services.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError, loadConfig } from "../config";
import { backendServices, frontends, infraPorts } from "../config/catalog";
import { frontendBuildValues } from "../config/frontends";
import { frontendName, serviceGraph } from "../config/graph";
import { planPlatform } from "../config/plan";
import { renderWiringSection, sectionOf } from "../scripts/lib/wiring-docs";
import {
    CONFIG_REPO_DIR, CONFIG_SERVER, envSettings, GENERATED_REPO_DIR, placeholdersOf, settingsFor,
    WiredWorkload, WiringContext,
} from "../config/wiring";
import { OVERRIDES } from "../config/served";
import { flatYaml } from "../scripts/lib/boot-conformance";
import { deploy, Deployed, GENERATED, Obj, ROOT, sourceOf, stackConfig, withObject } from "./support/harness";

const wired: WiredWorkload[] = [
    ...backendServices.map((spec) => ({ name: spec.name, spec })),
    ...frontends.map((f) => ({ name: frontendName(f.name) })),
];
const contextOf = (raw: Record<string, string>): WiringContext => {
    const cfg = loadConfig(sourceOf(raw), "dev");
    return { cfg, graph: serviceGraph(cfg, backendServices), services: backendServices };
};
const deploymentOf = (d: Deployed, name: string) => {
    const dep = d.find("Deployment", `${name}-deployment`);
    assert.ok(dep, `no Deployment for ${name}`);
    return dep;
};
const envOf = (d: Deployed, name: string): Obj[] => deploymentOf(d, name).spec.template.spec.containers[0].env ?? [];
const envMap = (d: Deployed, name: string) => Object.fromEntries(envOf(d, name).map((e) => [e.name, e]));
const configMap = (d: Deployed, prefix: string) => d.of("ConfigMap").find((c) => c.metadata.name.startsWith(prefix));
const secretName = (d: Deployed, secret: string) => d.exports.secretNames[secret] as string;
/** What the platform serves one config client: its application.yml under its `<service>.yml` (which wins), flat keys. */
const servedOf = (d: Deployed, service: string): Record<string, string> => {
    const data = configMap(d, "config-generated-configmap")?.data ?? {};
    const [app, own] = [data[`${service}_application.yml`], data[`${service}_${service}.yml`]];
    assert.ok(app !== undefined && own !== undefined, `no served files for ${service}`);
    return { ...flatYaml(app), ...flatYaml(own) };
};

describe("the wiring contract", function () {
    this.timeout(60000);
    const devRaw = stackConfig("dev");
    let dev: Deployed;
    before(async () => {
        dev = await deploy(devRaw);
    });

    describe("env vars", () => {
        it("gives every workload exactly the contract's settings, each from its source", () => {
            const ctx = contextOf(devRaw);
            const backendCm = configMap(dev, "backend-configmap")!;
            const commonCm = configMap(dev, "common-configmap")!;
            // Besides the contract: what every container gets and the heap setting (tests/support/invariants.ts checks both).
            const plan = planPlatform(ctx.cfg);
            const heapOf = (name: string) => [...plan.services, ...plan.frontends].find((a) => a.workload.name === name)?.workload.heap?.name;
            for (const w of wired) {
                const outside = [...plan.everyPod.env.map((e) => e.name), heapOf(w.name)];
                assert.ok(outside.every((n) => n !== undefined), `${w.name} has a heap setting`);
                const env = Object.fromEntries(envOf(dev, w.name).filter((e) => !outside.includes(e.name)).map((e) => [e.name, e]));
                const expected = settingsFor(w, ctx);
                assert.deepStrictEqual(Object.keys(env).sort(), expected.map((s) => s.env).sort(), w.name);
                for (const s of expected) {
                    const e = env[s.env];
                    if (s.source.from === "configMap") {
                        const cm = s.source.configMap === "backend" ? backendCm : commonCm;
                        assert.strictEqual(e.valueFrom?.configMapKeyRef?.name, cm.metadata.name, `${w.name} ${s.env}`);
                        assert.ok(cm.data[s.env] !== undefined, `${cm.metadata.name} lacks ${s.env}`);
                        assert.strictEqual(cm.data[s.env], s.value!(ctx, w), `${w.name} ${s.env}`);
                    } else if (s.source.from === "secret") {
                        assert.strictEqual(e.valueFrom?.secretKeyRef?.name, secretName(dev, s.source.secret), `${w.name} ${s.env}`);
                        assert.strictEqual(e.valueFrom.secretKeyRef.key, s.source.key, `${w.name} ${s.env}`);
                    } else if (s.source.from === "userSecret") {
                        assert.strictEqual(e.valueFrom?.secretKeyRef?.name, s.value!(ctx, w), `${w.name} ${s.env}`);
                    } else {
                        assert.strictEqual(e.value, s.value!(ctx, w), `${w.name} ${s.env}`);
                    }
                }
            }
        });

        it("gives credentials only to the workloads that use them, always from their Secret", () => {
            const secretOf = (name: string, env: string) => envMap(dev, name)[env]?.valueFrom?.secretKeyRef?.name;
            for (const s of ["user-service", "board-service", "reserve-request-service"]) {
                assert.strictEqual(secretOf(s, "DB_PASSWORD"), "mysql-secret", s);
                assert.strictEqual(secretOf(s, "RABBITMQ_PASSWORD"), "rabbitmq-secret", s);
                assert.strictEqual(secretOf(s, "EUREKA_PASSWORD"), "eureka-secret", s);
                assert.strictEqual(secretOf(s, "TOKEN_SECRET"), "token-secret", s);
            }
            assert.strictEqual(secretOf("apigateway", "TOKEN_SECRET"), "token-secret", "the gateway verifies tokens");
            assert.strictEqual(secretOf("user-service", "SPRING_MAIL_PASSWORD"), undefined, "no mail account named: the served placeholder stays empty");
            assert.strictEqual(secretOf("apigateway", "DB_PASSWORD"), undefined, "the gateway has no database");
            assert.strictEqual(secretOf("discovery", "SPRING_SECURITY_USER_PASSWORD"), "eureka-secret");
            for (const env of ["SPRING_CLOUD_CONFIG_URI", "RABBITMQ_PASSWORD", "TOKEN_SECRET", "DB_PASSWORD"]) {
                assert.strictEqual(envMap(dev, "discovery")[env], undefined, `discovery gets no ${env}`);
            }
            // The config server connects to RabbitMQ itself (Spring Cloud Bus), under names no override uses.
            assert.strictEqual(secretOf(CONFIG_SERVER, "SPRING_RABBITMQ_PASSWORD"), "rabbitmq-secret");
            // The API address is built into the frontend images (config/frontends.ts): no pod variable, nothing reads one.
            // They get what every container gets, and their heap.
            for (const f of frontends) assert.deepStrictEqual(Object.keys(envMap(dev, frontendName(f.name))).sort(), ["NODE_OPTIONS", "TZ"]);
        });

        it("builds the frontends' server side against the gateway inside the cluster (their image, not their pod)", () => {
            const gw = backendServices.find((s) => s.isGateway)!;
            for (const f of frontends) {
                assert.strictEqual(frontendBuildValues(loadConfig(sourceOf(devRaw), "dev"), f).apiUrl, `http://${gw.name}.egov-dev.svc.cluster.local:${gw.port}`);
                assert.strictEqual(envMap(dev, frontendName(f.name)).SERVER_API_URL, undefined);
            }
        });

        it("sets nothing that nothing reads", () => {
            const stale = ["SEARCH_LOCATION", "ZIPKIN_HOSTNAME", "SPRING_ZIPKIN_ENABLED", "LOGSTASH_HOSTNAME", "EUREKA_INSTANCE_HOSTNAME"];
            for (const w of wired) for (const e of envOf(dev, w.name)) assert.ok(!stale.includes(e.name), `${w.name} ${e.name}`);
            for (const e of envSettings) assert.ok(e.upstream.length > 0 && e.feeds.length > 0, `${e.env} names its reader`);
        });
    });

    describe("the config server", () => {
        it("serves each config client the application's own files, credentials only as placeholders it resolves", () => {
            const bound: Record<string, Record<string, string[]>> = {
                "user-service": {
                    "spring.datasource.username": ["DB_USERNAME"], "spring.datasource.password": ["DB_PASSWORD"], "token.secret": ["TOKEN_SECRET"],
                    "spring.rabbitmq.username": ["RABBITMQ_USERNAME"], "spring.rabbitmq.password": ["RABBITMQ_PASSWORD"],
                    "eureka.client.service-url.defaultZone": ["EUREKA_USERNAME", "EUREKA_PASSWORD", "DISCOVERY_HOSTNAME"],
                },
                "reserve-item-service": { "spring.r2dbc.username": ["DB_USERNAME"], "spring.r2dbc.password": ["DB_PASSWORD"] },
                apigateway: { "token.secret": ["TOKEN_SECRET"] },
            };
            for (const [svc, props] of Object.entries(bound)) {
                for (const [prop, vars] of Object.entries(props)) assert.deepStrictEqual(placeholdersOf(servedOf(dev, svc)[prop] ?? ""), vars, `${svc} ${prop}`);
            }
            // As the application wrote them: its placeholders are filled from the pod's env (MYSQL_HOSTNAME, APP_HOME, ...).
            assert.strictEqual(servedOf(dev, "user-service")["spring.datasource.url"], "${database.url}?serverTimezone=Asia/Seoul&autoReconnect=true&validationQuery=select 1&sslMode=REQUIRED");
            assert.strictEqual(servedOf(dev, "reserve-check-service")["spring.r2dbc.url"], "r2dbc:mysql://${mysql.hostname:localhost}:3306/reservation?serverTimezone=Asia/Seoul&sslMode=REQUIRED");
            assert.strictEqual(servedOf(dev, "apigateway")["apigateway.host"], "http://${apigateway.hostname:localhost}:${server.port}");
            assert.strictEqual(servedOf(dev, "user-service")["token.expiration_time"], "7200000");
            assert.strictEqual(servedOf(dev, "board-service")["messages.directory"], "${file.directory}/messages");
            // What the platform's own model did not know, and lost (issue 26): the mail sender, the stream bindings, Swagger UI off.
            assert.strictEqual(servedOf(dev, "user-service")["spring.mail.host"], "smtp.gmail.com");
            assert.strictEqual(servedOf(dev, "user-service")["spring.mail.password"], "${SPRING_MAIL_PASSWORD:}");
            assert.strictEqual(servedOf(dev, "reserve-item-service")["spring.cloud.stream.function.definition"], "reserveRequest;busConsumer");
            assert.strictEqual(servedOf(dev, "reserve-request-service")["spring.cloud.stream.bindings.reserveRequest-out-0.destination"], "reserve-request.topic");
            assert.strictEqual(servedOf(dev, "portal-service")["spring.cloud.stream.bindings.attachmentEntity-in-0.destination"], "attachment-entity.topic");
            for (const svc of ["user-service", "portal-service", "board-service", "reserve-item-service", "reserve-check-service", "reserve-request-service"]) {
                assert.strictEqual(servedOf(dev, svc)["springdoc.swagger-ui.enabled"], "false", svc);
            }
            // A client is served nothing it lacks the variable for (upstream issue 4: overrides went to every client).
            assert.strictEqual(servedOf(dev, "apigateway")["spring.datasource.username"], undefined);
            assert.strictEqual(servedOf(dev, "reserve-item-service")["spring.datasource.url"], undefined);
            for (const cm of dev.of("ConfigMap")) assert.ok(!JSON.stringify(cm.data ?? {}).includes(GENERATED), cm.metadata.name);
        });

        it("gives the mail account from the Secret stack config names, only to the services whose files set a mail host", async () => {
            const d = await deploy(withObject(devRaw, "mail", { credentialsSecretName: "smtp-account" }));
            const env = envMap(d, "user-service");
            for (const key of ["username", "password"]) {
                assert.deepStrictEqual(env[`SPRING_MAIL_${key.toUpperCase()}`].valueFrom.secretKeyRef, { name: "smtp-account", key });
            }
            for (const svc of ["portal-service", "apigateway", "reserve-item-service"]) assert.strictEqual(envMap(d, svc).SPRING_MAIL_PASSWORD, undefined, svc);
            assert.strictEqual(servedOf(d, "user-service")["spring.mail.password"], "${SPRING_MAIL_PASSWORD:}", "the served placeholder the env fills");
            assert.throws(() => loadConfig(sourceOf(withObject(devRaw, "mail", { credentialsSecretName: "SMTP Account" })), "dev"),
                /mail\.credentialsSecretName: "SMTP Account" is not allowed; expected the name of a Secret/);
        });

        it("serves no literal credential of the application's files, and no profile no pod activates", () => {
            const data = configMap(dev, "config-generated-configmap")!.data as Record<string, string>;
            assert.ok(Object.keys(data).length >= 14);
            for (const [f, text] of Object.entries(data)) {
                assert.ok(!/-test\.yml$/.test(f), `${f}: profile test is not served`);
                for (const [k, v] of Object.entries(flatYaml(text))) {
                    if (!/(password|secret)$/i.test(k)) continue;
                    assert.match(v, /^\$\{[A-Z_]+:?\}$/, `${f} ${k} = ${v}: a literal or a default credential`);
                }
                for (const literal of ["guest", "email_password", "egovframe-msa-jwt-shared-secret", ":msaportal}", ":admin}", "ftp_server_password"]) {
                    assert.ok(!text.includes(literal), `${f} serves ${literal}`);
                }
            }
        });

        it("serves the database URL in the stack's time zone, and its own URL to a client whose files set none", async () => {
            const d = await deploy({ ...devRaw, timezone: "UTC" });
            assert.strictEqual(servedOf(d, "user-service")["spring.datasource.url"], "${database.url}?serverTimezone=UTC&autoReconnect=true&validationQuery=select 1&sslMode=REQUIRED");
            assert.strictEqual(servedOf(d, "reserve-item-service")["spring.r2dbc.url"], "r2dbc:mysql://${mysql.hostname:localhost}:3306/msaportal?serverTimezone=UTC&sslMode=REQUIRED");
            const notice = {
                name: "notice-service", image: "registry.example.go.kr/egov/notice-service:1.0.0", port: 8080,
                needsDatabase: true, usesDiscovery: true, usesConfigServer: true, usesToken: true,
            };
            const own = servedOf(await deploy({ ...devRaw, services: JSON.stringify([notice]) }), "notice-service");
            assert.strictEqual(own["spring.datasource.url"], "jdbc:mysql://mysql.egov-dev.svc.cluster.local:3306/msaportal?serverTimezone=Asia/Seoul&autoReconnect=true&sslMode=REQUIRED");
            assert.strictEqual(own["spring.datasource.password"], "${DB_PASSWORD}");
            assert.strictEqual(own["file.directory"], "${app.home:${user.home}}/msa-attach-volume", "the application.yml's, not the fallback");
        });

        it("cannot resolve a client's placeholder: it has none of their variables", () => {
            const serverEnv = Object.keys(envMap(dev, CONFIG_SERVER));
            const files = configMap(dev, "config-generated-configmap")!.data as Record<string, string>;
            const used = new Set(Object.values(files).flatMap((y) => Object.values(flatYaml(y)).flatMap((v) => placeholdersOf(String(v)))));
            assert.ok(used.size > 0);
            for (const v of used) assert.ok(!serverEnv.includes(v), `the config server has ${v}`);
        });

        it("gives every client each variable its served file names, and serves the others nothing", () => {
            const ctx = contextOf(devRaw);
            for (const w of wired) {
                const clientFile = configMap(dev, "config-generated-configmap")!.data[`${w.name}_${w.name}.yml`];
                if (!w.spec?.usesConfigServer) {
                    assert.strictEqual(clientFile, undefined, w.name);
                    continue;
                }
                const env = envMap(dev, w.name);
                for (const [prop, v] of Object.entries(servedOf(dev, w.name))) {
                    for (const name of placeholdersOf(String(v))) assert.ok(env[name], `${w.name} is served ${prop} but lacks ${name}`);
                }
                assert.strictEqual(env.SPRING_CLOUD_CONFIG_NAME?.value, w.name, "asks for its own file");
                assert.strictEqual(env.SPRING_CLOUD_CONFIG_FAIL_FAST?.value, "true", "fails fast without the config server");
            }
            for (const o of OVERRIDES) assert.ok(o.who.length > 0 && o.reason.length > 0, o.property);
            assert.ok(OVERRIDES.some((o) => wired.some((w) => o.readers(w, ctx))));
        });

        it("reads the generated and the user's files from what it mounts, the user's searched last (they win)", async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "egov-config-repo-"));
            try {
                fs.writeFileSync(path.join(dir, "application.yml"), "egov:\n  message: layered\n");
                const d = await deploy(withObject(devRaw, "configServer", { path: dir }));
                const pod = deploymentOf(d, CONFIG_SERVER).spec.template.spec;
                const env = envMap(d, CONFIG_SERVER);
                const mountOf = (at: string) => {
                    const m = pod.containers[0].volumeMounts.find((x: Obj) => x.mountPath === at);
                    assert.ok(m, `nothing mounted at ${at}`);
                    return pod.volumes.find((v: Obj) => v.name === m.name).configMap.name as string;
                };
                assert.strictEqual(env.SPRING_CLOUD_CONFIG_SERVER_NATIVE_SEARCH_LOCATIONS.value, `file:${GENERATED_REPO_DIR}/{application}/,file:${CONFIG_REPO_DIR}/`);
                assert.strictEqual(mountOf(GENERATED_REPO_DIR), configMap(d, "config-generated-configmap")!.metadata.name);
                assert.strictEqual(mountOf(CONFIG_REPO_DIR), configMap(d, "config-repo-configmap")!.metadata.name);
                assert.strictEqual(env.SPRING_PROFILES_ACTIVE.value, "native,logstash");
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
            const devEnv = envMap(dev, CONFIG_SERVER);
            assert.strictEqual(devEnv.SPRING_CLOUD_CONFIG_SERVER_NATIVE_SEARCH_LOCATIONS.value, `file:${GENERATED_REPO_DIR}/{application}/`, "no configServer.path: the generated files alone");
            assert.strictEqual(configMap(dev, "config-repo-configmap"), undefined);
        });

        it("serves a directory given as configServer.path", async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "egov-config-repo-"));
            try {
                fs.writeFileSync(path.join(dir, "application.yml"), "egov:\n  message: hello\n");
                fs.writeFileSync(path.join(dir, "user-service.yml"), "token:\n  expiration_time: 7200000\n");
                fs.writeFileSync(path.join(dir, "notes.txt"), "not served");
                const d = await deploy(withObject(devRaw, "configServer", { path: dir }));
                assert.deepStrictEqual(configMap(d, "config-repo-configmap")!.data, {
                    "application.yml": "egov:\n  message: hello\n",
                    "user-service.yml": "token:\n  expiration_time: 7200000\n",
                });
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });

        it("serves a git repository given as configServer.git, with the git profile", async () => {
            const d = await deploy(withObject(devRaw, "configServer", { git: { uri: "https://git.example.go.kr/egov/config.git", searchPaths: "config" } }));
            const env = envMap(d, CONFIG_SERVER);
            assert.strictEqual(env.SPRING_PROFILES_ACTIVE.value, "git,native,logstash");
            assert.strictEqual(env.SPRING_CLOUD_CONFIG_SERVER_GIT_ORDER.value, "1", "the repository above the generated files");
            assert.strictEqual(env.SPRING_CLOUD_CONFIG_SERVER_NATIVE_ORDER.value, "2");
            assert.strictEqual(env.SPRING_CLOUD_CONFIG_SERVER_GIT_URI.value, "https://git.example.go.kr/egov/config.git");
            assert.strictEqual(env.SPRING_CLOUD_CONFIG_SERVER_GIT_DEFAULT_LABEL.value, "main");
            assert.strictEqual(env.SPRING_CLOUD_CONFIG_SERVER_GIT_SEARCH_PATHS.value, "config");
            assert.strictEqual(env.SPRING_CLOUD_CONFIG_SERVER_NATIVE_SEARCH_LOCATIONS.value, `file:${GENERATED_REPO_DIR}/{application}/`);
            assert.strictEqual(configMap(d, "config-repo-configmap"), undefined);
            assert.strictEqual(servedOf(d, "user-service")["token.secret"], "${TOKEN_SECRET}", "the generated files are still served");
        });

        it("refuses a config server source it cannot serve, naming every bad key", () => {
            const raw = withObject(withObject(devRaw, "configServer", { path: "/nonexistent/egov-config", git: { label: "main" } }),
                "tracing", { samplingProbability: 1.5 });
            try {
                loadConfig(sourceOf(raw), "dev");
                assert.fail("accepted");
            } catch (e) {
                assert.ok(e instanceof ConfigError, String(e));
                const msg = e.message;
                assert.match(msg, /configServer\.path: "\/nonexistent\/egov-config" is not allowed/);
                assert.match(msg, /configServer\.path \/ egov-platform:configServer\.git: both are set/);
                assert.match(msg, /configServer\.git\.uri: not set/);
                assert.match(msg, /tracing\.samplingProbability: 1\.5 is not allowed; expected a number from 0 to 1/);
            }
        });
    });

    describe("logs and traces", () => {
        it("ships logs to our Logstash's port under the profile logback needs, from every service that can", () => {
            const logstashSvc = dev.find("Service", "logstash")!;
            const port = logstashSvc.spec.ports[0].port;
            assert.strictEqual(port, infraPorts.logstash);
            assert.match(configMap(dev, "logstash-configmap")!.data["fluent-bit.conf"], new RegExp(`^\\s+Port\\s+${port}$`, "m"));
            for (const s of backendServices) {
                const env = envMap(dev, s.name);
                if (!s.shipsLogs) {
                    assert.strictEqual(env.logstash_hostname, undefined, s.name);
                    continue;
                }
                assert.strictEqual(configMap(dev, "backend-configmap")!.data[env.logstash_hostname.valueFrom.configMapKeyRef.key],
                    `logstash.egov-dev.svc.cluster.local:${port}`, s.name);
                // The "default" profile keeps logback's LOGSTASH appender off; MessageSourceConfig needs
                // spring.profiles.active unset, so the clients rename the default profile instead.
                if (s.usesConfigServer) {
                    assert.strictEqual(env.SPRING_PROFILES_DEFAULT?.value, "logstash", s.name);
                    assert.strictEqual(env.SPRING_PROFILES_ACTIVE, undefined, s.name);
                }
            }
        });

        it("sends traces to our Zipkin's span endpoint at the configured sampling rate", async () => {
            const d = await deploy(withObject(devRaw, "tracing", { samplingProbability: 0.5 }));
            const zipkinPort = d.find("Service", "zipkin")!.spec.ports[0].port;
            const traced = backendServices.filter((s) => s.usesTracing);
            assert.ok(traced.length > 0);
            for (const s of traced) {
                const env = envMap(d, s.name);
                const key = env.MANAGEMENT_ZIPKIN_TRACING_ENDPOINT.valueFrom.configMapKeyRef.key;
                assert.strictEqual(configMap(d, "backend-configmap")!.data[key], `http://zipkin.egov-dev.svc.cluster.local:${zipkinPort}/api/v2/spans`);
                assert.strictEqual(env.MANAGEMENT_TRACING_SAMPLING_PROBABILITY.value, "0.5");
            }
            for (const s of backendServices.filter((x) => !x.usesTracing)) assert.strictEqual(envMap(d, s.name).MANAGEMENT_ZIPKIN_TRACING_ENDPOINT, undefined, s.name);
            assert.strictEqual(servedOf(d, "user-service")["management.tracing.sampling.probability"], "${MANAGEMENT_TRACING_SAMPLING_PROBABILITY}");
        });

        it("with logging and tracing off, tells the services instead of leaving them to retry a missing host", async () => {
            const d = await deploy(stackConfig("dev", { logging: { enabled: false }, tracing: { enabled: false } }));
            const data = configMap(d, "backend-configmap")!.data;
            assert.strictEqual(data.logstash_hostname, undefined);
            assert.strictEqual(data.MANAGEMENT_ZIPKIN_TRACING_ENDPOINT, undefined);
            for (const w of wired) {
                const env = envMap(d, w.name);
                for (const gone of ["logstash_hostname", "SPRING_PROFILES_DEFAULT", "MANAGEMENT_ZIPKIN_TRACING_ENDPOINT", "MANAGEMENT_TRACING_SAMPLING_PROBABILITY"]) {
                    assert.strictEqual(env[gone], undefined, `${w.name} ${gone}`);
                }
                assert.strictEqual(env.MANAGEMENT_TRACING_ENABLED?.value, w.spec?.usesTracing ? "false" : undefined, w.name);
            }
            // The config server's own application.yml activates "default" too; keeping it keeps the appender off.
            assert.strictEqual(envMap(d, CONFIG_SERVER).SPRING_PROFILES_ACTIVE.value, "native,default");
            const served = servedOf(d, "user-service");
            assert.strictEqual(served["management.tracing.enabled"], "${MANAGEMENT_TRACING_ENABLED}");
            assert.strictEqual(served["management.zipkin.tracing.endpoint"], undefined);
        });
    });

    it("derives service-to-service edges from the calls in the upstream source", () => {
        const g = contextOf(devRaw).graph;
        assert.ok(g.allows("portal-service", "board-service", 8080), "portal-service BoardServiceClient (@FeignClient)");
        assert.ok(g.allows("board-service", "user-service", 8080), "board-service DelegatingAuthorizationService");
        assert.ok(g.allows("reserve-check-service", "reserve-item-service", 8080), "reserve-check-service ReserveItemServiceClient");
        assert.ok(g.allows("apigateway", "apigateway", 8000), "ReactiveAuthorization goes through apigateway.host");
        assert.ok(!g.allows("user-service", "board-service", 8080), "user-service calls no other service");
        assert.ok(!g.dependenciesOf("discovery").some((e) => e.to === "logstash"), "discovery has no Logstash appender");
    });

    it("docs/wiring.md is the one the contract generates (npm run docs:wiring)", () => {
        const readme = fs.readFileSync(path.join(ROOT, "docs", "wiring.md"), "utf8");
        assert.strictEqual(sectionOf(readme), renderWiringSection().trim());
    });
});
