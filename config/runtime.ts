// What the runtimes in the pods are told about their container: the heap each may take of its memory limit.
import { quantityValue } from "./resources";

/**
 * The share of a container's memory limit its runtime's heap may take. The rest is for what the heap does not
 * count: a JVM's metaspace, code cache, thread stacks and direct buffers (Netty in the gateway); Node's new space,
 * code and Buffers. Both runtimes stay below the limit instead of being OOM-killed at it.
 */
export const HEAP_SHARE_PERCENT = 75;

/** A runtime whose heap the platform sizes: the Spring services' JVM and the frontends' Node.js. */
export type Runtime = "jvm" | "node";

/** The env var that sizes a runtime's heap, set on the container that runs it. */
export interface HeapEnv {
    readonly name: "JAVA_TOOL_OPTIONS" | "NODE_OPTIONS";
    readonly value: string;
}

/**
 * The heap setting of a runtime from its container's memory limit; undefined without a (readable) limit, so the
 * runtime keeps its own default rather than a share of the node's memory.
 * - JVM: a share of the limit the JVM reads from the cgroup itself (its default is 25%). No InitialRAMPercentage:
 *   the request is below the limit, and committing the whole heap at start would put every pod above its request.
 *   The collector stays the JVM's choice (Serial on one CPU and under 1792 MB: the smallest footprint there).
 *   `75.0`, not `75`: JDK 8's parser refuses a double flag without a decimal point.
 * - Node.js: old space in MiB, computed here rather than left to Node's own sizing from the memory it sees.
 */
export function heapEnv(runtime: Runtime, memoryLimit: string | undefined): HeapEnv | undefined {
    const bytes = memoryLimit === undefined ? NaN : quantityValue(memoryLimit);
    if (!(bytes > 0)) return undefined;
    if (runtime === "jvm") return { name: "JAVA_TOOL_OPTIONS", value: `-XX:MaxRAMPercentage=${HEAP_SHARE_PERCENT.toFixed(1)}` };
    return { name: "NODE_OPTIONS", value: `--max-old-space-size=${Math.floor((bytes / 2 ** 20) * HEAP_SHARE_PERCENT / 100)}` };
}
