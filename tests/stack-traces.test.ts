// config/stack-traces: the SDK's per-promise traces skip source mapping; every other stack is mapped as before.
import * as assert from "assert";

const MODULE = require.resolve("../config/stack-traces");

/** Installs config/stack-traces over a stand-in mapper that marks what it formats; returns the uninstaller. */
function withMapper(env: Record<string, string | undefined>): () => void {
    const original = Error.prepareStackTrace;
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    const put = (vars: Record<string, string | undefined>) => {
        for (const [k, v] of Object.entries(vars)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
    };
    put(env);
    Error.prepareStackTrace = () => "mapped";
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
});
