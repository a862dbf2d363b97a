// What a cluster admin applies for a namespace-scoped stack (clusterScoped: false): the objects the stack does not
// create (cluster-scoped ones, and the NFS driver's and CI agents' namespaces) and the Role its identity needs,
// derived from the objects the stack does create. `npm run render` writes them under _admin/.
import { stringify } from "yaml";
import { deploy, Deployed, kindOf, Obj } from "./mocked-run";
import { objectPath, redactedObject, renderFiles } from "./render";
import { DEPLOYER, SUBJECT_HELP } from "./admin-names";

/** Who deploys the stack: the RoleBinding's subject. */
export interface Subject {
    readonly kind: "ServiceAccount" | "User" | "Group";
    readonly name: string;
    /** A ServiceAccount's namespace. */
    readonly namespace?: string;
}

export { DEPLOYER, SUBJECT_HELP };

/** --subject: `serviceaccount:[NS/]NAME`, `user:NAME` or `group:NAME`; a ServiceAccount defaults to the stack's namespace. */
export function parseSubject(text: string, namespace: string): Subject {
    const m = /^(serviceaccount|user|group):(?:([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/)?(\S+)$/i.exec(text);
    if (!m || (m[2] && m[1].toLowerCase() !== "serviceaccount")) throw new Error(`--subject ${JSON.stringify(text)}: expected ${SUBJECT_HELP}`);
    const kinds: Record<string, Subject["kind"]> = { serviceaccount: "ServiceAccount", user: "User", group: "Group" };
    const kind = kinds[m[1].toLowerCase()];
    if (kind === "ServiceAccount" && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(m[4])) {
        throw new Error(`--subject ${JSON.stringify(text)}: a ServiceAccount name is a DNS subdomain (lower case)`);
    }
    return kind === "ServiceAccount" ? { kind, name: m[4], namespace: m[2] ?? namespace } : { kind, name: m[4] };
}

export interface PolicyRule {
    readonly apiGroups: string[];
    readonly resources: string[];
    readonly verbs: string[];
    readonly resourceNames?: string[];
}

/** The API resource of a kind: the group of its apiVersion and the plural Kubernetes derives from the kind. */
export function resourceOf(obj: Obj): { group: string; resource: string } {
    const apiVersion = String(obj.apiVersion);
    const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
    const lower = String(obj.kind).toLowerCase();
    const resource = /[^aeiou]y$/.test(lower) ? `${lower.slice(0, -1)}ies` : /(s|x|ch|sh)$/.test(lower) ? `${lower}es` : `${lower}s`;
    return { group, resource };
}

/** What the provider does to every object of the stack: create, read (refresh, diff), update (patch: server-side apply) and delete. */
const MANAGE = ["get", "list", "watch", "create", "update", "patch", "delete"];
/**
 * What the provider reads without creating it: its readiness checks follow a Deployment's ReplicaSets and pods, a
 * StatefulSet's and a Job's pods, a Service's endpoints, and report the objects' events.
 */
const AWAIT_READS: readonly PolicyRule[] = [
    { apiGroups: [""], resources: ["events", "pods", "endpoints"], verbs: ["get", "list", "watch"] },
    { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["get", "list", "watch"] },
    { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
];

/** One rule per API group and verb set (resources sorted), after uniting each resource's verbs: short for a reviewer. */
const merge = (rules: readonly PolicyRule[]): PolicyRule[] => {
    const verbs = new Map<string, Set<string>>();
    for (const r of rules) {
        for (const group of r.apiGroups) {
            for (const resource of r.resources) {
                const key = JSON.stringify([group, resource, r.resourceNames ?? null]);
                verbs.set(key, new Set([...(verbs.get(key) ?? []), ...r.verbs]));
            }
        }
    }
    const grouped = new Map<string, PolicyRule>();
    for (const [key, vs] of [...verbs.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        const [group, resource, names] = JSON.parse(key) as [string, string, string[] | null];
        const v = [...vs].sort();
        const gk = JSON.stringify([group, v, names]);
        const rule = grouped.get(gk) ?? { apiGroups: [group], resources: [], verbs: v, ...(names ? { resourceNames: names } : {}) };
        rule.resources.push(resource);
        grouped.set(gk, rule);
    }
    return [...grouped.values()];
};

/**
 * The deployer's rules: every kind the stack creates (all in its namespace), the provider's reads, and the rules of
 * every Role the stack creates (the API server lets an identity grant only what it holds itself).
 */
export function deployerRules(stackObjects: readonly Obj[]): PolicyRule[] {
    const rules: PolicyRule[] = [...AWAIT_READS];
    for (const o of stackObjects) {
        const { group, resource } = resourceOf(o);
        rules.push({ apiGroups: [group], resources: [resource], verbs: MANAGE });
        if (o.kind === "Role") rules.push(...(o.rules as PolicyRule[]));
    }
    return merge(rules);
}

/** The Role, its binding and (for a ServiceAccount of the stack's namespace) the account: what the admin grants the stack. */
export function deployerObjects(stackObjects: readonly Obj[], namespace: string, subject: Subject, labels: Record<string, string>): Obj[] {
    const metadata = { name: DEPLOYER, namespace, labels: { ...labels, app: DEPLOYER } };
    const objs: Obj[] = [];
    if (subject.kind === "ServiceAccount" && subject.namespace === namespace) {
        objs.push({ apiVersion: "v1", kind: "ServiceAccount", metadata: { ...metadata, name: subject.name } });
    }
    objs.push({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata, rules: deployerRules(stackObjects) });
    objs.push({
        apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata,
        subjects: [subject.kind === "ServiceAccount" ? { kind: subject.kind, name: subject.name, namespace: subject.namespace }
            : { apiGroup: "rbac.authorization.k8s.io", kind: subject.kind, name: subject.name }],
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: DEPLOYER },
    });
    return objs;
}

/** Whether every object a run renders is in `namespace`: the stack creates nothing cluster-scoped and nothing beside it. */
export function namespaceScoped(d: Deployed, namespace: string): boolean {
    return d.k8s.every((r) => r.obj.metadata?.namespace === namespace);
}

/**
 * The _admin/ tree, by relative path: from `full` (the same stack rendered cluster-scoped) every object outside the
 * stack's namespace, and the deployer's Role, binding and account for the objects of `scoped` (the stack as it is).
 */
export function adminFiles(full: Deployed, scoped: Deployed, namespace: string, subject: Subject, stack: string): Map<string, string> {
    const files = new Map<string, string>();
    const put = (obj: Obj, source: string) => {
        const file = `_admin/${objectPath(obj)}`;
        if (files.has(file)) throw new Error(`render: two objects map to ${file}`);
        if (obj.kind === "Secret") throw new Error(`render: the admin's objects would include Secret ${obj.metadata.name}`);
        files.set(file, `# ${source} of stack ${stack} (npm run render): the cluster admin applies _admin/ before the stack's first up\n` +
            stringify(obj, { lineWidth: 0 }));
    };
    for (const r of full.k8s) {
        if (r.obj.metadata?.namespace === namespace) continue;
        put(redactedObject(r, stack), `${r.type} "${r.name}"`);
    }
    const labels = (full.k8s.find((r) => kindOf(r) === "Namespace" && r.obj.metadata?.name === namespace)?.obj.metadata?.labels ?? {}) as Record<string, string>;
    // The admin's objects, not the stack's: no managed-by label, no Pod Security level.
    const common = Object.fromEntries(Object.entries(labels).filter(([k]) => !k.startsWith("pod-security.kubernetes.io/") && k !== "app.kubernetes.io/managed-by"));
    for (const o of deployerObjects(scoped.k8s.map((r) => r.obj), namespace, subject, common)) put(o, `the deployer's ${o.kind}`);
    return files;
}

/**
 * The stack's files and, when it is namespace-scoped, the admin's under _admin/ (from a second run of the same config
 * with clusterScoped on). `subject`: the --subject text, default the ServiceAccount egov-platform-deployer.
 */
export async function renderStack(raw: Record<string, string>, stack: string, secretKeys: readonly string[], subject?: string):
    Promise<{ files: Map<string, string>; admin: number }> {
    const scoped = await deploy(raw, stack, secretKeys);
    const files = renderFiles(scoped, stack);
    const namespace = String(scoped.exports.namespace);
    if (!namespaceScoped(scoped, namespace)) {
        if (subject !== undefined) throw new Error(`--subject: stack ${stack} is not namespace-scoped (set clusterScoped: false), so there is no Role to bind`);
        return { files, admin: 0 };
    }
    const who = parseSubject(subject ?? `serviceaccount:${DEPLOYER}`, namespace);
    const full = await deploy({ ...raw, clusterScoped: "true", createNamespace: "true" }, stack, secretKeys);
    const admin = adminFiles(full, scoped, namespace, who, stack);
    return { files: new Map([...files, ...admin].sort(([a], [b]) => a.localeCompare(b))), admin: admin.size };
}
