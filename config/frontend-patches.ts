// The patch set `npm run frontends` applies to a copy of the upstream frontends before `next build` (issue 28).
// Data only: per patch the file (under frontend/<app>), the exact upstream text it expects, the replacement and
// why. A patch whose text the upstream no longer has (or has twice) stops the build, naming it: the upstream
// changed there, so the patch needs a look, not a guess. The upstream checkout is never written to.
import type { FrontendName } from "./frontends";

export interface FrontendPatch {
    /** Recorded in frontends.lock.json (`patches`) and the image label, so the program knows what the image serves. */
    readonly id: string;
    readonly app: FrontendName;
    /** Relative to frontend/<app>. */
    readonly file: string;
    /** The upstream text, found exactly once; null: the file must not exist upstream (the patch adds it). */
    readonly expect: string | null;
    readonly replace: string;
    readonly why: string;
}

/** What the frontends' probes read once the health patches are in: answers without calling anything. */
export const HEALTH_PATH = "/api/health";
const HEALTH_ROUTE = `src/pages${HEALTH_PATH}.ts`;
const HEALTH_SOURCE = [
    "import { NextApiRequest, NextApiResponse } from 'next'",
    "// egov-platform: the probes' path; answers without calling the gateway.",
    "export default (req: NextApiRequest, res: NextApiResponse) => {",
    "  res.status(200).json({ status: 'UP' })",
    "}",
    "",
].join("\n");

// The browser reaches the gateway at its own host's /server (next.config.js rewrites it to SERVER_API_URL; the
// Ingress sends the whole host to the frontend); the server process reaches it at SERVER_API_URL directly, which
// the frontend -> apigateway edge of the service graph (and so the network policy) allows.
const ssrToGateway = (app: FrontendName, line: number): FrontendPatch => ({
    id: `${app}-ssr-to-gateway`, app, file: "src/pages/_app/index.tsx",
    expect: "axios.defaults.baseURL = BASE_URL\n",
    replace: "// egov-platform: server-side rendering calls the gateway in the cluster, the browser its public host's /server.\n" +
        "axios.defaults.baseURL = typeof window === 'undefined' ? process.env.SERVER_API_URL : BASE_URL\n",
    why: `getServerSideProps used the browser's base \${PROXY_HOST}/server (_app/index.tsx:${line}): the public host, which the ` +
        "frontends' network policy does not reach, so server-side rendering hung; it now calls the gateway's in-cluster address",
});

const editorImageUrl = (app: FrontendName): FrontendPatch => ({
    id: `${app}-editor-image-url`, app, file: "src/pages/api/editor/index.ts",
    expect: "      url: `${SERVER_API_URL}${EDITOR_LOAD_IMAGE_URL}${result.data.url}`,\n",
    replace: "      // egov-platform: the browser loads it from the host showing the page (/server goes to the gateway there).\n" +
        "      url: `/server${EDITOR_LOAD_IMAGE_URL}${result.data.url}`,\n",
    why: "images uploaded in the editor were saved with SERVER_API_URL, the gateway's in-cluster name no browser resolves; a " +
        "root-relative /server URL loads on whichever frontend shows the content (admin writes it, portal shows it)",
});

const tokenPerRequest = (app: FrontendName, file: string): FrontendPatch => ({
    id: `${app}-token-per-request`, app, file,
    expect: "        axios.defaults.headers.common[CLAIM_NAME] = accessToken\n        axios.defaults.headers.common[AUTH_USER_ID] = userId\n",
    replace: "        // egov-platform: the token goes back to this user's browser only, never into the server's axios defaults.\n",
    why: "the login route set the user's token into axios.defaults of the Next.js server process, so later server-side " +
        "requests of every user carried it; the browser already sets its own from the response (service/Login.ts)",
});

