// Storage by volume role, stateful parts on data volumes, disruption budgets and spread, the Eureka server's
// single registry, and the backup CronJob: what the config accepts and refuses, and what the program renders.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { loadConfig } from "../config";
import { sideNamespaces } from "../config/parts";
import { nfsDriverName } from "../config/plan";
import { ResourceValidationArgs, restrictedPodSecurity, StackSettings } from "../policy/rules";
import { serviceGraph } from "../config/graph";
import { BACKUP_SCRIPTS_DIR, backupScriptFiles } from "../components/backup";
import { deploy, Deployed, GENERATED, Obj, sourceOf, stackConfig, withObject, configProblems } from "./support/harness";
import {
    assertDiscoverySingleRegistry, assertDisruptionAndSpread, assertHeadlessGoverning, assertSingleWriterVolumes, disruptionsAllowed,
} from "./support/invariants";

type Raw = Record<string, string>;

const problemsOf = configProblems;
// The platform's volumes by name.
const claimsByVolume = (d: Deployed): Record<string, Obj> => Object.fromEntries(d.of("PersistentVolumeClaim")
    .map((c) => [c.metadata.name.split("-pvc-")[0], c]));
/** The same deployment with one kind's objects replaced, to show an invariant refuses it. */
const tampered = (d: Deployed, kind: string, objs: Obj[]): Deployed => ({
    ...d,
    of: (k: string) => (k === kind ? objs : d.of(k)),
    find: (k: string, name: string) => (k === kind ? objs.find((o) => o.metadata?.name === name) : d.find(k, name)),
});

describe("volume roles in stack config", () => {
    it("prod: NFS for the shared volume, Cinder for data; dev: NFS for both; one line sets both", () => {
        const p = loadConfig(sourceOf(stackConfig("prod")), "prod");
        assert.deepStrictEqual([p.storage.shared.backend, p.storage.data.backend], ["nfs", "cinder"]);
        const h = loadConfig(sourceOf(withObject(stackConfig("dev"), "storage", { backend: "hostpath" })), "dev");
        assert.deepStrictEqual([h.storage.shared.backend, h.storage.data.backend], ["hostpath", "hostpath"]);
        const mixed = loadConfig(sourceOf(withObject(stackConfig("dev"), "storage", { backend: "hostpath", shared: { backend: "nfs" } })), "dev");
        assert.deepStrictEqual([mixed.storage.shared.backend, mixed.storage.data.backend], ["nfs", "hostpath"], "a role's own key wins over the line");
    });

    it("refuses a ReadWriteOnce shared volume that several pods mount, naming the volume, the workloads and the fix", () => {
        const problems = problemsOf(withObject(stackConfig("prod"), "storage", { shared: { backend: "cinder" } }), "prod");
        // prod's off-site copies add the OpenSearch snapshot repository, which OpenSearch and the snapshot job share.
        assert.strictEqual(problems.length, 2, problems.join("\n"));
        assert.match(problems[1], /^egov-platform:storage\.shared\.backend: "cinder" is not allowed for volume opensearch-snapshots-pvc: .* 2 pods can mount it: opensearch \(up to 1 pod\), opensearch-snapshot \(up to 1 pod\)/);
        assert.match(problems[0], /^egov-platform:storage\.shared\.backend: "cinder" is not allowed for volume backend-pvc/);
        assert.match(problems[0], /12 pods can mount it: portal-service \(up to 6 pods\), board-service \(up to 6 pods\)/);
        assert.match(problems[0], /set storage\.shared\.backend to nfs \(ReadWriteMany\)/);
        // One pod each is still two pods on one block volume.
        const single = withObject(withObject(stackConfig("dev", { replicas: 1 }), "autoscaling", { enabled: false }), "storage", { backend: "cinder" });
        assert.match(problemsOf(single).join("\n"),
            /storage\.backend: "cinder" is not allowed for volume backend-pvc: .* 2 pods can mount it: portal-service \(up to 1 pod\), board-service \(up to 1 pod\)/);
    });

    it("accepts every data volume on a ReadWriteOnce class: each has one pod", () => {
        assert.deepStrictEqual(problemsOf(withObject(stackConfig("dev"), "storage", { data: { backend: "cinder" } })), []);
        assert.deepStrictEqual(problemsOf(withObject(stackConfig("dev"), "backup", { enabled: true })), []);
    });

    const invalid: Array<[string, () => Raw, RegExp]> = [
        ["an unknown role backend", () => withObject(stackConfig("dev"), "storage", { data: { backend: "ceph" } }), /storage\.data\.backend: "ceph" is not allowed; expected one of nfs, cinder, hostpath/],
        ["an unknown role field", () => withObject(stackConfig("dev"), "storage", { shared: { class: "x" } }), /storage\.shared\.class: "x" is not allowed; expected a known field/],
        ["an unknown size", () => withObject(stackConfig("dev"), "storage", { sizes: { kafka: "1Gi" } }), /storage\.sizes\.kafka: "1Gi" is not allowed/],
        ["a bad OpenSearch size", () => withObject(stackConfig("dev"), "storage", { sizes: { opensearch: "lots" } }), /storage\.sizes\.opensearch: "lots" .* 5Gi/],
        ["NFS for shared without a server", () => withObject(stackConfig("prod"), "storage", { nfs: { server: "" } }),
            /storage\.nfs\.server: not set; expected the NFS server address when storage\.shared\.backend is nfs/],
        ["more than one Eureka server", () => stackConfig("dev", { serviceReplicas: { discovery: 3 } }),
            /serviceReplicas\.discovery: 3 is not allowed; expected 1: discovery is the Eureka server .* separate registries/],
        ["a backup schedule that is not cron", () => withObject(stackConfig("dev"), "backup", { schedule: "every night" }),
            /backup\.schedule: "every night" is not allowed; expected a cron schedule/],
        ["a backup retention of 0", () => withObject(stackConfig("dev"), "backup", { retention: 0 }), /backup\.retention: 0 .* from 1 to 365/],
        ["a backup switch that is not boolean", () => withObject(stackConfig("dev"), "backup", { enabled: "nightly" }), /backup\.enabled: "nightly" .* true or false/],
    ];
    for (const [title, raw, message] of invalid) {
        it(`refuses ${title}`, () => assert.match(problemsOf(raw(), raw().environment ?? "dev").join("\n"), message));
    }
});

