// Reading raw stack config: the problem collector, and the reading of each key and field by its declaration in
// config/schema.ts (type, default, pattern, range, known fields, secrecy).
import type { ConfigSource, Environment, Json } from "./types";
import { PROJECT } from "./project";
import { closest, editDistance, SECURE_MARKER } from "./patterns";
import { CONFIG_KEYS, defaultFor, nodeAt, nodesAlong, SchemaNode } from "./schema";

export * from "./patterns";

export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`invalid stack config:\n  - ${problems.join("\n  - ")}`);
        this.name = "ConfigError";
    }
}

/**
 * Names of undeclared fields whose values are, or may be, credentials: never echoed, at any depth (declared ones say
 * so in the schema). A name ending in Name refers to a Secret (credentialsSecretName, tlsSecretName) and holds none.
 */
export const SENSITIVE_NAME = /^(?!.*Name$).*(pass|pwd|secret|token|credential|key|auth|cert|private)/i;


/** Keys a release renamed: a stack that still sets one is told the new key (issue 31: Elasticsearch/Logstash/Kibana 7.10 -> OpenSearch). */
export const RENAMED_KEYS: Readonly<Record<string, { readonly key: string; readonly why: string }>> = {
    "images.elasticsearch": { key: "images.opensearch", why: "OpenSearch 2.x replaced Elasticsearch 7.10 (docs/day-2.md)" },
    "images.kibana": { key: "images.dashboards", why: "OpenSearch Dashboards replaced Kibana 7.10 (docs/day-2.md)" },
    "images.logstash": { key: "images.fluentBit", why: "Fluent Bit replaced Logstash 7.10 as the log shipper (docs/day-2.md)" },
    "resources.elasticsearch": { key: "resources.opensearch", why: "OpenSearch 2.x replaced Elasticsearch 7.10 (docs/day-2.md)" },
    "resources.kibana": { key: "resources.dashboards", why: "OpenSearch Dashboards replaced Kibana 7.10 (docs/day-2.md)" },
    "resources.logstash": { key: "resources.fluentBit", why: "Fluent Bit replaced Logstash 7.10 as the log shipper (docs/day-2.md)" },
    "storage.sizes.elasticsearch": { key: "storage.sizes.opensearch", why: "OpenSearch 2.x replaced Elasticsearch 7.10 on a volume of its own (docs/day-2.md)" },
    "backup.offsite.elasticsearch": { key: "backup.offsite.opensearch", why: "OpenSearch 2.x replaced Elasticsearch 7.10 (docs/day-2.md)" },
};

