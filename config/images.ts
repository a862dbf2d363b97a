// Every container image of the stack goes through resolveImage: the source reference (normalised to a fully
// qualified name), the mirror rewrite and digest pinning live here and nowhere else.
//
// Mirror layout: <imageMirror>/<source registry>/<source repository>:<tag>[@<digest>], e.g. with
// imageMirror harbor.agency.go.kr/egov, docker.io/library/mysql:8.4.11 is pulled as
// harbor.agency.go.kr/egov/docker.io/library/mysql:8.4.11. Keeping the source registry in the path means two
// registries with the same repository name cannot collide, and `skopeo copy` / `crane copy` of the pairs that
// `npm run images` prints reproduces the layout exactly.
import * as fs from "fs";
import * as path from "path";
import type { PlatformConfig } from "./types";
import { defaultImages, ImageKey } from "./catalog";
import { MIGRATE_JOB, serviceGraph } from "./graph";
import { BACKUP_JOB, OS_SNAPSHOT_JOB, offsiteWorkloads } from "./volumes";

/**
 * A third-party image by catalog key, a platform image by repository name, a full reference (a service added by
 * stack config), or a frontend image `npm run frontends` built for the stack (reference@digest where it was put).
 */
export type ImageId = ImageKey | { readonly platform: string } | { readonly ref: string } | { readonly built: string };

export interface ImageRef {
    /** Registry host (with port), e.g. docker.io or registry.k8s.io. */
    readonly registry: string;
    /** Repository path below the registry, e.g. library/mysql. */
    readonly repository: string;
    readonly tag: string;
    /** sha256:<hex> when pinned. */
    readonly digest?: string;
}

export const DIGEST = /^sha256:[a-f0-9]{64}$/;
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DOCKER_HUB = "docker.io";

/**
 * Parses an image reference the way the container runtime does: a first path component with a dot, a colon or
 * "localhost" is the registry, else Docker Hub; a one-component Docker Hub name is under library/; no tag is
 * latest. Returns an error message instead when the reference is malformed.
 */
export function parseImageRef(ref: string): ImageRef | string {
    let rest = ref;
    let digest: string | undefined;
    const at = rest.indexOf("@");
    if (at >= 0) {
        digest = rest.slice(at + 1);
        rest = rest.slice(0, at);
        if (!DIGEST.test(digest)) return `digest ${digest} is not sha256:<64 hex digits>`;
    }
    let tag: string | undefined;
    const lastSlash = rest.lastIndexOf("/");
    const colon = rest.lastIndexOf(":");
    if (colon > lastSlash) {
        tag = rest.slice(colon + 1);
        rest = rest.slice(0, colon);
        if (!TAG.test(tag)) return `tag ${tag} is not a valid tag`;
    }
    const parts = rest.split("/");
    let registry = DOCKER_HUB;
    if (parts.length > 1 && (parts[0].includes(".") || parts[0].includes(":") || parts[0] === "localhost")) {
        registry = parts.shift()!;
        if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?$/.test(registry)) return `registry ${registry} is not a host[:port]`;
    }
    if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = DOCKER_HUB;
    if (parts.length === 0 || parts.some((p) => !COMPONENT.test(p))) return `repository ${parts.join("/")} is not a valid path`;
    if (registry === DOCKER_HUB && parts.length === 1) parts.unshift("library");
    return { registry, repository: parts.join("/"), tag: tag ?? "latest", digest };
}

export function formatImageRef(r: ImageRef): string {
    return `${r.registry}/${r.repository}:${r.tag}${r.digest ? `@${r.digest}` : ""}`;
}

/** The fully qualified reference without digest: the key of the lock file and of `imageDigests`. */
export function lockKey(r: ImageRef): string {
    return formatImageRef({ ...r, digest: undefined });
}

/** The unresolved reference an image id stands for under this config (what the stack config names). */
function configuredRef(cfg: Pick<PlatformConfig, "image" | "images">, id: ImageId): string {
    if (typeof id === "string") return cfg.images[id];
    if ("built" in id) return id.built;
    return "ref" in id ? id.ref : `${cfg.image.registry}/${id.platform}:${cfg.image.tag}`;
}

function mustParse(ref: string): ImageRef {
    const r = parseImageRef(ref);
    // Config validation parses every configured reference first, so this only guards programming errors.
    if (typeof r === "string") throw new Error(`image reference ${ref}: ${r}`);
    return r;
}

