// The SDK records a stack trace on every promise it creates, printed only when PULUMI_DEBUG_PROMISE_LEAKS is set.
// Under ts-node each of those traces is source-mapped frame by frame, about 0.9 s of CPU in a 6 s no-op `up` of the
// dev stack. Those traces stay unmapped unless that variable asks for them; every other stack (errors, resources'
// source positions) is mapped as before. Imported first by index.ts.
const mapped = Error.prepareStackTrace;

if (mapped && !process.env.PULUMI_DEBUG_PROMISE_LEAKS) {
    Error.prepareStackTrace = (error: Error, frames: NodeJS.CallSite[]) =>
        error.message === "" && frames[0]?.getFunctionName() === "debuggablePromise"
            ? `Error\n${frames.map((f) => `    at ${String(f)}`).join("\n")}`
            : mapped(error, frames);
}

export {};
