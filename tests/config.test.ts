import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig, loadStackConfig } from "../config";
import { scalableNames } from "../config/catalog";
import { deploy, deployFresh, FAKE_KUBECONFIG, isSecretOutput, ROOT, setRuntime, sourceOf, stackConfig, withObject, configProblems } from "./support/harness";

type Raw = Record<string, string>;

const problemsOf = configProblems;

const dev = () => stackConfig("dev");
const prod = () => stackConfig("prod");
const set = (raw: Raw, key: string, value: unknown): Raw => ({ ...raw, [key]: typeof value === "string" ? value : JSON.stringify(value) });

// Each case: a bad config, the key it must name, the bad value, and words of what is allowed.
const invalid: Array<[title: string, raw: () => Raw, key: string, value: string, allowed: RegExp, stack?: string]> = [
    ["namespace with upper case", () => set(dev(), "namespace", "Egov"), "namespace", '"Egov"', /DNS label/],
    ["namespace too long", () => set(dev(), "namespace", "a".repeat(64)), "namespace", "aaaa", /at most 63/],
    ["kube- namespace", () => set(dev(), "namespace", "kube-system"), "namespace", '"kube-system"', /not starting with kube-/],
    ["namespace too long for the provisioner's", () => set(dev(), "namespace", "a".repeat(60)), "namespace", "aaaa", /at most 55 characters: storage's namespace a+-storage/],
    ["clusterScoped not a boolean", () => set(dev(), "clusterScoped", "maybe"), "clusterScoped", '"maybe"', /true or false/],
    ["unknown environment", () => set(dev(), "environment", "production"), "environment", '"production"', /dev, staging, prod/],
    ["no target cluster", () => { const r = dev(); delete r.kubeconfig; return r; }, "kubeContext", "neither is set", /explicit/],
    ["missing kubeconfig file", () => set(dev(), "kubeconfig", "/nonexistent/kubeconfig"), "kubeconfig", '"/nonexistent/kubeconfig"', /cluster:up/],
    ["bad domain", () => set(dev(), "domain", "not a domain"), "domain", '"not a domain"', /DNS domain/],
    ["unknown storage backend", () => withObject(dev(), "storage", { backend: "ceph" }), "storage.backend", '"ceph"', /nfs, cinder, hostpath/],
    ["nfs without server", () => withObject(dev(), "storage", { nfs: { server: "" } }), "storage.nfs.server", "not set", /NFS server/],
    ["relative nfs path", () => withObject(dev(), "storage", { nfs: { path: "srv/nfs" } }), "storage.nfs.path", '"srv/nfs"', /absolute/],
    ["bad volume size", () => withObject(dev(), "storage", { sizes: { mysql: "5GB" } }), "storage.sizes.mysql", '"5GB"', /5Gi/],
    ["unknown storage field", () => withObject(dev(), "storage", { backnd: "nfs" }), "storage.backnd", '"nfs"', /known field/],
    ["prod with latest", () => withObject(prod(), "image", { tag: "latest" }), "image.tag", '"latest"', /fixed release tag/, "prod"],
    ["prod unprotected", () => withObject(prod(), "storage", { protect: false }), "storage.protect", "false", /protected/, "prod"],
    ["bad image tag", () => withObject(dev(), "image", { tag: "v1 beta" }), "image.tag", '"v1 beta"', /image tag/],
    ["bad pull policy", () => withObject(dev(), "image", { pullPolicy: "Sometimes" }), "image.pullPolicy", '"Sometimes"', /Always, IfNotPresent, Never/],
    ["unknown image override", () => set(dev(), "images", { redis: "redis:7" }), "images.redis", '"redis:7"', /known field/],
    ["bad service type", () => set(dev(), "serviceType", "LoadBalancer"), "serviceType", '"LoadBalancer"', /ClusterIP, NodePort/],
    ["zero replicas", () => set(dev(), "replicas", "0"), "replicas", "0", /from 1 to 50/],
    ["fractional replicas", () => set(dev(), "replicas", "1.5"), "replicas", "1.5", /whole number/],
    ["replicas for an unknown service", () => set(dev(), "serviceReplicas", { "mail-service": 2 }), "serviceReplicas.mail-service", "2", /known field/],
    ["replicas above the autoscaler's max", () => set(set(dev(), "serviceReplicas", { apigateway: 5 }), "autoscaling", { maxReplicas: 3 }),
        "serviceReplicas.apigateway", "5", /at most autoscaling.maxReplicas/],
    ["autoscaling target out of range", () => withObject(dev(), "autoscaling", { targetCPUUtilizationPercentage: 150 }),
        "autoscaling.targetCPUUtilizationPercentage", "150", /from 1 to 100/],
    ["autoscaling enabled not boolean", () => withObject(dev(), "autoscaling", { enabled: "yes" }), "autoscaling.enabled", '"yes"', /true or false/],
    ["bad cpu quantity", () => set(dev(), "resources", { backend: { requests: { cpu: "lots" } } }), "resources.backend.requests.cpu", '"lots"', /CPU quantity/],
    ["storage not an object", () => set(dev(), "storage", "nfs"), "storage", '"nfs"', /object/],
    ["database user root", () => withObject(dev(), "database", { username: "root" }), "database.username", '"root"', /other than root/],
    ["bad database name", () => withObject(dev(), "database", { name: "msa-portal" }), "database.name", '"msa-portal"', /MySQL identifier/],
    ["missing init scripts", () => withObject(dev(), "database", { initScriptsPath: "/nonexistent/sql" }), "database.initScriptsPath", '"/nonexistent/sql"', /not found/],
    ["bad timezone", () => set(dev(), "timezone", "Seoul time"), "timezone", '"Seoul time"', /IANA/],
    ["logging switch not boolean", () => set(dev(), "logging", { enabled: "off" }), "logging.enabled", '"off"', /true or false/],
    ["bad ingress class", () => withObject(dev(), "ingress", { className: "Nginx!" }), "ingress.className", '"Nginx!"', /IngressClass/],
    ["bad messaging user", () => set(dev(), "messaging", { username: "1admin" }), "messaging.username", '"1admin"', /user name/],
    ["a cron field out of range", () => withObject(prod(), "backup", { schedule: "61 25 * * *" }), "backup.schedule", '"61 25 * * *"',
        /minute 61 is outside 0-59; hour 25 is outside 0-23/, "prod"],
    ["a cron range that runs backwards", () => withObject(prod(), "backup", { schedule: "0 5-2 * * *" }), "backup.schedule", '"0 5-2 * * *"',
        /hour range 5-2 runs backwards/, "prod"],
    ["a misspelt workload in externalEgress", () => set(dev(), "networkPolicy", { externalEgress: { jenkns: ["10.0.0.0/8"] } }),
        "networkPolicy.externalEgress.jenkns", '["10.0.0.0/8"]', /closest: jenkins/],
    ["externalEgress for a part the stack turns off", () => set(set(dev(), "ci", { enabled: false }), "networkPolicy", { externalEgress: { jenkins: ["10.0.0.0/8"] } }),
        "networkPolicy.externalEgress.jenkins", '["10.0.0.0/8"]', /a workload this stack deploys/],
    ["no databases", () => withObject(dev(), "database", { databases: [] }), "database.databases", "[]",
        /missing reservation \(read by reserve-check-service, reserve-request-service\).*remove the key/],
    ["a databases list without one a service reads", () => withObject(dev(), "database", { databases: ["msaportal", "reports"] }),
        "database.databases", '["msaportal","reports"]', /missing reservation \(read by reserve-check-service, reserve-request-service\)/],
    ["an image tag YAML read as a number", () => withObject(prod(), "image", { tag: 4.1 }), "image.tag", "4.1", /quote it in the stack file/, "prod"],
    ["a time zone abbreviation", () => set(dev(), "timezone", "KST"), "timezone", '"KST"', /abbreviation; the IANA name is Asia\/Seoul/],
    ["a misspelt time zone", () => set(dev(), "timezone", "Asia/Seol"), "timezone", '"Asia/Seol"', /closest: Asia\/Seoul/],
];

describe("stack config", () => {
    it("accepts the committed dev and prod stacks", () => {
        assert.deepStrictEqual(problemsOf(dev()), []);
        assert.deepStrictEqual(problemsOf(prod(), "prod"), []);
    });

    it("dev: nfs for both volume roles, one replica; prod: nfs shared, cinder data, more replicas, protected volumes", () => {
        const d = loadConfig(sourceOf(dev()), "dev");
        assert.deepStrictEqual([d.storage.shared.backend, d.storage.data.backend], ["nfs", "nfs"]);
        assert.ok(scalableNames.every((n) => d.replicas[n] === 1));
        assert.strictEqual(d.storage.protect, false);
        const p = loadConfig(sourceOf(prod()), "prod");
        assert.deepStrictEqual([p.storage.shared.backend, p.storage.data.backend], ["nfs", "cinder"]);
        assert.strictEqual(p.backup.enabled, true);
        assert.ok(scalableNames.every((n) => p.replicas[n] >= 2 || n === "discovery"));
        assert.strictEqual(p.replicas.discovery, 1, "one Eureka registry: `replicas` does not scale it");
        assert.strictEqual(p.replicas.apigateway, 3);
        assert.strictEqual(p.storage.protect, true);
        assert.strictEqual(p.cluster.context, undefined, "unit tests replace prod's context with a dummy kubeconfig");
    });

    it("fills defaults for every unset key", () => {
        const c = loadConfig(sourceOf({
            environment: "dev", kubeconfig: FAKE_KUBECONFIG, storage: JSON.stringify({ nfs: { server: "10.0.0.1" } }), applicationCheckout: dev().applicationCheckout,
        }), "test");
        assert.strictEqual(c.environment, "dev");
        assert.strictEqual(c.namespace, "egov");
        assert.strictEqual(c.serviceType, "ClusterIP");
        assert.deepStrictEqual([c.storage.shared.backend, c.storage.data.backend], ["nfs", "nfs"]);
        assert.strictEqual(c.backup.enabled, false);
        assert.deepStrictEqual(c.database.databases, ["msaportal", "reservation"]);
        assert.ok(c.logging.enabled && c.tracing.enabled && c.ci.enabled);
    });

    it("declares every key in Pulumi.yaml with a type and a default that the program accepts", () => {
        const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { config: Record<string, { type?: string; default?: unknown }> };
        const declared = Object.entries(project.config).filter(([k]) => !k.includes(":"));
        // Pulumi treats a declared key without a default as required in every stack.
        for (const [k, decl] of declared) {
            assert.ok(decl.type, `${k} has no type`);
            assert.ok("default" in decl, `${k} has no default`);
        }
        const defaults: Raw = Object.fromEntries(declared.map(([k, d]) => [k, typeof d.default === "string" ? d.default : JSON.stringify(d.default)]));
        const committed = [...Object.keys(dev()), ...Object.keys(prod())].filter((k) => k !== "kubeconfig");
        for (const k of committed) assert.ok(k in defaults, `stack files set ${k}, which Pulumi.yaml does not declare`);
        // environment and applicationCheckout have no usable default (a stack states them): the keys set besides the cluster and NFS server.
        const cfg = loadConfig(sourceOf({
            ...defaults, environment: "dev", kubeconfig: FAKE_KUBECONFIG, storage: JSON.stringify({ nfs: { server: "10.1.2.3" } }),
            applicationCheckout: dev().applicationCheckout,
        }), "dev");
        assert.strictEqual(cfg.namespace, "egov");
        assert.strictEqual(cfg.replicas.apigateway, 1);
    });

    for (const [title, raw, key, value, allowed, stack] of invalid) {
        it(`rejects ${title}`, () => {
            const problems = problemsOf(raw(), stack ?? "dev");
            const hit = problems.find((p) => p.includes(`egov-platform:${key}`) || p.includes(key));
            assert.ok(hit, `no problem names ${key}; got:\n${problems.join("\n")}`);
            assert.ok(hit.includes(value), `the message does not show the value ${value}: ${hit}`);
            assert.match(hit, allowed);
        });
    }

    it("an unquoted numeric tag is one problem, not also a complaint about latest", () => {
        const problems = problemsOf(withObject(prod(), "image", { tag: 4.1 }), "prod");
        assert.deepStrictEqual(problems.filter((p) => p.includes("image.tag")).length, 1, problems.join("\n"));
    });

    it("accepts valid cron schedules: lists, ranges, steps, Sunday as 7, macros", () => {
        for (const schedule of ["30 2 * * *", "*/15 0-6,22-23 1-31/2 1,6,12 0-7", "@daily", "0 0 * * 7"]) {
            assert.deepStrictEqual(problemsOf(withObject(prod(), "backup", { schedule }), "prod"), [], schedule);
        }
    });

    it("a nested key set without --path is refused with the command that sets it", () => {
        const problems = problemsOf({ ...dev(), "storage.backend": "nfs" }, "dev", [...Object.keys(dev()), "storage.backend"]);
        assert.strictEqual(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], /egov-platform:storage.backend: .*field of egov-platform:storage set without --path/);
        assert.match(problems[0], /pulumi config rm 'storage.backend'.*pulumi config set --path 'storage.backend' <value>/);
    });

    it("a kubeconfig's contents only as a secret, and the refusal never shows them", () => {
        const contents = "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: s3cr3t-token-value\n";
        const raw = set(dev(), "kubeconfig", contents);
        const problems = problemsOf(raw);
        assert.strictEqual(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], /egov-platform:kubeconfig: .*plain text.*pulumi config set --secret kubeconfig/);
        assert.ok(!problems[0].includes("s3cr3t"), problems[0]);
        assert.strictEqual(loadConfig(sourceOf(raw), "dev", [], (k) => k === "kubeconfig").cluster.kubeconfig, contents);
    });

    it("the cluster of one run (npm run deploy -- --kubeconfig / --context) overrides the stack's, and is validated", () => {
        const other = path.join(path.dirname(FAKE_KUBECONFIG), `egov-unit-other-kubeconfig-${process.pid}`);
        fs.writeFileSync(other, "apiVersion: v1\nkind: Config\n");
        try {
            const withContext = set(dev(), "kubeContext", "stack-ctx");
            const cluster = (env: Record<string, string>, raw: Raw = withContext) => loadConfig(sourceOf(raw), "dev", [], undefined, { env }).cluster;
            // --kubeconfig: that file, without the stack's context (a context of another file).
            assert.deepStrictEqual(cluster({ EGOV_KUBECONFIG: other }), { kubeconfig: other, context: undefined, local: true });
            assert.deepStrictEqual(cluster({ EGOV_KUBECONFIG: other, EGOV_KUBE_CONTEXT: "run-ctx" }), { kubeconfig: other, context: "run-ctx", local: true });
            // --context alone: a context of the stack's kubeconfig.
            assert.deepStrictEqual(cluster({ EGOV_KUBE_CONTEXT: "run-ctx" }), { kubeconfig: FAKE_KUBECONFIG, context: "run-ctx", local: true });
            assert.deepStrictEqual(cluster({}), { kubeconfig: FAKE_KUBECONFIG, context: "stack-ctx", local: true });
            // A stack that names no cluster runs with one given for the run, and a stack kubeconfig missing on this
            // machine does not matter when the run names another.
            const none = dev(); delete none.kubeconfig;
            assert.strictEqual(cluster({ EGOV_KUBECONFIG: other }, none).kubeconfig, other);
            assert.strictEqual(cluster({ EGOV_KUBECONFIG: other }, set(dev(), "kubeconfig", "/nonexistent/kubeconfig")).kubeconfig, other);
            // Refused: a file that does not exist, contents instead of a path (never shown), a context with spaces.
            const refused = (env: Record<string, string>) => {
                try { loadConfig(sourceOf(dev()), "dev", [], undefined, { env }); } catch (e) { return (e as Error).message; }
                return "";
            };
            assert.match(refused({ EGOV_KUBECONFIG: "/nonexistent/kc" }), /EGOV_KUBECONFIG: "\/nonexistent\/kc": expected an existing kubeconfig file/);
            const contents = refused({ EGOV_KUBECONFIG: "apiVersion: v1\nkind: Config\nusers:\n- name: a\n  user:\n    token: s3cr3t\n" });
            assert.match(contents, /EGOV_KUBECONFIG: a kubeconfig's contents \(value not shown/);
            assert.ok(!contents.includes("s3cr3t"), contents);
            assert.match(refused({ EGOV_KUBE_CONTEXT: "a b" }), /EGOV_KUBE_CONTEXT: "a b": expected a kubeconfig context name/);
        } finally {
            fs.rmSync(other, { force: true });
        }
    });

    it("localCluster is a declared boolean, false unless set, and refused in prod; the stack's name implies nothing", () => {
        assert.strictEqual(loadConfig(sourceOf(dev()), "dev").cluster.local, true, "Pulumi.dev.yaml says it");
        const named = set(dev(), "localCluster", "false");
        assert.strictEqual(loadConfig(sourceOf(named), "dev").cluster.local, false, "a dev stack that does not say so is a real cluster's");
        const unset = dev(); delete unset.localCluster;
        assert.strictEqual(loadConfig(sourceOf(unset), "dev").cluster.local, false);
        assert.strictEqual(loadConfig(sourceOf(prod()), "prod").cluster.local, false);
        assert.match(problemsOf(set(dev(), "localCluster", "yes")).join("\n"), /egov-platform:localCluster: "yes".*true or false/);
        assert.match(problemsOf(set(prod(), "localCluster", "true"), "prod").join("\n"), /egov-platform:localCluster: true.*false in a prod stack/);
    });

    it("the program reads which keys are secret from the Pulumi runtime", () => {
        const contents = "apiVersion: v1\nkind: Config\n";
        const all = Object.fromEntries(Object.entries(set(dev(), "kubeconfig", contents)).map(([k, v]) => [`egov-platform:${k}`, v]));
        const saved = pulumi.runtime.allConfig();
        try {
            pulumi.runtime.setAllConfig(all, []);
            assert.throws(() => loadStackConfig(), /kubeconfig: a kubeconfig's contents stored in plain text/);
            pulumi.runtime.setAllConfig(all, ["egov-platform:kubeconfig"]);
            assert.strictEqual(loadStackConfig().cluster.kubeconfig, contents);
        } finally {
            pulumi.runtime.setAllConfig(saved);
        }
    });

    // A stack named like an environment, or not, never gets one by default: `production` must not become dev.
    for (const stack of ["prod", "production", "dev"]) {
        it(`refuses a stack (${stack}) that does not state its environment, naming the key and the choices`, () => {
            const raw = dev();
            delete raw.environment;
            const problems = problemsOf(raw, stack);
            assert.strictEqual(problems.length, 1, problems.join("\n"));
            assert.match(problems[0], new RegExp(`^egov-platform:environment: not set; .*dev, staging, prod.*--stack ${stack}.*never guessed`));
            assert.strictEqual(problemsOf({ ...raw, environment: "" }, stack).length, 1, "an empty value is not a choice either");
        });
    }

    it("reports every bad key at once", () => {
        const raw = set(set(dev(), "namespace", "BAD"), "serviceType", "LoadBalancer");
        assert.strictEqual(problemsOf(raw).length, 2);
    });
});

describe("the program", () => {
    it("fails on bad config before creating any resource", async () => {
        const mocks = setRuntime(set(dev(), "serviceType", "LoadBalancer"), "dev");
        const entry = require.resolve("../index");
        delete require.cache[entry];
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program must run under these mocks
        assert.throws(() => require(entry), /egov-platform:serviceType: "LoadBalancer" is not allowed/);
        await new Promise((r) => setTimeout(r, 50));
        assert.strictEqual(mocks.resources.length, 0);
    });

    it("a mocked run that fails still says where: its error keeps its stack frames (runs go without frames for speed)", async () => {
        const depth = Error.stackTraceLimit;
        const failed = await deployFresh(stackConfig("dev", { serviceType: "LoadBalancer" })).then(() => undefined, (e: unknown) => e);
        assert.ok(failed instanceof Error, "the run must fail");
        assert.match(failed.message, /egov-platform:serviceType: "LoadBalancer" is not allowed/);
        assert.match(String(failed.stack), /\n\s+at .*config/);
        assert.strictEqual(Error.stackTraceLimit, depth, "the stack depth is restored after a run");
    });

    it("exports the documented contract; credentials only as secret outputs", async () => {
        const d = await deploy(dev());
        const out = d.exports;
        assert.deepStrictEqual(Object.keys(out).filter((k) => k !== "__outputs").sort(),
            ["credentials", "endpoints", "environment", "namespace", "secretNames", "storageClass", "storageClasses", "urls"]);
        assert.match(out.storageClass, /^egov-dev-nfs-[0-9a-f]{6}$/);
        assert.deepStrictEqual(out.secretNames, { mysql: "mysql-secret", rabbitmq: "rabbitmq-secret", eureka: "eureka-secret", token: "token-secret" });
        assert.strictEqual(out.endpoints.mysql, "mysql.egov-dev.svc.cluster.local:3306");
        assert.strictEqual(out.endpoints.configServer, "http://config.egov-dev.svc.cluster.local:8888");
        assert.strictEqual(out.endpoints.discovery, "http://discovery.egov-dev.svc.cluster.local:8761/eureka");
        assert.strictEqual(out.urls.apigateway, "http://api.egov-dev.localtest.me");
        assert.ok(await isSecretOutput(out.__outputs.credentials), "credentials must be a secret output");
        assert.match(out.credentials.mysql.rootPassword, /^GeneratedSecret/);
        assert.notStrictEqual(out.credentials.mysql.rootPassword, out.credentials.mysql.password);
        assert.ok(out.credentials.tokenSecret.length >= 32);
    });
});

describe("resource quantities set with `pulumi config set --path`", () => {
    it("accept a plain number (stored as a JSON number) as a quantity, and still refuse a negative or fractional-suffix one", () => {
        const raw = withObject(dev(), "resources", { backend: { requests: { cpu: 2 }, limits: { cpu: 4 } } });
        assert.deepStrictEqual(problemsOf(raw), []);
        const cfg = loadConfig(sourceOf(raw), "dev");
        assert.strictEqual(cfg.resources.backend.requests.cpu, "2");
        assert.ok(problemsOf(withObject(dev(), "resources", { backend: { requests: { cpu: -1 } } })).some((p) => p.includes("resources.backend.requests.cpu")));
    });
});
