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

/** A frame of the program itself: a file outside node_modules (not Node's internals, not ts-node, not the SDK). */
const ownFrame = (f: NodeJS.CallSite): boolean => {
    const file = f.getFileName();
    return !!file && !file.startsWith("node:") && !/[\\/]node_modules[\\/]/.test(file);
};

/**
 * Cuts the SDK's per-resource call stack (Resource.callsites: the engine keeps it in the state of every resource, and
 * the file backend rewrites the whole state before and after every step) after the program's outermost frame: below
 * index.ts there are only ts-node's loader and the SDK's start-up, the same ten frames for every resource. The top,
 * which the SDK skips by count, and every frame of the program stay, mapped as before.
 */
export function trimResourceStacks(): void {
    const next = Error.prepareStackTrace; // ts-node's source mapper: every way of running the program has it
    if (!next) return;
    Error.prepareStackTrace = (error: Error, frames: Frames) => {
        if (frames[0]?.getFunctionName() === "callsites") {
            let last = frames.length - 1;
            while (last >= 0 && !ownFrame(frames[last])) last--;
            if (last >= 0) return next(error, frames.slice(0, last + 1));
        }
        return next(error, frames);
    };
}
trimResourceStacks();
