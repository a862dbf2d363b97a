// How the program's process runs is decided once, in the project, for every way of starting it: the Pulumi
// language host's ts-node (a plain `pulumi preview` typed in this directory included) and Node's compile cache.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "./support/harness";

describe("how the program runs", () => {
    it("ts-node as the language host starts it (no variables set): swc, no type check, from tsconfig.json", () => {
        // What @pulumi/pulumi's cmd/run passes when PULUMI_NODEJS_TRANSPILE_ONLY and PULUMI_NODEJS_TSCONFIG_PATH are unset.
        const script = `process.chdir(${JSON.stringify(ROOT)});
            const svc = require("ts-node").create({ transpileOnly: undefined, project: "tsconfig.json", skipProject: false, compilerOptions: {} });
            console.log(JSON.stringify({ swc: svc.options.swc, transpileOnly: svc.options.transpileOnly }));`;
        const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PULUMI_NODEJS_") && !k.startsWith("TS_NODE_")));
        const out = execFileSync(process.execPath, ["-e", script], { cwd: ROOT, env, encoding: "utf8" });
        assert.deepStrictEqual(JSON.parse(out), { swc: true, transpileOnly: true });
    });

    it("the settings have one home: no script, test or workflow sets them again", () => {
        const places = ["scripts", "jobs", "toolchain", "tests", ".github", ".ci"].map((d) => path.join(ROOT, d));
        const offenders: string[] = [];
        const walk = (p: string) => {
            for (const e of fs.readdirSync(p, { withFileTypes: true })) {
                const f = path.join(p, e.name);
                if (e.isDirectory()) walk(f);
                else if (/\.(ts|sh|yml|js)$|^run$/.test(e.name) && f !== __filename &&
                    /PULUMI_NODEJS_(TRANSPILE_ONLY|TSCONFIG_PATH)|tsconfig\.swc/.test(fs.readFileSync(f, "utf8"))) offenders.push(path.relative(ROOT, f));
            }
        };
        places.filter((p) => fs.existsSync(p)).forEach(walk);
        assert.deepStrictEqual(offenders, []);
    });

    it("turns Node's compile cache on for what loads after it, unless NODE_COMPILE_CACHE is set empty", () => {
        const node22 = path.join(ROOT, "node_modules", ".bin", "node");
        const cache = fs.mkdtempSync(path.join(os.tmpdir(), "egov-compile-cache-"));
        try {
            const script = `require("ts-node").register({ swc: true }); require("./config/process");
                console.log(require("module").getCompileCacheDir?.() ?? "off");`;
            const run = (extra: Record<string, string>) => {
                const env: Record<string, string | undefined> = { ...process.env, EGOV_CACHE: cache, ...extra };
                if (!("NODE_COMPILE_CACHE" in extra)) delete env.NODE_COMPILE_CACHE;
                return execFileSync(node22, ["-e", script], { cwd: ROOT, env, encoding: "utf8" }).trim();
            };
            assert.ok(run({}).startsWith(path.join(cache, "node-compile-cache")), run({}));
            assert.strictEqual(run({ NODE_COMPILE_CACHE: "" }), "off");
        } finally {
            fs.rmSync(cache, { recursive: true, force: true });
        }
    });
});
