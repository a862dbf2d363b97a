// Runs the Pulumi program under the SDK's runtime mocks and records every resource it registers: the object
// source of the unit tests and of `npm run images` / `npm run render` (no engine, no cluster).
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../../config";
import { withoutSourceMaps } from "../../config/stack-traces";

// The SDK captures a stack trace for every promise and resource it creates (`new Error().stack`, no message:
// for leak reports and source positions, which a mocked run never shows). deploy() runs with no frames, but a
// resource's capture raises the depth to Infinity itself, and under ts-node each frame was source-mapped. Those
// captures keep three unmapped frames; errors with a message keep the mapped stack.
withoutSourceMaps((error) => error.message === "" && error.constructor === Error, 3);

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

/** Replaces every secret-wrapped value by `replace(value)` (default: the value itself). */
export function unwrapSecrets(v: unknown, replace: (secret: unknown) => unknown = (s) => unwrapSecrets(s, replace)): unknown {
    if (isWrappedSecret(v)) return replace((v as Obj).value);
    if (Array.isArray(v)) return v.map((x) => unwrapSecrets(x, replace));
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x, replace)]));
    return v;
}

/** Marker in every generated password, so tests (and the render redaction check) can look for leaks. */
export const GENERATED = "GeneratedSecret";

/** Suffix the mocks give auto-named objects: fixed, so rendered names are stable from run to run. */
export const AUTONAME_SUFFIX = "a1b2c3d4";

export interface MockOptions {
    /**
     * Generated passwords as the provider makes them: random, honouring the resource's inputs (length, character
     * classes, overrideSpecial, min*), instead of the fixed readable marker. For runs that use the values (a
     * stack's special characters may break a URL or a shell: the run must see them). A string is a seed: the same
     * resource with the same keepers gets the same value in every run with that seed, as a stack's state keeps an
     * unchanged password across updates (a new keeper, e.g. a rotation's generation, is a new value).
     */
    readonly realPasswords?: boolean | string;
}

/** Uniform integers below n: crypto-random, or from a seeded HMAC stream. */
function integers(seed?: string, id = ""): (n: number) => number {
    if (seed === undefined) return (n) => crypto.randomInt(n);
    let counter = 0;
    let pool = Buffer.alloc(0);
    const bytes = (k: number) => {
        while (pool.length < k) pool = Buffer.concat([pool, crypto.createHmac("sha256", seed).update(`${id}\0${counter++}`).digest()]);
        const out = pool.subarray(0, k);
        pool = pool.subarray(k);
        return out;
    };
    return (n) => {
        // Rejection sampling over 32 bits: no modulo bias.
        const limit = Math.floor(0x100000000 / n) * n;
        for (;;) {
            const v = bytes(4).readUInt32BE(0);
            if (v < limit) return v % n;
        }
    };
}

const DEFAULT_SPECIAL = "!@#$%&*()-_=+[]{}<>:?";

/** A password as @pulumi/random's RandomPassword makes one from these inputs (crypto-random, minimums first, then shuffled). */
export function randomPassword(inputs: Obj, seed?: string, id = ""): string {
    const randomInt = integers(seed, id);
    const length = Number(inputs.length ?? 16);
    const sets: [boolean, string, number][] = [
        [inputs.lower !== false, "abcdefghijklmnopqrstuvwxyz", Number(inputs.minLower ?? 0)],
        [inputs.upper !== false, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", Number(inputs.minUpper ?? 0)],
        [inputs.numeric !== false && inputs.number !== false, "0123456789", Number(inputs.minNumeric ?? 0)],
        [inputs.special !== false, typeof inputs.overrideSpecial === "string" ? inputs.overrideSpecial : DEFAULT_SPECIAL, Number(inputs.minSpecial ?? 0)],
    ];
    const pick = (chars: string) => chars[randomInt(chars.length)];
    const out: string[] = [];
    let all = "";
    for (const [on, chars, min] of sets) {
        if (!on || chars.length === 0) continue;
        all += chars;
        for (let i = 0; i < min; i++) out.push(pick(chars));
    }
    if (all.length === 0) throw new Error("RandomPassword: no character class enabled");
    while (out.length < length) out.push(pick(all));
    for (let i = out.length - 1; i > 0; i--) {
        const j = randomInt(i + 1);
        [out[i], out[j]] = [out[j], out[i]];
    }
    return out.join("");
}

export class RecordingMocks implements pulumi.runtime.Mocks {
    readonly resources: Recorded[] = [];
    private readonly states = new Map<Recorded, Obj>();
    constructor(private readonly options: MockOptions = {}) {}

    /** The state (outputs) the mocks gave a resource, e.g. a generated password's result. */
    outputsOf(r: Recorded): Obj {
        return this.states.get(r) ?? {};
    }

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Obj } {
        const obj = unwrapSecrets(args.inputs) as Obj;
        const state: Obj = { ...args.inputs };
        if (args.type.startsWith("kubernetes:") && args.type !== "pulumi:providers:kubernetes") {
            // The provider auto-names objects that have no metadata.name.
            const meta = { ...(obj.metadata ?? {}) };
            if (!meta.name) meta.name = `${args.name}-${AUTONAME_SUFFIX}`;
            obj.metadata = meta;
            state.metadata = { ...(state.metadata ?? {}), name: meta.name };
        }
        if (args.type === "random:index/randomPassword:RandomPassword") {
            // A new keeper (a rotation's generation) is a new value, as with the real provider.
            const generation = (args.inputs as Obj).keepers?.generation ?? "";
            state.result = this.options.realPasswords
                ? randomPassword(obj, typeof this.options.realPasswords === "string" ? this.options.realPasswords : undefined,
                    `${args.name}\0${JSON.stringify(obj.keepers ?? {})}`)
                : `${GENERATED}${args.name.replace(/[^A-Za-z0-9]/g, "")}${generation}${"x".repeat(8)}`;
            // The provider's bcryptHash: here only its shape ($2a$10$ + 53 characters of bcrypt's base64), derived from the value.
            state.bcryptHash = `$2a$10$${crypto.createHash("sha512").update(state.result as string).digest("base64").replace(/[^A-Za-z0-9]/g, ".").slice(0, 53)}`;
        }
        const rec: Recorded = { type: args.type, name: args.name, provider: args.provider, raw: args.inputs, obj };
        this.resources.push(rec);
        this.states.set(rec, state);
        return { id: `${args.name}-id`, state };
    }

    call(args: pulumi.runtime.MockCallArgs): Obj {
        return args.inputs;
    }
}

