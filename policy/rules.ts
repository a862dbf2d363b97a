// The pack's rules, as plain functions over the objects a stack renders (no engine needed to test them).
import {
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
    UnknownValueError,
} from "@pulumi/policy";
import * as fs from "fs";
import * as path from "path";
import { BUILT_FOR_ANNOTATION, buildMismatches, FrontendBuildValues } from "../config/frontends";
import { isMysqlImage, SUPPORTED_MYSQL, unsupportedMysql } from "../config/mysql";
import { INITIAL_ADMIN_PASSWORD_ENV, opensearchYmlProblems } from "../config/opensearch";
import { imageSupport } from "../config/support";

export type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy };

/* eslint-disable @typescript-eslint/no-explicit-any -- Kubernetes objects arrive as untyped JSON. */
type Obj = Record<string, any>;

/** What the pack needs to know about the stack, read from its config (index.ts). */
export interface StackSettings {
    /** dev | staging | prod. */
    readonly environment?: string;
    /** The Service type the stack's config chose (serviceType). */
    readonly serviceType: string;
    /** false when the stack turned NetworkPolicies off (networkPolicy.enabled), for clusters that do not enforce them. */
    readonly networkPolicy: boolean;
    /** What each frontend (by its pods' app label) must be built for under the stack's config (config/frontends.ts). */
    readonly frontends?: Readonly<Record<string, FrontendBuildValues>>;
    /** The stack's side namespaces by part (config/parts.ts sideNamespaces): where a namespace-bound exception applies. */
    readonly sideNamespaces?: Readonly<Partial<Record<string, string>>>;
    /** Images (by catalog key) past their end of support the stack lets prod run until a date (supportWaivers). */
    readonly supportWaivers?: Readonly<Record<string, { readonly reason: string; readonly until: string } | undefined>>;
}

/** Restricted pod security controls, as named in exceptions.json. */
export const controls = [
    "runAsNonRoot", "seccompProfile", "capabilities", "allowPrivilegeEscalation", "readOnlyRootFilesystem",
    "privileged", "hostNamespaces", "hostPorts", "hostPath",
] as const;
export type Control = (typeof controls)[number];

/** A workload (by its pods' `app` label) allowed to miss some restricted controls, and why. */
export interface PodSecurityException {
    readonly reason: string;
    readonly controls: readonly Control[];
    /** Only in this side namespace of the stack (storage, ci); anywhere else the workload is checked in full. */
    readonly namespace?: string;
}
export type Exceptions = Readonly<Record<string, PodSecurityException>>;

/** Checks exceptions.json: every entry gives a reason and names known controls. */
export function parseExceptions(raw: unknown): Exceptions {
    const problems: string[] = [];
    const out: Record<string, PodSecurityException> = {};
    for (const [app, v] of Object.entries((raw ?? {}) as Obj)) {
        if (app.startsWith("$")) continue; // "$comment"
        const e = v as Obj;
        if (typeof e?.reason !== "string" || e.reason.trim() === "") problems.push(`${app}: a reason is required`);
        const list = Array.isArray(e?.controls) ? e.controls : [];
        const unknown = list.filter((c: unknown) => !(controls as readonly unknown[]).includes(c));
        if (list.length === 0 || unknown.length > 0) {
            problems.push(`${app}: controls must be a non-empty list of ${controls.join(", ")}${unknown.length ? `; unknown: ${unknown.join(", ")}` : ""}`);
        }
        if (e?.namespace !== undefined && (typeof e.namespace !== "string" || !/^[a-z]+$/.test(e.namespace))) {
            problems.push(`${app}: namespace must name a side namespace of the stack (storage, ci)`);
        }
        out[app] = { reason: e?.reason, controls: list, ...(e?.namespace !== undefined ? { namespace: e.namespace } : {}) };
    }
    if (problems.length) throw new Error(`policy/exceptions.json is invalid:\n  - ${problems.join("\n  - ")}`);
    return out;
}

/** policy/exceptions.json: the one list of workloads that may not run fully restricted (the program reads it too). */
export const EXCEPTIONS_FILE = path.join(__dirname, "exceptions.json");
export const listedExceptions: Exceptions = parseExceptions(JSON.parse(fs.readFileSync(EXCEPTIONS_FILE, "utf8")));

// --- reading objects ------------------------------------------------------------------------------

/** Reads a value that may be unknown during preview; undefined then (the value is checked on `up`). */
function known<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (e) {
        if (e instanceof UnknownValueError) return undefined;
        throw e;
    }
}

