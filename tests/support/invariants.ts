// Checks that hold for every configuration: what the API server and the pods need to find each other.
import * as assert from "assert";
import { backendServices, infraWorkloadNames } from "../../config/catalog";
import { quantityValue } from "../../config";
import { heapEnv } from "../../config/runtime";
import type { Runtime } from "../../config/runtime";
import { EXCEPTIONS_ANNOTATION } from "../../components/workload";
import { OUTSIDE_GIT_ANNOTATION } from "../../components/backup";
import { Deployed, Obj } from "./harness";
import { podsOf, PolicySet } from "./netpol-eval";

const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet"];

export function workloads(d: Deployed): Obj[] {
    return WORKLOAD_KINDS.flatMap((k) => d.of(k).map((o) => ({ ...o, kind: k })));
}

function containers(w: Obj): Obj[] {
    const spec = templateOf(w).spec;
    return [...(spec.initContainers ?? []), ...spec.containers];
}

/** Pod template of a Deployment, StatefulSet, Job or CronJob. */
function templateOf(w: Obj): Obj {
    return w.kind === "CronJob" ? w.spec.jobTemplate.spec.template : w.spec.template;
}

/** Everything that renders a pod template: workloads, Jobs and CronJobs. */
function podTemplateOwners(d: Deployed): Obj[] {
    return [...workloads(d), ...["Job", "CronJob"].flatMap((k) => d.of(k).map((o): Obj => ({ ...o, kind: k })))];
}

/** Everything that runs pods, with the most pods it can run at once. */
export interface PodOwner { kind: string; name: string; template: Obj; maxPods: number; obj: Obj }

export function podOwners(d: Deployed): PodOwner[] {
    const hpas = d.of("HorizontalPodAutoscaler");
    const owners: PodOwner[] = workloads(d).map((w) => {
        const hpa = hpas.find((h) => h.spec.scaleTargetRef.kind === w.kind && h.spec.scaleTargetRef.name === w.metadata.name);
        const maxPods = hpa ? Math.max(hpa.spec.maxReplicas, w.spec.replicas ?? 0) : (w.spec.replicas ?? 1);
        return { kind: w.kind, name: w.metadata.name, template: w.spec.template, maxPods, obj: w };
    });
    for (const c of d.of("CronJob")) {
        const w: Obj = { ...c, kind: "CronJob" };
        // Only concurrencyPolicy Forbid keeps a slow run from overlapping the next one.
        const perRun = w.spec.jobTemplate.spec.parallelism ?? 1;
        owners.push({ kind: "CronJob", name: c.metadata.name, template: templateOf(w), maxPods: w.spec.concurrencyPolicy === "Forbid" ? perRun : Infinity, obj: w });
    }
    return owners;
}

function subset(sel: Obj, labels: Obj): boolean {
    return Object.entries(sel).every(([k, v]) => labels?.[k] === v);
}

export function assertSelectorsMatch(d: Deployed): void {
    for (const w of workloads(d)) {
        assert.ok(Object.keys(w.spec.selector.matchLabels).length > 0, `${w.metadata.name}: empty selector`);
        assert.ok(subset(w.spec.selector.matchLabels, w.spec.template.metadata.labels),
            `${w.kind} ${w.metadata.name}: selector does not match its pod template labels`);
    }
    for (const svc of d.of("Service")) {
        const matched = workloads(d).filter((w) => w.metadata.namespace === svc.metadata.namespace
            && subset(svc.spec.selector, w.spec.template.metadata.labels));
        assert.strictEqual(matched.length, 1, `Service ${svc.metadata.name} selects ${matched.length} workloads, expected exactly 1`);
        const portNames = matched[0].spec.template.spec.containers.flatMap((c: Obj) => (c.ports ?? []).map((p: Obj) => p.name));
        const portNumbers = matched[0].spec.template.spec.containers.flatMap((c: Obj) => (c.ports ?? []).map((p: Obj) => p.containerPort));
        for (const p of svc.spec.ports) {
            const target = p.targetPort ?? p.port;
            assert.ok(portNames.includes(target) || portNumbers.includes(target),
                `Service ${svc.metadata.name} port ${p.port} targets ${target}, which ${matched[0].metadata.name} does not declare`);
        }
    }
}

