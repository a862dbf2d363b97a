// Frontend images are built per stack: Next.js inlines the API address, the public URL and the site id into the
// bundles and writes the /server/* rewrite into routes-manifest.json at build time, and the start command
// (`npm run start:prodk8slg`, env-cmd) lets its env file win over the pod's environment. So what a frontend
// image must be built with is a fact of the stack's config, computed here (one home), written by
// `npm run frontends` (scripts/frontends.ts) into the image and frontends.lock.json, and checked against that
// record by the program and the policy pack. docs/frontends.md explains the whole flow.
import * as fs from "fs";
import * as path from "path";
import type { PlatformConfig } from "./types";
import { BackendServiceSpec, FrontendSpec } from "./catalog";
import { HEALTH_PATCH, HEALTH_PATH } from "./frontend-patches";
import { DIGEST, parseImageRef } from "./images";
import { publicUrl } from "./parts";

export type FrontendName = FrontendSpec["name"];

/** The site each frontend serves in the reference's k8s build (`*:prodk8slg`: the "lg" sites of dev:lg). */
export const SITE_IDS: Readonly<Record<FrontendName, string>> = { admin: "1", portal: "2" };

/** The env file the upstream build and start commands read (package.json build:prodk8slg / start:prodk8slg). */
export const ENV_FILE = ".env.production-k8s-lg";
export const BUILD_SCRIPT = "build:prodk8slg";
export const START_COMMAND = ["npm", "run", "start:prodk8slg"] as const;
/** Where the image keeps the app (the reference Dockerfiles' APP_HOME). */
export const APP_HOME = "/usr/app";

/** What a frontend bundle is built for: the values that differ between stacks. */
export interface FrontendBuildValues {
    /** The gateway's in-cluster address: server-side API calls and the /server/* rewrite (SERVER_API_URL). */
    readonly apiUrl: string;
    /** The frontend's public URL: the browser's API base is <publicUrl>/server (PROXY_HOST). */
    readonly publicUrl: string;
    readonly siteId: string;
    readonly timezone: string;
}

/** One built image, as frontends.lock.json records it. */
export interface FrontendBuild {
    /** Where the cluster pulls it from (registry/repository:tag), without the digest. */
    readonly image: string;
    readonly digest: string;
    readonly builtFor: FrontendBuildValues;
    /** The Node.js base it was assembled on (reference@digest) and the Node.js version. */
    readonly base: string;
    readonly node: string;
    /** The patches of config/frontend-patches.ts it was built with (absent: a build from before the patch set). */
    readonly patches?: readonly string[];
}

/** The stack's record: per frontend the image it runs and what it was built for. */
export type FrontendRecord = Readonly<Partial<Record<FrontendName, FrontendBuild>>>;

/** frontends.lock.json: stack name -> FrontendRecord. Committed like a lock file. */
export const FRONTENDS_LOCK_FILE = path.join(__dirname, "..", "frontends.lock.json");
/** The record in force: $EGOV_FRONTENDS_LOCK (another file, e.g. a test's), else frontends.lock.json. */
export const frontendsLockFile = () => process.env.EGOV_FRONTENDS_LOCK || FRONTENDS_LOCK_FILE;

const gatewayOf = (services: readonly BackendServiceSpec[]) => services.find((s) => s.isGateway);

/** The values a frontend of this stack must be built with. */
export function frontendBuildValues(cfg: Pick<PlatformConfig, "services" | "namespace" | "domain" | "ingress" | "timezone">,
    spec: FrontendSpec): FrontendBuildValues {
    const gw = gatewayOf(cfg.services);
    return {
        apiUrl: gw ? `http://${gw.name}.${cfg.namespace}.svc.cluster.local:${gw.port}` : "",
        publicUrl: publicUrl(cfg, spec.ingressHost),
        siteId: SITE_IDS[spec.name],
        timezone: cfg.timezone,
    };
}

/** The env file written next to the app: what `next build` inlines and what the start command loads. */
export function frontendEnvFile(v: FrontendBuildValues, spec: FrontendSpec, environment: string): string {
    return [
        "# Written by egov-platform `npm run frontends`: read by next build (inlined) and by the start command.",
        "NODE_ENV=production",
        `PORT=${spec.port}`,
        `SERVER_API_URL=${v.apiUrl}`,
        `PROXY_HOST=${v.publicUrl}`,
        `SITE_ID=${v.siteId}`,
        `ENV=${environment}`,
        `TZ=${v.timezone}`,
        "",
    ].join("\n");
}

const FIELDS: ReadonlyArray<[keyof FrontendBuildValues, string]> = [
    ["apiUrl", "API address"], ["publicUrl", "public URL"], ["siteId", "site id"], ["timezone", "time zone"],
];

/** The differences between what an image was built for and what the stack needs, in words; [] when none. */
export function buildMismatches(built: FrontendBuildValues, wanted: FrontendBuildValues): string[] {
    return FIELDS.filter(([k]) => built[k] !== wanted[k]).map(([k, what]) => `${what} ${built[k]} (the stack needs ${wanted[k]})`);
}

