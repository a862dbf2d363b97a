// The value patterns and checks of stack config values: pure, shared by the schema (config/schema.ts) and the reader.

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A label key: an optional DNS-subdomain prefix and a name of up to 63 characters. */
export const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
export const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
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


/** A kubeconfig's contents rather than its path (the contents hold the cluster's credentials). */
export function looksLikeKubeconfigContents(value: string): boolean {
    return /\n/.test(value) || /^\s*(apiVersion|\{)/.test(value);
}

export const CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/([0-9]|[12][0-9]|3[0-2])$/;