export function promiseOf<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply(resolve));
}

// The SDK's own "the program is done" signal: every registration, output and invoke holds an RPC open until it
// completes, and the language host waits for them to drain before it exits. Internal to the SDK, so typed here.
const { waitForRPCs } = pulumi.runtime as unknown as { waitForRPCs: () => Promise<void> };

/** Waits until every registration the program started has completed. */
export async function settle(): Promise<void> {
    await waitForRPCs();
}

/** Sets the mocks and the config the way `pulumi up` would pass them to the program; secretKeys: keys stored encrypted. */
export function setRuntime(raw: Record<string, string>, stack: string, secretKeys: readonly string[] = [], options: MockOptions = {}): RecordingMocks {
    const mocks = new RecordingMocks(options);
    pulumi.runtime.setMocks(mocks, PROJECT, stack, false);
    const all: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) all[`${PROJECT}:${k}`] = v;
    pulumi.runtime.setAllConfig(all, secretKeys.map((k) => `${PROJECT}:${k}`));
    return mocks;
}

export interface Deployed {
    readonly mocks: RecordingMocks;
    readonly exports: Obj;
    readonly all: Recorded[];
    /** Kubernetes objects (no providers), in registration order. */
    readonly k8s: Recorded[];
    of(kind: string): Obj[];
    find(kind: string, name: string): Obj | undefined;
}

export const kindOf = (r: Recorded) => r.type.split(":")[2];

/**
 * Runs index.ts (the real program) with the given raw config (key without project prefix -> string) under mocks.
 * The SDK captures a stack trace for every promise it makes; without frames a run takes about half the CPU. A run
 * that fails is repeated with frames, so its error still shows where it came from.
 */
export async function deploy(raw: Record<string, string>, stack = "dev", secretKeys: readonly string[] = [],
    options: MockOptions = {}): Promise<Deployed> {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
        return await runOnce(raw, stack, secretKeys, options);
    } catch {
        // repeated below, with stack frames
    } finally {
        Error.stackTraceLimit = limit;
    }
    return runOnce(raw, stack, secretKeys, options);
}

async function runOnce(raw: Record<string, string>, stack: string, secretKeys: readonly string[], options: MockOptions): Promise<Deployed> {
    const mocks = setRuntime(raw, stack, secretKeys, options);
    const entry = require.resolve("../../index");
    delete require.cache[entry];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = require(entry) as Obj;
    // Not named `exports`: that would shadow the CommonJS binding the compiled module reads its own exports from.
    const stackOutputs: Obj = {};
    for (const [k, v] of Object.entries(program)) {
        stackOutputs[k] = await promiseOf(pulumi.output(v as unknown));
    }
    stackOutputs.__outputs = program;
    await settle();
    const k8s = mocks.resources.filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:"));
    return {
        mocks,
        exports: stackOutputs,
        all: mocks.resources,
        k8s,
        of: (kind) => k8s.filter((r) => kindOf(r) === kind).map((r) => r.obj),
        find: (kind, name) => k8s.find((r) => kindOf(r) === kind && r.obj.metadata?.name === name)?.obj,
    };
}

/** Every container of a pod-bearing object (Pod, workload, Job, CronJob), init containers included. */
export function containersOf(obj: Obj): Obj[] {
    let spec: Obj | undefined = obj.spec;
    if (spec?.jobTemplate) spec = spec.jobTemplate.spec;
    if (spec?.template) spec = spec.template.spec;
    if (!spec) return [];
    return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
}