describe("prod as rendered", function () {
    this.timeout(120_000);
    let d: Deployed;
    before(async () => { d = await deploy(stackConfig("prod"), "prod"); });

    it("two classes: shared volume RWX on NFS, every data volume RWO on Cinder", () => {
        const classes: Record<string, Obj> = Object.fromEntries(d.of("StorageClass").map((c) => [c.metadata.name.split("-")[1], c]));
        assert.deepStrictEqual(Object.keys(classes).sort(), ["cinder", "nfs"]);
        const claims = claimsByVolume(d);
        assert.deepStrictEqual(Object.keys(claims).sort(), ["backend", "backup", "jenkins", "mysql", "opensearch", "opensearch-snapshots", "rabbitmq"]);
        for (const [volume, c] of Object.entries(claims)) {
            const shared = volume === "backend" || volume === "opensearch-snapshots";
            assert.strictEqual(c.spec.storageClassName, classes[shared ? "nfs" : "cinder"].metadata.name, volume);
            assert.deepStrictEqual(c.spec.accessModes, [shared ? "ReadWriteMany" : "ReadWriteOnce"], volume);
            assert.ok(c.metadata.name.endsWith(`-pvc-${c.spec.storageClassName}`), "the claim name carries its class");
        }
        assert.strictEqual(d.exports.storageClass, classes.nfs.metadata.name);
        assert.deepStrictEqual(d.exports.storageClasses, { shared: classes.nfs.metadata.name, data: classes.cinder.metadata.name });
        assert.ok(Object.values(classes).every((c) => c.reclaimPolicy === "Retain"));
    });

    it("OpenSearch and RabbitMQ are StatefulSets on their data volumes; clients keep their Service names", () => {
        const claims = claimsByVolume(d);
        for (const [name, mount] of [["opensearch", "/usr/share/opensearch/data"], ["rabbitmq", "/var/lib/rabbitmq"]]) {
            const sts = d.find("StatefulSet", `${name}-statefulset`)!;
            assert.ok(sts, name);
            assert.strictEqual(d.find("Deployment", `${name}-deployment`), undefined);
            const spec = sts.spec.template.spec;
            const vol = spec.volumes.find((v: Obj) => v.persistentVolumeClaim);
            assert.strictEqual(vol.persistentVolumeClaim.claimName, claims[name].metadata.name);
            assert.ok(spec.containers[0].volumeMounts.some((m: Obj) => m.name === vol.name && m.mountPath === mount));
            assert.strictEqual(sts.spec.serviceName, `${name}-headless`);
            assert.notStrictEqual(d.find("Service", name)!.spec.clusterIP, "None", `clients' Service ${name} keeps a cluster IP`);
        }
        for (const name of ["mysql", "jenkins"]) assert.strictEqual(d.find("StatefulSet", `${name}-statefulset`)!.spec.serviceName, `${name}-headless`);
    });

    it("RabbitMQ's node name is its pod's stable DNS name under the headless Service", () => {
        const env = d.find("StatefulSet", "rabbitmq-statefulset")!.spec.template.spec.containers[0].env as Obj[];
        const val = (n: string) => env.find((e) => e.name === n);
        assert.strictEqual(val("RABBITMQ_USE_LONGNAME")!.value, "true");
        assert.strictEqual(val("RABBITMQ_NODENAME")!.value, "rabbit@$(MY_POD_NAME).$(K8S_SERVICE_NAME).$(MY_POD_NAMESPACE)");
        assert.strictEqual(val("MY_POD_NAME")!.valueFrom.fieldRef.fieldPath, "metadata.name");
        assert.strictEqual(val("MY_POD_NAMESPACE")!.valueFrom.fieldRef.fieldPath, "metadata.namespace");
        const headless = d.find("Service", val("K8S_SERVICE_NAME")!.value)!;
        assert.strictEqual(headless.spec.clusterIP, "None");
        assert.strictEqual(headless.spec.publishNotReadyAddresses, true, "the name resolves before the pod is ready");
        // Kubernetes expands $(VAR) only from variables defined earlier in the list.
        const at = (n: string) => env.findIndex((e) => e.name === n);
        for (const n of ["MY_POD_NAME", "K8S_SERVICE_NAME", "MY_POD_NAMESPACE"]) assert.ok(at(n) < at("RABBITMQ_NODENAME"), n);
    });

    it("PDBs (maxUnavailable 1) and spread rules on every multi-pod workload, none on single-pod ones", () => {
        const pdbs = d.of("PodDisruptionBudget").map((p) => p.metadata.name).sort();
        assert.ok(pdbs.includes("apigateway-pdb") && pdbs.includes("frontend-portal-pdb"), pdbs.join());
        for (const single of ["discovery", "mysql", "rabbitmq", "opensearch", "jenkins", "dashboards"]) assert.ok(!pdbs.includes(`${single}-pdb`), single);
        const spread = d.find("Deployment", "board-service-deployment")!.spec.template.spec.topologySpreadConstraints as Obj[];
        assert.deepStrictEqual(spread.map((c) => [c.topologyKey, c.whenUnsatisfiable, c.nodeTaintsPolicy]), [
            ["kubernetes.io/hostname", "DoNotSchedule", "Honor"],
            ["topology.kubernetes.io/zone", "ScheduleAnyway", undefined],
        ]);
        assert.strictEqual(d.find("PodDisruptionBudget", "board-service-pdb")!.spec.unhealthyPodEvictionPolicy, "AlwaysAllow");
    });

    it("one Eureka server, no autoscaler on it although every other service has one", () => {
        const hpas = d.of("HorizontalPodAutoscaler").map((h) => h.spec.scaleTargetRef.name);
        assert.ok(!hpas.includes("discovery-deployment"));
        assert.ok(hpas.includes("config-deployment") && hpas.length === 10, hpas.join());
        assert.strictEqual(d.find("Deployment", "discovery-deployment")!.spec.replicas, 1);
    });

    it("a nightly backup CronJob: the application user's credentials by Secret reference, the tested scripts, a non-root pod", () => {
        const cj = d.find("CronJob", "mysql-backup")!;
        assert.strictEqual(cj.spec.schedule, "30 2 * * *");
        assert.strictEqual(cj.spec.timeZone, "Asia/Seoul");
        assert.strictEqual(cj.spec.concurrencyPolicy, "Forbid");
        const pod = cj.spec.jobTemplate.spec.template.spec;
        // With off-site copies the dump is the init container: the upload runs only after it succeeded.
        const ct = pod.initContainers[0];
        assert.strictEqual(ct.name, "backup");
        const env = Object.fromEntries((ct.env as Obj[]).map((e) => [e.name, e]));
        assert.deepStrictEqual(env.MYSQL_USER.valueFrom.secretKeyRef, { name: "mysql-secret", key: "username" });
        assert.deepStrictEqual(env.MYSQL_PASSWORD.valueFrom.secretKeyRef, { name: "mysql-secret", key: "password" });
        assert.strictEqual(env.DATABASES.value, "msaportal reservation");
        assert.strictEqual(env.RETENTION.value, "14");
        assert.ok(!JSON.stringify(cj).includes(GENERATED), "no generated password in the CronJob");
        assert.deepStrictEqual(ct.command, ["bash", "/scripts/backup.sh"]);
        const scripts = d.of("ConfigMap").find((c) => c.metadata.name.startsWith("mysql-backup-scripts"))!;
        for (const f of backupScriptFiles) assert.strictEqual(scripts.data[f], fs.readFileSync(path.join(BACKUP_SCRIPTS_DIR, f), "utf8"), f);
        assert.strictEqual(pod.volumes.find((v: Obj) => v.name === "scripts").configMap.name, scripts.metadata.name);
        assert.strictEqual(pod.volumes.find((v: Obj) => v.name === "backup").persistentVolumeClaim.claimName, claimsByVolume(d).backup.metadata.name);
        assert.strictEqual(pod.securityContext.runAsNonRoot, true);
        assert.strictEqual(ct.securityContext.readOnlyRootFilesystem, true);
        assert.strictEqual(ct.securityContext.allowPrivilegeEscalation, false);
    });

    describe("the invariants refuse what they guard against", () => {
        it("a second pod on a ReadWriteOnce claim", () => {
            const mysqlClaim = claimsByVolume(d).mysql.metadata.name;
            const deps = d.of("Deployment").map((x) => x.metadata.name === "user-service-deployment"
                ? { ...x, spec: { ...x.spec, template: { ...x.spec.template, spec: { ...x.spec.template.spec, volumes: [{ name: "m", persistentVolumeClaim: { claimName: mysqlClaim } }] } } } }
                : x);
            assert.throws(() => assertSingleWriterVolumes(tampered(d, "Deployment", deps)), /ReadWriteOnce claim mysql-pvc-.* can be mounted by 7 pods/);
            const overlapping = d.of("CronJob").map((c) => ({ ...c, spec: { ...c.spec, concurrencyPolicy: "Allow" } }));
            assert.throws(() => assertSingleWriterVolumes(tampered(d, "CronJob", overlapping)), /backup-pvc-.* can be mounted by Infinity pods/);
        });

        it("a budget that blocks a drain at one replica, or no budget", () => {
            assert.strictEqual(disruptionsAllowed({ spec: { maxUnavailable: 1 } }, 1), 1);
            assert.strictEqual(disruptionsAllowed({ spec: { minAvailable: 1 } }, 1), 0);
            assert.strictEqual(disruptionsAllowed({ spec: { maxUnavailable: "25%" } }, 1), 1);
            assert.strictEqual(disruptionsAllowed({ spec: { minAvailable: "50%" } }, 2), 1);
            const strict = d.of("PodDisruptionBudget").map((p) => ({ ...p, spec: { selector: p.spec.selector, minAvailable: 1 } }));
            assert.throws(() => assertDisruptionAndSpread(tampered(d, "PodDisruptionBudget", strict)), /blocks a drain at 1 pod/);
            assert.throws(() => assertDisruptionAndSpread(tampered(d, "PodDisruptionBudget", [])), /has 0 PodDisruptionBudgets/);
        });

        it("an autoscaled Eureka server, and a StatefulSet without a headless Service", () => {
            const hpa = { ...d.of("HorizontalPodAutoscaler")[0], spec: { ...d.of("HorizontalPodAutoscaler")[0].spec, scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "discovery-deployment" }, maxReplicas: 6 } };
            assert.throws(() => assertDiscoverySingleRegistry(tampered(d, "HorizontalPodAutoscaler", [...d.of("HorizontalPodAutoscaler"), hpa])), /autoscaled without peers/);
            const services = d.of("Service").map((s) => (s.metadata.name === "mysql-headless" ? { ...s, spec: { ...s.spec, clusterIP: undefined } } : s));
            assert.throws(() => assertHeadlessGoverning(tampered(d, "Service", services)), /mysql-headless is not headless/);
        });
    });
});

