// The backup keys that are objects of their own: the off-site store (backup.offsite) and the restore drill.
import { Json, OFFSITE_SECRET_NAME, OffsiteConfig } from "./types";
import { PROJECT } from "./project";
import { CRON, DNS_SUBDOMAIN, readCidrs, Reader, secretKeySet } from "./reader";

const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const S3_PREFIX = /^([A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*)?$/;

function subObject(r: Reader, key: string, v: Json | undefined, fields: readonly string[]): Record<string, Json> | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "object" || Array.isArray(v)) return r.reject(key, v, "an object");
    for (const f of Object.keys(v)) if (!fields.includes(f)) r.reject(`${key}.${f}`, v[f], `a known field of ${key}: ${fields.join(", ")}`);
    return v;
}

/**
 * credentials: the store's key pair from stack config offsiteCredentials (read by the caller: a key of its own, so
 * that, encrypted, it hides no other backup setting from the offline commands); undefined when unset or invalid.
 */
export function readOffsite(r: Reader, v: Json | undefined, cronAllowed: string,
    credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined): OffsiteConfig | undefined {
    const fromConfig = secretKeySet(r, "offsiteCredentials");
    const o = subObject(r, "backup.offsite", v, ["endpoint", "bucket", "prefix", "region", "credentialsSecretName", "caConfigMap",
        "retention", "cidrs", "elasticsearch", "jenkins"]);
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
    const required = (k: string, pattern: RegExp, allowed: string): string => {
        if (o[k] === undefined || o[k] === null || o[k] === "") {
            r.problems.push(`${PROJECT}:backup.offsite.${k}: not set; expected ${allowed}`);
            return "";
        }
        return r.string(`backup.offsite.${k}`, o[k], "", pattern, allowed);
    };
    const endpoint = required("endpoint", /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?\/?$/, "the object store's URL, https://host[:port]");
    if (endpoint.startsWith("http://") && !/^http:\/\/(localhost|127\.0\.0\.1|[a-z0-9-]+(\.[a-z0-9-]+)*\.svc(\.cluster\.local)?)(:|\/|$)/.test(endpoint)) {
        r.reject("backup.offsite.endpoint", endpoint, "an https:// URL (plain http only to loopback or an in-cluster Service): the dumps hold every row");
    }
    return {
        endpoint: endpoint.replace(/\/$/, ""),
        bucket: required("bucket", S3_BUCKET, "an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)"),
        prefix: r.string("backup.offsite.prefix", o.prefix, "", S3_PREFIX, "a key prefix such as egov/prod (no leading or trailing slash)"),
        region: r.string("backup.offsite.region", o.region, "us-east-1", /^[a-z0-9-]{1,32}$/, "a region name the store accepts, e.g. us-east-1"),
        credentialsSecretName: fromConfig ? OFFSITE_SECRET_NAME : required("credentialsSecretName", DNS_SUBDOMAIN,
            "the name of a Secret (created outside git) with keys access-key-id and secret-access-key, or offsiteCredentials (encrypted)"),
        credentials,
        caConfigMap: r.string("backup.offsite.caConfigMap", o.caConfigMap, undefined, DNS_SUBDOMAIN, "the name of a ConfigMap with key ca.crt"),
        retention: r.int("backup.offsite.retention", o.retention, 30, 1, 3650),
        cidrs: readCidrs(r, "backup.offsite.cidrs", o.cidrs, []),
        elasticsearch: (() => {
            const es = subObject(r, "backup.offsite.elasticsearch", o.elasticsearch, ["schedule", "retention"]) ?? {};
            return {
                schedule: r.string("backup.offsite.elasticsearch.schedule", es.schedule, "0 3 * * *", CRON, cronAllowed),
                retention: r.int("backup.offsite.elasticsearch.retention", es.retention, 14, 1, 3650),
            };
        })(),
        jenkins: (() => {
            const j = subObject(r, "backup.offsite.jenkins", o.jenkins, ["time", "retention"]) ?? {};
            return {
                time: r.string("backup.offsite.jenkins.time", j.time, "03:30", /^([01][0-9]|2[0-3]):[0-5][0-9]$/, "a time of day HH:MM, e.g. \"03:30\""),
                retention: r.int("backup.offsite.jenkins.retention", j.retention, 7, 1, 3650),
            };
        })(),
    };
}

export function readDrill(r: Reader, v: Json | undefined, def: boolean, cronAllowed: string): { enabled: boolean; schedule: string } {
    const o = subObject(r, "backup.drill", v, ["enabled", "schedule"]) ?? {};
    return {
        enabled: r.bool("backup.drill.enabled", o.enabled, def),
        schedule: r.string("backup.drill.schedule", o.schedule, "30 4 * * 0", CRON, cronAllowed),
    };
}