const podKinds: Readonly<Record<string, (p: Obj) => Obj | undefined>> = {
    "kubernetes:apps/v1:Deployment": (p) => p.spec?.template,
    "kubernetes:apps/v1:StatefulSet": (p) => p.spec?.template,
    "kubernetes:apps/v1:DaemonSet": (p) => p.spec?.template,
    "kubernetes:apps/v1:ReplicaSet": (p) => p.spec?.template,
    "kubernetes:core/v1:ReplicationController": (p) => p.spec?.template,
    "kubernetes:batch/v1:Job": (p) => p.spec?.template,
    "kubernetes:batch/v1:CronJob": (p) => p.spec?.jobTemplate?.spec?.template,
    "kubernetes:core/v1:Pod": (p) => ({ metadata: p.metadata, spec: p.spec }),
};

interface PodTemplate {
    readonly kind: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly spec: Obj;
}

/** The pod template of a pod-bearing object (Deployment, StatefulSet, Job, CronJob, Pod, ...). */
export function podTemplateOf(type: string, props: Obj): PodTemplate | undefined {
    const pick = podKinds[type];
    const t = pick?.(props);
    if (!t?.spec) return undefined;
    return { kind: type.split(":")[2], labels: t.metadata?.labels ?? {}, spec: t.spec };
}

function describe(type: string, props: Obj): string {
    const kind = type.split(":")[2] ?? type;
    const ns = known(() => props.metadata?.namespace);
    return `${kind} ${ns ? `${ns}/` : ""}${known(() => props.metadata?.name) ?? "?"}`;
}

function containersOf(spec: Obj): Array<{ c: Obj; init: boolean }> {
    return [
        ...(spec.initContainers ?? []).map((c: Obj) => ({ c, init: true })),
        ...(spec.containers ?? []).map((c: Obj) => ({ c, init: false })),
    ];
}

function appOf(labels: Readonly<Record<string, string>>): string | undefined {
    return labels.app ?? labels["app.kubernetes.io/name"];
}

/** The environment: the stack's config, else the object's `env` label; unknown counts as prod. */
function environmentOf(settings: StackSettings | undefined, ...labelSets: Array<Obj | undefined>): string {
    if (settings?.environment) return settings.environment;
    for (const l of labelSets) if (typeof l?.env === "string") return l.env;
    return "prod";
}

// --- rules ----------------------------------------------------------------------------------------

/**
 * The controls exceptions.json waives for a workload; a namespace-bound exception only in that side namespace of the
 * stack (never without the stack's settings). A namespace still unknown in preview is checked on `up`.
 */
function waivedControls(exceptions: Exceptions, app: string | undefined, props: Obj, settings?: StackSettings): Set<Control> {
    const e = app !== undefined ? exceptions[app] : undefined;
    if (!e) return new Set();
    if (e.namespace !== undefined) {
        const side = settings?.sideNamespaces?.[e.namespace];
        let ns: unknown;
        let unknownNs = false;
        try {
            ns = props.metadata?.namespace;
        } catch (err) {
            if (!(err instanceof UnknownValueError)) throw err;
            unknownNs = true;
        }
        if (side === undefined || (!unknownNs && ns !== side)) return new Set();
    }
    return new Set(e.controls);
}

