// A kwok node that really runs (docs/apps-run.md): the workloads a stack renders (the mocked run of index.ts, never
// re-typed) started here as processes, each pod in a network namespace of its own with the stack's names in its
// /etc/hosts, Services as a userspace proxy to the ready endpoints, every container with its rendered env, volumes,
// user and working directory and its image's own start command (scripts/lib/local-images.ts), the rendered probes
// polled for real, in the stack's deploy order. Needs root (namespaces, mounts); nothing is installed or left behind.
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { loadConfig } from "../../config";
import { MIGRATE_JOB, serviceGraph } from "../../config/graph";
import { deploy, Obj } from "./mocked-run";
import { readStackConfig } from "./stack-config";
import { LocalNetwork, serviceNames } from "./local-net";
import type { ImageResolver, ImageSpec } from "./local-images";

export type { ImageResolver, ImageSpec, ImageContext } from "./local-images";
export type { Obj } from "./mocked-run";

export interface StartOptions {
    readonly stack: string;
    /** The stack's raw config (key -> string, no project prefix); default: the stack's Pulumi.<stack>.yaml / pulumi config. */
    readonly raw?: Record<string, string>;
    readonly images: readonly ImageResolver[];
    /** Workloads (app labels) to run, with every workload they need ready first; default: all that have images here. */
    readonly only?: readonly string[];
    /** Edits the rendered objects before anything starts (a regression put back, a setting changed). */
    readonly mutate?: (objs: Obj[]) => void;
    /** Where pods' logs, volumes and files go; default a new directory under $TMPDIR. Kept after close(). */
    readonly runDir?: string;
    readonly log?: (msg: string) => void;
    /** Start the workloads only when asked (start(name)); the objects, network and Services are set up. */
    readonly deferStart?: boolean;
    /**
     * How many Deployments start at once (default 2): the machine's cores are shared, and nine JVMs starting together
     * on two cores miss their startup budgets where each pod of a cluster has a core of its own (limits.cpu 1).
     */
    readonly startConcurrency?: number;
    /**
     * Multiplies every start budget (the startup probe's failureThreshold, hence the kubelet's kill, and the wait for
     * Ready). 1 (default) is the cluster's verdict; more is for a machine whose cores are busy with other work, where
     * a JVM gets a fraction of the core a pod has on a node: a run with it passing says the services start and serve,
     * not that they do so within the rendered budgets. Printed with every time to Ready.
     */
    readonly budgetScale?: number;
}

interface Probe { kind: "startup" | "readiness" | "liveness"; spec: Obj }

interface Container {
    readonly spec: Obj;
    readonly init: boolean;
    proc?: ChildProcess;
    pid?: number;
    env: Record<string, string>;
    exited?: Promise<number | null>;
    exitCode?: number | null;
    restarts: number;
    uid: number;
    gid: number;
}

export interface Pod {
    readonly name: string;
    readonly workload: string;
    readonly ns: string;
    readonly ip: string;
    readonly labels: Record<string, string>;
    readonly spec: Obj;
    readonly dir: string;
    readonly log: string;
    ready: boolean;
    stopping: boolean;
    stopped: boolean;
    containers: Container[];
    startedAt: number;
    readyAt?: number;
    /** Set when the pod failed for good (Job failed, start budget exceeded). */
    failure?: string;
}

interface Workload {
    readonly name: string;
    obj: Obj;
    readonly kind: "Deployment" | "StatefulSet" | "Job";
    pods: Pod[];
    seq: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const shq = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** `$(VAR)` expansion as the kubelet does it: defined names replaced, `$$` an escaped `$`, unknown names kept. */
export function expandVars(s: string, env: Readonly<Record<string, string>>): string {
    return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
        if (m === "$$") return "$";
        return name !== undefined && env[name] !== undefined ? env[name] : m;
    });
}

/** Match of a label selector (matchLabels, or a Service's plain map) against labels. */
function selects(selector: Obj | undefined, labels: Record<string, string>): boolean {
    const want: Record<string, string> = selector?.matchLabels ?? selector ?? {};
    return Object.keys(want).length > 0 && Object.entries(want).every(([k, v]) => labels[k] === v);
}

function tail(file: string, lines = 60): string {
    if (!fs.existsSync(file)) return "(no log)";
    const text = fs.readFileSync(file, "utf8");
    return text.split("\n").slice(-lines).join("\n");
}

/** Seconds a probe may take to first succeed: initialDelaySeconds + periodSeconds * failureThreshold (Kubernetes' defaults). */
export function probeBudgetSeconds(p: Obj | undefined): number {
    if (!p) return 0;
    return (p.initialDelaySeconds ?? 0) + (p.periodSeconds ?? 10) * (p.failureThreshold ?? 3);
}

export class LocalCluster {
    readonly objects: Obj[];
    readonly runDir: string;
    readonly logsDir: string;
    /** Milliseconds from a workload's first pod start to Ready (the last start of it). */
    readonly readyMs: Record<string, number> = {};
    /** Workloads the stack renders that this run does not start, with why. */
    readonly notRun: Record<string, string> = {};
    /** Deploy order of the workloads that run. */
    readonly order: string[] = [];
    private readonly net: LocalNetwork;
    private readonly workloads = new Map<string, Workload>();
    private readonly services: { obj: Obj; ip?: string }[] = [];
    private readonly waitsFor = new Map<string, string[]>();
    private readonly createdDirs: string[] = [];
    private closed = false;
    /** See StartOptions.budgetScale. */
    budgetScale = 1;
    private readonly log: (msg: string) => void;
    private readonly onSignal = () => { this.close(); process.exit(130); };
    private readonly onExit = () => this.close();

    private constructor(objects: Obj[], private readonly images: readonly ImageResolver[], runDir: string, log: (m: string) => void,
        private readonly stackOf: { raw: Record<string, string>; stack: string; secretKeys: readonly string[]; seed: string }) {
        this.objects = objects;
        this.runDir = runDir;
        this.logsDir = path.join(runDir, "logs");
        fs.mkdirSync(this.logsDir, { recursive: true });
        this.log = log;
        this.net = LocalNetwork.open();
        process.once("SIGINT", this.onSignal);
        process.once("SIGTERM", this.onSignal);
        process.once("exit", this.onExit);
    }

