import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { NetworkPolicyConfig, ServiceType } from "../config/types";
import type { GraphEdge, ServiceGraph } from "../config/graph";
import type { SideNamespace } from "../config/parts";
import type { NamespacesOf } from "../config/plan";

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;
type PolicyPort = { protocol: "TCP" | "UDP"; port: number };

/** Cluster DNS: CoreDNS and kube-dns both carry k8s-app=kube-dns in kube-system. */
export const clusterDns = {
    namespace: "kube-system",
    podLabels: { "k8s-app": "kube-dns" },
    ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] as PolicyPort[],
};

const NAMESPACE_NAME = "kubernetes.io/metadata.name";

/**
 * Policy objects by name for the workloads of one namespace (`home`: a side namespace, or the application's), all derived
 * from the service graph: a new catalog entry needs no new code here. A peer in another namespace is named with it.
 */
export function networkPolicySpecs(graph: ServiceGraph, np: NetworkPolicyConfig, serviceType: ServiceType,
    namespaces?: NamespacesOf, home?: SideNamespace): Record<string, NetworkPolicySpec> {
    const tcp = (port: number): PolicyPort => ({ protocol: "TCP", port });
    const byPort = (edges: readonly GraphEdge[], peer: (e: GraphEdge) => string) => {
        const ports = new Map<number, string[]>();
        for (const e of edges) ports.set(e.port, [...(ports.get(e.port) ?? []), peer(e)]);
        return [...ports.entries()].sort(([a], [b]) => a - b)
            .map(([port, peers]) => ({ peers: [...new Set(peers)].sort(), ports: [tcp(port)] }));
    };
    const specs: Record<string, NetworkPolicySpec> = {
        // Anything not allowed below is refused, both ways.
        "default-deny": { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
        "allow-dns": {
            podSelector: {},
            policyTypes: ["Egress"],
            egress: [{
                to: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME]: clusterDns.namespace } }, podSelector: { matchLabels: clusterDns.podLabels } }],
                ports: clusterDns.ports,
            }],
        },
    };
    // A peer's pods by the labels its node carries (a server's from its record, config/servers.ts).
    const peer = (app: string): k8s.types.input.networking.v1.NetworkPolicyPeer => {
        const peerNode = graph.nodes.get(app);
        const podSelector = { matchLabels: { ...(peerNode?.podLabels ?? { app }) } };
        if (peerNode?.home === home || !namespaces) return { podSelector };
        const ns = peerNode?.home ? namespaces[peerNode.home] : namespaces.app;
        return { namespaceSelector: { matchLabels: { [NAMESPACE_NAME]: ns! } }, podSelector };
    };
    for (const node of graph.nodes.values()) {
        if (node.home !== home) continue;
        const ingress: k8s.types.input.networking.v1.NetworkPolicyIngressRule[] = byPort(graph.clientsOf(node.name), (e) => e.from)
            .map((r) => ({ from: r.peers.map(peer), ports: r.ports }));
        if (node.publicPorts.length > 0) {
            ingress.push({
                // A NodePort is reached from outside the cluster through any node: no peer to name.
                // Else the ingress controller's or the Gateway's data plane pods (config: networkPolicy.publicFrom).
                from: serviceType === "NodePort" ? undefined : [{
                    namespaceSelector: { matchLabels: { [NAMESPACE_NAME]: np.publicFrom.namespace } },
                    ...(Object.keys(np.publicFrom.podLabels).length > 0 ? { podSelector: { matchLabels: { ...np.publicFrom.podLabels } } } : {}),
                }],
                ports: node.publicPorts.map(tcp),
            });
        }
        const egress: k8s.types.input.networking.v1.NetworkPolicyEgressRule[] = byPort(graph.dependenciesOf(node.name), (e) => e.to)
            .map((r) => ({ to: r.peers.map(peer), ports: r.ports }));
        if (node.callsKubernetesApi) {
            egress.push({ to: np.apiServer.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: np.apiServer.ports.map(tcp) });
        }
        const external = np.externalEgress[node.name];
        if (external && external.length > 0) egress.push({ to: external.map((cidr) => ({ ipBlock: { cidr } })) });
        specs[node.name] = {
            podSelector: { matchLabels: { ...node.podLabels } },
            policyTypes: ["Ingress", "Egress"],
            ingress: ingress.length > 0 ? ingress : undefined,
            egress: egress.length > 0 ? egress : undefined,
        };
    }
    return specs;
}

export interface NetworkPoliciesArgs {
    readonly namespace: pulumi.Input<string>;
    readonly graph: ServiceGraph;
    readonly config: NetworkPolicyConfig;
    readonly serviceType: ServiceType;
    readonly namespaces: NamespacesOf;
    /** The side namespace these policies are for; the application's when unset. */
    readonly home?: SideNamespace;
    readonly commonLabels: Readonly<Record<string, string>>;
}

/** Default deny in the namespace, DNS for every pod, and per workload exactly the service graph's edges. */
export class NetworkPolicies extends pulumi.ComponentResource {
    public readonly policies: k8s.networking.v1.NetworkPolicy[] = [];

    constructor(name: string, args: NetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:NetworkPolicies", name, {}, opts);
        for (const [policy, spec] of Object.entries(networkPolicySpecs(args.graph, args.config, args.serviceType, args.namespaces, args.home))) {
            // A side namespace's policies share their names with the application's: the resource names (URNs) must not.
            this.policies.push(new k8s.networking.v1.NetworkPolicy(args.home ? `${args.home}-${policy}` : policy, {
                metadata: { name: policy, namespace: args.namespace, labels: { ...args.commonLabels, tier: "network-policy", app: policy } },
                spec,
            }, { parent: this }));
        }
        this.registerOutputs({ names: this.policies.map((p) => p.metadata.name) });
    }
}