describe("the backup job in the service graph", () => {
    it("reaches MySQL only when backups are on", () => {
        const on = serviceGraph(loadConfig(sourceOf(withObject(stackConfig("dev"), "backup", { enabled: true })), "dev"));
        assert.ok(on.allows("mysql-backup", "mysql", 3306));
        assert.deepStrictEqual(on.dependenciesOf("mysql-backup").map((e) => e.to), ["mysql"]);
        assert.deepStrictEqual(on.clientsOf("mysql-backup"), [], "nothing connects to the backup job");
        const off = serviceGraph(loadConfig(sourceOf(stackConfig("dev")), "dev"));
        assert.ok(!off.nodes.has("mysql-backup"));
    });
});

describe("dev as rendered", function () {
    // Two runs of the program each; a loaded machine needs more than mocha's default.
    this.timeout(120_000);
    it("no backup unless switched on; then a CronJob and its claim on the data class", async () => {
        const off = await deploy(stackConfig("dev"));
        assert.strictEqual(off.of("CronJob").length, 0);
        assert.strictEqual(claimsByVolume(off).backup, undefined);
        const on = await deploy(withObject(stackConfig("dev"), "backup", { enabled: true, schedule: "@daily", retention: 3 }));
        assert.strictEqual(on.find("CronJob", "mysql-backup")!.spec.schedule, "@daily");
        assert.deepStrictEqual(claimsByVolume(on).backup.spec.accessModes, ["ReadWriteOnce"]);
    });

    it("without autoscaling and at one replica nothing needs a budget or a spread rule", async () => {
        const d = await deploy(withObject(stackConfig("dev"), "autoscaling", { enabled: false }));
        assert.strictEqual(d.of("PodDisruptionBudget").length, 0);
        assert.ok(d.of("Deployment").every((x) => x.spec.template.spec.topologySpreadConstraints === undefined));
    });
});