/** Restricted pod security (runAsNonRoot, seccomp, no capabilities, ...) unless exceptions.json waives a control. */
export function restrictedPodSecurity(exceptions: Exceptions = listedExceptions, settings?: StackSettings): ResourceValidationPolicy {
    return {
        name: "restricted-pod-security",
        description: "Pods run with the restricted Pod Security Standard and a read-only root filesystem, unless policy/exceptions.json lists the workload.",
        validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
            const pod = podTemplateOf(args.type, args.props);
            if (!pod) return;
            const app = appOf(pod.labels);
            const waived = waivedControls(exceptions, app, args.props, settings);
            const problems: string[] = [];
            const fail = (control: Control, what: string) => { if (!waived.has(control)) problems.push(what); };
            const spec = pod.spec;
            const psc: Obj = spec.securityContext ?? {};
            if (spec.hostNetwork || spec.hostPID || spec.hostIPC) fail("hostNamespaces", "uses the host's network, PID or IPC namespace");
            for (const v of spec.volumes ?? []) if (v.hostPath) fail("hostPath", `volume ${v.name} is a hostPath`);
            for (const { c, init } of containersOf(spec)) {
                const sc: Obj = c.securityContext ?? {};
                const where = `${init ? "init container" : "container"} ${c.name}`;
                const runAsNonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
                const runAsUser = sc.runAsUser ?? psc.runAsUser;
                if (runAsNonRoot !== true || runAsUser === 0) fail("runAsNonRoot", `${where}: runAsNonRoot is not true`);
                const seccomp = (sc.seccompProfile ?? psc.seccompProfile)?.type;
                if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") fail("seccompProfile", `${where}: seccompProfile is not RuntimeDefault`);
                const drop: string[] = sc.capabilities?.drop ?? [];
                const add: string[] = sc.capabilities?.add ?? [];
                if (!drop.includes("ALL") || add.some((a) => a !== "NET_BIND_SERVICE")) {
                    fail("capabilities", `${where}: capabilities do not drop ALL (or add more than NET_BIND_SERVICE)`);
                }
                if (sc.allowPrivilegeEscalation !== false) fail("allowPrivilegeEscalation", `${where}: allowPrivilegeEscalation is not false`);
                if (sc.readOnlyRootFilesystem !== true) fail("readOnlyRootFilesystem", `${where}: readOnlyRootFilesystem is not true`);
                if (sc.privileged === true) fail("privileged", `${where}: privileged`);
                for (const p of c.ports ?? []) if (p.hostPort) fail("hostPorts", `${where}: hostPort ${p.hostPort}`);
            }
            if (problems.length) {
                report(`${describe(args.type, args.props)}${app ? ` (app ${app})` : ""} is not restricted: ${problems.join("; ")}. ` +
                    "Fix the object or list the workload with a reason in policy/exceptions.json.");
            }
        },
    };
}

const resourceNames = ["cpu", "memory", "ephemeral-storage"] as const;

/** cpu, memory and ephemeral-storage requests and limits on every container, init containers included. */
export const containerResources: ResourceValidationPolicy = {
    name: "container-resources",
    description: "Every container, init containers included, requests and limits cpu, memory and ephemeral-storage.",
    validateResource: (args, report) => {
        const pod = podTemplateOf(args.type, args.props);
        if (!pod) return;
        const problems: string[] = [];
        for (const { c, init } of containersOf(pod.spec)) {
            const missing: string[] = [];
            for (const kind of ["requests", "limits"] as const) {
                for (const r of resourceNames) if (c.resources?.[kind]?.[r] === undefined) missing.push(`${kind}.${r}`);
            }
            if (missing.length) problems.push(`${init ? "init container" : "container"} ${c.name} has no ${missing.join(", ")}`);
        }
        if (problems.length) report(`${describe(args.type, args.props)}: ${problems.join("; ")}`);
    },
};

/** The tag of an image reference; "@digest" when pinned by digest; undefined when untagged. */
export function imageTag(image: string): string | undefined {
    if (image.includes("@")) return "@digest";
    const last = image.slice(image.lastIndexOf("/") + 1);
    const i = last.indexOf(":");
    return i < 0 ? undefined : last.slice(i + 1);
}

/** No `latest` or untagged image in prod. */
export function noLatestImageInProd(settings?: StackSettings): ResourceValidationPolicy {
    return {
        name: "no-latest-image-in-prod",
        description: "In prod every image has a fixed tag (or digest): never latest, never untagged.",
        validateResource: (args, report) => {
            const pod = podTemplateOf(args.type, args.props);
            if (!pod || environmentOf(settings, args.props.metadata?.labels, pod.labels) !== "prod") return;
            for (const { c } of containersOf(pod.spec)) {
                const image = known(() => c.image as string);
                if (image === undefined) continue;
                const tag = imageTag(image);
                if (tag === undefined || tag === "latest") {
                    report(`${describe(args.type, args.props)}: container ${c.name} runs ${image}, ${tag ? "tag latest" : "untagged (latest)"}, in prod; use a fixed release tag`);
                }
            }
        },
    };
}

/** No NodePort or LoadBalancer Service in prod unless the stack's serviceType config asks for that type. */
export function noNodeExposureInProd(settings?: StackSettings): ResourceValidationPolicy {
    return {
        name: "no-node-exposure-in-prod",
        description: "In prod, Services are ClusterIP (reached through Ingress) unless the stack's serviceType config chose NodePort.",
        validateResource: (args, report) => {
            if (args.type !== "kubernetes:core/v1:Service") return;
            const type = args.props.spec?.type ?? "ClusterIP";
            if (type !== "NodePort" && type !== "LoadBalancer") return;
            if (environmentOf(settings, args.props.metadata?.labels) !== "prod") return;
            if (settings?.serviceType === type) return;
            report(`${describe(args.type, args.props)} is a ${type} Service in prod, but the stack's serviceType config is ${settings?.serviceType ?? "unknown"}`);
        },
    };
}