export function assertReferencesResolve(d: Deployed): void {
    const configMapsRendered = new Map<string, Obj>(d.of("ConfigMap").map((c) => [c.metadata.name, c.data ?? {}]));
    const secretsRendered = new Map<string, Obj>(d.of("Secret").map((s) => [s.metadata.name, { ...(s.data ?? {}), ...(s.stringData ?? {}) }]));
    const claims = new Set(d.of("PersistentVolumeClaim").map((c) => c.metadata.name));
    const serviceAccounts = new Set(d.of("ServiceAccount").map((s) => s.metadata.name));
    for (const w of [...workloads(d), ...d.of("CronJob").map((c): Obj => ({ ...c, kind: "CronJob" }))]) {
        const where = `${w.kind} ${w.metadata.name}`;
        const spec = templateOf(w).spec;
        // What the object declares the agency creates outside git (e.g. the object store's credentials): not rendered.
        const outside = JSON.parse(w.metadata.annotations?.[OUTSIDE_GIT_ANNOTATION] ?? templateOf(w).metadata?.annotations?.[OUTSIDE_GIT_ANNOTATION] ?? "{}") as
            { secrets?: string[]; configMaps?: string[] };
        const secrets = new Map([...secretsRendered, ...(outside.secrets ?? []).map((n): [string, Obj] => [n, new Proxy({}, { get: () => "outside git" })])]);
        const configMaps = new Map([...configMapsRendered,
            ...(outside.configMaps ?? []).map((n): [string, Obj] => [n, new Proxy({}, { get: () => "outside git" })])]);
        if (spec.serviceAccountName) assert.ok(serviceAccounts.has(spec.serviceAccountName), `${where}: no ServiceAccount ${spec.serviceAccountName}`);
        const volumes = new Map((spec.volumes ?? []).map((v: Obj) => [v.name, v]));
        for (const c of containers(w)) {
            // The API server refuses a container with an env var twice (server-side apply: duplicate entries for key).
            const names = ((c.env ?? []) as Obj[]).map((e) => e.name as string);
            assert.deepStrictEqual(names.filter((n, i) => names.indexOf(n) !== i), [], `${where} container ${c.name}: env vars set twice`);
            for (const e of c.env ?? []) {
                const cm = e.valueFrom?.configMapKeyRef;
                if (cm) assert.ok(configMaps.get(cm.name)?.[cm.key] !== undefined, `${where} env ${e.name}: ConfigMap ${cm.name} has no key ${cm.key}`);
                const sk = e.valueFrom?.secretKeyRef;
                if (sk) assert.ok(secrets.get(sk.name)?.[sk.key] !== undefined, `${where} env ${e.name}: Secret ${sk.name} has no key ${sk.key}`);
            }
            for (const m of c.volumeMounts ?? []) assert.ok(volumes.has(m.name), `${where}: mount ${m.name} has no volume`);
        }
        for (const v of volumes.values() as IterableIterator<Obj>) {
            if (v.configMap) {
                const data = configMaps.get(v.configMap.name);
                assert.ok(data, `${where}: volume ${v.name} names a missing ConfigMap ${v.configMap.name}`);
                for (const item of v.configMap.items ?? []) assert.ok(data[item.key] !== undefined, `${where}: ConfigMap ${v.configMap.name} has no key ${item.key}`);
            }
            if (v.persistentVolumeClaim) assert.ok(claims.has(v.persistentVolumeClaim.claimName), `${where}: no claim ${v.persistentVolumeClaim.claimName}`);
        }
    }
}