describe("csi-driver-nfs for the nfs class", function () {
    this.timeout(120_000);
    let d: Deployed;
    before(async () => { d = await deploy(stackConfig("dev")); });
    const storageNs = "egov-dev-storage";

    it("keeps the class name stacks have from nfs-subdir-external-provisioner, so claims, static volumes and data stay", () => {
        const [sc] = d.of("StorageClass");
        // The name the dev stack's class had before issue 31 (archiveOnDelete "false", Delete, Immediate).
        assert.strictEqual(sc.metadata.name, "egov-dev-nfs-31a084");
        assert.strictEqual(sc.provisioner, "egov-dev.nfs.csi.k8s.io");
        assert.deepStrictEqual(sc.parameters, {
            server: "nfs.egov-dev.internal", share: "/srv/nfs", onDelete: "delete",
            // nfs-subdir-external-provisioner's directory per volume: <namespace>-<claim>-<volume>.
            subDir: "${pvc.metadata.namespace}-${pvc.metadata.name}-${pv.metadata.name}",
        });
        assert.deepStrictEqual(sc.mountOptions, ["hard"]);
        assert.strictEqual(sc.reclaimPolicy, "Delete");
        for (const pv of d.of("PersistentVolume")) {
            assert.ok(pv.spec.nfs && !pv.spec.csi, `${pv.metadata.name}: static volumes stay in-tree NFS mounts at their path`);
        }
    });

    it("protected: archives a deleted volume's directory and retains the volume, as archiveOnDelete did", async () => {
        const p = await deploy(withObject(stackConfig("dev"), "storage", { protect: true }));
        const [sc] = p.of("StorageClass");
        assert.strictEqual(sc.parameters.onDelete, "archive");
        assert.strictEqual(sc.reclaimPolicy, "Retain");
        assert.notStrictEqual(sc.metadata.name, "egov-dev-nfs-31a084", "another class, as before");
    });

    it("installs the driver as upstream's manifests do: CSIDriver, controller with the claim metadata subDir needs, node plugin on every node", () => {
        const driver = d.find("CSIDriver", "egov-dev.nfs.csi.k8s.io")!;
        assert.deepStrictEqual(driver.spec, { attachRequired: false, volumeLifecycleModes: ["Persistent"], fsGroupPolicy: "File" });
        const controller = d.find("Deployment", "csi-nfs-controller")!;
        const node = d.find("DaemonSet", "csi-nfs-node")!;
        assert.deepStrictEqual([controller.metadata.namespace, node.metadata.namespace], [storageNs, storageNs]);
        const images = (w: Obj) => w.spec.template.spec.containers.map((c: Obj) => c.image.replace(/^registry\.k8s\.io\/sig-storage\//, ""));
        assert.deepStrictEqual(images(controller), ["csi-provisioner:v6.3.0", "livenessprobe:v2.19.0", "nfsplugin:v4.13.4"]);
        assert.deepStrictEqual(images(node), ["livenessprobe:v2.19.0", "csi-node-driver-registrar:v2.17.0", "nfsplugin:v4.13.4"]);
        const provisioner = controller.spec.template.spec.containers[0];
        assert.ok(provisioner.args.includes("--extra-create-metadata=true"), "without it the subDir pattern has no claim name");
        const spec = node.spec.template.spec;
        assert.strictEqual(spec.hostNetwork, true);
        assert.deepStrictEqual(spec.tolerations, [{ operator: "Exists" }]);
        // Host paths: the kubelet's directories only, the socket in one of the driver's own name.
        assert.deepStrictEqual(spec.volumes.filter((v: Obj) => v.hostPath).map((v: Obj) => v.hostPath.path),
            ["/var/lib/kubelet/plugins/egov-dev.nfs.csi.k8s.io", "/var/lib/kubelet/pods", "/var/lib/kubelet/plugins_registry"]);
        const registrar = spec.containers.find((c: Obj) => c.name === "node-driver-registrar");
        assert.ok(registrar.args.includes("--kubelet-registration-path=/var/lib/kubelet/plugins/egov-dev.nfs.csi.k8s.io/csi.sock"));
        // Privileged: the plugin only; the sidecars drop every capability.
        for (const w of [controller, node]) {
            for (const c of w.spec.template.spec.containers as Obj[]) {
                assert.strictEqual(c.securityContext.privileged === true, c.name === "nfs", `${w.metadata.name} ${c.name}`);
                if (c.name !== "nfs") assert.deepStrictEqual([c.securityContext.allowPrivilegeEscalation, c.securityContext.capabilities.drop], [false, ["ALL"]]);
            }
        }
        assert.strictEqual(node.spec.template.spec.automountServiceAccountToken, false, "the node plugin never calls the API");
        assert.strictEqual(controller.spec.template.spec.automountServiceAccountToken, true);
    });

    it("gives each stack a driver of its own: name, socket directory, cluster objects and health ports differ", async () => {
        const other = await deploy(stackConfig("dev", { namespace: "egov-qa" }));
        const names = (x: Deployed) => [...x.of("CSIDriver"), ...x.of("ClusterRole"), ...x.of("ClusterRoleBinding")].map((o) => o.metadata.name);
        assert.ok(names(other).every((n) => !names(d).includes(n)), `${names(other)} vs ${names(d)}`);
        const ports = (x: Deployed) => ["Deployment", "DaemonSet"].map((k) => x.of(k).find((w) => w.metadata.name.startsWith("csi-nfs-"))!)
            .map((w) => w.spec.template.spec.containers.find((c: Obj) => c.name === "nfs").livenessProbe.httpGet.port);
        assert.notDeepStrictEqual(ports(other), ports(d));
        assert.strictEqual(nfsDriverName("egov-qa"), "egov-qa.nfs.csi.k8s.io");
        const long = nfsDriverName("a".repeat(60));
        assert.ok(long.length <= 63 && long.endsWith(".nfs.csi.k8s.io"), long);
        assert.notStrictEqual(nfsDriverName(`${"a".repeat(59)}b`), long, "a long namespace keeps a name of its own");
    });

    it("the policy pack waives the driver's controls in the storage namespace only, and only with the stack's settings", () => {
        const cfg = loadConfig(sourceOf(stackConfig("dev")), "dev");
        const settings: StackSettings = { environment: "dev", serviceType: "ClusterIP", networkPolicy: true, sideNamespaces: sideNamespaces(cfg) };
        const check = (obj: Obj, s?: StackSettings) => {
            const out: string[] = [];
            const type = `kubernetes:apps/v1:${obj.kind}`;
            const validate = restrictedPodSecurity(undefined, s).validateResource as (a: ResourceValidationArgs, report: (m: string) => void) => void;
            validate({ type, props: obj } as unknown as ResourceValidationArgs, (m) => out.push(m));
            return out;
        };
        for (const w of [d.find("Deployment", "csi-nfs-controller")!, d.find("DaemonSet", "csi-nfs-node")!]) {
            assert.deepStrictEqual(check(w, settings), [], w.metadata.name);
            const moved = { ...w, metadata: { ...w.metadata, namespace: "egov-dev" } };
            assert.match(check(moved, settings).join("\n"), /is not restricted: .*privileged/, `${w.metadata.name} in the application's namespace`);
            assert.match(check(w).join("\n"), /is not restricted/, `${w.metadata.name} without the stack's settings`);
        }
    });
});
