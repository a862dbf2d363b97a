// Requests and limits per part: the defaults and the reading of `resources.<part>` (requests never above limits).
// The defaults and fields are declared in config/schema.ts.
import type { Json, Quantities, ResourceQuantities } from "./types";
import { Reader } from "./reader";
import { resourceFields } from "./schema";

export { defaultResources } from "./schema";

const QUANTITY_SUFFIX: Record<string, number> = {
    "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
/** A Kubernetes quantity (already matched by QUANTITY) as a number, to compare requests with limits. */
export function quantityValue(v: string): number {
    const m = /^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$/.exec(v);
    return m ? Number(m[1]) * (QUANTITY_SUFFIX[m[2]] ?? NaN) : NaN;
}

export function readResources(r: Reader, key: string, value: Json | undefined, def: ResourceQuantities): ResourceQuantities {
    const o = r.sub(key, value, "an object with requests and limits");
    if (o === undefined) return def;
    const pick = (kind: "requests" | "limits"): Quantities => {
        const obj = r.sub(`${key}.${kind}`, o[kind], "an object with cpu, memory, ephemeralStorage") ?? {};
        const out: Record<string, string> = {};
        for (const [field, k8sName] of resourceFields) {
            // `pulumi config set --path ... 2` stores a number: a plain count of cores or bytes is a quantity too.
            const v = typeof obj[field] === "number" ? String(obj[field]) : obj[field];
            out[k8sName] = r.text(`${key}.${kind}.${field}`, v, def[kind][k8sName]);
        }
        return out as unknown as Quantities;
    };
    const res = { requests: pick("requests"), limits: pick("limits") };
    for (const [field, k8sName] of resourceFields) {
        if (quantityValue(res.requests[k8sName]) > quantityValue(res.limits[k8sName])) {
            r.reject(`${key}.requests.${field}`, res.requests[k8sName], `at most ${key}.limits.${field} (${res.limits[k8sName]})`);
        }
    }
    return res;
}
