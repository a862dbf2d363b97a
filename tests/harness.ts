// Runs the program under Pulumi's runtime mocks and records every resource it registers.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { ConfigSource, PROJECT } from "../config";

/* eslint-disable @typescript-eslint/no-explicit-any -- Kubernetes objects are checked structurally. */
export type Obj = Record<string, any>;

export interface Recorded {
    readonly type: string;
    readonly name: string;
    readonly provider?: string;
    /** Inputs as registered, secrets still wrapped. */
    readonly raw: Obj;
    /** The object as the cluster would see it: secrets unwrapped, auto-names filled in. */
    readonly obj: Obj;
}

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

export function isWrappedSecret(v: unknown): boolean {
    return typeof v === "object" && v !== null && (v as Obj)[SIG_KEY] === SECRET_SIG;
}

function unwrap(v: unknown): unknown {
    if (isWrappedSecret(v)) return unwrap((v as Obj).value);
    if (Array.isArray(v)) return v.map(unwrap);
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
    return v;
}

/** Marker in every generated password, so tests can look for leaks. */
export const GENERATED = "GeneratedSecret";

export class RecordingMocks implements pulumi.runtime.Mocks {
    readonly resources: Recorded[] = [];

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Obj } {
        const obj = unwrap(args.inputs) as Obj;
        const state: Obj = { ...args.inputs };
        if (args.type.startsWith("kubernetes:") && args.type !== "pulumi:providers:kubernetes") {
            // The provider auto-names objects that have no metadata.name.
            const meta = { ...(obj.metadata ?? {}) };
            if (!meta.name) meta.name = `${args.name}-a1b2c3d4`;
            obj.metadata = meta;
            state.metadata = { ...(state.metadata ?? {}), name: meta.name };
        }
        if (args.type === "random:index/randomPassword:RandomPassword") {
            state.result = `${GENERATED}${args.name.replace(/[^A-Za-z0-9]/g, "")}${"x".repeat(8)}`;
        }
        this.resources.push({ type: args.type, name: args.name, provider: args.provider, raw: args.inputs, obj });
        return { id: `${args.name}-id`, state };
    }

    call(args: pulumi.runtime.MockCallArgs): Obj {
        return args.inputs;
    }
}

export function promiseOf<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply(resolve));
}

export function isSecretOutput(o: pulumi.Output<unknown>): Promise<boolean> {
    return pulumi.isSecret(o);
}

/** Waits until no new resource has been registered for a few event-loop turns. */
export async function settle(mocks: RecordingMocks): Promise<void> {
    let last = -1;
    let quiet = 0;
    while (quiet < 5) {
        await new Promise((r) => setTimeout(r, 5));
        if (mocks.resources.length === last) quiet++;
        else { quiet = 0; last = mocks.resources.length; }
    }
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
    const file = parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Obj };
    const raw: Record<string, string> = {};
    const put = (k: string, v: unknown) => {
        raw[k] = typeof v === "string" ? v : JSON.stringify(v);
    };
    for (const [k, v] of Object.entries(file.config)) {
        if (k.startsWith(`${PROJECT}:`)) put(k.slice(PROJECT.length + 1), v);
    }
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

/** Sets the mocks and the config the way `pulumi up` would pass them to the program. */
export function setRuntime(raw: Record<string, string>, stack: string): RecordingMocks {
    const mocks = new RecordingMocks();
    pulumi.runtime.setMocks(mocks, PROJECT, stack, false);
    const all: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) all[`${PROJECT}:${k}`] = v;
    pulumi.runtime.setAllConfig(all);
    return mocks;
}

export interface Deployed {
    readonly mocks: RecordingMocks;
    readonly exports: Obj;
    readonly all: Recorded[];
    readonly k8s: Recorded[];
    of(kind: string): Obj[];
    find(kind: string, name: string): Obj | undefined;
}

/** Runs index.ts (the real program) with the given raw config under mocks. */
export async function deploy(raw: Record<string, string>, stack = "dev"): Promise<Deployed> {
    const mocks = setRuntime(raw, stack);
    const entry = require.resolve("../index");
    delete require.cache[entry];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = require(entry) as Obj;
    const exports: Obj = {};
    for (const [k, v] of Object.entries(program)) {
        exports[k] = await promiseOf(pulumi.output(v as unknown));
    }
    exports.__outputs = program;
    await settle(mocks);
    const k8s = mocks.resources.filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:"));
    const kindOf = (r: Recorded) => r.type.split(":")[2];
    return {
        mocks,
        exports,
        all: mocks.resources,
        k8s,
        of: (kind) => k8s.filter((r) => kindOf(r) === kind).map((r) => r.obj),
        find: (kind, name) => k8s.find((r) => kindOf(r) === kind && r.obj.metadata?.name === name)?.obj,
    };
}
