// The repository's folders say what they hold (docs/design.md, "Layout"): jobs/ is what the cluster runs, tests/support/
// what the suites stand on, scripts/ the user commands. These checks keep a file from drifting into the wrong one.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { BACKUP_SCRIPTS_DIR, backupScriptFiles } from "../components/backup";
import { ROTATE_SCRIPTS_DIR, rotateScriptFiles } from "../components/credentials";
import { MIGRATE_SCRIPTS_DIR, migrateScriptFiles } from "../components/migration";
import { ROOT } from "./support/harness";

const pkgScripts = () => (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
const list = (dir: string) => fs.readdirSync(path.join(ROOT, dir)).sort();
const filesUnder = (dir: string): string[] => fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })
    .flatMap((e) => e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]);

describe("repository layout", () => {
    it("jobs/ holds exactly the files the in-cluster Jobs run: each one shipped in a ConfigMap, none missing", () => {
        assert.deepStrictEqual(list("jobs"), ["backup", "migrate", "rotate"]);
        assert.strictEqual(MIGRATE_SCRIPTS_DIR, path.join(ROOT, "jobs", "migrate"));
        assert.deepStrictEqual(list("jobs/migrate"), [...migrateScriptFiles].sort(), "jobs/migrate/ = the runner the migration ConfigMap ships");
        assert.strictEqual(BACKUP_SCRIPTS_DIR, path.join(ROOT, "jobs", "backup"));
        assert.strictEqual(ROTATE_SCRIPTS_DIR, path.join(ROOT, "jobs", "rotate"));
        assert.deepStrictEqual(list("jobs/backup"), [...backupScriptFiles].sort(), "jobs/backup/ = the backup ConfigMap's keys");
        assert.deepStrictEqual(list("jobs/rotate"), [...rotateScriptFiles].sort(), "jobs/rotate/ = the rotation ConfigMap's keys");
    });

    it("tests/ and tests/e2e/ hold only suites; what they share lives in tests/support/", () => {
        const stray = [
            ...list("tests").filter((f) => !/\.test\.ts$/.test(f) && !["e2e", "support"].includes(f)).map((f) => `tests/${f}`),
            // A suite kept out of the default run (tests/e2e/scale-fault.ts) is one because an npm script runs it.
            ...list("tests/e2e").filter((f) => !/\.e2e\.ts$/.test(f) && !Object.values(pkgScripts()).some((c) => c.includes(`tests/e2e/${f}`)))
                .map((f) => `tests/e2e/${f}`),
        ];
        assert.deepStrictEqual(stray, []);
        assert.deepStrictEqual(list("tests/support").filter((f) => /\.(test|e2e)\.ts$/.test(f)), [], "no suite in tests/support/");
    });

    it("every file in scripts/ is a user command or used by one (not by the tests or the toolchain alone)", () => {
        // The commands a user runs: everything but the test runners (npm test, which has its own folder).
        const used: Array<{ dir: string; text: string }> = Object.entries(pkgScripts())
            .filter(([name]) => !/^(pre)?test\b/.test(name)).map(([, text]) => ({ dir: "", text }));
        const pending = new Set(filesUnder("scripts"));
        // What a text names: a path from the root (scripts/deploy.sh) or from its own folder (./lib/render, lib.sh,
        // "boot-facts.json"). The same name in another folder (tests/support/e2e.sh) is not it.
        const named = ({ dir, text }: { dir: string; text: string }) => new Set((text.match(/[\w./-]+/g) ?? []).flatMap((t) => {
            const at = [path.normalize(t.replace(/^\/+/, "")), path.join(dir, t.replace(/^\/+/, ""))];
            // Without an extension only as an import (./lib/render): a bare word (e2e) names no file.
            return /\.\w+$/.test(t) ? at : t.startsWith(".") ? at.map((p) => `${p}.ts`) : [];
        }));
        for (let grew = true; grew;) {
            grew = false;
            const names = new Set(used.flatMap((u) => [...named(u)]));
            for (const f of [...pending].filter((f) => names.has(f))) {
                pending.delete(f);
                used.push({ dir: path.dirname(f), text: fs.readFileSync(path.join(ROOT, f), "utf8") });
                grew = true;
            }
        }
        assert.deepStrictEqual([...pending], [], "in scripts/ but no npm command uses it: move it where it belongs (tests/support/, toolchain/, jobs/)");
    });
});