const SECRET_WORDS = new Set(["password", "passwd", "pwd", "pass", "secret", "token", "key", "apikey", "credential", "credentials", "privatekey"]);
/** Names that only point at a secret (a file, a Secret's name, a URL) rather than hold one. */
const REFERENCE_WORDS = new Set(["file", "path", "dir", "url", "uri", "endpoint", "host", "hostname", "port", "name", "ref", "length", "enabled", "type"]);
const FLAG = /^(true|false|yes|no|on|off|0|1)$/i;

/** Does a ConfigMap key or env name look like it holds a secret (PASSWORD, tokenSecret, api-key, ...)? */
export function secretLikeName(name: string): boolean {
    const words = name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
    if (words.length === 0 || REFERENCE_WORDS.has(words[words.length - 1])) return false;
    return words.some((w) => SECRET_WORDS.has(w));
}

/** No literal value under a secret-like name in a ConfigMap or a container's env: they belong in a Secret. */
export const noSecretInPlainConfig: ResourceValidationPolicy = {
    name: "no-secret-in-plain-config",
    description: "ConfigMap keys and env variables named like secrets (password, secret, token, key) take their value from a Secret, never a literal.",
    validateResource: (args, report) => {
        const where = describe(args.type, args.props);
        if (args.type === "kubernetes:core/v1:ConfigMap") {
            for (const field of ["data", "binaryData"]) {
                for (const key of Object.keys(args.props[field] ?? {})) {
                    const value = known(() => args.props[field][key]);
                    if (secretLikeName(key) && typeof value === "string" && value !== "" && !FLAG.test(value)) {
                        report(`${where}: key ${key} looks like a secret; put it in a Secret`);
                    }
                }
            }
            return;
        }
        const pod = podTemplateOf(args.type, args.props);
        if (!pod) return;
        for (const { c } of containersOf(pod.spec)) {
            for (const e of c.env ?? []) {
                const value = known(() => e.value);
                if (secretLikeName(e.name) && typeof value === "string" && value !== "" && !FLAG.test(value)) {
                    report(`${where}: container ${c.name} sets ${e.name} to a literal value; use valueFrom.secretKeyRef`);
                }
            }
        }
    },
};

const GENERATORS = new Set([
    "random:index/randomPassword:RandomPassword", "random:index/randomString:RandomString",
    "random:index/randomBytes:RandomBytes", "random:index/randomUuid:RandomUuid",
]);
const MIN_SECRET_LENGTH = 8;

/** Every generated or Secret-held value of the stack, by where it comes from (values shorter than 8 characters are ignored). */
function secretValues(resources: readonly PolicyResource[]): Map<string, string> {
    const out = new Map<string, string>();
    const add = (v: unknown, from: string) => { if (typeof v === "string" && v.length >= MIN_SECRET_LENGTH) out.set(v, from); };
    for (const r of resources) {
        if (GENERATORS.has(r.type)) {
            for (const f of ["result", "base64", "hex"]) add(known(() => r.props[f]), `${r.type.split(":")[2]} ${r.name}`);
        } else if (r.type === "kubernetes:core/v1:Secret") {
            const from = describe(r.type, r.props);
            for (const k of Object.keys(known(() => r.props.stringData) ?? {})) {
                if (secretLikeName(k)) add(known(() => r.props.stringData[k]), `${from} key ${k}`);
            }
            for (const k of Object.keys(known(() => r.props.data) ?? {})) {
                const v = known(() => r.props.data[k]);
                if (secretLikeName(k) && typeof v === "string") add(Buffer.from(v, "base64").toString("utf8"), `${from} key ${k}`);
            }
        }
    }
    return out;
}

/** No generated secret (a random password, a Secret's value) copied into a ConfigMap or a literal env value. */
export const noGeneratedSecretInPlainConfig: StackValidationPolicy = {
    name: "no-generated-secret-in-plain-config",
    description: "The value of a generated secret (random password, Secret data) never appears in a ConfigMap or a literal env value, whatever its name.",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
        const secrets = secretValues(args.resources);
        if (secrets.size === 0) return;
        const leak = (text: unknown) => {
            if (typeof text !== "string") return undefined;
            for (const [v, from] of secrets) if (text.includes(v)) return from;
            return undefined;
        };
        for (const r of args.resources) {
            const where = describe(r.type, r.props);
            if (r.type === "kubernetes:core/v1:ConfigMap") {
                for (const k of Object.keys(known(() => r.props.data) ?? {})) {
                    const from = leak(known(() => r.props.data[k]));
                    if (from) report(`${where}: key ${k} holds the value of ${from}; reference the Secret instead`, r.urn);
                }
                continue;
            }
            const pod = known(() => podTemplateOf(r.type, r.props));
            if (!pod) continue;
            for (const { c } of containersOf(pod.spec)) {
                for (const e of c.env ?? []) {
                    const from = leak(known(() => e.value));
                    if (from) report(`${where}: container ${c.name} env ${e.name} holds the value of ${from} as a literal; use valueFrom.secretKeyRef`, r.urn);
                }
            }
        }
    },
};