export function assertAutoscalers(d: Deployed, replicasOf: (workload: string) => number): void {
    const hpas = d.of("HorizontalPodAutoscaler");
    for (const h of hpas) {
        const ref = h.spec.scaleTargetRef;
        const target = workloads(d).find((w) => w.kind === ref.kind && w.metadata.name === ref.name);
        assert.ok(target, `HPA ${h.metadata.name} targets a missing ${ref.kind} ${ref.name}`);
        assert.ok(h.spec.minReplicas <= h.spec.maxReplicas, `HPA ${h.metadata.name}: min > max`);
        const app = target.spec.template.metadata.labels.app;
        const replicas = replicasOf(app);
        assert.ok(h.spec.minReplicas <= replicas && replicas <= h.spec.maxReplicas,
            `HPA ${h.metadata.name}: ${replicas} replicas outside ${h.spec.minReplicas}..${h.spec.maxReplicas}`);
        // The autoscaler owns the scale: the Deployment must not pin spec.replicas.
        assert.strictEqual(target.spec.replicas, undefined, `${ref.kind} ${ref.name} sets spec.replicas although an HPA owns it`);
    }
}

export function assertIngressBackends(d: Deployed): void {
    const services = new Map(d.of("Service").map((s) => [s.metadata.name, s]));
    for (const ing of d.of("Ingress")) {
        for (const rule of ing.spec.rules) {
            assert.ok(rule.host && !rule.host.includes("<"), `Ingress ${ing.metadata.name}: bad host ${rule.host}`);
            for (const p of rule.http.paths) {
                const svc = services.get(p.backend.service.name);
                assert.ok(svc, `Ingress ${ing.metadata.name} routes to a missing Service ${p.backend.service.name}`);
                assert.ok(svc.spec.ports.some((sp: Obj) => sp.port === p.backend.service.port.number),
                    `Ingress ${ing.metadata.name} routes to port ${p.backend.service.port.number}, which Service ${svc.metadata.name} does not expose`);
            }
        }
    }
}

/**
 * Every namespaced object lives in the stack's namespace (nothing falls back to `default`), but for the NFS driver
 * in <namespace>-storage and the CI agents' Role in <namespace>-ci (with their policies); a binding names an account of
 * its own namespace or of the application's.
 */
export function assertNamespaced(d: Deployed, namespace: string): void {
    const clusterScoped = ["Namespace", "StorageClass", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "CSIDriver"];
    const storage = `${namespace}-storage`;
    const ci = `${namespace}-ci`;
    for (const r of d.k8s) {
        const kind = r.type.split(":")[2];
        if (clusterScoped.includes(kind)) continue;
        const ns = r.obj.metadata?.namespace;
        const what = `${kind} ${r.obj.metadata?.name} is in namespace ${ns}`;
        if (ns === storage) assert.ok(kind === "NetworkPolicy" || r.obj.metadata?.labels?.app === "nfs", what);
        else if (ns === ci) assert.ok(["NetworkPolicy", "Role", "RoleBinding"].includes(kind), what);
        else assert.strictEqual(ns, namespace, what);
    }
    for (const b of d.of("RoleBinding")) {
        for (const s of b.subjects) {
            assert.ok([b.metadata.namespace, namespace].includes(s.namespace), `${b.metadata.name} binds a subject in ${s.namespace}`);
        }
    }
    for (const b of d.of("ClusterRoleBinding")) {
        for (const s of b.subjects) assert.strictEqual(s.namespace, storage, `${b.metadata.name} binds a subject in ${s.namespace}`);
    }
}

/** No ReadWriteOnce claim can be mounted by more than one pod, counting autoscaler maximums and every owner. */
export function assertSingleWriterVolumes(d: Deployed): void {
    const owners = podOwners(d);
    for (const pvc of d.of("PersistentVolumeClaim")) {
        if (!(pvc.spec.accessModes as string[]).every((m) => m === "ReadWriteOnce" || m === "ReadWriteOncePod")) continue;
        const mounting = owners.filter((o) => (o.template.spec.volumes ?? []).some((v: Obj) => v.persistentVolumeClaim?.claimName === pvc.metadata.name));
        const pods = mounting.reduce((n, o) => n + o.maxPods, 0);
        assert.ok(pods <= 1, `ReadWriteOnce claim ${pvc.metadata.name} can be mounted by ${pods} pods: ` +
            mounting.map((o) => `${o.kind} ${o.name} (${o.maxPods})`).join(", "));
    }
}