    /** Renders the stack (generated passwords real and random), sets up network and Services, and starts the workloads in deploy order. */
    static async start(o: StartOptions): Promise<LocalCluster> {
        const { raw, secretKeys } = o.raw ? { raw: o.raw, secretKeys: [] as string[] } : readStackConfig(o.stack);
        const seed = crypto.randomBytes(32).toString("hex");
        const objects = await renderObjects(raw, o.stack, secretKeys, seed);
        o.mutate?.(objects);
        const runDir = o.runDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `egov-apprun-${o.stack}-`));
        const log = o.log ?? ((m: string) => process.stderr.write(`${m}\n`));
        const c = new LocalCluster(objects, o.images, runDir, log, { raw, stack: o.stack, secretKeys, seed });
        c.budgetScale = o.budgetScale ?? 1;
        if (c.budgetScale !== 1) log(`start budgets scaled x${c.budgetScale}: not the cluster's verdict on the budgets`);
        try {
            await c.setUp(raw, o.stack, o.only);
            if (!o.deferStart) await c.startAll(o.startConcurrency ?? 2);
        } catch (e) {
            c.close();
            throw e;
        }
        return c;
    }

    private async setUp(raw: Record<string, string>, stack: string, only?: readonly string[]): Promise<void> {
        const cfg = loadConfig((k) => raw[k], stack, [], undefined, { frontendRecord: false });
        const graph = serviceGraph(cfg);
        const byApp = new Map<string, Obj>();
        for (const o of this.objects) {
            if (!["Deployment", "StatefulSet", "Job"].includes(o.kind)) continue;
            const app = o.spec?.template?.metadata?.labels?.app as string | undefined;
            if (!app) continue;
            // A Job of a rotation runs when the day-2 flow asks for it (runJob), not at start.
            if (o.kind === "Job" && app !== MIGRATE_JOB) continue;
            byApp.set(app, o);
        }
        const waits = (name: string): string[] => {
            const deps = graph.dependenciesOf(name).filter((e) => e.readyBefore).map((e) => e.to);
            // As components/platform.ts: MySQL's clients wait for the schema too (ready means migrated).
            return deps.flatMap((d) => (d === "mysql" && name !== MIGRATE_JOB && byApp.has(MIGRATE_JOB) ? [d, MIGRATE_JOB] : [d]));
        };
        const wanted = new Set<string>();
        const want = (name: string) => {
            if (wanted.has(name)) return;
            wanted.add(name);
            for (const d of waits(name)) want(d);
        };
        for (const name of only ?? graph.deployOrder) want(name);
        for (const name of graph.deployOrder) {
            const obj = byApp.get(name);
            if (!wanted.has(name)) continue;
            if (!obj) { this.notRun[name] = "the stack renders no workload for it"; continue; }
            const missing = podSpec(obj).containers.concat(podSpec(obj).initContainers ?? [])
                .filter((c: Obj) => !this.resolve(c, name)).map((c: Obj) => c.image as string);
            if (missing.length) { this.notRun[name] = `no image here for ${[...new Set(missing)].join(", ")}`; continue; }
            this.workloads.set(name, { name, obj, kind: obj.kind, pods: [], seq: 0 });
            this.order.push(name);
        }
        for (const name of this.order) this.waitsFor.set(name, waits(name).filter((d) => this.workloads.has(d)));
        for (const [name, why] of Object.entries(this.notRun)) this.log(`not run: ${name}: ${why}`);
        // Every Service gets its address (even one whose pods do not run here: a client then sees a refused connection).
        for (const s of this.objects.filter((o) => o.kind === "Service")) {
            const headless = s.spec?.clusterIP === "None";
            const entry = { obj: s, ip: headless ? undefined : this.net.serviceIp() };
            this.services.push(entry);
            if (!entry.ip) continue;
            for (const p of s.spec.ports ?? []) {
                await this.net.proxy(entry.ip, p.port, () => this.endpoints(s, p));
            }
        }
        // Claims: a directory each, as a provisioner would give (world-writable, like an NFS export's).
        fs.mkdirSync(path.join(this.runDir, "pvc"), { recursive: true });
    }

    /** Starts every workload in deploy order, each once the workloads it needs are Ready (in parallel otherwise). */
    async startAll(concurrency = 2): Promise<void> {
        const t0 = Date.now();
        const done = new Map<string, Promise<void>>();
        let running = 0;
        const queue: (() => void)[] = [];
        const slot = async () => {
            while (running >= concurrency) await new Promise<void>((r) => queue.push(r));
            running++;
        };
        const release = () => { running--; queue.shift()?.(); };
        const startOne = (name: string): Promise<void> => {
            if (!done.has(name)) {
                done.set(name, (async () => {
                    await Promise.all((this.waitsFor.get(name) ?? []).map(startOne));
                    const limited = this.workload(name).kind === "Deployment";
                    if (limited) await slot();
                    try {
                        await this.start(name);
                    } finally {
                        if (limited) release();
                    }
                })());
            }
            return done.get(name)!;
        };
        await Promise.all(this.order.map(startOne));
        this.log(`all ${this.order.length} workloads Ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    }

    /** The stack's raw config this run was started with. */
    get raw(): Readonly<Record<string, string>> {
        return this.stackOf.raw;
    }

    /**
     * The objects of another render of the stack (e.g. the next rotation generation, a rollback's config), with the
     * generated passwords this run's state holds: an unchanged password keeps its value, as in a stack's state.
     */
    render(raw: Record<string, string> = this.stackOf.raw): Promise<Obj[]> {
        return renderObjects(raw, this.stackOf.stack, this.stackOf.secretKeys, this.stackOf.seed);
    }

    /** The address a client in the root namespace uses for a Service (its name), port: the first one by default. */
    serviceAddress(name: string, port?: number | string): { ip: string; port: number } {
        const s = this.services.find((x) => x.obj.metadata.name === name);
        if (!s?.ip) throw new Error(`no Service ${name} with an address`);
        const ports = (s.obj.spec.ports ?? []) as Obj[];
        const p = port === undefined ? ports[0] : ports.find((x) => x.port === port || x.name === port);
        if (!p) throw new Error(`Service ${name} has no port ${port}`);
        return { ip: s.ip, port: p.port as number };
    }

    /** The address of a workload's (first live) pod. */
    podIp(workload: string): string {
        const pod = this.workload(workload).pods.find((p) => !p.stopped);
        if (!pod) throw new Error(`${workload} has no running pod`);
        return pod.ip;
    }

    /** The live pods of a workload. */
    pods(workload: string): readonly Pod[] {
        return this.workload(workload).pods.filter((p) => !p.stopped);
    }

    isReady(workload: string): boolean {
        return this.pods(workload).some((p) => p.ready);
    }

    /** Stops every pod of a workload (as scaling to zero: out of the endpoints, preStop, SIGTERM, grace, SIGKILL). */
    async stop(workload: string): Promise<void> {
        const w = this.workload(workload);
        await Promise.all(w.pods.filter((p) => !p.stopped).map((p) => this.stopPod(p)));
    }

    /** Starts a workload's pods (replicas; a Job runs to completion) and waits for Ready within its start budget. */
    async start(workload: string): Promise<void> {
        const w = this.workload(workload);
        const t0 = Date.now();
        if (w.kind === "Job") {
            await this.runJobObject(w.obj, w);
        } else {
            const replicas = w.kind === "StatefulSet" ? (w.obj.spec.replicas ?? 1) : Math.max(1, w.obj.spec.replicas ?? 1);
            const pods: Pod[] = [];
            for (let i = 0; i < replicas; i++) pods.push(await this.createPod(w));
            await Promise.all(pods.map((p) => this.awaitReady(p)));
        }
        this.readyMs[workload] = Date.now() - t0;
        this.log(`${workload}: ${w.kind === "Job" ? "complete" : "Ready"} in ${(this.readyMs[workload] / 1000).toFixed(1)}s (load average ${os.loadavg()[0].toFixed(1)}` +
            `${this.budgetScale !== 1 ? `, budgets x${this.budgetScale}` : ""})`);
    }

    /**
     * A rolling restart as maxUnavailable 0: with `newObjects` (a new render), its ConfigMaps, Secrets and this
     * workload's object replace the current ones first; then each new pod is Ready before an old one stops.
     */
    async restart(workload: string, newObjects?: readonly Obj[]): Promise<void> {
        const w = this.workload(workload);
        if (newObjects) this.replaceObjects(newObjects, w);
        const old = w.pods.filter((p) => !p.stopped);
        const t0 = Date.now();
        for (const p of old.length ? old : [undefined]) {
            const fresh = await this.createPod(w);
            await this.awaitReady(fresh);
            if (p) await this.stopPod(p);
        }
        this.readyMs[workload] = Date.now() - t0;
        this.log(`${workload}: rolled in ${(this.readyMs[workload] / 1000).toFixed(1)}s`);
    }

    /** Replaces ConfigMaps and Secrets by the ones of a new render (what `pulumi up` changes before pods roll). */
    replaceObjects(newObjects: readonly Obj[], w?: Workload): void {
        for (const n of newObjects) {
            if (!["ConfigMap", "Secret"].includes(n.kind) && !(w && n.kind === w.kind && n.spec?.template?.metadata?.labels?.app === w.name)) continue;
            const i = this.objects.findIndex((o) => o.kind === n.kind && o.metadata?.name === n.metadata?.name && o.metadata?.namespace === n.metadata?.namespace);
            if (i >= 0) this.objects[i] = n;
            else this.objects.push(n);
            if (w && n.kind === w.kind && n.spec?.template?.metadata?.labels?.app === w.name) w.obj = n;
        }
    }

    /** Runs a Job object of this (or a new) render to completion, as the cluster would; rejects with its log when it fails. */
    async runJob(job: Obj): Promise<void> {
        await this.runJobObject(job);
    }

    private workload(name: string): Workload {
        const w = this.workloads.get(name);
        if (!w) throw new Error(`no workload ${name} in this run (${this.order.join(", ")}; not run: ${Object.keys(this.notRun).join(", ") || "none"})`);
        return w;
    }

    private resolve(container: Obj, workload: string): ImageSpec | undefined {
        for (const r of this.images) {
            const spec = r(container.image as string, { container, workload });
            if (spec) return spec;
        }
        return undefined;
    }

    private endpoints(svc: Obj, port: Obj): { ip: string; port: number }[] {
        const out: { ip: string; port: number }[] = [];
        for (const w of this.workloads.values()) {
            for (const pod of w.pods) {
                if (!pod.ready || pod.stopping || pod.stopped || !selects(svc.spec.selector, pod.labels)) continue;
                const target = port.targetPort ?? port.port;
                let n: number | undefined = typeof target === "number" ? target : undefined;
                if (n === undefined) {
                    for (const c of pod.spec.containers as Obj[]) {
                        const cp = (c.ports ?? []).find((x: Obj) => x.name === target);
                        if (cp) n = cp.containerPort;
                    }
                }
                if (n !== undefined) out.push({ ip: pod.ip, port: n });
            }
        }
        return out;
    }

    /** The pod's /etc/hosts: itself, every Service's names at its address, headless Services' names at their pods'. */
    private hostsFor(pod: { name: string; hostname: string; subdomain?: string; namespace: string }, podIp: string): string {
        const lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"];
        const own = [pod.hostname];
        if (pod.subdomain) own.unshift(`${pod.hostname}.${pod.subdomain}.${pod.namespace}.svc.cluster.local`, `${pod.hostname}.${pod.subdomain}.${pod.namespace}.svc`, `${pod.hostname}.${pod.subdomain}.${pod.namespace}`, `${pod.hostname}.${pod.subdomain}`);
        lines.push(`${podIp}\t${own.join(" ")}`);
        for (const s of this.services) {
            const names = serviceNames(s.obj.metadata.name, s.obj.metadata.namespace);
            if (s.ip) { lines.push(`${s.ip}\t${names.join(" ")}`); continue; }
            for (const w of this.workloads.values()) {
                for (const p of w.pods) {
                    if (p.stopped || !selects(s.obj.spec.selector, p.labels)) continue;
                    if (!p.ready && !s.obj.spec.publishNotReadyAddresses) continue;
                    lines.push(`${p.ip}\t${names.join(" ")}`);
                    const ns = s.obj.metadata.namespace;
                    lines.push(`${p.ip}\t${p.name}.${s.obj.metadata.name}.${ns}.svc.cluster.local ${p.name}.${s.obj.metadata.name}.${ns}.svc ${p.name}.${s.obj.metadata.name}.${ns}`);
                }
            }
        }
        return lines.join("\n") + "\n";
    }

    private async createPod(w: Workload, job?: Obj): Promise<Pod> {
        const obj = job ?? w.obj;
        const spec = podSpec(obj);
        const labels: Record<string, string> = { ...(obj.spec.template.metadata?.labels ?? {}) };
        const base = obj.metadata.name as string;
        const name = w.kind === "StatefulSet" ? `${base}-${w.seq++}` : `${base}-${crypto.randomBytes(3).toString("hex")}`;
        const namespace = obj.metadata.namespace as string;
        const hostname = spec.hostname ?? name;
        const subdomain = w.kind === "StatefulSet" ? obj.spec.serviceName : spec.subdomain;
        const { ns, ip } = this.net.addPod(name, (podIp) => this.hostsFor({ name, hostname, subdomain, namespace }, podIp));
        const dir = path.join(this.runDir, "pods", name);
        fs.mkdirSync(dir, { recursive: true });
        const pod: Pod = {
            name, workload: w.name, ns, ip, labels, spec, dir, log: path.join(this.logsDir, `${name}.log`),
            ready: false, stopping: false, stopped: false, containers: [], startedAt: Date.now(),
        };
        w.pods.push(pod);
        this.net.refreshHosts();
        this.materializeVolumes(pod, namespace);
        fs.appendFileSync(pod.log, `# pod ${name} of ${w.name} (${obj.kind} ${base}) at ${ip}, ${new Date().toISOString()}\n`);
        for (const c of spec.initContainers ?? []) {
            const ctr = this.newContainer(pod, c, true);
            pod.containers.push(ctr);
            this.launch(pod, ctr);
            const code = await ctr.exited;
            if (code !== 0) {
                pod.failure = `init container ${c.name} exited with ${code}`;
                throw new Error(`${w.name}: ${pod.failure}\n--- log tail (${pod.log}) ---\n${tail(pod.log)}`);
            }
        }
        for (const c of spec.containers as Obj[]) {
            const ctr = this.newContainer(pod, c, false);
            pod.containers.push(ctr);
            this.launch(pod, ctr);
            if (!job) void this.supervise(pod, ctr);
        }
        return pod;
    }

    private volumeDir(pod: Pod, name: string): string {
        return path.join(pod.dir, "volumes", name);
    }

    /** configMap/secret volumes as files, emptyDir and claims as directories (world-writable: fsGroup's effect). */
    private materializeVolumes(pod: Pod, namespace: string): void {
        for (const v of (pod.spec.volumes ?? []) as Obj[]) {
            const dir = this.volumeDir(pod, v.name);
            if (v.persistentVolumeClaim) {
                const claim = path.join(this.runDir, "pvc", v.persistentVolumeClaim.claimName);
                fs.mkdirSync(claim, { recursive: true, mode: 0o777 });
                fs.chmodSync(claim, 0o777);
                fs.mkdirSync(path.dirname(dir), { recursive: true });
                fs.symlinkSync(claim, dir);
                continue;
            }
            fs.mkdirSync(dir, { recursive: true });
            if (v.emptyDir) { fs.chmodSync(dir, 0o777); continue; }
            const src = v.configMap ?? v.secret;
            if (!src) throw new Error(`${pod.workload}: volume ${v.name}: only configMap, secret, emptyDir and persistentVolumeClaim volumes run here`);
            const kind = v.configMap ? "ConfigMap" : "Secret";
            const objName = v.configMap ? src.name : src.secretName;
            const o = this.objects.find((x) => x.kind === kind && x.metadata.name === objName && x.metadata.namespace === namespace);
            if (!o) throw new Error(`${pod.workload}: volume ${v.name}: no ${kind} ${objName}`);
            const data = dataOf(o);
            const items: { key: string; path: string; mode?: number }[] = src.items ?? Object.keys(data).map((k) => ({ key: k, path: k }));
            for (const it of items) {
                if (data[it.key] === undefined) throw new Error(`${pod.workload}: volume ${v.name}: ${kind} ${objName} has no key ${it.key}`);
                const f = path.join(dir, it.path);
                fs.mkdirSync(path.dirname(f), { recursive: true });
                fs.writeFileSync(f, data[it.key], { mode: it.mode ?? src.defaultMode ?? 0o644 });
                fs.chmodSync(f, it.mode ?? src.defaultMode ?? 0o644);
            }
            chmodTree(dir, 0o755);
        }
    }

    private newContainer(pod: Pod, c: Obj, init: boolean): Container {
        const sc = { ...(pod.spec.securityContext ?? {}), ...(c.securityContext ?? {}) };
        const image = this.resolve(c, pod.workload)!;
        return { spec: c, init, env: this.envOf(pod, c, image), restarts: 0, uid: sc.runAsUser ?? image.user?.uid ?? 0, gid: sc.runAsGroup ?? image.user?.gid ?? 0 };
    }

    /** The container's environment: the image's, then the pod's entries in order (values, refs, $(VAR) of earlier ones). */
    private envOf(pod: Pod, c: Obj, image: ImageSpec): Record<string, string> {
        const namespace = this.workload(pod.workload).obj.metadata.namespace as string;
        const find = (kind: string, name: string) => {
            const o = this.objects.find((x) => x.kind === kind && x.metadata.name === name && x.metadata.namespace === namespace);
            if (!o) throw new Error(`${pod.workload}/${c.name}: no ${kind} ${name}`);
            return dataOf(o);
        };
        const env: Record<string, string> = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...image.env, HOSTNAME: pod.name };
        const own: Record<string, string> = {};
        for (const from of (c.envFrom ?? []) as Obj[]) {
            const data = from.configMapRef ? find("ConfigMap", from.configMapRef.name) : find("Secret", from.secretRef.name);
            for (const [k, v] of Object.entries(data)) own[`${from.prefix ?? ""}${k}`] = v;
        }
        for (const e of (c.env ?? []) as Obj[]) {
            let v: string;
            if (e.valueFrom?.configMapKeyRef) v = find("ConfigMap", e.valueFrom.configMapKeyRef.name)[e.valueFrom.configMapKeyRef.key];
            else if (e.valueFrom?.secretKeyRef) v = find("Secret", e.valueFrom.secretKeyRef.name)[e.valueFrom.secretKeyRef.key];
            else if (e.valueFrom?.fieldRef) {
                const fp = e.valueFrom.fieldRef.fieldPath as string;
                const fields: Record<string, string> = { "metadata.name": pod.name, "metadata.namespace": namespace, "status.podIP": pod.ip, "spec.nodeName": os.hostname(), "status.hostIP": this.net.gateway };
                if (fields[fp] === undefined) throw new Error(`${pod.workload}/${c.name}: env ${e.name}: fieldRef ${fp} not supported here`);
                v = fields[fp];
            } else if (e.valueFrom) throw new Error(`${pod.workload}/${c.name}: env ${e.name}: ${Object.keys(e.valueFrom).join(",")} not supported here`);
            else v = expandVars(String(e.value ?? ""), { ...own });
            if (v === undefined) throw new Error(`${pod.workload}/${c.name}: env ${e.name}: the referenced key has no value`);
            own[e.name] = v;
        }
        return { ...env, ...own };
    }

    /** A mount point on this machine: made when missing (and removed at close), never a change to an existing path. */
    private ensureMountPoint(target: string, file: boolean): void {
        if (fs.existsSync(target)) return;
        const missing: string[] = [];
        for (let p = file ? path.dirname(target) : target; !fs.existsSync(p); p = path.dirname(p)) missing.unshift(p);
        for (const d of missing) { fs.mkdirSync(d); this.createdDirs.push(d); }
        if (file) { fs.writeFileSync(target, ""); this.createdDirs.push(target); }
    }

    /** The shell run as root in the container's fresh mount and UTS namespaces before it becomes the container's process. */
    private setupScript(pod: Pod, ctr: Container, image: ImageSpec): string {
        const lines = ["set -e", `/usr/bin/hostname ${shq(pod.spec.hostname ?? pod.name)}`];
        const bind = (src: string, dst: string, ro: boolean) => {
            lines.push(`/usr/bin/mount --bind ${shq(src)} ${shq(dst)}`);
            if (ro) lines.push(`/usr/bin/mount -o remount,bind,ro ${shq(dst)}`);
        };
        const root = image.rootfs ? path.join(pod.dir, "root") : "";
        if (image.rootfs) {
            fs.mkdirSync(root, { recursive: true });
            bind(image.rootfs, root, true);
            lines.push(`/usr/bin/mount -t proc proc ${shq(`${root}/proc`)}`, `/usr/bin/mount --rbind /dev ${shq(`${root}/dev`)}`);
            bind(path.join("/etc/netns", pod.ns, "hosts"), `${root}/etc/hosts`, true);
        }
        const at = (p: string) => (root ? path.join(root, p) : p);
        // The image's own files: one bind per missing top directory (the image's tree under the pod's dir), else per file.
        const imageDir = path.join(pod.dir, "image", ctr.spec.name as string);
        const tops = new Set<string>();
        fs.mkdirSync(imageDir, { recursive: true });
        for (const [to, from] of Object.entries(image.files ?? {})) {
            const local = path.join(imageDir, to);
            if (from === "") fs.mkdirSync(local, { recursive: true, mode: 0o777 });
            else { fs.mkdirSync(path.dirname(local), { recursive: true }); fs.copyFileSync(from, local); fs.chmodSync(local, fs.statSync(from).mode & 0o777 | 0o444); }
            let top = to;
            while (path.dirname(top) !== "/" && !fs.existsSync(at(path.dirname(top)))) top = path.dirname(top);
            tops.add(top);
        }
        chmodTree(imageDir, 0o755, true);
        for (const top of [...tops].sort()) {
            if ([...tops].some((t) => t !== top && top.startsWith(`${t}/`))) continue;
            const isFile = fs.statSync(path.join(imageDir, top)).isFile();
            if (!root) this.ensureMountPoint(top, isFile);
            bind(path.join(imageDir, top), at(top), false);
        }
        for (const m of (ctr.spec.volumeMounts ?? []) as Obj[]) {
            let src = this.volumeDir(pod, m.name);
            const v = (pod.spec.volumes as Obj[]).find((x) => x.name === m.name);
            if (!v) throw new Error(`${pod.workload}/${ctr.spec.name}: no volume ${m.name}`);
            src = fs.realpathSync(src);
            if (m.subPath) {
                src = path.join(src, m.subPath);
                if (!fs.existsSync(src)) { fs.mkdirSync(src, { recursive: true }); fs.chmodSync(src, 0o777); }
            }
            const isFile = fs.statSync(src).isFile();
            if (!root) this.ensureMountPoint(m.mountPath, isFile);
            const ro = m.readOnly === true || v.configMap !== undefined || v.secret !== undefined;
            bind(src, at(m.mountPath), ro);
        }
        const groups = pod.spec.securityContext?.fsGroup !== undefined ? `--groups ${pod.spec.securityContext.fsGroup}` : "--clear-groups";
        const wd = ctr.spec.workingDir ?? image.workingDir ?? "/";
        if (root) lines.push(`exec /usr/sbin/chroot --userspec=${ctr.uid}:${ctr.gid} ${shq(root)} /usr/bin/env -C ${shq(wd)} "$@"`);
        else lines.push(`cd ${shq(wd)}`, "unset OLDPWD PWD", `exec /usr/bin/setpriv --reuid ${ctr.uid} --regid ${ctr.gid} ${groups} -- "$@"`);
        return lines.join("\n");
    }

    /** The container's argv by Kubernetes' rules, $(VAR) expanded with its env. */
    private argvOf(ctr: Container, image: ImageSpec): string[] {
        const c = ctr.spec;
        const argv = c.command ? [...c.command, ...(c.args ?? [])] : [...image.entrypoint, ...(c.args ?? image.cmd)];
        if (argv.length === 0) throw new Error(`${c.name}: no command (the image has none and the pod gives none)`);
        return argv.map((a: string) => expandVars(String(a), ctr.env));
    }

    private launch(pod: Pod, ctr: Container): void {
        const image = this.resolve(ctr.spec, pod.workload)!;
        const script = this.setupScript(pod, ctr, image);
        const argv = this.argvOf(ctr, image);
        const fd = fs.openSync(pod.log, "a");
        fs.writeSync(fd, `# container ${ctr.spec.name}${ctr.init ? " (init)" : ""}${ctr.restarts ? ` restart ${ctr.restarts}` : ""}: ${image.note ?? ctr.spec.image} uid ${ctr.uid} gid ${ctr.gid}\n`);
        // The env is the process's own (never on a command line); the setup runs as root, then setpriv drops to the user.
        const proc = spawn("/usr/sbin/ip", ["netns", "exec", pod.ns, "/usr/bin/unshare", "--mount", "--uts", "--propagation", "private", "--",
            "/bin/sh", "-c", script, "sh", ...argv], { env: ctr.env, stdio: ["ignore", fd, fd], detached: true });
        fs.closeSync(fd);
        ctr.proc = proc;
        ctr.pid = proc.pid;
        ctr.exitCode = undefined;
        ctr.exited = new Promise((resolve) => proc.once("exit", (code, signal) => {
            ctr.exitCode = code ?? (signal ? 128 : null);
            fs.appendFileSync(pod.log, `# container ${ctr.spec.name} exited: ${code ?? signal}\n`);
            resolve(ctr.exitCode);
        }));
        proc.unref();
    }

    /** The kubelet's part: startup, then readiness and liveness probes; restarts a container that exits or fails liveness. */
    private async supervise(pod: Pod, ctr: Container): Promise<void> {
        const c = ctr.spec;
        while (!pod.stopping && !pod.stopped) {
            const alive = () => ctr.exitCode === undefined && !pod.stopping && !pod.stopped;
            let started = true;
            if (c.startupProbe) started = await this.probeUntil(pod, ctr, { kind: "startup", spec: c.startupProbe }, alive);
            if (started && alive()) {
                const readiness = c.readinessProbe ? this.readinessLoop(pod, ctr, alive) : (pod.ready = true, Promise.resolve());
                if (!c.readinessProbe && pod.readyAt === undefined) pod.readyAt = Date.now();
                const liveness = c.livenessProbe ? this.livenessLoop(pod, ctr, alive) : ctr.exited!.then(() => false);
                const failed = await liveness;
                pod.ready = false;
                if (failed && alive()) { fs.appendFileSync(pod.log, `# liveness failed: restarting ${c.name}\n`); await this.killContainer(ctr, 0); }
                await readiness;
            } else if (alive()) {
                fs.appendFileSync(pod.log, `# startup probe failed ${c.startupProbe.failureThreshold ?? 3} times: restarting ${c.name}\n`);
                if (pod.readyAt === undefined) {
                    pod.failure ??= `${pod.workload} not Ready within its start budget of ${probeBudgetSeconds(c.startupProbe)}s: the startup probe failed ` +
                        `${c.startupProbe.failureThreshold ?? 3} times; pod ${pod.name}`;
                }
                await this.killContainer(ctr, 0);
            }
            await ctr.exited;
            pod.ready = false;
            if (pod.stopping || pod.stopped) return;
            // restartPolicy Always, with the kubelet's first back-off.
            ctr.restarts++;
            await sleep(10_000);
            if (pod.stopping || pod.stopped || this.closed) return;
            this.launch(pod, ctr);
        }
    }

    private async probeUntil(pod: Pod, ctr: Container, p: Probe, alive: () => boolean): Promise<boolean> {
        await sleep((p.spec.initialDelaySeconds ?? 0) * 1000);
        let failures = 0;
        while (alive()) {
            if (await this.probe(pod, ctr, p)) return true;
            if (++failures >= Math.ceil((p.spec.failureThreshold ?? 3) * this.budgetScale)) return false;
            await sleep((p.spec.periodSeconds ?? 10) * 1000);
        }
        return false;
    }

    private async readinessLoop(pod: Pod, ctr: Container, alive: () => boolean): Promise<void> {
        const p: Probe = { kind: "readiness", spec: ctr.spec.readinessProbe };
        await sleep((p.spec.initialDelaySeconds ?? 0) * 1000);
        let ok = 0;
        let bad = 0;
        while (alive()) {
            if (await this.probe(pod, ctr, p)) {
                bad = 0;
                if (++ok >= (p.spec.successThreshold ?? 1) && !pod.ready) {
                    pod.ready = true;
                    pod.readyAt ??= Date.now();
                    this.net.refreshHosts();
                }
            } else {
                ok = 0;
                if (++bad >= (p.spec.failureThreshold ?? 3) && pod.ready) {
                    pod.ready = false;
                    fs.appendFileSync(pod.log, `# readiness failed ${bad} times: out of the endpoints\n`);
                }
            }
            await sleep((p.spec.periodSeconds ?? 10) * 1000);
        }
    }

    /** Resolves true when liveness failed failureThreshold times in a row, false when the container ended otherwise. */
    private async livenessLoop(pod: Pod, ctr: Container, alive: () => boolean): Promise<boolean> {
        const p: Probe = { kind: "liveness", spec: ctr.spec.livenessProbe };
        await sleep((p.spec.initialDelaySeconds ?? 0) * 1000);
        let bad = 0;
        while (alive()) {
            if (await this.probe(pod, ctr, p)) bad = 0;
            else if (++bad >= (p.spec.failureThreshold ?? 3)) return true;
            await sleep((p.spec.periodSeconds ?? 10) * 1000);
        }
        return false;
    }

    /** One probe: httpGet and tcpSocket from the node (the root namespace) to the pod's address, exec inside the container. */
    private async probe(pod: Pod, ctr: Container, p: Probe): Promise<boolean> {
        const timeout = (p.spec.timeoutSeconds ?? 1) * 1000;
        const port = (x: number | string) => (typeof x === "number" ? x : (ctr.spec.ports ?? []).find((cp: Obj) => cp.name === x)?.containerPort as number);
        if (p.spec.httpGet) {
            const g = p.spec.httpGet;
            return new Promise((resolve) => {
                const req = http.get({ host: pod.ip, port: port(g.port), path: g.path ?? "/", timeout,
                    headers: Object.fromEntries((g.httpHeaders ?? []).map((h: Obj) => [h.name, h.value])) }, (res) => {
                    res.resume();
                    resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
                });
                req.on("timeout", () => { req.destroy(); resolve(false); });
                req.on("error", () => resolve(false));
            });
        }
        if (p.spec.tcpSocket) {
            return new Promise((resolve) => {
                const s = net.connect({ host: pod.ip, port: port(p.spec.tcpSocket.port), timeout });
                s.once("connect", () => { s.destroy(); resolve(true); });
                s.once("timeout", () => { s.destroy(); resolve(false); });
                s.once("error", () => resolve(false));
            });
        }
        if (p.spec.exec) return this.execIn(ctr, p.spec.exec.command, timeout).then((r) => r.status === 0);
        throw new Error(`${pod.workload}: a ${p.kind} probe of a kind not supported here`);
    }

    /** Runs a command in a workload's (first live pod's) main container, as `kubectl exec` does; `env` added to the container's. */
    exec(workload: string, command: readonly string[], timeoutMs = 60_000, env: Record<string, string> = {}): Promise<{ status: number | null; out: string }> {
        const pod = this.pods(workload)[0];
        if (!pod) throw new Error(`${workload} has no running pod`);
        return this.execIn(pod.containers.find((c) => !c.init)!, command, timeoutMs, env);
    }

    /** Runs a command in a running container (its namespaces, root, user and env), as an exec probe or hook does. */
    private async execIn(ctr: Container, command: readonly string[], timeoutMs: number, env: Record<string, string> = {}): Promise<{ status: number | null; out: string }> {
        if (!ctr.pid || ctr.exitCode !== undefined) return { status: null, out: "container not running" };
        return new Promise((resolve) => {
            const child = spawn("/usr/bin/nsenter", ["-t", String(ctr.pid), "-m", "-u", "-n", "-r", "-w", "-S", String(ctr.uid), "-G", String(ctr.gid), "--", ...command],
                { env: { ...ctr.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
            let out = "";
            child.stdout.on("data", (d) => { out += d; });
            child.stderr.on("data", (d) => { out += d; });
            const timer = setTimeout(() => { try { process.kill(-child.pid!, "SIGKILL"); } catch { /* gone */ } }, timeoutMs);
            child.once("exit", (code) => { clearTimeout(timer); resolve({ status: code, out }); });
            child.once("error", () => { clearTimeout(timer); resolve({ status: null, out }); });
        });
    }

    private async killContainer(ctr: Container, graceMs: number): Promise<void> {
        if (!ctr.pid || ctr.exitCode !== undefined) return;
        try { process.kill(-ctr.pid, "SIGTERM"); } catch { /* gone */ }
        const ended = await Promise.race([ctr.exited!.then(() => true), sleep(graceMs).then(() => false)]);
        if (!ended) {
            try { process.kill(-ctr.pid, "SIGKILL"); } catch { /* gone */ }
            await ctr.exited;
        }
    }

    /** Waits for a pod's Ready within its start budget; fails naming the workload with its log tail. */
    private async awaitReady(pod: Pod): Promise<void> {
        const c = pod.spec.containers[0] as Obj;
        const budget = (c.startupProbe ? probeBudgetSeconds(c.startupProbe) : probeBudgetSeconds(c.readinessProbe)) +
            (c.startupProbe && c.readinessProbe ? (c.readinessProbe.initialDelaySeconds ?? 0) + (c.readinessProbe.periodSeconds ?? 10) : 0);
        const scale = this.budgetScale;
        const deadline = pod.startedAt + budget * scale * 1000 + 2000;
        while (!pod.ready) {
            if (Date.now() > deadline) {
                const why = `${pod.workload} not Ready within its start budget of ${budget}s${scale !== 1 ? ` x${scale}` : ""} (startup probe ${c.startupProbe ? probeBudgetSeconds(c.startupProbe) : 0}s` +
                    ` + first readiness period); pod ${pod.name}; load average ${os.loadavg()[0].toFixed(1)}`;
                pod.failure = why;
                await this.stopPod(pod, false);
                throw new Error(`${why}\n--- log tail (${pod.log}) ---\n${tail(pod.log)}`);
            }
            if (pod.stopped) throw new Error(`${pod.workload}: pod ${pod.name} stopped before Ready`);
            // A container that exits before Ready would crash-loop on a cluster (the rollout never completes): said now.
            const exited = pod.containers.find((x) => !x.init && x.exitCode !== undefined && x.restarts === 0);
            if (pod.failure || exited) {
                pod.failure ??= `${pod.workload} not Ready: its container ${exited!.spec.name} exited with ${exited!.exitCode} before Ready (a cluster restarts it: CrashLoopBackOff); pod ${pod.name}`;
                await this.stopPod(pod, false);
                throw new Error(`${pod.failure}\n--- log tail (${pod.log}) ---\n${tail(pod.log)}`);
            }
            await sleep(200);
        }
    }

    private async runJobObject(job: Obj, w?: Workload): Promise<void> {
        const app = job.spec.template.metadata?.labels?.app as string;
        const wl: Workload = w ?? this.workloads.get(app) ?? { name: app, obj: job, kind: "Job", pods: [], seq: 0 };
        if (!this.workloads.has(app)) this.workloads.set(app, wl);
        const backoff = job.spec.backoffLimit ?? 6;
        const deadline = Date.now() + (job.spec.activeDeadlineSeconds ?? 3600) * 1000;
        for (let attempt = 0; attempt <= backoff; attempt++) {
            const pod = await this.createPod(wl, job);
            const codes = await Promise.race([
                Promise.all(pod.containers.filter((c) => !c.init).map((c) => c.exited!)),
                sleep(Math.max(0, deadline - Date.now())).then(() => undefined),
            ]);
            if (codes === undefined) {
                await this.stopPod(pod, false);
                throw new Error(`Job ${job.metadata.name}: past activeDeadlineSeconds\n--- log tail (${pod.log}) ---\n${tail(pod.log)}`);
            }
            await this.stopPod(pod, false);
            if (codes.every((c) => c === 0)) return;
            this.log(`Job ${job.metadata.name}: attempt ${attempt + 1} failed (${codes.join(",")})`);
            if (attempt === backoff) throw new Error(`Job ${job.metadata.name} failed (backoffLimit ${backoff})\n--- log tail (${pod.log}) ---\n${tail(pod.log)}`);
        }
    }

    /** Out of the endpoints, preStop hook (bounded by the grace period), SIGTERM, grace, SIGKILL; then its namespace goes. */
    private async stopPod(pod: Pod, graceful = true): Promise<void> {
        if (pod.stopped) return;
        pod.stopping = true;
        pod.ready = false;
        const grace = (pod.spec.terminationGracePeriodSeconds ?? 30) * 1000;
        const t0 = Date.now();
        if (graceful) {
            await Promise.all(pod.containers.filter((c) => !c.init && c.spec.lifecycle?.preStop?.exec).map((c) =>
                this.execIn(c, c.spec.lifecycle.preStop.exec.command, grace)));
        }
        await Promise.all(pod.containers.map((c) => this.killContainer(c, graceful ? Math.max(0, grace - (Date.now() - t0)) : 0)));
        this.killNamespace(pod);
        pod.stopped = true;
        this.net.removePod(pod.ns);
        this.net.refreshHosts();
    }

    /** Whatever a container left running in the pod's namespace (a daemon such as epmd). */
    private killNamespace(pod: Pod): void {
        const r = spawnSync("/usr/sbin/ip", ["netns", "pids", pod.ns], { encoding: "utf8" });
        for (const pid of (r.stdout ?? "").split(/\s+/).filter(Boolean)) {
            try { process.kill(Number(pid), "SIGKILL"); } catch { /* gone */ }
        }
    }

    /** Kills everything, deletes namespaces, /etc/netns entries, the bridge and the mount points it made. Logs stay. */
    close(): void {
        if (this.closed) return;
        this.closed = true;
        process.removeListener("SIGINT", this.onSignal);
        process.removeListener("SIGTERM", this.onSignal);
        process.removeListener("exit", this.onExit);
        for (const w of this.workloads.values()) {
            for (const pod of w.pods) {
                pod.stopping = true;
                pod.ready = false;
                for (const c of pod.containers) if (c.pid && c.exitCode === undefined) { try { process.kill(-c.pid, "SIGKILL"); } catch { /* gone */ } }
                this.killNamespace(pod);
                pod.stopped = true;
            }
        }
        this.net.close();
        // Mount points made on this machine: only while no other run may use them.
        if (!LocalNetwork.othersAlive(this.net.slot)) {
            for (const d of [...this.createdDirs].reverse()) {
                try {
                    if (fs.statSync(d).isDirectory()) fs.rmdirSync(d);
                    else if (fs.statSync(d).size === 0) fs.rmSync(d);
                } catch { /* in use or gone */ }
            }
        }
        // The pods' volumes and the claims hold generated secrets' files; the logs are the run's artefacts and stay.
        fs.rmSync(path.join(this.runDir, "pods"), { recursive: true, force: true });
        fs.rmSync(path.join(this.runDir, "pvc"), { recursive: true, force: true });
    }
}

/** The rendered objects of a stack with real random generated passwords (seeded: see MockOptions), secrets unwrapped, as the cluster gets them. */
export async function renderObjects(raw: Record<string, string>, stack: string, secretKeys: readonly string[] = [], seed?: string): Promise<Obj[]> {
    const d = await deploy(raw, stack, secretKeys, { realPasswords: seed ?? true });
    return d.k8s.map((r) => structuredClone(r.obj));
}

function podSpec(obj: Obj): Obj {
    return obj.spec.template.spec;
}

function dataOf(o: Obj): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.data ?? {})) out[k] = o.kind === "Secret" ? Buffer.from(String(v), "base64").toString() : String(v);
    for (const [k, v] of Object.entries(o.stringData ?? {})) out[k] = String(v);
    return out;
}

