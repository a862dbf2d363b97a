// The conformance check: what the config server serves a client, against the application's own files
// (config/*.yml of the checkout, in the facts). Every key a file sets is served unchanged, or changed by an
// override declared in config/served.ts; anything else (a key dropped, changed or added without a declared
// reason) fails, naming the service, the key and the file and line. So a new key upstream reaches the services
// with no change here, and a platform change that loses one is caught.
import { parse } from "yaml";
import { canonical, declaredOverride, servedFileNames, UNSERVED_PROFILES } from "../../config/served";
import type { BootFacts, SourcedValue } from "./boot-derive";

export interface ConformanceFinding {
    readonly status: "ok" | "FAIL" | "note";
    readonly key: string;
    readonly detail: string;
    readonly needs: string;
}

/** A YAML text flattened as the boot check reads it (dotted keys, list items as key[i]). */
export function flatYaml(text: string): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (v: unknown, prefix: string) => {
        if (v !== null && typeof v === "object" && !Array.isArray(v)) {
            for (const [k, x] of Object.entries(v)) walk(x, prefix ? `${prefix}.${k}` : k);
        } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${prefix}[${i}]`));
        else out[prefix] = v === null || v === undefined ? "" : String(v);
    };
    walk(parse(text) ?? {}, "");
    return out;
}

/**
 * Findings for one client: `served` is the search location the platform fills for it (file name -> text), the
 * lowest of the server's locations; files of a user's location above it are the user's to decide.
 */
export function conformance(facts: BootFacts, client: string, served: Readonly<Record<string, string>>): ConformanceFinding[] {
    const out: ConformanceFinding[] = [];
    const names = Object.keys(facts.configRepository);
    for (const f of names.filter((n) => !servedFileNames(client, names).includes(n))) {
        const profile = /^(?:application|.+?)-([^-]+)\.ya?ml$/.exec(f)?.[1];
        const base = f.replace(/\.ya?ml$/, "");
        if (profile && UNSERVED_PROFILES[profile] && (base === `application-${profile}` || base === `${client}-${profile}`)) {
            out.push({ status: "note", key: `config/${f}`, detail: `not served: profile ${profile} is ${UNSERVED_PROFILES[profile]}`, needs: `config/${f}` });
        }
    }
    const files = [...new Set([...servedFileNames(client, names), ...servedFileNames(client, Object.keys(served))])];
    for (const f of files) {
        const written = facts.configRepository[f] ?? {};
        const text = served[f];
        const where = (v: SourcedValue) => `${v.file}:${v.line}`;
        if (text === undefined) {
            out.push({ status: "FAIL", key: `config/${f}`, detail: `not served to ${client}: every key of the application's file is lost`, needs: `config/${f}` });
            continue;
        }
        const got = flatYaml(text);
        const gotCanonical = new Map(Object.entries(got).map(([k, v]) => [canonical(k), v]));
        let asWritten = 0;
        for (const [key, v] of Object.entries(written)) {
            const s = got[key] ?? gotCanonical.get(canonical(key));
            if (s === v.value) {
                asWritten++;
                continue;
            }
            const declared = declaredOverride(key, v.value);
            if (declared) {
                out.push({ status: "ok", key, detail: `${declared.kind}: ${s === undefined ? "not served" : "served changed"} (declared: ${declared.reason})`, needs: where(v) });
            } else {
                out.push({
                    status: "FAIL", key, needs: where(v),
                    detail: s === undefined
                        ? `the application's ${f} sets it, and ${client} is not served it: no override in config/served.ts declares dropping it`
                        : `served as ${JSON.stringify(s)}, the application's ${f} has ${JSON.stringify(v.value)}: no override in config/served.ts declares the change`,
                });
            }
        }
        const writtenCanonical = new Set(Object.keys(written).map(canonical));
        for (const [key, s] of Object.entries(got)) {
            if (writtenCanonical.has(canonical(key))) continue;
            const declared = declaredOverride(key);
            out.push(declared
                ? { status: "ok", key, detail: `${declared.kind}: added as ${JSON.stringify(s)} (declared: ${declared.reason})`, needs: `config/${f}` }
                : { status: "FAIL", key, detail: `served as ${JSON.stringify(s)}, set by no application file and no declared override`, needs: `config/${f}` });
        }
        out.push({ status: "ok", key: `config/${f}`, detail: `${asWritten} of ${Object.keys(written).length} keys served as written`, needs: `config/${f}` });
    }
    return out;
}