/** Collects every problem, so one run reports all bad keys at once. */
export class Reader {
    readonly problems: string[] = [];
    readonly source: ConfigSource;
    /** The stack's environment, once read: the defaults that differ by environment follow it. */
    environment: Environment = "dev";
    /** isSecret: whether a top-level key is stored encrypted (its value, decrypted or not, is never echoed). */
    constructor(source: ConfigSource, readonly isSecret: (key: string) => boolean = () => false) {
        this.source = (key) => {
            if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
                throw new Error(`config key ${key} is read but not declared in config/schema.ts`);
            }
            return source(key);
        };
    }

    reject(key: string, value: unknown, allowed: string): undefined {
        this.problems.push(`${PROJECT}:${key}: ${this.shown(key, value)} is not allowed; expected ${allowed}`);
        return undefined;
    }

    /**
     * A key's value as every message shows it: JSON, except for a value that is or may be a secret (an encrypted
     * key's, decrypted or not; one the schema says holds a secret, such as kubeconfig contents; an undeclared field
     * named like a credential), which is described instead.
     */
    shown(key: string, value: unknown): string {
        const path = key.split(/[.[\]"]+/).filter((s) => s !== "");
        const text = JSON.stringify(value) ?? String(value);
        if (text.includes(SECURE_MARKER)) {
            return "(value not shown: encrypted; this command reads the stack file without decrypting it, so it cannot check the value)";
        }
        if (this.isSecret(path[0])) return "(value not shown: encrypted)";
        const nodes = nodesAlong(key);
        const leaf = nodes.at(-1);
        if (nodes.some((n) => n?.secret === true) || (typeof leaf?.secret === "function" && leaf.secret(value))) {
            return "(value not shown: it holds or may hold credentials)";
        }
        if (leaf === undefined && path.some((s) => SENSITIVE_NAME.test(s))) return "(value not shown: its name says it may hold a credential)";
        return text;
    }

    /** The declared node of a key path; reading an undeclared one is a programming error. */
    private node<K extends SchemaNode["kind"]>(key: string, kind: K): Extract<SchemaNode, { kind: K }> {
        const n = nodeAt(key);
        if (n?.kind !== kind) throw new Error(`config ${key} is read as ${kind} but config/schema.ts declares ${n ? n.kind : "nothing"} there`);
        return n as Extract<SchemaNode, { kind: K }>;
    }

    /** A node's default in this stack's environment: `given` when the caller computes it from other keys. */
    private defaultOf<T>(d: T | { readonly byEnvironment: Readonly<Record<Environment, T>> } | undefined, given?: T): T | undefined {
        return given !== undefined ? given : defaultFor(d, this.environment);
    }

    /** The known fields of an object: an unknown one is refused, naming the closest known field when one is near. */
    private knownFields(key: string, value: Record<string, Json>, known: readonly string[]): void {
        for (const field of Object.keys(value)) {
            if (known.includes(field)) continue;
            const renamed = RENAMED_KEYS[`${key}.${field}`];
            if (renamed) {
                this.reject(`${key}.${field}`, value[field], `${renamed.key} instead: ${renamed.why}`);
                continue;
            }
            const near = known.length > 0 ? closest(field, known) : undefined;
            const hint = near !== undefined && editDistance(field, near) <= Math.max(2, Math.floor(field.length / 3)) ? ` (closest: ${near})` : "";
            this.reject(`${key}.${field}`, value[field], `a known field of ${key}: ${known.join(", ")}${hint}`);
        }
    }

    /**
     * A top-level object key (structured config), or {} when unset; its fields are the schema's, or `known` for a
     * key whose field names the stack chooses (serviceReplicas: the workloads in force).
     */
    object(key: string, known?: readonly string[]): Record<string, Json> {
        const raw = this.source(key);
        if (raw === undefined || raw === "") return {};
        let parsed: Json;
        try {
            parsed = JSON.parse(raw) as Json;
        } catch {
            this.reject(key, raw, "an object (structured config)");
            return {};
        }
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
            this.reject(key, parsed, "an object (structured config)");
            return {};
        }
        const n = nodeAt(key);
        const fields = known ?? (n?.kind === "object" ? Object.keys(n.fields) : undefined);
        if (fields !== undefined) this.knownFields(key, parsed, fields);
        return parsed;
    }

    /** A nested object field, checked against its declared fields; undefined when unset. */
    sub(key: string, value: Json | undefined, allowed = "an object"): Record<string, Json> | undefined {
        if (value === undefined || value === null) return undefined;
        if (typeof value !== "object" || Array.isArray(value)) return this.reject(key, value, allowed);
        const n = nodeAt(key);
        if (n?.kind === "object") this.knownFields(key, value, Object.keys(n.fields));
        return value;
    }

    /** A list-valued key (structured config), or undefined when unset. */
    list(key: string): Json[] | undefined {
        const raw = this.source(key);
        if (raw === undefined || raw === "") return undefined;
        let parsed: Json = raw;
        try { parsed = JSON.parse(raw) as Json; } catch { /* reported below */ }
        if (!Array.isArray(parsed)) {
            this.reject(key, parsed, "a list (structured config)");
            return undefined;
        }
        return parsed;
    }

    /** A top-level scalar key, parsed as JSON when it looks like a number or boolean. */
    scalar(key: string): Json | undefined {
        const raw = this.source(key);
        if (raw === undefined) return undefined;
        if (/^(true|false|-?[0-9]+(\.[0-9]+)?)$/.test(raw)) return JSON.parse(raw) as Json;
        return raw;
    }

    /** A declared string with a default (the schema's, or `def` computed by the caller). */
    text(key: string, value: Json | undefined, def?: string): string {
        const d = this.defaultOf(this.node(key, "string").default, def);
        if (d === undefined) throw new Error(`config ${key} has no default in config/schema.ts; read it with optionalText`);
        return this.optionalText(key, value, d) ?? d;
    }

    /** A declared string, undefined when unset (and no default is given). */
    optionalText(key: string, value: Json | undefined, def?: string): string | undefined {
        const n = this.node(key, "string");
        const before = this.problems.length;
        const s = this.string(key, value, def, n.pattern, n.allowed);
        if (n.check && s !== undefined && s === value && this.problems.length === before) {
            const why = n.check(s);
            if (why !== undefined) return this.reject(key, s, why) ?? def;
        }
        return s;
    }

    /** A declared one-of-a-set value. */
    choice<T extends string>(key: string, value: Json | undefined, def?: T): T {
        const n = this.node(key, "enum");
        const d = this.defaultOf(n.default, def);
        if (d === undefined) throw new Error(`config ${key} has no default in config/schema.ts`);
        return this.oneOf(key, value, d as T, n.values as readonly T[]);
    }

    /** A declared true/false. */
    flag(key: string, value: Json | undefined, def?: boolean): boolean {
        const d = this.defaultOf(this.node(key, "boolean").default, def);
        if (d === undefined) throw new Error(`config ${key} has no default in config/schema.ts`);
        return this.bool(key, value, d);
    }

    /** A declared whole number in its range. */
    whole(key: string, value: Json | undefined, def?: number): number {
        const n = this.node(key, "integer");
        const d = this.defaultOf(n.default, def);
        if (d === undefined) throw new Error(`config ${key} has no default in config/schema.ts`);
        return this.int(key, value, d, n.min, n.max);
    }

    /** A declared decimal number in its range (a YAML number or a string of digits). */
    decimal(key: string, value: Json | undefined): number {
        const n = this.node(key, "number");
        if (value === undefined || value === null || value === "") return n.default ?? n.min;
        const v = typeof value === "string" && /^[0-9.]+$/.test(value) ? Number(value) : value;
        if (typeof v !== "number" || !Number.isFinite(v) || v < n.min || v > n.max) return this.reject(key, value, n.allowed) ?? n.default ?? n.min;
        return v;
    }

    /** A declared list of strings or whole numbers, each item as its declaration says; `def` (or the schema's) when unset or refused. */
    items<T extends string | number>(key: string, value: Json | undefined, def?: readonly T[]): readonly T[] | undefined {
        const n = this.node(key, "list");
        const d = def ?? (n.default as readonly T[] | undefined);
        if (value === undefined || value === null) return d;
        const item = n.items;
        const ok = (x: Json) => (item.kind === "string" ? typeof x === "string" && item.pattern.test(x)
            : item.kind === "integer" ? typeof x === "number" && Number.isInteger(x) && x >= item.min && x <= item.max : false);
        if (!Array.isArray(value) || value.some((x) => !ok(x)) || (n.maxItems !== undefined && value.length > n.maxItems)) {
            return this.reject(key, value, n.allowed) ?? d;
        }
        return value as unknown as T[];
    }

    string(key: string, value: Json | undefined, def: string, pattern: RegExp, allowed: string): string;
    string(key: string, value: Json | undefined, def: string | undefined, pattern: RegExp, allowed: string): string | undefined;
    string(key: string, value: Json | undefined, def: string | undefined, pattern: RegExp, allowed: string) {
        if (value === undefined || value === null || value === "") return def;
        if (typeof value === "number") {
            // YAML reads an unquoted 4.10 as the number 4.1: the digits the user typed are gone, so refuse rather than guess.
            return this.reject(key, value, `${allowed} as a string: quote it in the stack file (e.g. "${value}"); ` +
                "YAML reads unquoted digits as a number and drops trailing zeros") ?? def;
        }
        if (typeof value !== "string" || !pattern.test(value)) return this.reject(key, value, allowed) ?? def;
        return value;
    }

    oneOf<T extends string>(key: string, value: Json | undefined, def: T, allowed: readonly T[]): T {
        if (value === undefined || value === null || value === "") return def;
        if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
            return this.reject(key, value, `one of ${allowed.join(", ")}`) ?? def;
        }
        return value as T;
    }

    bool(key: string, value: Json | undefined, def: boolean): boolean {
        if (value === undefined || value === null || value === "") return def;
        if (value === "true" || value === true) return true;
        if (value === "false" || value === false) return false;
        return this.reject(key, value, "true or false") ?? def;
    }

    int(key: string, value: Json | undefined, def: number, min: number, max: number): number {
        if (value === undefined || value === null || value === "") return def;
        const n = typeof value === "string" && /^-?[0-9]+$/.test(value) ? Number(value) : value;
        if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
            return this.reject(key, value, `a whole number from ${min} to ${max}`) ?? def;
        }
        return n;
    }
}

