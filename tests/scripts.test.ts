// The commands as a user runs them (ts-node, a committed stack file, no cluster): exit codes and output shape.
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT, stackConfig } from "./support/harness";

interface Ran { readonly status: number | null; readonly stdout: string; readonly stderr: string }

const PROD_LOCK = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "egov-prod-lock-")), "images.lock.json");
fs.writeFileSync(PROD_LOCK, stackConfig("prod").imageDigests);

/** Starts a command as a user runs it (a cold start each). */
function start(script: string, ...args: string[]): Promise<Ran> {
    const tsNode = path.join(ROOT, "node_modules", ".bin", "ts-node");
    // No Pulumi backend here: the scripts fall back to the committed Pulumi.<stack>.yaml.
    // prod requires digests to render: the test pins stand in for the lock an agency fills (npm run images -- --lock);
    // npm run images lists the images without them.
    const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, PULUMI_BACKEND_URL: "file:///nonexistent",
        ...(script === "render.ts" ? { EGOV_IMAGES_LOCK: PROD_LOCK } : {}) };
    return new Promise((resolve, reject) => {
        execFile(tsNode, ["--swc", path.join(ROOT, "scripts", script), ...args], { cwd: ROOT, encoding: "utf8", env, maxBuffer: 64 << 20 },
            (err, stdout, stderr) => {
                if (err && typeof err.code !== "number") reject(err);
                else resolve({ status: err ? Number(err.code) : 0, stdout, stderr });
            });
    });
}

// Started when mocha loads this file, one after another: on a second core they overlap the in-process tests.
const out = fs.mkdtempSync(path.join(os.tmpdir(), "egov-render-cli-"));
const images = start("images.ts", "--stack", "prod");
const render = images.then(() => start("render.ts", "--stack", "prod", "--out", out));
const unknown = render.then(() => start("images.ts", "--stack", "nosuchstack"));
const bad = unknown.then(() => start("render.ts", "--stack", "prod", "--bogus", "x"));
for (const p of [images, render, unknown, bad]) p.catch(() => undefined);

describe("the offline commands", function () {
    this.timeout(120_000);
    after(async () => {
        await Promise.allSettled([images, render, unknown, bad]);
        fs.rmSync(out, { recursive: true, force: true });
    });

    it("npm run images without a mirror lists only what to pull, never SOURCE SOURCE pairs a copy loop would push back", async () => {
        const r = await images;
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stderr, /config from Pulumi\.prod\.yaml/);
        assert.match(r.stderr, /sets no imageMirror: .*pulumi config set imageMirror/);
        const lines = r.stdout.trim().split("\n");
        assert.ok(lines.length >= 18, r.stdout);
        for (const l of lines) assert.match(l, /^[a-z0-9.:-]+\/\S+:\S+$/);
        assert.ok(lines.includes("docker.io/library/mysql:8.4.11"));
        assert.ok(lines.includes("docker.io/egovframe/egovframe-msa-edu-backend-config:4.3.0"));
    });

    it("npm run images and render refuse an unknown stack or argument with a usage message", async () => {
        const u = await unknown;
        assert.strictEqual(u.status, 1);
        assert.match(u.stderr, /no stack nosuchstack/);
        const b = await bad;
        assert.strictEqual(b.status, 2);
        assert.match(b.stderr, /unknown argument --bogus\nusage: npm run render/);
    });

    it("npm run render writes the prod tree", async () => {
        const r = await render;
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stderr, /rendered \d+ objects of stack prod/);
        assert.ok(fs.existsSync(path.join(out, "egov", "StatefulSet", "mysql-statefulset.yaml")));
        assert.ok(fs.existsSync(path.join(out, "_cluster", "Namespace", "egov.yaml")));
    });
});
