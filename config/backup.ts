// The backup keys that are objects of their own: the off-site store (backup.offsite) and the restore drill. Their
// fields are declared in config/schema.ts; here: what is required, and the checks across fields.
import { Json, OFFSITE_SECRET_NAME, OffsiteConfig } from "./types";
import { PROJECT } from "./project";
import { Reader, secretKeySet } from "./reader";
import { nodeAt } from "./schema";

/**
 * credentials: the store's key pair from stack config offsiteCredentials (read by the caller: a key of its own, so
 * that, encrypted, it hides no other backup setting from the offline commands); undefined when unset or invalid.
 */
export function readOffsite(r: Reader, v: Json | undefined,
    credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined): OffsiteConfig | undefined {
    const fromConfig = secretKeySet(r, "offsiteCredentials");
    const o = r.sub("backup.offsite", v);
    if (!o) {
        if (fromConfig) r.problems.push(`${PROJECT}:offsiteCredentials: set, but backup.offsite is not (value not shown); set both or neither`);
        return undefined;
    }
    // The store's key pair: a Secret made outside git (credentialsSecretName; in a namespace that exists before the up),
    // or one the program makes from encrypted stack config (offsiteCredentials), which works on a first up.
    if (fromConfig && o.credentialsSecretName !== undefined && o.credentialsSecretName !== null && o.credentialsSecretName !== "") {
        r.problems.push(`${PROJECT}:backup.offsite.credentialsSecretName / ${PROJECT}:offsiteCredentials: both set; expected one: the name ` +
            `of a Secret made outside git, or the key pair, from which the program makes Secret ${OFFSITE_SECRET_NAME}`);
    }
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
        credentialsSecretName: fromConfig ? OFFSITE_SECRET_NAME : required("credentialsSecretName"),
        credentials,
        caConfigMap: r.optionalText("backup.offsite.caConfigMap", o.caConfigMap),
        retention: r.whole("backup.offsite.retention", o.retention),
        cidrs: r.items<string>("backup.offsite.cidrs", o.cidrs) ?? [],
        opensearch: (() => {
            const os = r.sub("backup.offsite.opensearch", o.opensearch) ?? {};
            return { schedule: r.text("backup.offsite.opensearch.schedule", os.schedule), retention: r.whole("backup.offsite.opensearch.retention", os.retention) };
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
