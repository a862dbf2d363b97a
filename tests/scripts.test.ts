// The commands as a user runs them (ts-node, a committed stack file, no cluster): exit codes and output shape.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "./harness";

function run(script: string, ...args: string[]) {
    const tsNode = path.join(ROOT, "node_modules", ".bin", "ts-node");
    // No Pulumi backend here: the scripts fall back to the committed Pulumi.<stack>.yaml.
    const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, PULUMI_BACKEND_URL: "file:///nonexistent" };
    return spawnSync(tsNode, ["--transpile-only", path.join(ROOT, "scripts", script), ...args], { cwd: ROOT, encoding: "utf8", env });
}

describe("the offline commands", function () {
    this.timeout(120_000);

    it("npm run images lists SOURCE DESTINATION pairs of the prod stack, read from Pulumi.prod.yaml", () => {
        const r = run("images.ts", "--stack", "prod");
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stderr, /config from Pulumi\.prod\.yaml/);
        const lines = r.stdout.trim().split("\n");
        assert.ok(lines.length >= 18, r.stdout);
        for (const l of lines) assert.match(l, /^[a-z0-9.:-]+\/\S+:\S+ [a-z0-9.:-]+\/\S+:\S+$/);
        assert.ok(lines.includes("docker.io/library/mysql:5.7 docker.io/library/mysql:5.7"));
        assert.ok(lines.includes("docker.io/egovframe/egovframe-msa-edu-backend-config:4.3.0 docker.io/egovframe/egovframe-msa-edu-backend-config:4.3.0"));
    });

    it("npm run images and render refuse an unknown stack or argument with a usage message", () => {
        const unknown = run("images.ts", "--stack", "nosuchstack");
        assert.strictEqual(unknown.status, 1);
        assert.match(unknown.stderr, /no stack nosuchstack/);
        const bad = run("render.ts", "--stack", "prod", "--bogus", "x");
        assert.strictEqual(bad.status, 2);
        assert.match(bad.stderr, /unknown argument --bogus\nusage: npm run render/);
    });

    it("npm run render writes the prod tree", () => {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "egov-render-cli-"));
        try {
            const r = run("render.ts", "--stack", "prod", "--out", out);
            assert.strictEqual(r.status, 0, r.stderr);
            assert.match(r.stderr, /rendered \d+ objects of stack prod/);
            assert.ok(fs.existsSync(path.join(out, "egov", "StatefulSet", "mysql-statefulset.yaml")));
            assert.ok(fs.existsSync(path.join(out, "_cluster", "Namespace", "egov.yaml")));
        } finally {
            fs.rmSync(out, { recursive: true, force: true });
        }
    });
});