function chmodTree(dir: string, dirMode: number, keepFiles = false): void {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) {
            const m = fs.statSync(p).mode & 0o777;
            fs.chmodSync(p, m | dirMode);
            chmodTree(p, dirMode, keepFiles);
        }
    }
    fs.chmodSync(dir, (fs.statSync(dir).mode & 0o777) | dirMode);
}

/** The jar `npm run apps:build` built for each service (cached by content: seconds when nothing changed). */
export function builtJars(checkout: string, only?: readonly string[]): Record<string, string> {
    // Loaded here: the build module pulls the Gradle model in, which a run that is given jars does not need.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildApps } = require("./app-build") as typeof import("./app-build");
    const runtime = path.resolve(checkout, "..", "egovframe-runtime");
    const out: Record<string, string> = {};
    for (const b of buildApps({ checkout, runtime, ...(only ? { only } : {}), log: (m) => process.stderr.write(`${m}\n`) })) {
        if (b.kind === "service") out[b.module] = b.jar;
    }
    return out;
}

/** Whether this machine can run a local cluster: root, ip, unshare, nsenter, setpriv. */
export function localRunProblems(): string[] {
    const problems: string[] = [];
    if (process.getuid?.() !== 0) problems.push("not root (network namespaces and mounts need it)");
    for (const bin of ["/usr/sbin/ip", "/usr/bin/unshare", "/usr/bin/nsenter", "/usr/bin/setpriv", "/usr/bin/mount"]) {
        if (!fs.existsSync(bin)) problems.push(`${bin} missing`);
    }
    try { execFileSync("java", ["-version"], { stdio: "ignore" }); } catch { problems.push("java (OpenJDK 17) missing"); }
    return problems;
}
