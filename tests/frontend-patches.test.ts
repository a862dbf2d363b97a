// The patch set of the frontends' build (config/frontend-patches.ts) against the upstream source, in a temporary
// copy: each patch applies exactly once, the patched apps keep no browser URL on the gateway's in-cluster name and
// no token in the server's axios defaults, and a changed upstream stops the build naming the patch. No `next build`
// here (minutes): tests/e2e/frontends.e2e.ts builds and runs the patched images.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { frontends } from "../config/catalog";
import { applyFrontendPatches, FRONTEND_PATCHES, HEALTH_PATCH, HEALTH_PATH } from "../config/frontend-patches";
import { buildApp, patchedSource } from "../scripts/lib/frontend-build";

const UPSTREAM = path.resolve(__dirname, "../../shared/reference/egovframe-msa-edu");

/** The apps' source (what the build copies), without installed or built output. */
function copyUpstream(to: string): void {
    for (const f of frontends) {
        fs.cpSync(path.join(UPSTREAM, "frontend", f.name), path.join(to, "frontend", f.name),
            { recursive: true, filter: (src) => !/[/\\](node_modules|\.next|dist)$/.test(src) });
    }
}

describe("the frontends' patch set (config/frontend-patches.ts)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "egov-fe-patches-"));
    const copy = path.join(dir, "upstream");
    before(() => copyUpstream(copy));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("applies to the upstream source, each patch exactly once, without writing to it", () => {
        const before = fs.readFileSync(path.join(copy, "frontend/portal/src/pages/api/health.ts"), "utf8");
        for (const f of frontends) {
            const { files, patches } = patchedSource(copy, f.name);
            const mine = FRONTEND_PATCHES.filter((p) => p.app === f.name);
            assert.deepStrictEqual(patches, mine.map((p) => p.id), `${f.name}: every patch applied`);
            for (const p of mine) {
                const text = files.get(p.file)!.toString("utf8");
                assert.strictEqual(text.split(p.replace).length - 1, 1, `${p.id}: the replacement is there once`);
                if (p.expect !== null) assert.ok(!text.includes(p.expect), `${p.id}: the upstream text is gone`);
                else assert.ok(!fs.existsSync(path.join(copy, "frontend", f.name, p.file)), `${p.id}: adds a file the upstream lacks`);
            }
        }
        assert.strictEqual(fs.readFileSync(path.join(copy, "frontend/portal/src/pages/api/health.ts"), "utf8"), before, "the checkout is read only");
        assert.ok(new Set(FRONTEND_PATCHES.map((p) => p.id)).size === FRONTEND_PATCHES.length, "ids are unique");
        for (const p of FRONTEND_PATCHES) assert.ok(p.why.length > 40, `${p.id} says why`);
    });

    it("leaves no browser URL on SERVER_API_URL, no process-wide token and no server-side base on the public host", () => {
        for (const f of frontends) {
            const { files } = patchedSource(copy, f.name);
            for (const [file, buf] of files) {
                if (!/^src\/.*\.tsx?$/.test(file)) continue;
                const text = buf.toString("utf8");
                // API routes run in the server, where the in-cluster name is the right one.
                if (!file.startsWith("src/pages/api/")) assert.ok(!text.includes("${SERVER_API_URL}"), `${f.name}/${file}: a browser URL on the in-cluster name`);
                if (file.startsWith("src/pages/api/")) {
                    assert.ok(!/axios\.defaults\.headers\.common\[(CLAIM_NAME|AUTH_USER_ID)\]\s*=/.test(text), `${f.name}/${file}: a token in the server's defaults`);
                    assert.ok(!/url: `\$\{SERVER_API_URL\}/.test(text), `${f.name}/${file}: hands the browser an in-cluster URL`);
                }
                assert.ok(!text.includes("axios.defaults.baseURL = BASE_URL"), `${f.name}/${file}: server-side rendering on the public host`);
            }
            // The probes' path is a route of each patched app, and it ends its response.
            const health = files.get(`src/pages${HEALTH_PATH}.ts`)?.toString("utf8") ?? "";
            assert.match(health, /res\.status\(200\)\.json\(/, `${f.name}: ${HEALTH_PATH} answers`);
            assert.ok(FRONTEND_PATCHES.some((p) => p.id === HEALTH_PATCH[f.name] && p.app === f.name && p.file === `src/pages${HEALTH_PATH}.ts`));
        }
    });

    it("refuses to build when the upstream changed under a patch, naming it (and when it now has a file a patch adds)", () => {
        const changed = path.join(dir, "changed");
        copyUpstream(changed);
        const lg = path.join(changed, "frontend/portal/src/components/Main/MainLG.tsx");
        fs.writeFileSync(lg, fs.readFileSync(lg, "utf8").replace("${SERVER_API_URL}${LOAD_IMAGE_URL}", "${SERVER_API_URL}/v2${LOAD_IMAGE_URL}"));
        const portal = frontends.find((f) => f.name === "portal")!;
        const node = { version: "0", npm: "0", dir: path.join(dir, "no-node") };
        // Before npm ci or any download: the patch set is checked first.
        assert.throws(() => buildApp(portal, changed, "", node, () => undefined),
            /frontend portal: the patch set does not apply .*\n {2}patch portal-banner-url-lg \(frontend\/portal\/src\/components\/Main\/MainLG\.tsx\) no longer applies: the text it replaces is there 0 times/);
        fs.writeFileSync(path.join(changed, "frontend/admin/src/pages/api/health.ts"), "export default () => undefined\n");
        assert.throws(() => patchedSource(changed, "admin"), /patch admin-health-route \(frontend\/admin\/src\/pages\/api\/health\.ts\) adds the file, which the upstream now has/);
    });

    it("is listed in docs/frontends.md, one row per patch with its file, in the order of config/frontend-patches.ts", () => {
        const doc = fs.readFileSync(path.join(__dirname, "..", "docs", "frontends.md"), "utf8");
        const rows = [...doc.matchAll(/^\| `([a-z-]+)` \| `([^`]+)`/gm)].map((m) => [m[1], m[2]]);
        assert.deepStrictEqual(rows, FRONTEND_PATCHES.map((p) => [p.id, `${p.app}/${p.file}`]));
    });

    it("refuses a text found twice, and a file gone", () => {
        const p = { id: "x", app: "portal" as const, file: "a.ts", expect: "b\n", replace: "c\n", why: "" };
        assert.match(applyFrontendPatches("portal", () => "b\nb\n", [p]).problems[0], /^patch x \(frontend\/portal\/a\.ts\) no longer applies: .* 2 times/);
        assert.match(applyFrontendPatches("portal", () => undefined, [p]).problems[0], /^patch x .*: the file is gone upstream/);
        assert.deepStrictEqual(applyFrontendPatches("portal", () => "a\nb\n", [p]), { files: { "a.ts": "a\nc\n" }, applied: ["x"], problems: [] });
    });
});
