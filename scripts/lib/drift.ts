// Drift: a refresh-preview (`pulumi preview --refresh`) of a deployed stack; every step that is not "same" is
// something the live cluster no longer matches. Replica counts an autoscaler owns never show up: the program
// leaves spec.replicas out of such workloads, so the refreshed inputs carry no replica count to compare.
import { EngineEvent, OpType, Stack } from "@pulumi/pulumi/automation";

export interface DriftItem {
    readonly op: OpType;
    /** Pulumi type and resource name, e.g. kubernetes:core/v1:ConfigMap::backend-configmap. */
    readonly resource: string;
    /** The Kubernetes object, e.g. ConfigMap egov-dev/backend-configmap-1a2b3c4d. */
    readonly object?: string;
    /** Property paths that differ, e.g. data.TZ. */
    readonly paths: readonly string[];
}

/** Operations that only read: the refresh itself and unchanged resources. */
const QUIET: readonly OpType[] = ["same", "refresh", "read"];

export async function detectDrift(stack: Stack, onOutput?: (s: string) => void): Promise<DriftItem[]> {
    const items: DriftItem[] = [];
    const onEvent = (e: EngineEvent) => {
        const m = e.resourcePreEvent?.metadata;
        if (!m || QUIET.includes(m.op) || m.type.startsWith("pulumi:")) return;
        const state = (m.old ?? m.new)?.outputs as { kind?: string; metadata?: { name?: string; namespace?: string } } | undefined;
        const meta = state?.metadata;
        items.push({
            op: m.op,
            resource: `${m.type}::${m.urn.split("::").pop()}`,
            object: meta?.name ? `${state?.kind ?? m.type.split(":").pop()} ${meta.namespace ? `${meta.namespace}/` : ""}${meta.name}` : undefined,
            paths: Object.keys(m.detailedDiff ?? {}).length > 0 ? Object.keys(m.detailedDiff ?? {}).sort() : [...(m.diffs ?? [])].sort(),
        });
    };
    try {
        await stack.preview({ refresh: true, diff: true, color: "never", onEvent, onOutput });
    } catch (e) {
        // A field Pulumi applies that someone else changed by hand fails the dry-run apply with a server-side
        // apply conflict: that is drift too, and the message names the object, the field and who changed it.
        const conflicts = fieldConflicts(String((e as Error).message));
        if (conflicts.length === 0) throw e;
        items.push(...conflicts);
    }
    return items;
}

/** Server-side apply conflicts in a failed preview's output. */
export function fieldConflicts(output: string): DriftItem[] {
    const found: DriftItem[] = [];
    const re = /reported that "([^"]+)" failed[^\n]*Server-Side Apply field conflict[^\n]*\n[^\n]*?Apply failed with \d+ conflicts?: ([^\n]+)/g;
    for (const m of output.matchAll(re)) {
        const paths = [...m[2].matchAll(/conflict with "([^"]+)"[^:]*: (\S+)/g)].map((c) => `${c[2]} (changed by ${c[1]})`);
        if (!found.some((f) => f.object === m[1] && f.paths.join() === paths.join())) found.push({ op: "update", resource: m[1], object: m[1], paths });
    }
    return found;
}

export function formatDrift(items: readonly DriftItem[]): string {
    return items.map((i) => `${i.op.padEnd(8)} ${i.object ?? i.resource}${i.paths.length ? `  [${i.paths.join(", ")}]` : ""}`).join("\n");
}
