// A small NetworkPolicy evaluator (networking.k8s.io/v1 semantics) over rendered objects, so tests can ask
// "may pod A open a connection to pod B on port P?" without a cluster that enforces policies.
// Not modelled: pod IPs (ipBlock peers match only the IP destinations given to `allows`), SCTP, and the
// node-to-pod traffic of kubelet probes (CNIs allow it outside policy).
import { Obj } from "./harness";

export interface Pod {
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    /** Container ports, to resolve named ports. */
    readonly ports?: ReadonlyArray<{ name?: string; containerPort: number; protocol?: string }>;
}
/** Either a pod or an address outside the pod network (API server, external host). */
export type Endpoint = Pod | { readonly ip: string };
export type Protocol = "TCP" | "UDP";

const isPod = (e: Endpoint): e is Pod => (e as Pod).labels !== undefined;

function matchesSelector(sel: Obj | undefined, labels: Readonly<Record<string, string>>): boolean {
    if (!sel) return true;
    const ml = sel.matchLabels ?? {};
    if (!Object.entries(ml).every(([k, v]) => labels[k] === v)) return false;
    for (const ex of (sel.matchExpressions ?? []) as Obj[]) {
        const has = ex.key in labels;
        const v = labels[ex.key];
        const ok = ex.operator === "In" ? has && ex.values.includes(v)
            : ex.operator === "NotIn" ? !has || !ex.values.includes(v)
                : ex.operator === "Exists" ? has
                    : ex.operator === "DoesNotExist" ? !has : false;
        if (!ok) return false;
    }
    return true;
}

const namespaceLabels = (ns: string) => ({ "kubernetes.io/metadata.name": ns });

function ipToInt(ip: string): number {
    return ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}
function inCidr(ip: string, cidr: string): boolean {
    const [base, bits] = cidr.split("/");
    const b = Number(bits);
    if (b === 0) return true;
    const mask = 2 ** 32 - 2 ** (32 - b);
    return (ipToInt(ip) & mask) >>> 0 === (ipToInt(base) & mask) >>> 0;
}

/** Whether a rule's peer list admits `peer`, for a policy in `policyNs`. */
function peerMatches(peers: Obj[] | undefined, peer: Endpoint, policyNs: string): boolean {
    if (!peers || peers.length === 0) return true;
    return peers.some((p) => {
        if (p.ipBlock) {
            if (isPod(peer)) return false;
            return inCidr(peer.ip, p.ipBlock.cidr) && !(p.ipBlock.except ?? []).some((c: string) => inCidr(peer.ip, c));
        }
        if (!isPod(peer)) return false;
        const nsOk = p.namespaceSelector ? matchesSelector(p.namespaceSelector, namespaceLabels(peer.namespace)) : peer.namespace === policyNs;
        const podOk = p.podSelector ? matchesSelector(p.podSelector, peer.labels) : true;
        return nsOk && podOk;
    });
}

function portMatches(ports: Obj[] | undefined, port: number, protocol: Protocol, dest: Endpoint): boolean {
    if (!ports || ports.length === 0) return true;
    return ports.some((p) => {
        if ((p.protocol ?? "TCP") !== protocol) return false;
        if (p.port === undefined) return true;
        let n: number | undefined = typeof p.port === "number" ? p.port : undefined;
        if (typeof p.port === "string") {
            n = isPod(dest) ? dest.ports?.find((cp) => cp.name === p.port && (cp.protocol ?? "TCP") === protocol)?.containerPort : undefined;
        }
        if (n === undefined) return false;
        return p.endPort !== undefined ? port >= n && port <= p.endPort : port === n;
    });
}

function types(policy: Obj): string[] {
    return policy.spec.policyTypes ?? (policy.spec.egress ? ["Ingress", "Egress"] : ["Ingress"]);
}

export class PolicySet {
    constructor(private readonly policies: readonly Obj[]) {}

