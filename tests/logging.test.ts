// Logs and search on OpenSearch 2.x (issue 31), as rendered: OpenSearch with its security plugin, Dashboards and the
// Fluent Bit shipper. No OpenSearch or Fluent Bit can run here (no Debian package, no image pulls): the rendered
// settings are checked against the images' documented settings, and the shipper's input against what the services'
// Logstash appender (upstream logback-spring.xml) writes.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { defaultImages } from "../config/catalog";
import { OPENSEARCH_USERS } from "../config/opensearch";
import { parseFluentBitConf } from "../scripts/lib/boot-check";
import { DEFAULT_UPSTREAM } from "../scripts/lib/boot-derive";
import { configProblems, deploy, Deployed, GENERATED, Obj, ROOT, stackConfig, withObject } from "./support/harness";
import { Pod, PolicySet } from "./support/netpol-eval";

const envOf = (c: Obj): Record<string, Obj> => Object.fromEntries(((c.env ?? []) as Obj[]).map((e) => [e.name, e]));
const volume = (spec: Obj, name: string): Obj => (spec.volumes as Obj[]).find((v) => v.name === name)!;
const configMapOf = (d: Deployed, spec: Obj, file: string): string => d.find("ConfigMap", volume(spec, "config").configMap.name)!.data[file];

/**
 * opensearch.yml settings OpenSearch 2.19 documents (docs.opensearch.org: Configuring OpenSearch, Security plugin
 * "Configuring TLS certificates" and "Security settings", Snapshots "Shared file system"): a key outside this list
 * would be a typo OpenSearch refuses at start ("unknown setting").
 */
const DOCUMENTED_SETTINGS = new Set([
    "cluster.name", "network.host", "discovery.type", "path.repo",
    ...["transport", "http"].flatMap((l) => [`plugins.security.ssl.${l}.pemcert_filepath`, `plugins.security.ssl.${l}.pemkey_filepath`,
        `plugins.security.ssl.${l}.pemtrustedcas_filepath`]),
    "plugins.security.ssl.transport.enforce_hostname_verification", "plugins.security.ssl.http.enabled",
    "plugins.security.allow_default_init_securityindex", "plugins.security.restapi.roles_enabled", "plugins.security.audit.type",
    "plugins.security.system_indices.enabled",
]);

