import * as assert from "assert";
import { loadConfig, resourceParts } from "../config";
import { backendServices } from "../config/catalog";
import { serviceGraph } from "../config/graph";
import { enforcedLevel, podSecurity } from "../config/security";
import { deployedParts, partHomes } from "../config/parts";
import { writableVolumeName } from "../components/workload";
import { deploy, Deployed, Obj, sourceOf, stackConfig, withObject, configProblems } from "./support/harness";
import { assertContainerBounds, assertPodSecurity, workloads } from "./support/invariants";

/** The security profile each rendered workload must follow, by its app label. */
const profileOf = (w: Obj) => {
    const { app, tier } = w.spec.template.metadata.labels;
    if (tier === "backend" && backendServices.some((s) => s.name === app)) return podSecurity.backend;
    if (tier === "frontend") return podSecurity.frontend;
    // The parts whose workload name is not their profile's: the NFS driver, and Fluent Bit behind the logstash name.
    return podSecurity[app === "csi-nfs-controller" || app === "csi-nfs-node" ? "nfsProvisioner" : app === "logstash" ? "fluentBit" : app as keyof typeof podSecurity];
};

const problemsOf = (raw: Record<string, string>) => configProblems(raw);

describe("pod security", () => {
    let d: Deployed;
    before(async function () {
        this.timeout(120000);
        d = await deploy(stackConfig("dev"));
    });

    it("enforces restricted on the namespace, with warn and audit at restricted", () => {
        const labels = d.find("Namespace", "egov-dev")!.metadata.labels;
        for (const mode of ["enforce", "warn", "audit"]) {
            assert.strictEqual(labels[`pod-security.kubernetes.io/${mode}`], "restricted", mode);
            assert.strictEqual(labels[`pod-security.kubernetes.io/${mode}-version`], "latest", mode);
        }
    });

    it("enforces privileged in the storage namespace only, where the NFS driver alone runs; restricted in the agents'", () => {
        const level = (ns: string) => d.find("Namespace", ns)!.metadata.labels["pod-security.kubernetes.io/enforce"];
        assert.deepStrictEqual(["egov-dev", "egov-dev-ci", "egov-dev-storage"].map(level), ["restricted", "restricted", "privileged"]);
        const privileged = workloads(d).filter((w) => w.spec.template.spec.containers.some((c: Obj) => c.securityContext?.privileged));
        assert.deepStrictEqual(privileged.map((w) => `${w.metadata.namespace}/${w.metadata.name}`).sort(), ["egov-dev-storage/csi-nfs-controller", "egov-dev-storage/csi-nfs-node"]);
    });

    it("lowers enforcement to baseline only when a deployed part lists a restricted exception", () => {
        const inApp = resourceParts.filter((p) => partHomes[p] === undefined);
        assert.strictEqual(enforcedLevel(inApp), "restricted", "no part in the application's namespace needs an exception today");
        assert.strictEqual(enforcedLevel(["nfsProvisioner"]), "privileged", "the NFS driver mounts on the nodes");
        assert.deepStrictEqual(resourceParts.filter((p) => podSecurity[p].exceptions?.privileged !== undefined).map((p) => partHomes[p]), ["storage"],
            "a privileged part lives in a side namespace");
        const withException = { ...podSecurity, jenkins: { ...podSecurity.jenkins, exceptions: { restricted: "test" } } };
        assert.strictEqual(enforcedLevel(["backend", "jenkins"], withException), "baseline");
        assert.strictEqual(enforcedLevel(["backend"], withException), "restricted", "an undeployed part does not count");
        assert.strictEqual(enforcedLevel(["jenkins"], { ...podSecurity, jenkins: { ...podSecurity.jenkins, exceptions: { readOnlyRootFilesystem: "x" } } }),
            "restricted", "a writable root filesystem is not a Pod Security control");
    });

    it("refuses a pod that breaks a restricted control without a listed exception, and accepts it with one", () => {
        const broken = JSON.parse(JSON.stringify(d.find("Deployment", "zipkin-deployment"))) as Obj;
        broken.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true;
        const fake = (w: Obj) => ({ of: (kind: string) => (kind === "Deployment" ? [w] : []) }) as unknown as Deployed;
        assert.throws(() => assertPodSecurity(fake(broken)), /allows privilege escalation, and no listed exception/);
        broken.spec.template.metadata.annotations = { "security.egov-platform/exceptions": JSON.stringify({ restricted: "test" }) };
        assert.doesNotThrow(() => assertPodSecurity(fake(broken)));
        const noLimit = JSON.parse(JSON.stringify(d.find("StatefulSet", "mysql-statefulset"))) as Obj;
        delete noLimit.spec.template.spec.initContainers[0].resources.limits["ephemeral-storage"];
        const fakeSts = { of: (kind: string) => (kind === "StatefulSet" ? [noLimit] : []) } as unknown as Deployed;
        assert.throws(() => assertContainerBounds(fakeSts), /init-mysql: no ephemeral-storage request and limit/);
    });

    it("runs every pod as its image's user with an emptyDir for each path it writes", () => {
        for (const w of workloads(d)) {
            const pod = w.spec.template.spec;
            const profile = profileOf(w);
            assert.ok(profile, `${w.metadata.name}: no security profile`);
            // A privileged part (the NFS driver) runs as its image's user, root (uid 0 in its profile), as upstream runs it.
            const ids = pod.securityContext;
            const [uid, gid, fsGroup] = profile.exceptions?.privileged ? [ids.runAsUser ?? 0, ids.runAsGroup ?? 0, ids.fsGroup ?? 0] : [ids.runAsUser, ids.runAsGroup, ids.fsGroup];
            assert.deepStrictEqual([uid, gid, fsGroup], [profile.uid, profile.gid, profile.gid], w.metadata.name);
            const main = pod.containers[0];
            const mounts = new Map((main.volumeMounts ?? []).map((m: Obj) => [m.mountPath, m.name]));
            const volumes = new Map((pod.volumes ?? []).map((v: Obj) => [v.name, v]));
            for (const path of [...profile.writablePaths, ...(profile.seededPaths ?? [])]) {
                const vol = mounts.get(path);
                assert.ok(vol, `${w.metadata.name}: nothing writable at ${path}`);
                const v = volumes.get(vol) as Obj;
                assert.ok(v.emptyDir || v.persistentVolumeClaim, `${w.metadata.name}: ${path} is on ${JSON.stringify(v)}`);
            }
            const emptyDirs = (pod.volumes ?? []).filter((v: Obj) => v.emptyDir && v.name.startsWith("rw-")).length;
            assert.ok(emptyDirs <= profile.writablePaths.length + (profile.seededPaths ?? []).length, `${w.metadata.name}: stray emptyDirs`);
        }
        const mysql = d.find("StatefulSet", "mysql-statefulset")!.spec.template.spec;
        const dataMount = mysql.containers[0].volumeMounts.find((m: Obj) => m.mountPath === "/var/lib/mysql");
        assert.strictEqual(dataMount.name, "mysql-data", "the data claim, not an emptyDir, where the part mounts its own volume");
    });

    it("copies the image's files into writable config paths before the main container starts", () => {
        const es = d.find("StatefulSet", "opensearch-statefulset")!.spec.template.spec;
        const seed = es.initContainers[0];
        assert.strictEqual(seed.name, "seed-writable-paths");
        assert.strictEqual(seed.image, es.containers[0].image);
        const vol = writableVolumeName("/usr/share/opensearch/config");
        assert.match(seed.command[2], new RegExp(`cp -R /usr/share/opensearch/config/\\. /seed/${vol}/`));
        assert.deepStrictEqual(seed.volumeMounts, [{ name: vol, mountPath: `/seed/${vol}` }]);
        assert.strictEqual(seed.securityContext.readOnlyRootFilesystem, true);
    });

    it("mounts a service account token only into pods that call the Kubernetes API", () => {
        const graph = serviceGraph(loadConfig(sourceOf(stackConfig("dev")), "dev"), backendServices);
        for (const w of workloads(d)) {
            const app = w.spec.template.metadata.labels.app;
            const node = graph.nodes.get(app);
            assert.ok(node, `${app} is in the service graph`);
            assert.strictEqual(w.spec.template.spec.automountServiceAccountToken, node.callsKubernetesApi, app);
        }
    });

    it("gives every workload a liveness check that differs from its readiness check", () => {
        for (const w of workloads(d)) {
            const c = w.spec.template.spec.containers[0];
            if (w.metadata.name.startsWith("csi-nfs-")) {
                // The NFS driver takes no traffic (no readiness); the plugin's liveness asks the liveness-probe sidecar,
                // on the host's network, which probes the plugin's socket.
                const cs = w.spec.template.spec.containers as Obj[];
                const plugin = cs.find((x) => x.name === "nfs")!;
                const sidecar = cs.find((x) => x.name === "liveness-probe")!;
                assert.ok(sidecar.args.includes(`--http-endpoint=localhost:${plugin.livenessProbe.httpGet.port}`), w.metadata.name);
                assert.ok(cs.every((x) => x.readinessProbe === undefined), w.metadata.name);
                continue;
            }
            assert.ok(c.readinessProbe && c.livenessProbe && c.startupProbe, w.metadata.name);
            const action = (p: Obj) => JSON.stringify(p.httpGet ?? p.tcpSocket ?? p.exec);
            assert.notStrictEqual(action(c.livenessProbe), action(c.readinessProbe), w.metadata.name);
        }
        for (const s of backendServices) {
            const c = d.find("Deployment", `${s.name}-deployment`)!.spec.template.spec.containers[0];
            if (s.readinessPath) {
                assert.strictEqual(c.readinessProbe.httpGet.path, s.readinessPath, s.name);
                assert.deepStrictEqual(c.livenessProbe.tcpSocket, { port: s.port }, s.name);
                continue;
            }
            assert.strictEqual(c.readinessProbe.httpGet.path, "/actuator/health/readiness", s.name);
            assert.strictEqual(c.livenessProbe.httpGet.path, "/actuator/health/liveness", s.name);
            assert.ok(c.env.some((e: Obj) => e.name === "MANAGEMENT_ENDPOINT_HEALTH_PROBES_ENABLED" && e.value === "true"), s.name);
        }
    });

    it("deploys exactly the parts whose profiles set the namespace level", () => {
        const cfg = loadConfig(sourceOf(stackConfig("dev")), "dev");
        const apps = new Set(workloads(d).map(profileOf));
        assert.deepStrictEqual(new Set(deployedParts(cfg).map((p) => podSecurity[p])), apps);
    });
});