/** Disruptions a PodDisruptionBudget allows with `healthy` pods of `expected` running (the eviction API's arithmetic). */
export function disruptionsAllowed(pdb: Obj, healthy: number, expected = healthy): number {
    const value = (v: number | string, of: number, roundUp: boolean) =>
        typeof v === "number" ? v : (roundUp ? Math.ceil : Math.floor)((Number(v.replace("%", "")) * of) / 100);
    if (pdb.spec.maxUnavailable !== undefined) return Math.max(0, healthy - (expected - value(pdb.spec.maxUnavailable, expected, true)));
    if (pdb.spec.minAvailable !== undefined) return Math.max(0, healthy - value(pdb.spec.minAvailable, expected, true));
    return healthy;
}

/**
 * Every workload that can run more than one pod has exactly one PodDisruptionBudget, which lets a drain evict a
 * pod at one replica and at every count up to the maximum, and spreads its pods across nodes (hard) and zones
 * (soft, so nodes without zone labels still take pods).
 */
export function assertDisruptionAndSpread(d: Deployed): void {
    const pdbs = d.of("PodDisruptionBudget");
    for (const o of podOwners(d).filter((x) => x.kind !== "CronJob")) {
        const labels = o.template.metadata.labels;
        const own = pdbs.filter((p) => subset(p.spec.selector.matchLabels, labels));
        if (o.maxPods <= 1) {
            assert.strictEqual(own.length, 0, `${o.kind} ${o.name} runs one pod but has a PodDisruptionBudget`);
            continue;
        }
        assert.strictEqual(own.length, 1, `${o.kind} ${o.name} can run ${o.maxPods} pods but has ${own.length} PodDisruptionBudgets`);
        for (let n = 1; n <= Math.min(o.maxPods, 100); n++) {
            assert.ok(disruptionsAllowed(own[0], n) >= 1, `PDB ${own[0].metadata.name} blocks a drain at ${n} pod(s)`);
        }
        const spread = (o.template.spec.topologySpreadConstraints ?? []) as Obj[];
        const byKey = (k: string) => spread.find((c) => c.topologyKey === k);
        const node = byKey("kubernetes.io/hostname");
        const zone = byKey("topology.kubernetes.io/zone");
        assert.ok(node && zone, `${o.kind} ${o.name} can run ${o.maxPods} pods but does not spread them across nodes and zones`);
        assert.strictEqual(zone.whenUnsatisfiable, "ScheduleAnyway", `${o.name}: a zone rule must not strand pods on zone-less nodes`);
        for (const c of [node, zone]) {
            assert.deepStrictEqual(c.labelSelector.matchLabels, o.obj.spec.selector.matchLabels, `${o.name}: spread rule counts other pods`);
        }
    }
    for (const p of pdbs) {
        const matched = podOwners(d).filter((o) => subset(p.spec.selector.matchLabels, o.template.metadata.labels));
        assert.strictEqual(matched.length, 1, `PDB ${p.metadata.name} selects ${matched.length} workloads`);
    }
}

/** The Eureka server is never autoscaled or scaled out unless each replica lists its peers. */
export function assertDiscoverySingleRegistry(d: Deployed): void {
    const names = backendServices.filter((s) => s.isDiscoveryServer).map((s) => s.name);
    for (const o of podOwners(d).filter((x) => names.includes(x.template.metadata.labels.app))) {
        const env = (o.template.spec.containers[0].env ?? []) as Obj[];
        const peers = String(env.find((e) => e.name === "EUREKA_CLIENT_SERVICEURL_DEFAULTZONE")?.value ?? "").split(",").filter(Boolean);
        const hpa = d.of("HorizontalPodAutoscaler").some((h) => h.spec.scaleTargetRef.name === o.name);
        assert.ok(!hpa || peers.length > 1, `the discovery server ${o.name} is autoscaled without peers: separate registries`);
        assert.ok(o.maxPods <= Math.max(1, peers.length), `the discovery server ${o.name} runs ${o.maxPods} pods but lists ${peers.length} peers`);
    }
}

