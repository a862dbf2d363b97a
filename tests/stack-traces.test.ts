// config/stack-traces: the SDK's per-promise traces skip source mapping; every other stack is mapped as before.
import * as assert from "assert";

const MODULE = require.resolve("../config/stack-traces");

/** Installs config/stack-traces over a stand-in mapper that marks what it formats; returns the uninstaller. */
function withMapper(env: Record<string, string | undefined>, mapper: (e: Error, frames: NodeJS.CallSite[]) => string = () => "mapped"): () => void {
    const original = Error.prepareStackTrace;
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    const put = (vars: Record<string, string | undefined>) => {
        for (const [k, v] of Object.entries(vars)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
    };
    put(env);
    Error.prepareStackTrace = mapper;
    delete require.cache[MODULE];
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- installed fresh over the stand-in mapper
    require(MODULE);
    return () => {
        Error.prepareStackTrace = original;
        put(saved);
        delete require.cache[MODULE];
    };
}

// Named like the SDK's function: the frame the module recognises.
function debuggablePromise(): string | undefined {
    return new Error().stack;
}

function registerResource(): string | undefined {
    return new Error().stack;
}

describe("stack traces of a real run (config/stack-traces)", () => {
    it("the SDK still names its per-promise capture debuggablePromise (the frame this relies on)", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- an internal module of the SDK
        const sdk = require("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise: (...a: unknown[]) => unknown };
        assert.strictEqual(sdk.debuggablePromise.name, "debuggablePromise");
    });

    it("leaves the SDK's promise traces unmapped, and maps errors and resources' source positions", () => {
        const restore = withMapper({ PULUMI_DEBUG_PROMISE_LEAKS: undefined });
        try {
            const promiseTrace = debuggablePromise();
            assert.notStrictEqual(promiseTrace, "mapped");
            assert.match(promiseTrace ?? "", /^Error\n {4}at debuggablePromise /);
            assert.strictEqual(registerResource(), "mapped", "a resource's source position is mapped");
            assert.strictEqual(new Error("boom").stack, "mapped", "an error is mapped");
        } finally {
            restore();
        }
    });

    it("maps the promise traces too when PULUMI_DEBUG_PROMISE_LEAKS asks for them", () => {
        const restore = withMapper({ PULUMI_DEBUG_PROMISE_LEAKS: "true" });
        try {
            assert.strictEqual(debuggablePromise(), "mapped");
        } finally {
            restore();
        }
    });

    it("cuts a resource's call stack (the SDK's Resource.callsites) after the program's outermost frame, and maps what it keeps", () => {
        let passed: NodeJS.CallSite[] = [];
        const restore = withMapper({}, (_e, frames) => { passed = frames; return "mapped"; });
        try {
            // Named like the SDK's function; called from this file, which mocha (node_modules) runs.
            const callsites = (): string | undefined => new Error().stack;
            assert.strictEqual(callsites(), "mapped");
            const files = passed.map((f) => f.getFileName() ?? "");
            assert.strictEqual(passed[0].getFunctionName(), "callsites", "the top, which the SDK skips by count, is kept");
            assert.strictEqual(files[files.length - 1], __filename, "the outermost frame is the program's");
            assert.ok(files.every((f) => !f.includes("node_modules")), `frames below the program were kept: ${files.join(", ")}`);
            // Any other stack keeps every frame: mocha's, below this file, too.
            new Error("boom").stack; // eslint-disable-line @typescript-eslint/no-unused-expressions -- formats the stack
            assert.ok(passed.some((f) => (f.getFileName() ?? "").includes("node_modules")), "an error's stack was cut");
        } finally {
            restore();
        }
    });

    it("the SDK still captures a resource's stack in Resource.callsites, top frame first (the frame this relies on)", () => {
        let top: string | null = null;
        const restore = withMapper({}, (_e, frames) => { top = frames[0]?.getFunctionName() ?? null; return "Error"; });
        try {
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- the SDK's Resource class
            const { Resource } = require("@pulumi/pulumi/resource") as { Resource: { callsites(): unknown[] } };
            Resource.callsites();
            assert.strictEqual(top, "callsites");
        } finally {
            restore();
        }
    });
});