/** Reads and checks the whole lock file; problems name the file and the entry. */
export function readFrontendsLock(file = frontendsLockFile()): { stacks: Record<string, FrontendRecord>; problems: string[] } {
    const where = path.basename(file);
    if (!fs.existsSync(file)) return { stacks: {}, problems: [] };
    let raw: unknown;
    try {
        raw = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        return { stacks: {}, problems: [`${where}: ${(e as Error).message}; expected JSON written by npm run frontends`] };
    }
    const problems: string[] = [];
    const stacks: Record<string, FrontendRecord> = {};
    const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
    if (!isObj(raw)) return { stacks, problems: [`${where}: expected an object of stack name -> frontend images`] };
    for (const [stack, rec] of Object.entries(raw)) {
        if (!isObj(rec)) {
            problems.push(`${where}[${stack}]: expected an object of frontend (admin, portal) -> image`);
            continue;
        }
        const out: Partial<Record<FrontendName, FrontendBuild>> = {};
        for (const [name, b] of Object.entries(rec)) {
            const at = `${where}[${stack}].${name}`;
            if (!(name in SITE_IDS)) { problems.push(`${at}: not a frontend; expected ${Object.keys(SITE_IDS).join(" or ")}`); continue; }
            const bf = isObj(b) && isObj(b.builtFor) ? b.builtFor : undefined;
            const ok = isObj(b) && typeof b.image === "string" && typeof parseImageRef(b.image) !== "string" && !b.image.includes("@")
                && typeof b.digest === "string" && DIGEST.test(b.digest) && typeof b.base === "string" && typeof b.node === "string"
                && bf !== undefined && FIELDS.every(([k]) => typeof bf[k] === "string")
                && (b.patches === undefined || (Array.isArray(b.patches) && b.patches.every((x) => typeof x === "string")));
            if (!ok) {
                problems.push(`${at}: ${JSON.stringify(b)} is not allowed; expected {image (registry/repository:tag), digest (sha256:...), ` +
                    "builtFor {apiUrl, publicUrl, siteId, timezone}, base, node, patches [ids]} as npm run frontends writes it");
                continue;
            }
            out[name as FrontendName] = b as unknown as FrontendBuild;
        }
        stacks[stack] = out;
    }
    return { stacks, problems };
}

/** What a stack's frontends run, as the program decides from the record. */
export interface FrontendImage {
    /** reference@digest from the record; undefined: the published image <image.registry>/...:<image.tag>. */
    readonly built?: FrontendBuild;
    /** Why the image does not fit this stack (a warning outside prod; prod refuses instead). */
    readonly warning?: string;
}

/**
 * The image each frontend runs under this config and the stack's record. prod refuses an image built for other
 * values, and the lack of a build unless allowPublished (frontends.allowPublishedImages); elsewhere both are
 * warnings. They name what the image was built for, what the stack needs and the command that fixes it.
 */
export function frontendImages(cfg: Pick<PlatformConfig, "services" | "namespace" | "domain" | "ingress" | "timezone" | "environment">,
    specs: readonly FrontendSpec[], stack: string, record: FrontendRecord | undefined, allowPublished = false):
    { images: Record<string, FrontendImage>; problems: string[] } {
    const images: Record<string, FrontendImage> = {};
    const problems: string[] = [];
    const fix = `build them for it: npm run frontends -- --stack ${stack} (--push <registry> | --out <dir>), see docs/frontends.md`;
    for (const spec of specs) {
        const b = record?.[spec.name];
        if (!b) {
            const none = `frontends.lock.json has no ${spec.name} image for stack ${stack}`;
            if (cfg.environment === "prod" && !allowPublished) {
                problems.push(`frontend ${spec.name}: prod runs only images built for it, and ${none}; ${fix}. ` +
                    "Or set frontends.allowPublishedImages: true to run the published image, knowing what it risks: its API address " +
                    "and public URL are whatever its unknown build baked in, so its API calls and server-side rendering may go " +
                    "nowhere (or elsewhere), and it has none of the platform's patches (docs/frontends.md)");
            }
            images[spec.name] = { warning: `frontend ${spec.name} runs the published image, whose API address and public URL are unknown (${none}); ${fix}` };
            continue;
        }
        const diff = buildMismatches(b.builtFor, frontendBuildValues(cfg, spec));
        if (diff.length === 0) { images[spec.name] = { built: b }; continue; }
        const msg = `frontend ${spec.name} image ${b.image}@${b.digest} (frontends.lock.json, stack ${stack}) was built for ${diff.join(", ")}`;
        if (cfg.environment === "prod") problems.push(`${msg}; prod refuses it: ${fix}`);
        images[spec.name] = { built: b, warning: `${msg}; ${fix}` };
    }
    return { images, problems };
}

/**
 * Where a frontend's probes ask whether it can take traffic: the health route of an image built with the patch set;
 * `/` (a rendered page, which calls the gateway) for any other image, the only path it is known to answer.
 */
export function readinessPath(name: FrontendName, built: FrontendBuild | undefined): string {
    return built?.patches?.includes(HEALTH_PATCH[name]) ? HEALTH_PATH : "/";
}

/** Pod annotations saying what the running frontend image was built for (read by the policy pack). */
export const BUILT_FOR_ANNOTATION = "egov-platform/frontend-built-for";