/** Does a label selector (matchLabels + matchExpressions) select these labels? */
export function selects(selector: Obj | undefined, labels: Readonly<Record<string, string>>): boolean {
    if (!selector) return false;
    for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
    for (const e of selector.matchExpressions ?? []) {
        const has = Object.prototype.hasOwnProperty.call(labels, e.key);
        const values: string[] = e.values ?? [];
        switch (e.operator) {
            case "In": if (!has || !values.includes(labels[e.key])) return false; break;
            case "NotIn": if (has && values.includes(labels[e.key])) return false; break;
            case "Exists": if (!has) return false; break;
            case "DoesNotExist": if (has) return false; break;
            default: return false;
        }
    }
    return true;
}

function policyTypesOf(np: Obj): string[] {
    if (Array.isArray(np.spec?.policyTypes) && np.spec.policyTypes.length) return np.spec.policyTypes;
    return np.spec?.egress ? ["Ingress", "Egress"] : ["Ingress"];
}

/** Every pod is selected by a NetworkPolicy for ingress and for egress, unless the stack turned NetworkPolicies off. */
export function podsSelectedByNetworkPolicy(settings?: StackSettings): StackValidationPolicy {
    return {
        name: "pods-selected-by-network-policy",
        description: "Every pod (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod) is selected by a NetworkPolicy for both ingress and egress, unless the stack's networkPolicy.enabled is false.",
        validateStack: (args, report) => {
            if (settings?.networkPolicy === false) return;
            const policies = args.resources.filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy").map((r) => r.props);
            for (const r of args.resources) {
                const pod = known(() => podTemplateOf(r.type, r.props));
                if (!pod) continue;
                const ns = known(() => r.props.metadata?.namespace);
                const covering = policies.filter((np) => known(() => np.metadata?.namespace) === ns && known(() => selects(np.spec?.podSelector, pod.labels)));
                const missing = ["Ingress", "Egress"].filter((d) => !covering.some((np) => policyTypesOf(np).includes(d)));
                if (missing.length) {
                    report(`${describe(r.type, r.props)}: its pods are selected by no NetworkPolicy for ${missing.join(" and ").toLowerCase()}`, r.urn);
                }
            }
        },
    };
}

/** How many pods a workload may run at once: its replicas, its autoscaler's maximum, a Job's parallelism. */
function maxPods(r: PolicyResource, hpas: readonly Obj[]): number {
    const kind = r.type.split(":")[2];
    const name = known(() => r.props.metadata?.name);
    const ns = known(() => r.props.metadata?.namespace);
    if (kind === "DaemonSet") return Number.POSITIVE_INFINITY;
    let n: number;
    if (kind === "Job") n = known(() => r.props.spec?.parallelism) ?? 1;
    else if (kind === "CronJob") n = known(() => r.props.spec?.jobTemplate?.spec?.parallelism) ?? 1;
    else if (kind === "Pod") n = 1;
    else n = known(() => r.props.spec?.replicas) ?? 1;
    for (const h of hpas) {
        const ref = known(() => h.spec?.scaleTargetRef);
        if (ref?.kind === kind && ref?.name === name && known(() => h.metadata?.namespace) === ns) {
            n = Math.max(n, known(() => h.spec?.maxReplicas) ?? n);
        }
    }
    return n;
}