    /** Policies in the pod's namespace whose podSelector selects it, for a direction. */
    selecting(pod: Pod, direction?: "Ingress" | "Egress"): Obj[] {
        return this.policies.filter((p) => p.metadata.namespace === pod.namespace && matchesSelector(p.spec.podSelector, pod.labels)
            && (direction === undefined || types(p).includes(direction)));
    }

    egressAllowed(from: Pod, to: Endpoint, port: number, protocol: Protocol): boolean {
        const ps = this.selecting(from, "Egress");
        if (ps.length === 0) return true;
        return ps.some((p) => ((p.spec.egress ?? []) as Obj[]).some((r) =>
            peerMatches(r.to, to, p.metadata.namespace) && portMatches(r.ports, port, protocol, to)));
    }

    ingressAllowed(to: Pod, from: Endpoint, port: number, protocol: Protocol): boolean {
        const ps = this.selecting(to, "Ingress");
        if (ps.length === 0) return true;
        return ps.some((p) => ((p.spec.ingress ?? []) as Obj[]).some((r) =>
            peerMatches(r.from, from, p.metadata.namespace) && portMatches(r.ports, port, protocol, to)));
    }

    /** A connection needs the client's egress and the server's ingress. */
    allows(from: Endpoint, to: Endpoint, port: number, protocol: Protocol = "TCP"): boolean {
        return (!isPod(from) || this.egressAllowed(from, to, port, protocol)) && (!isPod(to) || this.ingressAllowed(to, from, port, protocol));
    }
}

/** The pods of the rendered Deployments and StatefulSets, by their `app` label. */
export function podsOf(workloads: readonly Obj[]): Map<string, Pod> {
    const pods = new Map<string, Pod>();
    for (const w of workloads) {
        const labels = w.spec.template.metadata.labels as Record<string, string>;
        pods.set(labels.app, {
            namespace: w.metadata.namespace,
            labels,
            ports: (w.spec.template.spec.containers as Obj[]).flatMap((c) => c.ports ?? []),
        });
    }
    return pods;
}

/**
 * The pods behind `<service>.<namespace>.svc.cluster.local:<port>` and the pod port a connection arrives on, as
 * cluster DNS and kube-proxy resolve that address from the rendered Services (a named targetPort resolved against
 * the pods' container ports).
 */
export function serviceBackends(services: readonly Obj[], pods: ReadonlyMap<string, Pod>, hostPort: string): Array<{ app: string; port: number }> {
    const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local:(\d+)$/.exec(hostPort);
    if (!m) throw new Error(`${hostPort} is not a Service address <name>.<namespace>.svc.cluster.local:<port>`);
    const svc = services.find((s) => s.metadata.name === m[1] && s.metadata.namespace === m[2]);
    const sp = (svc?.spec.ports as Obj[] | undefined)?.find((p) => p.port === Number(m[3]) && (p.protocol ?? "TCP") === "TCP");
    if (!svc || !sp) return [];
    const out: Array<{ app: string; port: number }> = [];
    for (const [app, pod] of pods) {
        if (pod.namespace !== m[2] || !matchesSelector({ matchLabels: svc.spec.selector ?? {} }, pod.labels)) continue;
        const target = sp.targetPort ?? sp.port;
        const port = typeof target === "number" ? target : pod.ports?.find((p) => p.name === target)?.containerPort;
        if (port !== undefined) out.push({ app, port });
    }
    return out;
}

/** Every pod and declared TCP port the egress policies of `from` let it open a connection to, as "app:port", sorted. */
export function egressTargets(policies: PolicySet, from: Pod, pods: ReadonlyMap<string, Pod>): string[] {
    const out: string[] = [];
    for (const [app, p] of pods) {
        for (const cp of p.ports ?? []) {
            if ((cp.protocol ?? "TCP") === "TCP" && policies.egressAllowed(from, p, cp.containerPort, "TCP")) out.push(`${app}:${cp.containerPort}`);
        }
    }
    return out.sort();
}