/** Every StatefulSet is governed by a headless Service that selects its pods. */
export function assertHeadlessGoverning(d: Deployed): void {
    for (const s of d.of("StatefulSet")) {
        const svc = d.find("Service", s.spec.serviceName);
        assert.ok(svc, `StatefulSet ${s.metadata.name} names a missing governing Service ${s.spec.serviceName}`);
        assert.strictEqual(svc.spec.clusterIP, "None", `StatefulSet ${s.metadata.name}: governing Service ${svc.metadata.name} is not headless`);
        assert.ok(subset(svc.spec.selector, s.spec.template.metadata.labels), `${svc.metadata.name} does not select ${s.metadata.name}'s pods`);
    }
}

export function assertAllInvariants(d: Deployed, namespace: string, replicasOf: (workload: string) => number): void {
    assertSelectorsMatch(d);
    assertReferencesResolve(d);
    assertAutoscalers(d, replicasOf);
    assertIngressBackends(d);
    assertNamespaced(d, namespace);
    assertSingleWriterVolumes(d);
    assertDisruptionAndSpread(d);
    assertDiscoverySingleRegistry(d);
    assertHeadlessGoverning(d);
    assertContainerBounds(d);
    assertEveryPodEnv(d);
    assertPodSecurity(d);
    if (d.of("NetworkPolicy").length > 0) assertPodsIsolated(d);
}

const RESOURCE_NAMES = ["cpu", "memory", "ephemeral-storage"];

/** Every container, init containers included, requests and limits cpu, memory and ephemeral-storage, requests <= limits. */
export function assertContainerBounds(d: Deployed): void {
    for (const w of workloads(d)) {
        for (const c of containers(w)) {
            const where = `${w.kind} ${w.metadata.name} container ${c.name}`;
            for (const r of RESOURCE_NAMES) {
                const req = c.resources?.requests?.[r];
                const lim = c.resources?.limits?.[r];
                assert.ok(req && lim, `${where}: no ${r} request and limit`);
                assert.ok(quantityValue(req) <= quantityValue(lim), `${where}: ${r} request ${req} above its limit ${lim}`);
            }
        }
    }
}

/**
 * Every container of every pod template (init containers, sidecars, Jobs and CronJobs too) has TZ, the stack's time
 * zone as a literal; each Spring service's and frontend's main container its heap setting, sized from its own memory limit;
 * and no other container one (a job's JVM-less image gains nothing, and a second JVM in a pod would take the share twice).
 */
export function assertEveryPodEnv(d: Deployed): void {
    const zones = new Set<string>();
    // The Spring services (built-in or added through stack config) are the backend tier's Deployments but the servers'.
    const runtimeOf = (labels: Obj): Runtime | undefined =>
        labels?.tier === "frontend" ? "node" : labels?.tier === "backend" && !infraWorkloadNames.includes(labels.app) ? "jvm" : undefined;
    let containersSeen = 0;
    for (const w of podTemplateOwners(d)) {
        const template = templateOf(w);
        const app = template.metadata?.labels?.app as string;
        for (const c of containers(w)) {
            containersSeen++;
            const where = `${w.kind} ${w.metadata.name} container ${c.name}`;
            const env = (c.env ?? []) as Obj[];
            const tz = env.find((e) => e.name === "TZ");
            assert.ok(tz, `${where}: no TZ`);
            assert.ok(typeof tz.value === "string" && tz.value.length > 0 && tz.valueFrom === undefined, `${where}: TZ is not a literal`);
            zones.add(tz.value);
            const heap = env.filter((e) => e.name === "JAVA_TOOL_OPTIONS" || e.name === "NODE_OPTIONS");
            const runtime = runtimeOf(template.metadata?.labels);
            if (runtime && c.name === app && w.kind === "Deployment") {
                const want = heapEnv(runtime, c.resources?.limits?.memory);
                assert.ok(want, `${where}: no memory limit to size the heap from`);
                assert.deepStrictEqual(heap, [{ name: want.name, value: want.value }], `${where}: heap setting`);
            } else {
                assert.deepStrictEqual(heap, [], `${where}: a heap setting on a container the platform does not size`);
            }
        }
    }
    assert.ok(containersSeen > 0, "no pod templates rendered");
    assert.strictEqual(zones.size, 1, `one time zone in every container: ${[...zones].join(", ")}`);
}