const bannerUrl = (file: string): FrontendPatch => ({
    id: `portal-banner-url-${file.includes("LG") ? "lg" : "sm"}`, app: "portal", file,
    expect: "backgroundImage: `url(${SERVER_API_URL}${LOAD_IMAGE_URL}${b.uniqueId})`,\n",
    replace: "backgroundImage: `url(${process.env.PROXY_HOST}/server${LOAD_IMAGE_URL}${b.uniqueId})`, // egov-platform: public host\n",
    why: "home-page banner images pointed the browser at SERVER_API_URL, the gateway's in-cluster name; now at the public host's /server",
});

export const FRONTEND_PATCHES: readonly FrontendPatch[] = [
    ssrToGateway("admin", 32),
    ssrToGateway("portal", 24),
    editorImageUrl("admin"),
    editorImageUrl("portal"),
    tokenPerRequest("admin", "src/pages/api/proxy/[...path].ts"),
    tokenPerRequest("portal", "src/pages/api/login/[...path].ts"),
    bannerUrl("src/components/Main/MainLG.tsx"),
    bannerUrl("src/components/Main/MainSM.tsx"),
    {
        id: "portal-reserve-event-stream", app: "portal", file: "src/components/Reserve/ReserveEventSource.tsx",
        expect: "        `${SERVER_API_URL}${reserveService.requestApiUrl}/direct/${data.reserveId}`,\n",
        replace: "        `${process.env.PROXY_HOST}/server${reserveService.requestApiUrl}/direct/${data.reserveId}`, // egov-platform: public host\n",
        why: "the browser opened the live result of a direct reservation on SERVER_API_URL, unreachable from it; now the public host's /server",
    },
    {
        id: "portal-health-ends", app: "portal", file: HEALTH_ROUTE,
        expect: "  res.status(200)\n",
        replace: "  res.status(200).json({ status: 'UP' }) // egov-platform: the probes' path; upstream never ended the response\n",
        why: "the health route set a status and never ended the response, so every request to it hung",
    },
    {
        id: "admin-health-route", app: "admin", file: HEALTH_ROUTE, expect: null, replace: HEALTH_SOURCE,
        why: "admin has no route that answers without rendering a page (/ redirects, pages call the gateway): the probes' path",
    },
];

/** Per frontend, the patch that makes HEALTH_PATH answer: an image built with it is probed there. */
export const HEALTH_PATCH: Readonly<Record<FrontendName, string>> = { admin: "admin-health-route", portal: "portal-health-ends" };

/**
 * The app's patched files (relative path -> text) from `read` (undefined: no such file upstream). problems names each
 * patch that does not apply; then the build must not run.
 */
export function applyFrontendPatches(app: FrontendName, read: (file: string) => string | undefined,
    patches: readonly FrontendPatch[] = FRONTEND_PATCHES): { files: Record<string, string>; applied: string[]; problems: string[] } {
    const files: Record<string, string> = {};
    const applied: string[] = [];
    const problems: string[] = [];
    for (const p of patches.filter((x) => x.app === app)) {
        const where = `patch ${p.id} (frontend/${app}/${p.file})`;
        const text = p.file in files ? files[p.file] : read(p.file);
        if (p.expect === null) {
            if (text !== undefined) problems.push(`${where} adds the file, which the upstream now has: review the patch in config/frontend-patches.ts`);
            else { files[p.file] = p.replace; applied.push(p.id); }
            continue;
        }
        if (text === undefined) { problems.push(`${where}: the file is gone upstream: review the patch in config/frontend-patches.ts`); continue; }
        const count = text.split(p.expect).length - 1;
        if (count !== 1) {
            problems.push(`${where} no longer applies: the text it replaces is there ${count} times (expected once): ` +
                `${JSON.stringify(p.expect.trim().slice(0, 80))}; the upstream changed: review the patch in config/frontend-patches.ts`);
            continue;
        }
        files[p.file] = text.replace(p.expect, () => p.replace);
        applied.push(p.id);
    }
    return { files, applied, problems };
}