describe("resources per part", () => {
    it("applies resources.<part> to the part's containers, init containers included", async () => {
        const raw = withObject(stackConfig("dev"), "resources", {
            mysql: { limits: { memory: "3Gi", ephemeralStorage: "5Gi" } },
            opensearch: { requests: { cpu: "500m" } },
        });
        const d = await deploy(raw);
        const mysql = d.find("StatefulSet", "mysql-statefulset")!.spec.template.spec;
        for (const c of [...mysql.initContainers, ...mysql.containers]) {
            assert.strictEqual(c.resources.limits.memory, "3Gi", c.name);
            assert.strictEqual(c.resources.limits["ephemeral-storage"], "5Gi", c.name);
            assert.strictEqual(c.resources.requests.memory, "512Mi", `${c.name} keeps the default request`);
        }
        const es = d.find("StatefulSet", "opensearch-statefulset")!.spec.template.spec;
        assert.strictEqual(es.containers[0].resources.requests.cpu, "500m");
        assert.strictEqual(es.initContainers[0].resources.requests.cpu, "500m");
        assertContainerBounds(d);
    });

    it("refuses requests above limits, unknown parts and fields, naming key, value and what is allowed", () => {
        const problems = problemsOf(withObject(stackConfig("dev"), "resources", {
            rabbitmq: { requests: { memory: "2Gi" }, limits: { memory: "1Gi" } },
            redis: { limits: { cpu: "1" } },
            dashboards: { limits: { disk: "1Gi" } },
            zipkin: { requests: { ephemeralStorage: "lots" } },
        }));
        const expect = [
            /resources\.rabbitmq\.requests\.memory: "2Gi" is not allowed; expected at most resources\.rabbitmq\.limits\.memory \(1Gi\)/,
            /resources\.redis: .* expected a known field of resources: backend, frontend, mysql/,
            /resources\.dashboards\.limits\.disk: "1Gi" is not allowed; expected a known field of resources\.dashboards\.limits: cpu, memory, ephemeralStorage/,
            /resources\.zipkin\.requests\.ephemeralStorage: "lots" is not allowed; expected a storage quantity/,
        ];
        for (const re of expect) assert.ok(problems.some((p) => re.test(p)), `${re} in ${JSON.stringify(problems)}`);
    });

    it("refuses bad network policy settings", () => {
        const problems = problemsOf(withObject(stackConfig("dev"), "networkPolicy", {
            enabled: "maybe", ingressNamespace: "Ingress Nginx", apiServer: { cidrs: ["10.0.0.1"], ports: [0] },
            externalEgress: { jenkins: ["300.1.1.1/8"] },
        }));
        for (const re of [/networkPolicy\.enabled: "maybe" .* true or false/, /networkPolicy\.ingressNamespace: "Ingress Nginx" .* namespace name/,
            /networkPolicy\.apiServer\.cidrs: \["10\.0\.0\.1"\] .* IPv4 CIDRs/, /networkPolicy\.apiServer\.ports: \[0\] .* TCP ports/,
            /networkPolicy\.externalEgress\.jenkins: \["300\.1\.1\.1\/8"\] .* IPv4 CIDRs/]) {
            assert.ok(problems.some((p) => re.test(p)), `${re} in ${JSON.stringify(problems)}`);
        }
    });
});
