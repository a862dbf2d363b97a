// Stack traces that nobody reads without debugging skip ts-node's source maps, which map every frame of every
// captured stack. Imported first by index.ts; the mocked runs (scripts/lib/mocked-run.ts) add their own rule.

type Frames = NodeJS.CallSite[];

/** Formats the stacks `when` selects from V8's frames (at most `keep` of them), unmapped; all others as before. */
export function withoutSourceMaps(when: (error: Error, frames: Frames) => boolean, keep = Infinity): void {
    const mapped = Error.prepareStackTrace;
    if (!mapped) return;
    Error.prepareStackTrace = (error: Error, frames: Frames) =>
        when(error, frames) ? `${String(error)}\n${frames.slice(0, keep).map((f) => `    at ${String(f)}`).join("\n")}` : mapped(error, frames);
}

// The SDK records a stack trace on every promise it creates, printed only when PULUMI_DEBUG_PROMISE_LEAKS is set:
// mapping them was about 0.9 s of CPU in a 6 s no-op `up` of the dev stack. Errors and resources' source positions
// stay mapped.
if (!process.env.PULUMI_DEBUG_PROMISE_LEAKS) {
    withoutSourceMaps((error, frames) => error.message === "" && frames[0]?.getFunctionName() === "debuggablePromise");
}
