// Reading raw stack config: the problem collector, the value patterns and the checks shared by every key.
import { CONFIG_KEYS, ConfigSource, Json } from "./types";
import { PROJECT } from "./project";

export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`invalid stack config:\n  - ${problems.join("\n  - ")}`);
        this.name = "ConfigError";
    }
}

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
export const STORAGE_SIZE = /^[0-9]+(Ki|Mi|Gi|Ti|Pi|Ei)$/;
export const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const MIRROR = /^(localhost|[a-z0-9-]+(\.[a-z0-9-]+)+|[a-z0-9.-]+:[0-9]+)(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;
export const REGISTRY = /^[a-z0-9]([a-z0-9.:-]*[a-z0-9])?(\/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*$/;
export const MYSQL_IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/;
export const USERNAME = /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/;
export const CRON = /^(@(hourly|daily|weekly|monthly|yearly)|[0-9*/,-]+( [0-9*/,-]+){4})$/;
const CRON_FIELDS = [["minute", 0, 59], ["hour", 0, 23], ["day of month", 1, 31], ["month", 1, 12], ["day of week", 0, 7]] as const;

/** What is wrong with a five-field cron schedule (already matched by CRON), field by field; [] when nothing. */
export function cronProblems(schedule: string): string[] {
    if (schedule.startsWith("@")) return [];
    const problems: string[] = [];
    schedule.split(" ").forEach((field, i) => {
        const [name, min, max] = CRON_FIELDS[i];
        for (const part of field.split(",")) {
            const m = /^(\*|([0-9]+)(?:-([0-9]+))?)(?:\/([0-9]+))?$/.exec(part);
            if (!m) {
                problems.push(`${name} "${part}" is not a value, a range a-b, * or a step /n`);
                continue;
            }
            const [lo, hi, step] = [m[2], m[3], m[4]].map((v) => (v === undefined ? undefined : Number(v)));
            for (const v of [lo, hi]) if (v !== undefined && (v < min || v > max)) problems.push(`${name} ${v} is outside ${min}-${max}`);
            if (lo !== undefined && hi !== undefined && lo > hi) problems.push(`${name} range ${lo}-${hi} runs backwards`);
            if (step !== undefined && step < 1) problems.push(`${name} step /${step} must be at least 1`);
        }
    });
    return problems;
}
export const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;


/** Levenshtein distance, case-insensitive: how far a misspelt key is from a known one. */
export function editDistance(a: string, b: string): number {
    const x = a.toLowerCase(), y = b.toLowerCase();
    let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
    for (let i = 1; i <= x.length; i++) {
        const cur = [i];
        for (let j = 1; j <= y.length; j++) {
            cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
        }
        prev = cur;
    }
    return prev[y.length];
}

export function closest(word: string, candidates: readonly string[]): string {
    return candidates.reduce((best, c) => (editDistance(word, c) < editDistance(word, best) ? c : best), candidates[0]);
}

/** Abbreviations people write for a zone; each names one region here (IST, CST and others are ambiguous: refused with no guess). */
const ZONE_ABBREVIATIONS: Readonly<Record<string, string>> = { KST: "Asia/Seoul", JST: "Asia/Tokyo" };

/** The fix to suggest for a time zone that isTimeZone refused. */
export function timeZoneSuggestion(tz: string): string {
    const abbreviated = ZONE_ABBREVIATIONS[tz.toUpperCase()];
    if (abbreviated) return `${tz} is an abbreviation; the IANA name is ${abbreviated}`;
    if (/^[A-Za-z]{2,5}$/.test(tz)) return `${tz} looks like an abbreviation; use the region's IANA name, e.g. Asia/Seoul`;
    return `closest: ${closest(tz, Intl.supportedValuesOf("timeZone"))}`;
}

/**
 * An IANA time zone as containers read it (TZ resolves /usr/share/zoneinfo/<name>, case-sensitive):
 * the IANA spelling (segments start upper-case; no UTC offsets like +09:00) and known to Node's ICU,
 * which accepts links such as Etc/UTC or US/Pacific that Intl.supportedValuesOf omits.
 */
export function isTimeZone(tz: string): boolean {
    if (!/^[A-Z][A-Za-z0-9_+-]*(\/[A-Z][A-Za-z0-9_+-]*)*$/.test(tz)) return false;
    try {
        new Intl.DateTimeFormat("en", { timeZone: tz });
        return true;
    } catch {
        return false;
    }
}

/** What the offline commands (render, boot-check) read for an encrypted value: they never decrypt. */
export const SECURE_MARKER = "<redacted: secure stack config, not decrypted>";

/**
 * Field names whose values are, or may be, credentials: never echoed, at any depth. A name ending in Name refers to
 * a Secret (credentialsSecretName, tlsSecretName) and holds none.
 */
const SENSITIVE_NAME = /^(?!.*Name$).*(password|passwd|secret|token|credential|apikey|accesskey|privatekey)/i;

/** A kubeconfig's contents rather than its path (the contents hold the cluster's credentials). */
export function looksLikeKubeconfigContents(value: string): boolean {
    return /\n/.test(value) || /^\s*(apiVersion|\{)/.test(value);
}

/** Collects every problem, so one run reports all bad keys at once. */
export class Reader {
    readonly problems: string[] = [];
    readonly source: ConfigSource;
    /** isSecret: whether a top-level key is stored encrypted (its value, decrypted or not, is never echoed). */
    constructor(source: ConfigSource, readonly isSecret: (key: string) => boolean = () => false) {
        this.source = (key) => {
            if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
                throw new Error(`config key ${key} is read but not in CONFIG_KEYS (config/index.ts) and Pulumi.yaml`);
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
     * key's, decrypted or not; kubeconfig contents; a field named like a credential), which is described instead.
     */
    shown(key: string, value: unknown): string {
        const path = key.split(/[.[\]"]+/).filter((s) => s !== "");
        const text = JSON.stringify(value) ?? String(value);
        if (text.includes(SECURE_MARKER)) {
            return "(value not shown: encrypted; this command reads the stack file without decrypting it, so it cannot check the value)";
        }
        if (this.isSecret(path[0])) return "(value not shown: encrypted)";
        if (path.some((s) => SENSITIVE_NAME.test(s))) return "(value not shown: its name says it may hold a credential)";
        if (path[0] === "kubeconfig" && typeof value === "string" && looksLikeKubeconfigContents(value)) {
            return "(value not shown: a kubeconfig's contents hold credentials)";
        }
        return text;
    }

    /** An object-valued key (structured config), or {} when unset. */
    object(key: string, knownFields: readonly string[]): Record<string, Json> {
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
        for (const field of Object.keys(parsed)) {
            if (!knownFields.includes(field)) {
                this.reject(`${key}.${field}`, parsed[field], `a known field of ${key}: ${knownFields.join(", ")}`);
            }
        }
        return parsed;
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

    string(key: string, value: Json | undefined, def: string, pattern: RegExp, allowed: string): string;
    string(key: string, value: Json | undefined, def: undefined, pattern: RegExp, allowed: string): string | undefined;
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

const CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/([0-9]|[12][0-9]|3[0-2])$/;

export function readCidrs(r: Reader, key: string, value: Json | undefined, def: readonly string[]): readonly string[] {
    if (value === undefined || value === null) return def;
    if (!Array.isArray(value) || value.some((c) => typeof c !== "string" || !CIDR.test(c))) {
        r.reject(key, value, "a list of IPv4 CIDRs such as 10.0.0.0/8");
        return def;
    }
    return value as string[];
}

/** Whether a key read by readSecretFields is set: Pulumi.yaml's default `{}` is not. */
export function secretKeySet(r: Reader, key: string): boolean {
    const raw = r.source(key);
    return raw !== undefined && raw.trim() !== "" && raw.replace(/\s/g, "") !== "{}";
}

/**
 * A key of credentials the program puts into a Secret of its own (tls, offsiteCredentials), read whole: every
 * field set, as text of its shape, and the key stored encrypted (`pulumi config set --secret --path`), so no
 * credential is in plain text in the stack file. No value is ever shown. A top-level key of its own: offline (render,
 * boot-check: not decrypted) an encrypted key is the secure marker as a whole, and must not hide ingress or backup.
 */
export function readSecretFields<F extends string>(r: Reader, key: string, fields: Readonly<Record<F, { readonly shape: RegExp; readonly allowed: string }>>): Record<F, string> | undefined {
    if (!secretKeySet(r, key)) return undefined;
    const raw = r.source(key)!;
    const names = Object.keys(fields) as F[];
    // Offline the whole key is the marker (as `pulumi config` shows an encrypted object): set, values unknown.
    if (raw === SECURE_MARKER) return Object.fromEntries(names.map((f) => [f, SECURE_MARKER])) as Record<F, string>;
    let v: Json;
    try { v = JSON.parse(raw) as Json; } catch { v = raw; }
    const top = key;
    const notShown = "(value not shown)";
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
        r.problems.push(`${PROJECT}:${key}: ${notShown} is not allowed; expected an object with ${Object.keys(fields).join(", ")}`);
        return undefined;
    }
    for (const f of Object.keys(v)) {
        if (!(names as string[]).includes(f)) r.problems.push(`${PROJECT}:${key}.${f}: not a field of ${key} (value not shown); expected ${names.join(", ")}`);
    }
    const out = {} as Record<F, string>;
    let ok = true;
    for (const f of names) {
        const value = v[f];
        if (value === undefined || value === null || value === "") {
            r.problems.push(`${PROJECT}:${key}.${f}: not set; expected ${fields[f].allowed}`);
            ok = false;
        } else if (typeof value !== "string" || (!value.includes(SECURE_MARKER) && !fields[f].shape.test(value))) {
            r.problems.push(`${PROJECT}:${key}.${f}: ${notShown} is not allowed; expected ${fields[f].allowed}`);
            ok = false;
        } else {
            out[f] = value;
        }
    }
    if (!r.isSecret(top)) {
        r.problems.push(`${PROJECT}:${key}: stored in plain text (value not shown: it holds a credential); set each field encrypted: ` +
            names.map((f) => `\`pulumi config set --secret --path ${key}.${f} < FILE\``).join(", "));
        ok = false;
    }
    return ok ? out : undefined;
}
