// Runs the program under Pulumi's runtime mocks and records every resource it registers.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, ConfigSource, loadConfig } from "../../config";
import { imagesInUse, lockKey, sourceImage } from "../../config/images";
import { deploy as runProgram, Deployed, GENERATED, isWrappedSecret, Obj, promiseOf, Recorded, RecordingMocks, setRuntime } from "../../scripts/lib/mocked-run";
import { rawConfigFromFile } from "../../scripts/lib/stack-config";

// The mocked run itself lives in scripts/lib (shared with `npm run images` / `npm run render`).
export { GENERATED, isWrappedSecret, promiseOf, RecordingMocks, setRuntime };
export type { Deployed, Obj, Recorded };

const runs = new Map<string, Promise<Deployed>>();

function deepFreeze(v: unknown): void {
    if (typeof v !== "object" || v === null || Object.isFrozen(v)) return;
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
}

/**
 * The program's resources for this config, from one mocked run per distinct config in the whole suite: most
 * tests read the same few stacks. The objects are frozen, so a test that edits one fails instead of leaking
 * into the next. A config naming files (initScriptsPath, configServer.path) reads them at run time: give each
 * test its own directory, or use deployFresh.
 */
export function deploy(raw: Record<string, string>, stack = "dev"): Promise<Deployed> {
    const key = JSON.stringify([stack, Object.entries(raw).sort(([a], [b]) => a.localeCompare(b))]);
    let run = runs.get(key);
    if (!run) {
        run = runProgram(raw, stack).then((d) => {
            for (const r of d.all) deepFreeze(r.obj);
            return d;
        });
        runs.set(key, run);
        run.catch(() => runs.delete(key));
    }
    return run;
}

/** A run of its own: for tests that compare two runs or watch the registrations as they happen. */
export function deployFresh(raw: Record<string, string>, stack = "dev"): Promise<Deployed> {
    return runProgram(raw, stack);
}

export function isSecretOutput(o: pulumi.Output<unknown>): Promise<boolean> {
    return pulumi.isSecret(o);
}

export const ROOT = path.resolve(__dirname, "..", "..");
/** The loader mocha runs the TypeScript with (.mocharc.json), for a test that starts a Node process of its own. */
export const TS_LOADER = path.join(__dirname, "ts-node-swc.js");

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
    // A stack that requires digests (prod) gets test pins for its images unless the test gives its own: the
    // committed images.lock.json is empty until an agency fills it from its mirror (npm run images -- --lock).
    if (!("imageDigests" in overrides) && raw.image && (JSON.parse(raw.image) as { requireDigests?: boolean }).requireDigests === true) {
        put("imageDigests", testPins(raw, stack));
    }
    return raw;
}

/** The prod stack pulling by tag (image.requireDigests off, no pins but `overrides`'): for tests about tags and mirrors. */
export function prodByTag(overrides: Record<string, unknown> = {}): Record<string, string> {
    return withObject(stackConfig("prod", { imageDigests: undefined, ...overrides }), "image", { requireDigests: false });
}

/**
 * Digest pins standing in for an agency's lock, for every image the stack runs: sha256 of "egov-platform test pin
 * <reference>", so no test pin is the digest of a real image.
 */
export function testPins(raw: Record<string, string>, stack: string): Record<string, string> {
    const img = JSON.parse(raw.image) as Record<string, unknown>;
    let cfg;
    try {
        // Without the frontend record: pins for the published frontend images too, whatever the record says.
        cfg = loadConfig(sourceOf({ ...raw, image: JSON.stringify({ ...img, requireDigests: false }) }), stack, [], undefined, { frontendRecord: false });
    } catch (e) {
        if (e instanceof ConfigError) return {}; // the test's own config problem, reported where it loads the config
        throw e;
    }
    const pins: Record<string, string> = {};
    for (const id of [...imagesInUse(cfg), "frontendBase" as const]) {
        const key = lockKey(sourceImage(cfg, id));
        pins[key] = `sha256:${crypto.createHash("sha256").update(`egov-platform test pin ${key}`).digest("hex")}`;
    }
    return pins;
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
