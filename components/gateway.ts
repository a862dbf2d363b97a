import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { IngressPlan } from "../config/plan";

/** Gateway API's group; HTTPRoute is v1 (standard channel since Gateway API 1.0). */
export const GATEWAY_GROUP = "gateway.networking.k8s.io";

type Metadata = k8s.types.input.meta.v1.ObjectMeta;

/**
 * An HTTPRoute carrying the host of `ing` to a Service port, attached to the Gateway `ing.gateway` (TLS terminates at its
 * listener), and the request-size limit as its controller's policy: Gateway API v1 has no field for it (docs/gateway-api.md).
 */
export function httpRoute(name: string, ing: IngressPlan, service: pulumi.Input<string>, metadata: (suffix: string) => Metadata,
    opts: pulumi.CustomResourceOptions): k8s.apiextensions.CustomResource[] {
    const gw = ing.gateway;
    if (!gw) throw new Error(`${name}: an HTTPRoute needs the Gateway it attaches to (ingress.gateway)`);
    const routeName = `${name}-route`;
    const route = new k8s.apiextensions.CustomResource(name, {
        apiVersion: `${GATEWAY_GROUP}/v1`,
        kind: "HTTPRoute",
        // No controller may ever report the route's status (the local cluster has none): never wait for one.
        metadata: { ...metadata("-route"), annotations: { "pulumi.com/skipAwait": "true" } },
        spec: {
            parentRefs: [{ group: GATEWAY_GROUP, kind: "Gateway", name: gw.name, namespace: gw.namespace, ...(gw.sectionName ? { sectionName: gw.sectionName } : {}) }],
            hostnames: [ing.host],
            rules: [{
                matches: [{ path: { type: "PathPrefix", value: "/" } }],
                backendRefs: [{ name: service, port: ing.port }],
            }],
        },
    }, opts);
    const out = [route];
    const policy = bodySizePolicy(ing, routeName);
    if (policy) {
        out.push(new k8s.apiextensions.CustomResource(`${name}-request-size`, {
            ...policy,
            metadata: { ...metadata("-request-size"), annotations: { "pulumi.com/skipAwait": "true" } },
        }, { ...opts, dependsOn: [route] }));
    }
    return out;
}

/**
 * The controller's policy that sets a route's request body limit, for `ing.maxBodySize` (nginx syntax: "<n>m", or "0" for
 * none); undefined when the route keeps the controller's default or the controller is not one the program knows.
 */
export function bodySizePolicy(ing: IngressPlan, routeName: string): { apiVersion: string; kind: string; spec: Record<string, unknown> } | undefined {
    const size = ing.maxBodySize;
    if (size === undefined || !ing.gateway) return undefined;
    const target = { group: GATEWAY_GROUP, kind: "HTTPRoute", name: routeName };
    switch (ing.gateway.implementation) {
        // client_max_body_size; "0" turns the check off, as in ingress-nginx.
        case "nginx-gateway-fabric":
            return { apiVersion: "gateway.nginx.org/v1alpha1", kind: "ClientSettingsPolicy", spec: { targetRef: target, body: { maxSize: size } } };
        // Envoy streams bodies without a limit unless a buffer sets one: a limit only when there is one.
        case "envoy-gateway": {
            const mib = /^([0-9]+)m$/.exec(size);
            return mib ? { apiVersion: "gateway.envoyproxy.io/v1alpha1", kind: "BackendTrafficPolicy",
                spec: { targetRefs: [target], requestBuffer: { limit: `${mib[1]}Mi` } } } : undefined;
        }
        case "other":
            return undefined;
    }
}

export interface GatewayTlsGrantArgs {
    readonly namespace: pulumi.Input<string>;
    readonly gatewayNamespace: string;
    readonly secretName: string;
    readonly commonLabels: Readonly<Record<string, string>>;
}

/**
 * A ReferenceGrant letting the Gateways of another namespace read the stack's TLS Secret (their HTTPS listener's
 * certificateRefs): Gateway API refuses a reference across namespaces without one. v1beta1: served by every release
 * since 0.6, so older CRDs in an agency's cluster accept it too.
 */
export class GatewayTlsGrant extends pulumi.ComponentResource {
    public readonly grant: k8s.apiextensions.CustomResource;

    constructor(name: string, args: GatewayTlsGrantArgs, opts?: pulumi.ComponentResourceOptions) {
        super("egov:platform:GatewayTlsGrant", name, {}, opts);
        this.grant = new k8s.apiextensions.CustomResource(name, {
            apiVersion: `${GATEWAY_GROUP}/v1beta1`,
            kind: "ReferenceGrant",
            metadata: { name: "gateway-tls", namespace: args.namespace, labels: { ...args.commonLabels, app: "ingress" } },
            spec: {
                from: [{ group: GATEWAY_GROUP, kind: "Gateway", namespace: args.gatewayNamespace }],
                to: [{ group: "", kind: "Secret", name: args.secretName }],
            },
        }, { parent: this });
        this.registerOutputs({ name: this.grant.metadata.name });
    }
}
