import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { backendServices, frontends, scalableNames } from "../config/catalog";
import { deploy, Deployed, deployFresh, GENERATED, isWrappedSecret, Obj, ROOT, stackConfig, withObject } from "./support/harness";
import { assertAllInvariants, workloads } from "./support/invariants";
import { referenceInventory } from "./support/reference-inventory";

const counterpart = (ours: string, ns: string) => ours.replace("{ns}", ns);

function hasCounterpart(d: Deployed, refKind: string, ours: string): boolean {
    const [kind, name] = ours.includes("/") ? ours.split("/") : [refKind, ours];
    if (name.endsWith("*")) return d.of(kind).some((o) => o.metadata.name.startsWith(name.slice(0, -1)));
    return d.find(kind, name) !== undefined;
}

function envOf(d: Deployed, deployment: string): Obj[] {
    return d.find("Deployment", deployment)!.spec.template.spec.containers[0].env ?? [];
}

const cases: Array<{ title: string; stack: "dev" | "prod"; raw: () => Record<string, string>; ns: string }> = [
    { title: "dev", stack: "dev", raw: () => stackConfig("dev"), ns: "egov-dev" },
    { title: "prod", stack: "prod", raw: () => stackConfig("prod"), ns: "egov" },
    {
        title: "hostpath, NodePort, no autoscaling",
        stack: "dev",
        raw: () => withObject(withObject(stackConfig("dev", { serviceType: "NodePort", namespace: "edge" }), "storage",
            { backend: "hostpath" }), "autoscaling", { enabled: false }),
        ns: "edge",
    },
];