/** No ReadWriteOnce claim that several pods can mount: by two workloads, or by one with more than one replica. */
export const noSharedReadWriteOnceVolume: StackValidationPolicy = {
    name: "no-shared-readwriteonce-volume",
    description: "A ReadWriteOnce claim is mounted by one workload that runs at most one pod (replicas, autoscaler maximum, parallelism).",
    validateStack: (args, report) => {
        const hpas = args.resources.filter((r) => r.type === "kubernetes:autoscaling/v2:HorizontalPodAutoscaler" ||
            r.type === "kubernetes:autoscaling/v1:HorizontalPodAutoscaler").map((r) => r.props);
        const claims = args.resources.filter((r) => r.type === "kubernetes:core/v1:PersistentVolumeClaim");
        for (const claim of claims) {
            const modes: string[] = known(() => claim.props.spec?.accessModes) ?? [];
            const rwo = modes.some((m) => m === "ReadWriteOnce" || m === "ReadWriteOncePod") &&
                !modes.some((m) => m === "ReadWriteMany" || m === "ReadOnlyMany");
            const name = known(() => claim.props.metadata?.name);
            if (!rwo || name === undefined) continue;
            const ns = known(() => claim.props.metadata?.namespace);
            const users = args.resources.filter((r) => {
                const pod = known(() => podTemplateOf(r.type, r.props));
                if (!pod) return false;
                const rns = known(() => r.props.metadata?.namespace);
                return (ns === undefined || rns === undefined || rns === ns) &&
                    (pod.spec.volumes ?? []).some((v: Obj) => known(() => v.persistentVolumeClaim?.claimName) === name);
            });
            const where = describe(claim.type, claim.props);
            if (users.length > 1) {
                report(`${where} is ReadWriteOnce but mounted by ${users.length} workloads: ${users.map((u) => describe(u.type, u.props)).join(", ")}`, claim.urn);
                continue;
            }
            if (users.length === 1) {
                const n = maxPods(users[0], hpas);
                if (n > 1) report(`${where} is ReadWriteOnce but ${describe(users[0].type, users[0].props)} can run ${n === Infinity ? "one pod per node" : `${n} pods`}`, claim.urn);
            }
        }
    },
};

/**
 * A frontend image built for another API address or public URL than the stack's (the pods' built-for annotation,
 * from frontends.lock.json, against config/frontends.ts): its pages would call another stack. Mandatory in prod,
 * advisory elsewhere. Images of unknown build (the published ones) are the program's warning, not this rule's.
 */
export function frontendBuiltForStack(settings?: StackSettings): ResourceValidationPolicy {
    return {
        name: "frontend-built-for-stack",
        description: "Frontend images are built for this stack's gateway address, public hosts, site and time zone (npm run frontends).",
        enforcementLevel: settings?.environment === "prod" ? "mandatory" : "advisory",
        validateResource: (args, report) => {
            const pod = podTemplateOf(args.type, args.props);
            const app = pod && appOf(pod.labels);
            const wanted = app !== undefined ? settings?.frontends?.[app] : undefined;
            if (!pod || !wanted) return;
            const raw = known(() => args.props.spec?.template?.metadata?.annotations?.[BUILT_FOR_ANNOTATION] as string | undefined);
            if (raw === undefined || raw === "unknown") return;
            let built: FrontendBuildValues;
            try {
                built = JSON.parse(raw) as FrontendBuildValues;
            } catch {
                report(`${describe(args.type, args.props)}: annotation ${BUILT_FOR_ANNOTATION} is not JSON: ${raw}`);
                return;
            }
            const diff = buildMismatches(built, wanted);
            if (diff.length) {
                const image = known(() => pod.spec.containers?.[0]?.image as string) ?? "?";
                report(`${describe(args.type, args.props)} runs ${image}, built for ${diff.join(", ")}; rebuild: npm run frontends -- --stack <stack>`);
            }
        },
    };
}

/**
 * Every container running a MySQL server image runs a supported series (config/mysql.ts SUPPORTED_MYSQL: 8.4
 * LTS), whose settings the platform renders and checks. Mandatory in prod (and without the stack's settings),
 * advisory elsewhere. The clients (backup, drill, migration, rotation) run the same image, so they are held too.
 */
export function supportedMysql(settings?: StackSettings): ResourceValidationPolicy {
    return {
        name: "supported-mysql",
        description: `MySQL runs a supported series: ${SUPPORTED_MYSQL.map((s) => `${s.series} LTS`).join(", ")} (images.mysql).`,
        enforcementLevel: (settings?.environment ?? "prod") === "prod" ? "mandatory" : "advisory",
        validateResource: (args, report) => {
            const pod = podTemplateOf(args.type, args.props);
            if (!pod) return;
            for (const { c, init } of containersOf(pod.spec)) {
                const image = known(() => c.image as string);
                if (image === undefined || !isMysqlImage(image)) continue;
                const why = unsupportedMysql(image);
                if (why) report(`${describe(args.type, args.props)}: ${init ? "init container" : "container"} ${c.name} runs ${image}: ${why}; set images.mysql`);
            }
        },
    };
}

