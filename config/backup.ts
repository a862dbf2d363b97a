// The backup keys that are objects of their own: the off-site store (backup.offsite) and the restore drill. Their
// fields are declared in config/schema.ts; here: what is required, and the checks across fields.
import type { Json, OffsiteConfig } from "./types";
import { PROJECT } from "./project";
import { Reader } from "./reader";
import { nodeAt } from "./schema";

export function readOffsite(r: Reader, v: Json | undefined): OffsiteConfig | undefined {
    const o = r.sub("backup.offsite", v);
    if (!o) return undefined;
    const required = (k: string): string => {
        const key = `backup.offsite.${k}`;
        if (o[k] === undefined || o[k] === null || o[k] === "") {
            const n = nodeAt(key);
            r.problems.push(`${PROJECT}:${key}: not set; expected ${n?.kind === "string" ? n.allowed : "a value"}`);
            return "";
        }
        return r.optionalText(key, o[k], "") ?? "";
    };
    const endpoint = required("endpoint");
    if (endpoint.startsWith("http://") && !/^http:\/\/(localhost|127\.0\.0\.1|[a-z0-9-]+(\.[a-z0-9-]+)*\.svc(\.cluster\.local)?)(:|\/|$)/.test(endpoint)) {
        r.reject("backup.offsite.endpoint", endpoint, "an https:// URL (plain http only to loopback or an in-cluster Service): the dumps hold every row");
    }
    return {
        endpoint: endpoint.replace(/\/$/, ""),
        bucket: required("bucket"),
        prefix: r.text("backup.offsite.prefix", o.prefix),
        region: r.text("backup.offsite.region", o.region),
        credentialsSecretName: required("credentialsSecretName"),
        caConfigMap: r.optionalText("backup.offsite.caConfigMap", o.caConfigMap),
        retention: r.whole("backup.offsite.retention", o.retention),
        cidrs: r.items<string>("backup.offsite.cidrs", o.cidrs) ?? [],
        elasticsearch: (() => {
            const es = r.sub("backup.offsite.elasticsearch", o.elasticsearch) ?? {};
            return { schedule: r.text("backup.offsite.elasticsearch.schedule", es.schedule), retention: r.whole("backup.offsite.elasticsearch.retention", es.retention) };
        })(),
        jenkins: (() => {
            const j = r.sub("backup.offsite.jenkins", o.jenkins) ?? {};
            return { time: r.text("backup.offsite.jenkins.time", j.time), retention: r.whole("backup.offsite.jenkins.retention", j.retention) };
        })(),
    };
}

export function readDrill(r: Reader, v: Json | undefined, def: boolean): { enabled: boolean; schedule: string } {
    const o = r.sub("backup.drill", v) ?? {};
    return { enabled: r.flag("backup.drill.enabled", o.enabled, def), schedule: r.text("backup.drill.schedule", o.schedule) };
}