describe("logs and search on OpenSearch (issue 31)", function () {
    this.timeout(120000);
    let dev: Deployed;
    let prod: Deployed;
    before(async () => {
        dev = await deploy(stackConfig("dev"));
        prod = await deploy(stackConfig("prod"), "prod");
    });

    it("runs OpenSearch and Dashboards 2.19 of one version, and Fluent Bit as the shipper", () => {
        const version = (image: string) => /:(\d+\.\d+\.\d+)$/.exec(image)?.[1];
        assert.match(version(defaultImages.opensearch)!, /^2\.19\.\d+$/);
        assert.strictEqual(version(defaultImages.dashboards), version(defaultImages.opensearch), "Dashboards must match the server's version");
        // Prod pulls by digest (the harness's test pins): the reference before the digest.
        const image = (kind: string, name: string) => (prod.find(kind, name)!.spec.template.spec.containers[0].image as string).split("@")[0];
        assert.strictEqual(image("StatefulSet", "opensearch-statefulset"), `docker.io/${defaultImages.opensearch}`);
        assert.strictEqual(image("Deployment", "dashboards-deployment"), `docker.io/${defaultImages.dashboards}`);
        assert.strictEqual(image("Deployment", "logstash-deployment"), `docker.io/${defaultImages.fluentBit}`);
        for (const gone of ["elasticsearch-statefulset", "kibana-deployment"]) assert.strictEqual(prod.find(gone.endsWith("statefulset") ? "StatefulSet" : "Deployment", gone), undefined);
    });

    it("starts OpenSearch with the generated admin password, its own certificates and users, never the demo ones", () => {
        const spec = prod.find("StatefulSet", "opensearch-statefulset")!.spec.template.spec;
        const c = spec.containers[0];
        const env = envOf(c);
        assert.deepStrictEqual(env.OPENSEARCH_INITIAL_ADMIN_PASSWORD.valueFrom.secretKeyRef, { name: "opensearch-credentials", key: "admin-password" });
        assert.strictEqual(env.DISABLE_INSTALL_DEMO_CONFIG.value, "true");
        assert.strictEqual(env.DISABLE_SECURITY_PLUGIN, undefined);
        // The whole TLS Secret (key included) only here, read-only, group-readable for the opensearch user.
        assert.deepStrictEqual(volume(spec, "tls").secret, { secretName: "egov-opensearch-tls", defaultMode: 0o440 });
        const mounts = Object.fromEntries((c.volumeMounts as Obj[]).map((m) => [m.mountPath, m]));
        assert.deepStrictEqual(mounts["/usr/share/opensearch/config/certs"], { name: "tls", mountPath: "/usr/share/opensearch/config/certs", readOnly: true });
        assert.strictEqual(mounts["/usr/share/opensearch/config/opensearch-security/internal_users.yml"].name, "security");
        assert.ok(volume(spec, "security").secret, "the users' hashes are in a Secret, not a ConfigMap");
        const annotations = prod.find("StatefulSet", "opensearch-statefulset")!.spec.template.metadata.annotations;
        assert.deepStrictEqual(JSON.parse(annotations["egov-platform/created-outside-git"]).secrets, ["egov-opensearch-tls"]);
        // dev names the default Secret.
        assert.strictEqual(volume(dev.find("StatefulSet", "opensearch-statefulset")!.spec.template.spec, "tls").secret.secretName, "opensearch-tls");
    });

    it("writes an opensearch.yml of documented settings only, with TLS on both layers from the mounted certificates", () => {
        const spec = prod.find("StatefulSet", "opensearch-statefulset")!.spec.template.spec;
        const yml = parse(configMapOf(prod, spec, "opensearch.yml")) as Obj;
        assert.deepStrictEqual(Object.keys(yml).filter((k) => !DOCUMENTED_SETTINGS.has(k)), []);
        assert.strictEqual(yml["plugins.security.ssl.http.enabled"], true);
        assert.strictEqual(yml["discovery.type"], "single-node");
        assert.deepStrictEqual(yml["path.repo"], ["/usr/share/opensearch/snapshots"]);
        // Relative paths resolve against config/, where the TLS Secret is mounted; the files are the Secret's keys.
        for (const l of ["transport", "http"]) {
            assert.deepStrictEqual([yml[`plugins.security.ssl.${l}.pemcert_filepath`], yml[`plugins.security.ssl.${l}.pemkey_filepath`],
                yml[`plugins.security.ssl.${l}.pemtrustedcas_filepath`]], ["certs/tls.crt", "certs/tls.key", "certs/ca.crt"], l);
        }
        // The checker itself refuses an undocumented key (a typo).
        assert.ok(!DOCUMENTED_SETTINGS.has("plugins.security.ssl.http.enable"));
    });

    it("gives every user a generated password in one Secret and OpenSearch only their bcrypt hashes", () => {
        const creds = prod.find("Secret", "opensearch-credentials")!;
        const passwords = creds.stringData as Record<string, string>;
        assert.deepStrictEqual(Object.keys(passwords).sort(), ["admin-password", "dashboards-password", "logstash-password", "snapshot-password"]);
        for (const v of Object.values(passwords)) assert.ok(v.startsWith(GENERATED), v);
        assert.strictEqual(new Set(Object.values(passwords)).size, 4, "one password per user");
        const security = prod.of("Secret").find((s) => s.metadata.name.startsWith("opensearch-security"))!.stringData as Record<string, string>;
        const users = parse(security["internal_users.yml"]) as Obj;
        assert.deepStrictEqual(Object.keys(users).sort(), ["_meta", ...Object.values(OPENSEARCH_USERS)].sort());
        for (const u of Object.values(OPENSEARCH_USERS)) assert.match(users[u].hash, /^\$2[aby]\$10\$[./A-Za-z0-9]{53}$/, u);
        for (const v of Object.values(passwords)) assert.ok(!security["internal_users.yml"].includes(v), "no password in clear beside its hash");
        assert.deepStrictEqual(users.admin.backend_roles, ["admin"]);
        assert.deepStrictEqual(users.logstash.backend_roles, ["logstash"]);
        const mapping = parse(security["roles_mapping.yml"]) as Obj;
        assert.deepStrictEqual(mapping.all_access.backend_roles, ["admin"]);
        assert.deepStrictEqual(mapping.kibana_server.users, ["kibanaserver"]);
        assert.deepStrictEqual(mapping.manage_snapshots.users, ["snapshot"]);
        assert.ok(!JSON.stringify(mapping.all_access).includes("snapshot") && !JSON.stringify(mapping.all_access).includes("logstash"),
            "the shipper and the snapshot job are not administrators");
    });

    it("lets Dashboards and the shipper in with their own users, verifying OpenSearch's certificate with the CA only", () => {
        for (const [name, mount] of [["dashboards-deployment", "/usr/share/opensearch-dashboards/config/certs"], ["logstash-deployment", "/fluent-bit/certs"]]) {
            const spec = prod.find("Deployment", name)!.spec.template.spec;
            assert.deepStrictEqual(volume(spec, "opensearch-ca").secret, { secretName: "egov-opensearch-tls", items: [{ key: "ca.crt", path: "ca.crt" }] }, name);
            assert.ok((spec.containers[0].volumeMounts as Obj[]).some((m) => m.name === "opensearch-ca" && m.mountPath === mount && m.readOnly), name);
        }
        const dash = prod.find("Deployment", "dashboards-deployment")!.spec.template.spec;
        const denv = envOf(dash.containers[0]);
        assert.strictEqual(denv.OPENSEARCH_USERNAME.value, "kibanaserver");
        assert.deepStrictEqual(denv.OPENSEARCH_PASSWORD.valueFrom.secretKeyRef, { name: "opensearch-credentials", key: "dashboards-password" });
        const yml = parse(configMapOf(prod, dash, "opensearch_dashboards.yml")) as Obj;
        assert.deepStrictEqual(yml["opensearch.hosts"], ["https://opensearch.egov.svc.cluster.local:9200"]);
        assert.strictEqual(yml["opensearch.ssl.verificationMode"], "full");
        assert.strictEqual(yml["opensearch_security.cookie.secure"], true, "prod serves Dashboards over https");
        assert.strictEqual(parse(configMapOf(dev, dev.find("Deployment", "dashboards-deployment")!.spec.template.spec, "opensearch_dashboards.yml"))["opensearch_security.cookie.secure"],
            false, "dev serves http: a Secure cookie would never come back");
        assert.strictEqual(yml["opensearch.password"], undefined, "the password comes from the env, never the ConfigMap");
        assert.deepStrictEqual(envOf(prod.find("Deployment", "logstash-deployment")!.spec.template.spec.containers[0]).OPENSEARCH_PASSWORD.valueFrom.secretKeyRef,
            { name: "opensearch-credentials", key: "logstash-password" });
    });

    it("ships what the services' Logstash appender sends: JSON maps on the logstash Service's port, to logstash-* indices", () => {
        const spec = dev.find("Deployment", "logstash-deployment")!.spec.template.spec;
        const conf = parseFluentBitConf(configMapOf(dev, spec, "fluent-bit.conf"));
        assert.deepStrictEqual(conf.map((s) => s.section), ["SERVICE", "INPUT", "OUTPUT"]);
        const [service, input, output] = conf.map((s) => s.keys);
        assert.deepStrictEqual([input.name, input.port, input.format], ["tcp", "8088", "json"]);
        assert.strictEqual(dev.find("Service", "logstash")!.spec.ports[0].port, 8088, "the Service the services already reach");
        assert.deepStrictEqual([output.name, output.logstash_format, output.logstash_prefix, output.suppress_type_name, output.replace_dots],
            ["opensearch", "On", "logstash", "On", "On"]);
        assert.deepStrictEqual([output.http_user, output.http_passwd, output.tls, output["tls.verify"], output["tls.ca_file"]],
            ["logstash", "${OPENSEARCH_PASSWORD}", "On", "On", "/fluent-bit/certs/ca.crt"]);
        // Probes: the input accepts (ready), the health endpoint answers (alive).
        assert.strictEqual(service.health_check, "On");
        assert.deepStrictEqual(spec.containers[0].livenessProbe.httpGet, { path: "/api/v1/health", port: Number(service.http_port) });
        assert.deepStrictEqual(spec.containers[0].readinessProbe.tcpSocket, { port: 8088 });
        // A config line Fluent Bit could not read fails the parse.
        assert.throws(() => parseFluentBitConf("Port 8088\n"), /cannot read line "Port 8088"/);
    });

    it("reads the appender's events: its LOGSTASH encoder writes one JSON map per event and no @timestamp of its own", () => {
        const xml = path.join(DEFAULT_UPSTREAM, "backend/board-service/src/main/resources/logback-spring.xml");
        const text = fs.readFileSync(xml, "utf8");
        const appender = /<appender name="LOGSTASH" class="([^"]+)">([\s\S]*?)<\/appender>/.exec(text);
        assert.ok(appender, "the LOGSTASH appender");
        assert.strictEqual(appender[1], "net.logstash.logback.appender.LogstashTcpSocketAppender");
        assert.match(appender[2], /<encoder class="net\.logstash\.logback\.encoder\.LoggingEventCompositeJsonEncoder">/);
        const providers = [...appender[2].matchAll(/^\s*<(\w+)\s*\/?>/gm)].map((m) => m[1]).filter((p) => !["destination", "encoder", "providers", "pattern"].includes(p));
        assert.deepStrictEqual(providers, ["mdc", "context", "logLevel", "loggerName", "threadName", "message", "logstashMarkers", "stackTrace"]);
        // No timestamp provider: the shipper's @timestamp (time received) is the only one, as Logstash's was; one
        // more would make OpenSearch refuse the document (duplicate field).
        assert.ok(!/<timestamp/.test(appender[2]));
        // The fields those providers write (logstash-logback-encoder 8.0's names), one event per line: each a JSON map.
        const events = [
            { traceId: "6f1c", spanId: "a2b3", level: "WARN", level_value: 30000, logger_name: "org.egovframe.cloud.boardservice.api.BoardApiController",
                appName: "board-service", thread_name: "http-nio-8080-exec-1", message: "게시판 조회 실패" },
            { level: "ERROR", level_value: 40000, logger_name: "o.a.c.c.C.[.[.[/].[dispatcherServlet]", appName: "board-service", thread_name: "main",
                message: "boom", stack_trace: "java.lang.IllegalStateException: boom\n\tat x.y.Z.run(Z.java:1)\n" },
        ];
        const wire = events.map((e) => `${JSON.stringify(e)}\n`).join("");
        const read = wire.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as unknown);
        assert.strictEqual(read.length, 2, "a stack trace's newlines are escaped inside the string: still one line per event");
        for (const r of read) assert.ok(r !== null && typeof r === "object" && !Array.isArray(r), "a map, as the tcp input's json format takes");
        assert.strictEqual(Buffer.byteLength(wire), Buffer.byteLength(wire, "utf8"), "UTF-8 on the wire (Korean messages)");
    });

    it("admits the services to the shipper, the shipper, Dashboards and the snapshot job to OpenSearch, and no one else", () => {
        const policies = new PolicySet(prod.of("NetworkPolicy"));
        const pod = (kind: string, name: string): Pod => {
            const t = prod.find(kind, name)!;
            const tpl = kind === "CronJob" ? t.spec.jobTemplate.spec.template : t.spec.template;
            return { namespace: "egov", labels: tpl.metadata.labels, ports: tpl.spec.containers.flatMap((c: Obj) => c.ports ?? []) };
        };
        const os = pod("StatefulSet", "opensearch-statefulset");
        const shipper = pod("Deployment", "logstash-deployment");
        assert.ok(policies.allows(pod("Deployment", "board-service-deployment"), shipper, 8088));
        assert.ok(policies.allows(shipper, os, 9200));
        assert.ok(policies.allows(pod("Deployment", "dashboards-deployment"), os, 9200));
        assert.ok(policies.allows(pod("CronJob", "opensearch-snapshot"), os, 9200));
        assert.ok(!policies.allows(pod("Deployment", "board-service-deployment"), os, 9200), "a service never reaches OpenSearch itself");
        assert.ok(!policies.allows(pod("Deployment", "board-service-deployment"), pod("Deployment", "dashboards-deployment"), 5601));
        assert.ok(!policies.allows(os, { ip: "192.0.2.10" }, 443), "OpenSearch has no way out");
    });

    it("scripts/opensearch-certs.sh makes a certificate every client's host name verifies against, signed by the CA it ships", function () {
        this.timeout(600000); // key generation on a loaded machine
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "egov-os-certs-"));
        try {
            const run = (...args: string[]) => spawnSync("bash", [path.join(ROOT, "scripts/opensearch-certs.sh"), ...args], { encoding: "utf8" });
            const made = run("--namespace", "egov", "--out", dir);
            assert.strictEqual(made.status, 0, made.stderr);
            assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["ca.crt", "tls.crt", "tls.key"], "the CA's key is not kept");
            assert.match(fs.readFileSync(path.join(dir, "tls.key"), "utf8"), /^-----BEGIN PRIVATE KEY-----/, "PKCS#8, as the security plugin reads it");
            // The hosts the rendered clients connect to: the shipper, Dashboards, the snapshot job, the pod's own probe.
            const shipper = parseFluentBitConf(configMapOf(prod, prod.find("Deployment", "logstash-deployment")!.spec.template.spec, "fluent-bit.conf"))[2].keys.host;
            const dash = new URL((parse(configMapOf(prod, prod.find("Deployment", "dashboards-deployment")!.spec.template.spec, "opensearch_dashboards.yml")) as Obj)["opensearch.hosts"][0]).hostname;
            const snap = new URL(envOf(prod.find("CronJob", "opensearch-snapshot")!.spec.jobTemplate.spec.template.spec.initContainers[0]).OS_URL.value).hostname;
            const probe = /https:\/\/([^:/]+)/.exec(prod.find("StatefulSet", "opensearch-statefulset")!.spec.template.spec.containers[0].readinessProbe.exec.command[2])![1];
            const verify = (host: string) => spawnSync("openssl", ["verify", "-CAfile", path.join(dir, "ca.crt"), "-verify_hostname", host, "-purpose", "sslserver",
                path.join(dir, "tls.crt")], { encoding: "utf8" }).status;
            for (const host of [shipper, dash, snap, probe]) assert.strictEqual(verify(host), 0, host);
            assert.notStrictEqual(verify("opensearch.other.svc.cluster.local"), 0, "another namespace's name does not verify");
            assert.match(run("--namespace", "Bad_NS", "--out", dir).stderr, /--namespace must be the stack's namespace/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses the renamed keys naming the new one, and accepts the new ones", () => {
        const cases: [string, Obj, string][] = [
            ["images", { elasticsearch: "docker.elastic.co/elasticsearch/elasticsearch:7.10.1" }, "images.opensearch"],
            ["images", { kibana: "docker.elastic.co/kibana/kibana:7.10.1" }, "images.dashboards"],
            ["images", { logstash: "docker.elastic.co/logstash/logstash:7.10.1" }, "images.fluentBit"],
            ["resources", { elasticsearch: { requests: { cpu: "500m" } } }, "resources.opensearch"],
            ["resources", { kibana: { requests: { cpu: "500m" } } }, "resources.dashboards"],
            ["resources", { logstash: { requests: { cpu: "500m" } } }, "resources.fluentBit"],
            ["storage", { sizes: { elasticsearch: "9Gi" } }, "storage.sizes.opensearch"],
        ];
        for (const [key, patch, renamed] of cases) {
            const problems = configProblems(withObject(stackConfig("dev"), key, patch));
            assert.strictEqual(problems.length, 1, problems.join("\n"));
            assert.match(problems[0], new RegExp(`is not allowed; expected ${renamed.replace(/\./g, "\\.")} instead: .*replaced .*\\(docs/day-2\\.md\\)$`), renamed);
        }
        const offsite = configProblems(withObject(stackConfig("prod"), "backup", { offsite: { elasticsearch: { retention: 3 } } }), "prod");
        assert.match(offsite.join(), /backup\.offsite\.elasticsearch: .* expected backup\.offsite\.opensearch instead/);
        assert.deepStrictEqual(configProblems(withObject(withObject(stackConfig("dev"), "images", { opensearch: "opensearchproject/opensearch:2.19.4" }),
            "storage", { sizes: { opensearch: "9Gi" } })), []);
        assert.match(configProblems(withObject(stackConfig("dev"), "logging", { tlsSecretName: "Not_A_Name" })).join(),
            /logging\.tlsSecretName: "Not_A_Name" is not allowed; expected the name of a Secret with keys tls\.crt, tls\.key and ca\.crt/);
    });
});