/** Volume types Pod Security `restricted` allows. */
const RESTRICTED_VOLUMES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];

/**
 * The controls of Pod Security `restricted` (as the admission controller checks them, container settings
 * overriding the pod's) plus a read-only root filesystem, on every pod; a control may fail only where the
 * pod's exceptions annotation names it (and so the table in config/security.ts, with a reason).
 */
export function assertPodSecurity(d: Deployed): void {
    for (const w of workloads(d)) {
        const pod = w.spec.template.spec;
        const excused = JSON.parse(w.spec.template.metadata.annotations?.[EXCEPTIONS_ANNOTATION] ?? "{}") as Record<string, string>;
        // A privileged part (the NFS driver) is excused from every control, and only in the storage side namespace.
        if (excused.privileged) assert.match(String(w.metadata.namespace), /-storage$/, `${w.kind} ${w.metadata.name}: privileged outside the storage namespace`);
        const fail = (control: string, what: string) => {
            const key = control === "readOnlyRootFilesystem" ? control : "restricted";
            assert.ok(excused[key] || excused.privileged, `${w.kind} ${w.metadata.name}: ${what}, and no listed exception`);
        };
        const psc = pod.securityContext ?? {};
        if (pod.hostNetwork || pod.hostPID || pod.hostIPC) fail("restricted", "host namespaces");
        for (const v of pod.volumes ?? []) {
            if (!Object.keys(v).some((k) => RESTRICTED_VOLUMES.includes(k))) fail("restricted", `volume ${v.name} of a type restricted does not allow`);
        }
        for (const c of containers(w)) {
            const sc = c.securityContext ?? {};
            const where = `container ${c.name}`;
            if (!(sc.runAsNonRoot ?? psc.runAsNonRoot)) fail("restricted", `${where} may run as root`);
            if ((sc.runAsUser ?? psc.runAsUser) === 0) fail("restricted", `${where} runs as uid 0`);
            const seccomp = (sc.seccompProfile ?? psc.seccompProfile)?.type;
            if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") fail("restricted", `${where} has no seccomp profile`);
            if (sc.allowPrivilegeEscalation !== false) fail("restricted", `${where} allows privilege escalation`);
            if (sc.privileged) fail("restricted", `${where} is privileged`);
            if (!(sc.capabilities?.drop ?? []).includes("ALL")) fail("restricted", `${where} keeps capabilities`);
            if ((sc.capabilities?.add ?? []).some((cap: string) => cap !== "NET_BIND_SERVICE")) fail("restricted", `${where} adds capabilities`);
            if ((c.ports ?? []).some((p: Obj) => p.hostPort)) fail("restricted", `${where} uses a host port`);
            if (sc.readOnlyRootFilesystem !== true) fail("readOnlyRootFilesystem", `${where} has a writable root filesystem`);
        }
    }
}

/** With network policies on, every pod is selected by a policy for each direction: nothing is open by omission. */
export function assertPodsIsolated(d: Deployed): void {
    const policies = new PolicySet(d.of("NetworkPolicy"));
    for (const [app, pod] of podsOf(workloads(d))) {
        for (const dir of ["Ingress", "Egress"] as const) {
            assert.ok(policies.selecting(pod, dir).length > 0, `pod ${app}: no NetworkPolicy governs its ${dir.toLowerCase()}`);
        }
    }
}
