// Runs the program under Pulumi's runtime mocks and records every resource it registers.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, ConfigSource, loadConfig } from "../config";
import { deploy, Deployed, GENERATED, isWrappedSecret, Obj, promiseOf, Recorded, RecordingMocks, setRuntime, settle } from "../scripts/lib/mocked-run";
import { rawConfigFromFile } from "../scripts/lib/stack-config";

// The mocked run itself lives in scripts/lib (shared with `npm run images` / `npm run render`).
export { deploy, GENERATED, isWrappedSecret, promiseOf, RecordingMocks, setRuntime, settle };
export type { Deployed, Obj, Recorded };

export function isSecretOutput(o: pulumi.Output<unknown>): Promise<boolean> {
    return pulumi.isSecret(o);
}

export const ROOT = path.resolve(__dirname, "..");

/** A kubeconfig file that exists, so config validation accepts it (the mocks never read it). */
export const FAKE_KUBECONFIG = (() => {
    const p = path.join(os.tmpdir(), `egov-unit-kubeconfig-${process.pid}`);
    fs.writeFileSync(p, "apiVersion: v1\nkind: Config\n");
    process.on("exit", () => fs.rmSync(p, { force: true }));
    return p;
})();

/** Raw config (as Pulumi stores it) of a committed stack file, with overrides by key. */
export function stackConfig(stack: "dev" | "prod", overrides: Record<string, unknown> = {}): Record<string, string> {
    const raw = rawConfigFromFile(path.join(ROOT, `Pulumi.${stack}.yaml`));
    const put = (k: string, v: unknown) => {
        raw[k] = typeof v === "string" ? v : JSON.stringify(v);
    };
    // Unit tests never touch a cluster: point the stack at a dummy kubeconfig.
    delete raw.kubeContext;
    raw.kubeconfig = FAKE_KUBECONFIG;
    for (const [k, v] of Object.entries(overrides)) {
        if (v === undefined) delete raw[k];
        else put(k, v);
    }
    return raw;
}

/** Deep-merges an object-valued config key. */
export function withObject(raw: Record<string, string>, key: string, patch: Obj): Record<string, string> {
    const merge = (a: Obj, b: Obj): Obj => {
        const out: Obj = { ...a };
        for (const [k, v] of Object.entries(b)) {
            out[k] = v && typeof v === "object" && !Array.isArray(v) && a[k] && typeof a[k] === "object" ? merge(a[k], v) : v;
        }
        return out;
    };
    return { ...raw, [key]: JSON.stringify(merge(raw[key] ? JSON.parse(raw[key]) : {}, patch)) };
}

export function sourceOf(raw: Record<string, string>): ConfigSource {
    return (key) => raw[key];
}

/** What config validation reports for raw config ([] when it is valid); setKeys: the keys the stack sets. */
export function configProblems(raw: Record<string, string>, stack = "dev", setKeys: Iterable<string> = []): string[] {
    try {
        loadConfig(sourceOf(raw), stack, setKeys);
    } catch (e) {
        if (e instanceof ConfigError) return [...e.problems];
        throw e;
    }
    return [];
}
