// The images a stack runs, each with the source it is mirrored from: from the rendered objects themselves, so
// the list cannot miss a container, mapped back to config/images.ts so every entry has a known source.
import { PlatformConfig } from "../../config";
import { backendServices, frontends } from "../../config/catalog";
import { formatImageRef, ImageId, imagesInUse, lockKey, mirrored, platformImageName, resolveImage, sourceImage, thirdPartyKeys } from "../../config/images";

/** Images no container runs but a build needs (listed so an air-gapped mirror has them), with who needs them. */
const buildImages: ReadonlyArray<[ImageId, string]> = [["frontendBase", "build: npm run frontends (base of the frontend images)"]];
import { containersOf, Deployed } from "./mocked-run";

export interface ImageLine {
    /** Where to copy from: registry/repository@digest when pinned, else registry/repository:tag. */
    readonly source: string;
    /** Where the mirror keeps it (registry/repository:tag); equal to the source's name without a mirror. */
    readonly destination: string;
    /** The exact reference the containers run (tag, and digest when pinned). */
    readonly runs: string;
    /** The objects running it, e.g. StatefulSet/mysql-statefulset. */
    readonly usedBy: readonly string[];
    /** Its key in images.lock.json (the source without digest); undefined for a built frontend, pinned by its own record. */
    readonly lockKey?: string;
}

/** Every image id the program may resolve under this config. */
function candidateIds(cfg: PlatformConfig): ImageId[] {
    return [
        ...imagesInUse(cfg),
        ...thirdPartyKeys,
        ...backendServices.map((s) => ({ platform: platformImageName("backend", s.name) })),
        ...frontends.map((f) => ({ platform: platformImageName("frontend", f.name) })),
    ];
}

function line(cfg: PlatformConfig, id: ImageId, runs: string, objects: readonly string[]): ImageLine {
    const src = sourceImage(cfg, id);
    const source = src.digest ? `${src.registry}/${src.repository}@${src.digest}` : formatImageRef(src);
    // A built frontend is where npm run frontends pushed it (the mirror): nothing to copy but the reference itself.
    const destination = formatImageRef({ ...(typeof id === "object" && "built" in id ? src : mirrored(src, cfg.imageMirror)), digest: undefined });
    const built = typeof id === "object" && "built" in id;
    return { source, destination, runs, usedBy: [...new Set(objects)].sort(), ...(built ? {} : { lockKey: lockKey(src) }) };
}

export function imageList(d: Deployed, cfg: PlatformConfig): ImageLine[] {
    const byRun = new Map<string, ImageId>();
    for (const id of candidateIds(cfg)) byRun.set(resolveImage(cfg, id), id);
    const usedBy = new Map<string, string[]>();
    for (const r of d.k8s) {
        for (const c of containersOf(r.obj)) {
            const list = usedBy.get(c.image) ?? [];
            list.push(`${r.obj.kind}/${r.obj.metadata.name}`);
            usedBy.set(c.image, list);
        }
    }
    const lines: ImageLine[] = [];
    for (const [runs, objects] of usedBy) {
        const id = byRun.get(runs);
        if (id === undefined) throw new Error(`image ${runs} (${objects.join(", ")}) does not come from resolveImage in config/images.ts`);
        lines.push(line(cfg, id, runs, objects));
    }
    for (const [id, who] of buildImages) lines.push(line(cfg, id, resolveImage(cfg, id), [who]));
    return lines.sort((a, b) => a.destination.localeCompare(b.destination));
}
