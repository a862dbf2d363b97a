// Gateway API beside Ingress (ingress.kind HTTPRoute): the Gateway the routes attach to, and the data plane pods the
// network policy admits to the public ports. Declared in config/schema.ts; here: what is required, and the checks across keys.
import type { Reader } from "./reader";
import { LABEL_KEY, LABEL_VALUE } from "./patterns";
import type { GatewayImplementation, GatewayRef, IngressKind, Json, NetworkPolicyConfig } from "./types";

const absent = (v: Json | undefined): boolean => v === undefined || v === null || v === "";

/**
 * ingress.gateway: required with kind HTTPRoute, refused with Ingress. `tlsInProd`: a prod stack serving https, whose
 * routes must attach to the TLS listener alone (attached to every listener, they would also be served in plain HTTP).
 */
export function readGateway(r: Reader, kind: IngressKind, ing: Record<string, Json>, tlsInProd: boolean): GatewayRef | undefined {
    const g = r.sub("ingress.gateway", ing.gateway, "an object {name, namespace, sectionName, implementation}");
    // Its fields are checked whatever the kind, so a bad value is named where it is.
    const given = g === undefined ? undefined : gatewayFields(r, g);
    if (kind === "Ingress") {
        if (g !== undefined) r.reject("ingress.gateway", ing.gateway, "no gateway with ingress.kind Ingress (HTTPRoutes attach to it: ingress.kind HTTPRoute)");
        return undefined;
    }
    if (!absent(ing.className)) {
        r.reject("ingress.className", ing.className, "no IngressClass with ingress.kind HTTPRoute (the routes attach to ingress.gateway)");
    }
    if (ing.waitForAddress === true || ing.waitForAddress === "true") {
        r.reject("ingress.waitForAddress", ing.waitForAddress, "false with ingress.kind HTTPRoute (a route gets no address; the Gateway has it)");
    }
    if (given === undefined) {
        if (ing.gateway === undefined || ing.gateway === null) {
            r.reject("ingress.gateway", null, "the Gateway the HTTPRoutes attach to, {name, namespace, implementation} (required with ingress.kind HTTPRoute)");
        }
        return undefined;
    }
    if (tlsInProd && given.sectionName === undefined && absent(g?.sectionName)) {
        r.reject("ingress.gateway.sectionName", null, "the name of the Gateway's HTTPS listener in prod with TLS (unset, the routes " +
            "attach to every listener that admits them, plain HTTP too)");
    }
    return given;
}

function gatewayFields(r: Reader, g: Record<string, Json>): GatewayRef {
    const required = (field: "name" | "namespace"): string => {
        const v = r.optionalText(`ingress.gateway.${field}`, g[field]);
        if (v === undefined && absent(g[field])) r.reject(`ingress.gateway.${field}`, null, `the Gateway's ${field} (required)`);
        return v ?? "";
    };
    const name = required("name");
    const namespace = required("namespace");
    const sectionName = r.optionalText("ingress.gateway.sectionName", g.sectionName);
    let implementation: GatewayImplementation = "other";
    if (absent(g.implementation)) {
        r.reject("ingress.gateway.implementation", null, "the Gateway's controller, one of nginx-gateway-fabric, envoy-gateway, other (required: " +
            "it decides how the request-size limit is set)");
    } else {
        implementation = r.choice<GatewayImplementation>("ingress.gateway.implementation", g.implementation, "other");
    }
    return { name, namespace, sectionName, implementation };
}

/** Where each implementation runs a Gateway's proxies by default (networkPolicy.gatewayDataPlane overrides it). */
export function defaultDataPlane(gw: GatewayRef): NetworkPolicyConfig["publicFrom"] {
    switch (gw.implementation) {
        // NGINX Gateway Fabric provisions the nginx Deployment beside its Gateway, labelled as GEP-1762 says.
        case "nginx-gateway-fabric": return { namespace: gw.namespace, podLabels: { "gateway.networking.k8s.io/gateway-name": gw.name } };
        // Envoy Gateway runs the proxies in its controller's namespace, labelled with the Gateway they serve.
        case "envoy-gateway": return {
            namespace: "envoy-gateway-system",
            podLabels: { "gateway.envoyproxy.io/owning-gateway-name": gw.name, "gateway.envoyproxy.io/owning-gateway-namespace": gw.namespace },
        };
        case "other": return { namespace: gw.namespace, podLabels: {} };
    }
}

/**
 * The pods admitted to the public ports: the ingress controller's namespace, or with HTTPRoute the Gateway's data plane
 * (networkPolicy.gatewayDataPlane over the implementation's default; refused with kind Ingress).
 */
export function publicPeer(r: Reader, ingress: { readonly kind: IngressKind; readonly gateway?: GatewayRef }, ingressNamespace: string,
    given: Json | undefined): NetworkPolicyConfig["publicFrom"] {
    const dp = r.sub("networkPolicy.gatewayDataPlane", given, "an object {namespace, podLabels}");
    const namespace = r.optionalText("networkPolicy.gatewayDataPlane.namespace", dp?.namespace);
    const podLabels = dp?.podLabels === undefined || dp.podLabels === null ? undefined : readLabels(r, dp.podLabels);
    if (ingress.kind === "Ingress") {
        if (dp !== undefined) {
            r.reject("networkPolicy.gatewayDataPlane", given, "unset with ingress.kind Ingress (networkPolicy.ingressNamespace names the controller)");
        }
        return { namespace: ingressNamespace, podLabels: {} };
    }
    const def = ingress.gateway ? defaultDataPlane(ingress.gateway) : { namespace: ingressNamespace, podLabels: {} };
    return { namespace: namespace ?? def.namespace, podLabels: podLabels ?? def.podLabels };
}

function readLabels(r: Reader, labelsIn: Json): Record<string, string> | undefined {
    if (typeof labelsIn !== "object" || labelsIn === null || Array.isArray(labelsIn)) {
        return r.reject("networkPolicy.gatewayDataPlane.podLabels", labelsIn, "an object: label -> value");
    }
    const podLabels: Record<string, string> = {};
    for (const [k, v] of Object.entries(labelsIn)) {
        // Label keys hold dots: named in brackets, read by pattern (the schema's map node has no path for them).
        const at = `networkPolicy.gatewayDataPlane.podLabels["${k}"]`;
        if (!LABEL_KEY.test(k)) r.reject(at, v, "a label key (an optional DNS prefix/ and a name) as the key");
        else podLabels[k] = r.string(at, v, "", LABEL_VALUE, "a label value (up to 63 letters, digits, -, _ and .)");
    }
    return podLabels;
}