describe("the platform", function () {
    // Several tests run the program two or three times; on a loaded machine that passes mocha's default.
    this.timeout(120_000);
    for (const c of cases) {
        describe(`${c.title} stack`, () => {
            let d: Deployed;
            let raw: Record<string, string>;
            before(async () => {
                raw = c.raw();
                d = await deploy(raw, c.stack);
            });

            it("holds the cluster invariants (selectors, ports, key references, autoscalers, ingress backends, namespaces)", () => {
                assertAllInvariants(d, c.ns, (app) => replicasOf(raw, app, c.stack));
            });

            it("names every resource once per type: the engine refuses two with one URN, which the mocks never check", () => {
                // A URN is the parents' types, the type and the name: one name per type is the stricter rule we keep.
                const seen = new Map<string, number>();
                for (const r of d.all) seen.set(`${r.type}::${r.name}`, (seen.get(`${r.type}::${r.name}`) ?? 0) + 1);
                assert.deepStrictEqual([...seen].filter(([, n]) => n > 1).map(([k]) => k), []);
            });

            it("uses only the explicit Kubernetes provider built from stack config", () => {
                const providers = d.all.filter((r) => r.type === "pulumi:providers:kubernetes");
                assert.strictEqual(providers.length, 1);
                assert.ok(providers[0].obj.kubeconfig || providers[0].obj.context, "the provider names its cluster");
                for (const r of d.k8s) {
                    assert.ok(r.provider?.includes("pulumi:providers:kubernetes::cluster"), `${r.type} ${r.name} uses provider ${r.provider}`);
                }
            });

            it("deletes workloads the way kubectl does (background): destroy never waits on pod terminations one workload at a time", () => {
                const workloads = ["Deployment", "StatefulSet", "CronJob"].flatMap((k) => d.of(k));
                assert.ok(workloads.length >= 11);
                for (const w of workloads) {
                    assert.strictEqual(w.metadata.annotations?.["pulumi.com/deletionPropagationPolicy"], "background", `${w.kind} ${w.metadata.name}`);
                }
            });

            it("deploys the nine backend services and two frontends", () => {
                for (const s of backendServices) assert.ok(d.find("Deployment", `${s.name}-deployment`), s.name);
                for (const f of frontends) assert.ok(d.find("Deployment", `frontend-${f.name}-deployment`), f.name);
            });

            it("derives in-cluster host names from the namespace deployed to", () => {
                const cm = d.of("ConfigMap").find((o) => o.metadata.name.startsWith("backend-configmap"))!;
                for (const v of Object.values(cm.data) as string[]) {
                    assert.ok(v.includes(`.${c.ns}.svc.cluster.local`), v);
                    assert.ok(!v.includes(".default."), v);
                }
                assert.strictEqual(d.exports.namespace, c.ns);
            });

            it("never puts a generated secret into a ConfigMap, a plain env value or a plain output", () => {
                for (const cm of d.of("ConfigMap")) assert.ok(!JSON.stringify(cm.data).includes(GENERATED), cm.metadata.name);
                for (const w of workloads(d)) {
                    for (const ct of w.spec.template.spec.containers) {
                        for (const e of ct.env ?? []) assert.ok(!String(e.value ?? "").includes(GENERATED), `${w.metadata.name} ${e.name}`);
                    }
                }
                const plain = { ...d.exports };
                delete plain.credentials;
                delete plain.__outputs;
                assert.ok(!JSON.stringify(plain).includes(GENERATED));
                for (const s of d.k8s.filter((r) => r.type === "kubernetes:core/v1:Secret")) {
                    assert.ok(isWrappedSecret(s.raw.stringData), `Secret ${s.name}: stringData is not marked secret`);
                    assert.strictEqual(s.raw.data, undefined, `Secret ${s.name}: hand-encoded data would be plaintext in state`);
                }
            });

            it("passes every credential to the services as secret env vars", () => {
                const secretEnv = (dep: string) => Object.fromEntries(envOf(d, dep).filter((e) => e.valueFrom?.secretKeyRef)
                    .map((e) => [e.name, e.valueFrom.secretKeyRef.name]));
                const user = secretEnv("user-service-deployment");
                for (const k of ["DB_USERNAME", "DB_PASSWORD", "EUREKA_USERNAME", "EUREKA_PASSWORD", "RABBITMQ_USERNAME",
                    "RABBITMQ_PASSWORD", "TOKEN_SECRET"]) assert.ok(user[k], `user-service lacks ${k}`);
                const disc = secretEnv("discovery-deployment");
                assert.strictEqual(disc.SPRING_SECURITY_USER_NAME, "eureka-secret");
                assert.strictEqual(disc.SPRING_SECURITY_USER_PASSWORD, "eureka-secret");
                const mysql = d.find("StatefulSet", "mysql-statefulset")!.spec.template.spec.containers[0].env as Obj[];
                const root = mysql.find((e) => e.name === "MYSQL_ROOT_PASSWORD");
                assert.strictEqual(root?.valueFrom?.secretKeyRef?.name, "mysql-secret", "MySQL root has a generated password");
                assert.ok(!mysql.some((e) => e.name === "MYSQL_ALLOW_EMPTY_PASSWORD"));
            });

            it("keeps the reference's hardening, tightened to Pod Security restricted, without its invalid fields", () => {
                const dep = d.find("Deployment", "apigateway-deployment")!;
                const pod = dep.spec.template.spec;
                const ct = pod.containers[0];
                assert.deepStrictEqual(ct.securityContext,
                    { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true, runAsNonRoot: true });
                assert.deepStrictEqual(pod.securityContext, { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000,
                    fsGroupChangePolicy: "OnRootMismatch", seccompProfile: { type: "RuntimeDefault" } });
                assert.strictEqual(pod.automountServiceAccountToken, false);
                assert.deepStrictEqual(ct.volumeMounts, [{ name: "rw-tmp", mountPath: "/tmp" }], "the JVM's /tmp is the only writable path");
                // Its security permits /actuator/?* only: readiness is the aggregate health, liveness the TCP accept.
                assert.deepStrictEqual(ct.startupProbe.tcpSocket, { port: 8000 });
                assert.deepStrictEqual(ct.livenessProbe.tcpSocket, { port: 8000 });
                assert.strictEqual(ct.readinessProbe.httpGet.path, "/actuator/health");
                assert.ok(ct.resources.requests.cpu, "HPA needs CPU requests");
                assert.ok(ct.resources.limits["ephemeral-storage"]);
                const ns = d.find("Namespace", c.ns)?.metadata.labels;
                assert.strictEqual(ns?.["pod-security.kubernetes.io/enforce"], "restricted");
            });
        });
    }

    describe("the reference's objects", () => {
        it("each has its counterpart in the dev stack", async () => {
            const d = await deploy(stackConfig("dev"));
            const missing = referenceInventory.filter(([kind, , ours]) => !hasCounterpart(d, kind, counterpart(ours, "egov-dev")));
            assert.deepStrictEqual(missing, []);
        });

        it("are exactly what the reference kustomize tree lists", function () {
            const k8sDir = path.resolve(ROOT, "../shared/reference/egovframe-msa-edu/k8s");
            // The reference lives beside the repository in the team's workspace and in CI, not in user clones.
            if (!fs.existsSync(k8sDir)) this.skip();
            const found: string[] = [];
            const visit = (dir: string) => {
                const k = parse(fs.readFileSync(path.join(dir, "kustomization.yaml"), "utf8")) as Obj;
                for (const entry of [...(k.bases ?? []), ...(k.resources ?? [])] as string[]) {
                    const p = path.resolve(dir, entry);
                    if (fs.statSync(p).isDirectory()) visit(p);
                    else for (const doc of fs.readFileSync(p, "utf8").split(/^---$/m)) {
                        const o = parse(doc) as Obj | null;
                        if (o?.kind) found.push(`${o.kind}/${o.metadata.name}`);
                    }
                }
            };
            visit(path.join(k8sDir, "storage/nfs"));
            visit(path.join(k8sDir, "applications"));
            assert.deepStrictEqual([...new Set(found)].sort(), referenceInventory.map(([k, n]) => `${k}/${n}`).sort());
        });
    });

    describe("storage backend switch", () => {
        const storageOf = async (backend: string) => {
            const d = await deploy(withObject(stackConfig("dev"), "storage", { backend }));
            const classes = d.of("StorageClass");
            assert.strictEqual(classes.length, 1, "one backend for both roles: one class");
            assert.match(classes[0].metadata.name, new RegExp(`^egov-dev-${backend}-[0-9a-f]{6}$`));
            return { d, sc: classes[0] };
        };
        const roleOf = (pvc: Obj) => pvc.metadata.labels["egov-platform/volume-role"];
        const modeOf = (role: string) => (role === "shared" ? "ReadWriteMany" : "ReadWriteOnce");

        it("nfs: csi-driver-nfs, one class on it, static volumes pre-bound to each claim; RWX shared, RWO data", async () => {
            const { d, sc } = await storageOf("nfs");
            const driver = d.find("CSIDriver", "egov-dev.nfs.csi.k8s.io")!;
            assert.strictEqual(sc.provisioner, driver.metadata.name, "the class names the driver we run");
            const plugins = [d.find("Deployment", "csi-nfs-controller")!, d.find("DaemonSet", "csi-nfs-node")!]
                .map((w) => w.spec.template.spec.containers.find((c: Obj) => c.name === "nfs"));
            for (const c of plugins) assert.ok(c.args.includes(`--drivername=${driver.metadata.name}`), JSON.stringify(c.args));
            assert.deepStrictEqual({ server: sc.parameters.server, share: sc.parameters.share }, { server: "nfs.egov-dev.internal", share: "/srv/nfs" });
            for (const pvc of d.of("PersistentVolumeClaim")) {
                assert.deepStrictEqual(pvc.spec.accessModes, [modeOf(roleOf(pvc))], pvc.metadata.name);
                assert.strictEqual(pvc.spec.storageClassName, sc.metadata.name);
                assert.ok(pvc.metadata.name.endsWith(`-pvc-${sc.metadata.name}`), pvc.metadata.name);
                const pv = d.find("PersistentVolume", pvc.spec.volumeName)!;
                assert.deepStrictEqual(pv.spec.claimRef, { namespace: "egov-dev", name: pvc.metadata.name });
                assert.deepStrictEqual(pv.spec.accessModes, pvc.spec.accessModes);
                const claim = pvc.metadata.name.split("-pvc-")[0];
                assert.strictEqual(pv.spec.nfs.path, `/srv/nfs/egov-dev/${claim}`, "each claim has its own directory");
            }
            assert.deepStrictEqual(d.of("PersistentVolumeClaim").filter((c) => roleOf(c) === "shared").map((c) => c.metadata.name.split("-pvc-")[0]), ["backend"]);
            const cr = d.find("ClusterRole", "egov-dev-nfs-csi-provisioner")!;
            assert.ok(!JSON.stringify(cr.rules).includes("podsecuritypolicies"), "no obsolete PodSecurityPolicy rule");
        });

        it("hostpath in one line: class kubernetes.io/host-path for both roles, no NFS objects", async () => {
            const { d, sc } = await storageOf("hostpath");
            assert.strictEqual(sc.provisioner, "kubernetes.io/host-path");
            assert.strictEqual(d.of("PersistentVolume").length, 0);
            assert.strictEqual(d.find("Deployment", "csi-nfs-controller"), undefined);
            assert.strictEqual(d.of("DaemonSet").length + d.of("CSIDriver").length + d.of("ClusterRole").length, 0);
            for (const pvc of d.of("PersistentVolumeClaim")) {
                assert.deepStrictEqual(pvc.spec.accessModes, [modeOf(roleOf(pvc))], pvc.metadata.name);
                assert.strictEqual(pvc.spec.storageClassName, sc.metadata.name);
            }
        });

        it("cinder for data, nfs for shared: two classes, every data claim RWO on cinder, bound where its pod lands", async () => {
            const d = await deploy(withObject(stackConfig("dev"), "storage", { data: { backend: "cinder" } }));
            const cinder = d.of("StorageClass").find((c) => c.provisioner === "cinder.csi.openstack.org")!;
            const nfs = d.of("StorageClass").find((c) => c.metadata.name.startsWith("egov-dev-nfs-"))!;
            assert.ok(cinder && nfs && d.of("StorageClass").length === 2);
            assert.strictEqual(cinder.volumeBindingMode, "WaitForFirstConsumer");
            for (const pvc of d.of("PersistentVolumeClaim")) {
                const data = roleOf(pvc) === "data";
                assert.strictEqual(pvc.spec.storageClassName, (data ? cinder : nfs).metadata.name, pvc.metadata.name);
                assert.deepStrictEqual(pvc.spec.accessModes, [data ? "ReadWriteOnce" : "ReadWriteMany"]);
            }
            assert.deepStrictEqual(d.of("PersistentVolume").map((v) => v.metadata.name.split("-pv-")[0]), ["backend"], "only NFS volumes are static");
        });

        it("a change to a class's immutable fields names a new class and new claims", async function () {
            this.timeout(60000); // three deploys
            const onClass = (d: Deployed) => d.of("PersistentVolumeClaim").filter((c) => c.spec.storageClassName !== "");
            const names = (d: Deployed) => [...d.of("StorageClass"), ...onClass(d)].map((o) => o.metadata.name).sort();
            const unprotected = await deploy(withObject(stackConfig("dev"), "storage", { protect: false }));
            const protectedOnes = await deploy(withObject(stackConfig("dev"), "storage", { protect: true }));
            const again = await deployFresh(withObject(stackConfig("dev"), "storage", { protect: false }));
            assert.deepStrictEqual(names(unprotected), names(again), "the names are stable for the same config");
            const before = new Set(names(unprotected));
            assert.ok(names(protectedOnes).every((n) => !before.has(n)), "reclaimPolicy and archiveOnDelete changed: all new names");
        });

        it("mounts the shared claim at APP_HOME only where the catalog asks for it", async () => {
            const { d } = await storageOf("nfs");
            for (const s of backendServices) {
                const spec = d.find("Deployment", `${s.name}-deployment`)!.spec.template.spec;
                const mounted = (spec.volumes ?? []).some((v: Obj) => String(v.persistentVolumeClaim?.claimName).startsWith("backend-pvc-"));
                assert.strictEqual(mounted, s.needsSharedVolume, s.name);
            }
        });
    });

    describe("switches", function () {
        this.timeout(60000); // several deploys per test; the machine is shared
        it("logging, tracing and CI switched off leave none of their objects", async () => {
            const raw = stackConfig("dev", { logging: { enabled: false }, tracing: { enabled: false }, ci: { enabled: false } });
            const d = await deploy(raw);
            const names = d.k8s.map((r) => String(r.obj.metadata?.name));
            for (const gone of ["opensearch", "logstash", "dashboards", "zipkin", "jenkins"]) {
                assert.deepStrictEqual(names.filter((n) => n.startsWith(gone)), [], gone);
            }
            assert.strictEqual(d.of("Role").filter((r) => r.metadata.name.startsWith("jenkins")).length, 0);
            assert.ok(!d.of("PersistentVolumeClaim").some((c) => c.metadata.name.startsWith("jenkins-pvc")));
            const env = envOf(d, "board-service-deployment");
            assert.ok(!env.some((e) => e.name === "MANAGEMENT_ZIPKIN_TRACING_ENDPOINT"));
            assert.ok(env.some((e) => e.name === "MANAGEMENT_TRACING_ENABLED" && e.value === "false"));
            assert.strictEqual(d.exports.urls.dashboards, undefined);
            assert.strictEqual(d.exports.endpoints.zipkin, undefined);
            assertAllInvariants(d, "egov-dev", (app) => replicasOf(raw, app, "dev"));
        });

        it("without autoscaling, Deployments carry the configured replica counts", async () => {
            const raw = stackConfig("dev", { autoscaling: { enabled: false }, serviceReplicas: { "board-service": 4 } });
            const d = await deploy(raw);
            assert.strictEqual(d.of("HorizontalPodAutoscaler").length, 0);
            assert.strictEqual(d.find("Deployment", "board-service-deployment")!.spec.replicas, 4);
            assert.strictEqual(d.find("Deployment", "user-service-deployment")!.spec.replicas, 1);
        });

        it("NodePort uses the reference's node ports; ClusterIP sets none", async () => {
            const nodePorts = await deploy(stackConfig("dev", { serviceType: "NodePort" }));
            const ports = nodePorts.of("Service").flatMap((s) => s.spec.ports.map((p: Obj) => p.nodePort)).filter(Boolean).sort();
            assert.deepStrictEqual(ports, [30001, 30002, 30003, 30004, 30005, 30006, 30007, 30008, 30011, 30012]);
            const cluster = await deploy(stackConfig("dev"));
            assert.ok(cluster.of("Service").every((s) => s.spec.type === "ClusterIP" && s.spec.ports.every((p: Obj) => !p.nodePort)));
        });

        it("ingresses do not wait for an address unless asked; TLS gives https URLs", async () => {
            const dev = await deploy(stackConfig("dev"));
            assert.ok(dev.of("Ingress").every((i) => i.metadata.annotations?.["pulumi.com/skipAwait"] === "true"));
            const prod = await deploy(stackConfig("prod"), "prod");
            assert.ok(prod.of("Ingress").every((i) => i.metadata.annotations?.["pulumi.com/skipAwait"] === undefined && i.spec.tls?.[0].secretName === "egov-tls"));
            assert.strictEqual(prod.exports.urls.apigateway, "https://api.egov.example.go.kr");
        });

        it("SQL files of database.initScriptsPath are migrations after the application's, not init scripts of an empty volume", async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "egov-sql-"));
            fs.writeFileSync(path.join(dir, "schema.sql"), "CREATE TABLE t (id INT);\n");
            const d = await deploy(withObject(stackConfig("dev"), "database", { initScriptsPath: dir }));
            const cm = d.of("ConfigMap").find((o) => o.metadata.name.startsWith("mysql-initdb"))!;
            assert.deepStrictEqual(Object.keys(cm.data), ["00-egov-databases.sql"], "only the platform's databases and grants run on an empty volume");
            assert.match(cm.data["00-egov-databases.sql"], /CREATE DATABASE IF NOT EXISTS `reservation`/);
            const mounts = d.find("StatefulSet", "mysql-statefulset")!.spec.template.spec.containers[0].volumeMounts as Obj[];
            assert.ok(mounts.some((m) => m.mountPath === "/docker-entrypoint-initdb.d"));
            const migrations = d.of("ConfigMap").find((o) => o.metadata.name.startsWith("mysql-migrate"))!;
            const manifest = (migrations.data["manifest.tsv"] as string).trim().split("\n").map((l) => l.split("\t"));
            const last = manifest[manifest.length - 1];
            assert.deepStrictEqual([last[0], last[1], last[5]], ["user/schema.sql", "msaportal", "schema.sql"], "last, in database.name");
            assert.match(migrations.data[last[3]], /\nCREATE TABLE t \(id INT\);\n$/);
            // A new migration is a new Job: the name follows the set.
            const plain = await deploy(stackConfig("dev"));
            assert.notStrictEqual(d.of("Job")[0].metadata.name, plain.of("Job")[0].metadata.name);
            fs.rmSync(dir, { recursive: true, force: true });
        });
    });
});

/** The replica count config gives a workload (default, then per-service override). */
export function replicasOf(raw: Record<string, string>, app: string, stack: string): number {
    const per = raw.serviceReplicas ? (JSON.parse(raw.serviceReplicas) as Record<string, number>) : {};
    if (!scalableNames.includes(app)) return 1;
    return per[app] ?? (raw.replicas ? Number(raw.replicas) : stack === "prod" ? 2 : 1);
}