type ImageSettings = Pick<PlatformConfig, "image" | "images" | "imageMirror" | "imageDigests">;

/** A frontend's image: the one built for the stack (frontends.lock.json) when there is one, else the published one. */
export function frontendImageId(cfg: Pick<PlatformConfig, "frontendImages">, name: string): ImageId {
    const b = cfg.frontendImages[name]?.built;
    return b ? { built: `${b.image}@${b.digest}` } : { platform: platformImageName("frontend", name) };
}

/** Where an image comes from: fully qualified, with the digest when pinned (by the reference, lock file or config). */
export function sourceImage(cfg: ImageSettings, id: ImageId): ImageRef {
    const r = mustParse(configuredRef(cfg, id));
    return { ...r, digest: r.digest ?? cfg.imageDigests[lockKey(r)] };
}

/** Where the mirror keeps a source image (identity without a mirror). */
export function mirrored(source: ImageRef, mirror: string | undefined): ImageRef {
    if (!mirror) return source;
    const [host, ...path] = mirror.split("/");
    return { ...source, registry: host, repository: [...path, source.registry, source.repository].join("/") };
}

/** The image reference a container runs: the source, moved below the mirror, pinned when a digest is known. */
export function resolveImage(cfg: ImageSettings, id: ImageId): string {
    // A built frontend is already where the cluster pulls it from (npm run frontends pushed it there).
    if (typeof id === "object" && "built" in id) return id.built;
    return formatImageRef(mirrored(sourceImage(cfg, id), cfg.imageMirror));
}

/** Keys every configured third-party image can be looked up by (for validation and listings). */
export const thirdPartyKeys = Object.keys(defaultImages) as ImageKey[];

/** Repository name of a platform image: one per backend service and frontend of the catalog. */
export function platformImageName(tier: "backend" | "frontend", name: string): string {
    return `egovframe-msa-edu-${tier}-${name}`;
}

/**
 * Every image the stack runs under this config, from the service graph (one image per workload) and the storage
 * backend (the NFS driver). A unit test holds this equal to the images the program actually renders.
 */
export function imagesInUse(cfg: PlatformConfig): ImageId[] {
    const ids: ImageId[] = [];
    for (const node of serviceGraph(cfg).nodes.values()) {
        if (node.kind === "backend") {
            const own = cfg.services.find((s) => s.name === node.name)?.image;
            ids.push(own ? { ref: own } : { platform: platformImageName("backend", node.name) });
        }
        else if (node.kind === "frontend") ids.push(frontendImageId(cfg, node.name.replace(/^frontend-/, "")));
        else if ((thirdPartyKeys as string[]).includes(node.name)) {
            ids.push(node.name as ImageKey);
            if (node.name === "jenkins" && offsiteWorkloads(cfg).includes("jenkins")) ids.push("rclone"); // its home archiver
        }
        else if (node.name === "logstash") ids.push("fluentBit"); // the Service keeps the name the services' appender reaches
        else if (node.name === BACKUP_JOB) {
            ids.push("mysql"); // the dump, restore and drill run the server's own client
            if (cfg.backup.offsite) ids.push("rclone"); // copies to and from the object store
        }
        else if (node.name === OS_SNAPSHOT_JOB) ids.push("opensearch", "rclone");
        else if (node.name === "mysql-rotate" || node.name === MIGRATE_JOB) ids.push("mysql"); // the server's own client
        else if (node.name === "rabbitmq-rotate") ids.push("rabbitmq");
        else if (node.name === "csi-nfs-controller") ids.push("csiProvisioner", "csiLivenessProbe", "nfsPlugin");
        else if (node.name === "csi-nfs-node") ids.push("csiLivenessProbe", "csiNodeDriverRegistrar", "nfsPlugin");
        else if (node.startedBy) continue; // pods another workload starts (Jenkins agents) bring their own images
        else throw new Error(`images: workload ${node.name} has no image in the catalog`);
    }
    return ids;
}

/** The checked-in lock file: fully qualified source reference -> sha256 digest. */
export const LOCK_FILE = path.join(__dirname, "..", "images.lock.json");

/** The lock in force: $EGOV_IMAGES_LOCK (another file, e.g. a test's), else images.lock.json. */
export const imagesLockFile = () => process.env.EGOV_IMAGES_LOCK || LOCK_FILE;

export function readLockFile(file = imagesLockFile()): unknown {
    return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) as unknown : {};
}