/** The repository of an image reference, without registry host, tag or digest: docker.io/opensearchproject/opensearch:2.19.3 -> opensearchproject/opensearch. */
function repositoryOf(image: string): string {
    const noDigest = image.split("@")[0];
    const slash = noDigest.lastIndexOf("/");
    const colon = noDigest.lastIndexOf(":");
    const repo = colon > slash ? noDigest.slice(0, colon) : noDigest;
    const parts = repo.split("/");
    return (parts.length > 1 && /[.:]|^localhost$/.test(parts[0]) ? parts.slice(1) : parts).join("/");
}

/** An OpenSearch server image (not Dashboards): the repository's last part is `opensearch`. */
export function isOpenSearchImage(image: string): boolean {
    return repositoryOf(image).split("/").pop() === "opensearch";
}

/**
 * OpenSearch runs with its security plugin: the initial admin password the image requires (2.12+) comes from a
 * Secret, never a plain value; the demo configuration (public certificates, well-known passwords) is not installed;
 * the plugin is not disabled; the opensearch.yml a ConfigMap carries keeps TLS on, with certificates of its own.
 * Mandatory in every environment: an OpenSearch without it is open to every pod that reaches it.
 */
export const opensearchSecured: ResourceValidationPolicy = {
    name: "opensearch-secured",
    description: "OpenSearch runs its security plugin with TLS and its own certificates, and its initial admin password comes from a Secret.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        if (args.type === "kubernetes:core/v1:ConfigMap") {
            const yml = known(() => args.props.data?.["opensearch.yml"] as string | undefined);
            if (typeof yml === "string") for (const p of opensearchYmlProblems(yml)) report(`${describe(args.type, args.props)}: opensearch.yml: ${p}`);
            return;
        }
        const pod = podTemplateOf(args.type, args.props);
        if (!pod) return;
        for (const { c } of containersOf(pod.spec)) {
            const image = known(() => c.image as string);
            if (image === undefined || !isOpenSearchImage(image)) continue;
            // The snapshot job runs the same image as a client (curl): it starts no server.
            if ((c.command ?? []).length > 0) continue;
            const env = new Map<string, Obj>(((c.env ?? []) as Obj[]).map((e) => [e.name as string, e]));
            const where = `${describe(args.type, args.props)}: container ${c.name} (${image})`;
            const password = env.get(INITIAL_ADMIN_PASSWORD_ENV);
            if (!password) report(`${where}: OPENSEARCH_INITIAL_ADMIN_PASSWORD is not set; the image requires it (2.12+): set it from a generated Secret`);
            else if (!password.valueFrom?.secretKeyRef) report(`${where}: OPENSEARCH_INITIAL_ADMIN_PASSWORD is a plain value; take it from a Secret (secretKeyRef)`);
            if (known(() => env.get("DISABLE_SECURITY_PLUGIN")?.value) === "true") report(`${where}: DISABLE_SECURITY_PLUGIN=true turns the security plugin off`);
            if (known(() => env.get("plugins.security.disabled")?.value) === "true") report(`${where}: plugins.security.disabled=true turns the security plugin off`);
            if (known(() => env.get("DISABLE_INSTALL_DEMO_CONFIG")?.value) !== "true") {
                report(`${where}: DISABLE_INSTALL_DEMO_CONFIG is not "true": the image installs its demo certificates and users`);
            }
        }
    },
};

/** Today as YYYY-MM-DD (UTC), the day end-of-support dates are compared with. */
const todayUtc = () => new Date().toISOString().slice(0, 10);

/** Each container's image with its support (config/support.ts), once per image per object. */
function supportOfContainers(args: ResourceValidationArgs, today: string, each: (image: string, s: ReturnType<typeof imageSupport>) => void): void {
    const pod = podTemplateOf(args.type, args.props);
    if (!pod) return;
    const seen = new Set<string>();
    for (const { c } of containersOf(pod.spec)) {
        const image = known(() => c.image as string);
        if (image === undefined || seen.has(image)) continue;
        seen.add(image);
        each(image, imageSupport(image, today));
    }
}

/**
 * No component image past its end of support (config/support.ts, docs/support.md): mandatory in prod (and without
 * the stack's settings), advisory elsewhere. A waiver of the stack (supportWaivers) takes its image to the advisory
 * rule until its date; an image or series the table does not know is the advisory rule's too.
 */
export function supportedComponents(settings?: StackSettings, today: string = todayUtc()): ResourceValidationPolicy {
    return {
        name: "supported-components",
        description: "Every component image runs a series within its end of support (config/support.ts, docs/support.md).",
        enforcementLevel: (settings?.environment ?? "prod") === "prod" ? "mandatory" : "advisory",
        validateResource: (args, report) => supportOfContainers(args, today, (image, s) => {
            if (s.status !== "ended") return;
            const waiver = settings?.supportWaivers?.[s.key];
            if (waiver && waiver.until >= today) return;
            report(`${describe(args.type, args.props)} runs ${image}: ${s.why}; set images.${s.key} to a supported series (docs/support.md)` +
                (waiver ? ` (its waiver lapsed on ${waiver.until})` : ""));
        }),
    };
}