/** Whether a key read by readSecretFields is set: Pulumi.yaml's default `{}` is not. */
export function secretKeySet(r: Reader, key: string): boolean {
    const raw = r.source(key);
    return raw !== undefined && raw.trim() !== "" && raw.replace(/\s/g, "") !== "{}";
}

/**
 * A key of credentials the program puts into a Secret of its own (tls, offsiteCredentials), read whole: every
 * field set, as text of its declared shape, and the key stored encrypted (`pulumi config set --secret --path`), so no
 * credential is in plain text in the stack file. No value is ever shown. A top-level key of its own: offline (render,
 * boot-check: not decrypted) an encrypted key is the secure marker as a whole, and must not hide ingress or backup.
 */
/** What each credentials key holds once read (its fields are declared in config/schema.ts). */
interface SecretFields {
    readonly tls: { readonly certificate: string; readonly key: string };
    readonly offsiteCredentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export function readSecretFields<K extends keyof SecretFields>(r: Reader, key: K): SecretFields[K] | undefined {
    if (!secretKeySet(r, key)) return undefined;
    const declared = nodeAt(key);
    if (declared?.kind !== "object") throw new Error(`config ${key} is not declared as an object in config/schema.ts`);
    const fields = Object.fromEntries(Object.entries(declared.fields).map(([f, n]) => {
        if (n.kind !== "string") throw new Error(`config ${key}.${f} is not declared as a string in config/schema.ts`);
        return [f, n];
    }));
    const raw = r.source(key)!;
    const names = Object.keys(fields);
    // Offline the whole key is the marker (as `pulumi config` shows an encrypted object): set, values unknown.
    if (raw === SECURE_MARKER) return Object.fromEntries(names.map((f) => [f, SECURE_MARKER])) as unknown as SecretFields[K];
    let parsed: Json;
    try { parsed = JSON.parse(raw) as Json; } catch { parsed = raw; }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        r.problems.push(`${PROJECT}:${key}: (value not shown) is not allowed; expected an object with ${names.join(", ")}`);
        return undefined;
    }
    const v = parsed;
    for (const f of Object.keys(v)) {
        if (!names.includes(f)) r.problems.push(`${PROJECT}:${key}.${f}: not a field of ${key} (value not shown); expected ${names.join(", ")}`);
    }
    const out: Record<string, string> = {};
    let ok = true;
    for (const f of names) {
        const value = v[f];
        if (value === undefined || value === null || value === "") {
            r.problems.push(`${PROJECT}:${key}.${f}: not set; expected ${fields[f].allowed}`);
            ok = false;
        } else if (typeof value !== "string" || (!value.includes(SECURE_MARKER) && !fields[f].pattern.test(value))) {
            r.problems.push(`${PROJECT}:${key}.${f}: (value not shown) is not allowed; expected ${fields[f].allowed}`);
            ok = false;
        } else {
            out[f] = value;
        }
    }
    if (!r.isSecret(key)) {
        r.problems.push(`${PROJECT}:${key}: stored in plain text (value not shown: it holds a credential); set each field encrypted: ` +
            names.map((f) => `\`pulumi config set --secret --path ${key}.${f} < FILE\``).join(", "));
        ok = false;
    }
    return ok ? out as unknown as SecretFields[K] : undefined;
}
