// The `services` stack config key: backend services an agency adds to the built-in catalog. Each entry
// becomes a catalog entry like the built-ins, so it gets everything they get (Deployment, Service,
// autoscaler, ingress, credentials from its flags, graph edges and what follows from them).
import type { Json } from "./types";
import type { Reader } from "./reader";
import { BackendServiceSpec, backendServices, frontends, infraIngressHosts, infraWorkloadNames } from "./catalog";
import { frontendName } from "./graph";

import { addedService, MAX_ADDED_SERVICES, serviceFlags } from "./schema";

export { serviceFlags };
type Flag = (typeof serviceFlags)[number];

/** An entry's fields (declared in config/schema.ts). */
export const serviceFields = Object.keys(addedService.fields);
const absent = (v: Json | undefined) => v === undefined || v === null || v === "";

export interface AddedServices {
    readonly specs: readonly BackendServiceSpec[];
    /** Replica counts set in the entries, by service name. */
    readonly replicas: Readonly<Record<string, number>>;
}

/**
 * Reads the `services` list. Flags default to false (a service is granted only what it asks for) except
 * setsServerPort, so the Service's port is the one the application listens on.
 */
export function readServices(r: Reader, value: Json[] | undefined): AddedServices {
    const specs: BackendServiceSpec[] = [];
    const replicas: Record<string, number> = {};
    if (value === undefined) return { specs, replicas };
    if (value.length > MAX_ADDED_SERVICES) r.reject("services", `${value.length} entries`, `at most ${MAX_ADDED_SERVICES} services`);

    const taken = new Set([...backendServices.map((s) => s.name), ...frontends.map((f) => frontendName(f.name)), ...infraWorkloadNames]);
    const hostsTaken = new Set([...backendServices.flatMap((s) => (s.ingressHost ? [s.ingressHost] : [])),
        ...frontends.map((f) => f.ingressHost), ...infraIngressHosts]);
    const seen = new Set<string>();
    const seenHosts = new Set<string>();

    value.forEach((entry, i) => {
        const at = `services[${i}]`;
        if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
            r.reject(at, entry, "an object with name, image, port and optional replicas, ingressHost and flags");
            return;
        }
        for (const field of Object.keys(entry)) {
            if (!serviceFields.includes(field)) {
                r.reject(`${at}.${field}`, entry[field], `a known field of a service: ${serviceFields.join(", ")}`);
            }
        }
        const name = r.optionalText(`${at}.name`, entry.name);
        if (absent(entry.name)) r.reject(`${at}.name`, null, "a service name (required)");
        if (name !== undefined) {
            if (taken.has(name)) r.reject(`${at}.name`, name, "a name no built-in workload uses");
            else if (seen.has(name)) r.reject(`${at}.name`, name, "a name unique among services");
            seen.add(name);
        }
        const image = r.optionalText(`${at}.image`, entry.image);
        if (absent(entry.image)) r.reject(`${at}.image`, null, "an image reference (required)");
        // From 1024: the pods run as uid 1000 with every capability dropped, and on containerd 1.x and CRI-O a
        // non-root process cannot bind below 1024 (npm run boot-check checks the built-in services the same way).
        const port = r.whole(`${at}.port`, entry.port, 0);
        if (absent(entry.port)) r.reject(`${at}.port`, null, "the port the service listens on, 1024 to 65535 (required)");
        if (entry.replicas !== undefined && name !== undefined) replicas[name] = r.whole(`${at}.replicas`, entry.replicas, 1);
        const ingressHost = r.optionalText(`${at}.ingressHost`, entry.ingressHost);
        if (ingressHost !== undefined) {
            if (hostsTaken.has(ingressHost)) r.reject(`${at}.ingressHost`, ingressHost, "a host prefix no built-in part uses");
            else if (seenHosts.has(ingressHost)) r.reject(`${at}.ingressHost`, ingressHost, "a host prefix unique among services");
            seenHosts.add(ingressHost);
        }
        const flags = Object.fromEntries(serviceFlags.map((f) => [f, r.flag(`${at}.${f}`, entry[f])])) as Record<Flag, boolean>;
        if (name === undefined || image === undefined || port === 0) return;
        specs.push({ name, image, port, ingressHost, ...flags, isDiscoveryServer: false, isGateway: false });
    });
    return { specs, replicas };
}