/** What the support table cannot vouch for: reported, never blocking. */
export function componentSupportUnknown(today: string = todayUtc()): ResourceValidationPolicy {
    return {
        name: "component-support-unknown",
        description: "Component images whose end of support the support table does not know (advisory).",
        enforcementLevel: "advisory",
        validateResource: (args, report) => supportOfContainers(args, today, (image, s) => {
            // The platform's own images (and the frontends built from them) are versioned with the platform.
            if (/(^|\/)egovframe-msa-edu-[^/:@]+(:|@|$)/.test(image)) return;
            if (s.status === "unknown") report(`${describe(args.type, args.props)} runs ${image}: end of support unknown (${s.why})`);
        }),
    };
}


const INGRESS_TYPE = "kubernetes:networking.k8s.io/v1:Ingress";
const HTTPROUTE_TYPE = /^kubernetes:gateway\.networking\.k8s\.io\/v1(beta1)?:HTTPRoute$/;

/**
 * The public routes, Ingress or Gateway API HTTPRoute (ingress.kind): each names its hosts (one without takes every host
 * its controller or listener serves), and in prod each is served over TLS: an Ingress lists its hosts under spec.tls; an
 * HTTPRoute, whose TLS terminates at the Gateway, attaches only to named listeners (sectionName), not to every listener
 * of its Gateway, plain HTTP included.
 */
export function publicRoutes(settings?: StackSettings): ResourceValidationPolicy {
    return {
        name: "public-routes",
        description: "Every Ingress rule and HTTPRoute names its hosts; in prod an Ingress has TLS for each host and an HTTPRoute attaches to named (TLS) listeners of its Gateway.",
        validateResource: (args, report) => {
            const isIngress = args.type === INGRESS_TYPE;
            if (!isIngress && !HTTPROUTE_TYPE.test(args.type)) return;
            const spec = known(() => args.props.spec as Obj | undefined);
            if (spec === undefined) return;
            const prod = environmentOf(settings, args.props.metadata?.labels) === "prod";
            if (isIngress) {
                const hosts = ((spec.rules ?? []) as Obj[]).map((r) => r.host as string | undefined);
                if (hosts.length === 0 || hosts.some((h) => !h)) report(`${describe(args.type, args.props)}: a rule without a host takes every host of the controller; name the host`);
                if (!prod) return;
                const tlsHosts = new Set(((spec.tls ?? []) as Obj[]).flatMap((t) => (t.hosts ?? []) as string[]));
                const plain = hosts.filter((h): h is string => !!h && !tlsHosts.has(h));
                if (plain.length > 0) report(`${describe(args.type, args.props)}: host(s) ${plain.join(", ")} without TLS in prod; set ingress.tlsSecretName or tls`);
                return;
            }
            const hostnames = (spec.hostnames ?? []) as string[];
            if (hostnames.length === 0) report(`${describe(args.type, args.props)}: no hostnames, so it takes every host of its Gateway's listeners; name the host`);
            if (!prod) return;
            const unbound = ((spec.parentRefs ?? []) as Obj[]).filter((p) => !p.sectionName).map((p) => p.name as string);
            if (unbound.length > 0 || (spec.parentRefs ?? []).length === 0) {
                report(`${describe(args.type, args.props)}: attached to ${unbound.length > 0 ? `every listener of Gateway ${unbound.join(", ")}` : "no Gateway"} in prod, ` +
                    "plain HTTP included; set ingress.gateway.sectionName to the Gateway's HTTPS listener");
            }
        },
    };
}
/** Every rule, for a stack with these settings. */
export function allPolicies(settings?: StackSettings, exceptions: Exceptions = listedExceptions): Array<ResourceValidationPolicy | StackValidationPolicy> {
    return [
        restrictedPodSecurity(exceptions, settings),
        containerResources,
        noLatestImageInProd(settings),
        podsSelectedByNetworkPolicy(settings),
        noSharedReadWriteOnceVolume,
        noNodeExposureInProd(settings),
        noSecretInPlainConfig,
        noGeneratedSecretInPlainConfig,
        frontendBuiltForStack(settings),
        supportedMysql(settings),
        opensearchSecured,
        supportedComponents(settings),
        componentSupportUnknown(),
        publicRoutes(settings),
    ];
}
