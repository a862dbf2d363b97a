// The README as a user reads it: a contents list that covers it, links that lead somewhere, and commands that
// exist and that a test or CI runs (so the README cannot promise a command nobody has tried).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./support/harness";
import { README_STEPS } from "./support/readme-steps";

const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;

/** GitHub's anchor of a heading. */
const anchor = (heading: string) => heading.trim().toLowerCase().replace(/[^a-z0-9 _-]/g, "").replace(/ /g, "-");

/** Text of every file under dir (recursively) whose name matches. */
function filesUnder(dir: string, name: RegExp): Map<string, string> {
    const out = new Map<string, string>();
    const walk = (d: string) => {
        if (!fs.existsSync(d)) return;
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory() && e.name !== "node_modules") walk(p);
            else if (e.isFile() && name.test(e.name)) out.set(path.relative(ROOT, p), fs.readFileSync(p, "utf8"));
        }
    };
    walk(dir);
    return out;
}

describe("the README", () => {
    const headings = [...readme.matchAll(/^(#{2,3}) (.+)$/gm)].map((m) => ({ level: m[1].length, text: m[2] }));

    it("gives the steps of \"Deploying to your own cluster\" in the order the no-Go e2e runs them, the stack created before its config", () => {
        const start = readme.indexOf("## Deploying to your own cluster");
        const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
        // Commands only: the lines of its sh blocks.
        const code = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join("\n");
        const at = README_STEPS.map((step) => ({ step: step.command, index: code.search(step.shape) }));
        assert.deepStrictEqual(at.filter((a) => a.index < 0).map((a) => a.step), [], "steps the README does not give");
        const order = at.map((a) => a.index);
        assert.deepStrictEqual(order, [...order].sort((x, y) => x - y), `out of order: ${JSON.stringify(at)}`);
        const init = code.search(/^\s*pulumi stack init /m);
        const configSets = [...code.matchAll(/^\s*pulumi config set .*--stack (\S+)/gm)];
        assert.ok(configSets.length > 0);
        for (const m of configSets) assert.ok(m.index! > init, `before the stack exists: ${m[0]}`);
        // Every stack-scoped command of the steps names the same stack.
        const stacks = new Set([...code.matchAll(/(?:--stack |stack init )(\S+)/g)].map((m) => m[1]));
        assert.deepStrictEqual([...stacks], ["staging"]);
    });

    it("opens with the two commands: one that deploys, one that tests", () => {
        const firstScreen = readme.split("\n").slice(0, 25).join("\n");
        assert.match(firstScreen, /^npm run deploy\b/m);
        assert.match(firstScreen, /^npm test\b/m);
    });

    it("lists every section in its contents", () => {
        const contents = readme.slice(readme.indexOf("## Contents"), readme.indexOf("\n## ", readme.indexOf("## Contents") + 1));
        for (const h of headings.filter((x) => x.text !== "Contents")) {
            if (h.level === 2) assert.ok(contents.includes(`](#${anchor(h.text)})`), `Contents lacks "${h.text}"`);
        }
    });

    it("links only to sections and files that exist", () => {
        const anchors = new Set(headings.map((h) => anchor(h.text)));
        for (const [, target] of readme.matchAll(/\]\(([^)\s]+)\)/g)) {
            if (/^https?:/.test(target)) continue;
            if (target.startsWith("#")) assert.ok(anchors.has(target.slice(1)), `no section for ${target}`);
            else assert.ok(fs.existsSync(path.join(ROOT, target.split("#")[0])), `no file ${target}`);
        }
    });

    it("names only npm commands that exist, and each is run by a test or by CI", () => {
        const named = new Set([...readme.matchAll(/npm run (?:-s )?([a-z][\w:-]*)/g)].map((m) => m[1]));
        assert.ok(named.size >= 8, [...named].join(" "));
        // Code only: a comment that mentions a script does not run it.
        const code = (text: string) => text.split("\n").filter((l) => !/^\s*(\/\/|#|\*|\/\*)/.test(l)).map((l) => l.replace(/\s\/\/ .*$/, "")).join("\n");
        const texts = [...[...filesUnder(path.join(ROOT, "tests"), /\.ts$/)].filter(([f]) => f !== path.join("tests", "readme.test.ts")).map(([, t]) => t), ...filesUnder(path.join(ROOT, ".ci"), /./).values(),
            fs.readFileSync(path.join(ROOT, "tests", "support", "e2e.sh"), "utf8")].map(code);
        const runs = (name: string, command: string) => {
            // What the command runs: a script file of this repository, or (typecheck, lint) the tool itself.
            const file = /(?:scripts|toolchain|tests\/support)\/[\w./-]+/.exec(command)?.[0];
            const npm = name === "test" ? /\bnpm (run )?test\b/ : new RegExp(`npm run ${name}(?![\\w:-])`);
            return texts.some((text) => npm.test(text) || (file !== undefined && text.includes(file)));
        };
        // npm scripts that CI or a test runs count as runners too (npm test runs test:unit and test:e2e).
        for (let grew = true; grew;) {
            grew = false;
            for (const [name, command] of Object.entries(scripts)) {
                if (!texts.includes(command) && runs(name, command)) {
                    texts.push(command);
                    // ... and so does the shell script it runs (npm test's tests/support/test-all.sh runs test:unit).
                    const script = /(?:scripts|tests\/support)\/[\w./-]+\.sh/.exec(command)?.[0];
                    if (script && fs.existsSync(path.join(ROOT, script))) texts.push(code(fs.readFileSync(path.join(ROOT, script), "utf8")));
                    grew = true;
                }
            }
        }
        const unknown = [...named].filter((name) => !scripts[name]);
        assert.deepStrictEqual(unknown, [], "README names npm commands package.json does not have");
        const untried = [...named].filter((name) => !runs(name, scripts[name])).map((name) => `npm run ${name} (${scripts[name]})`);
        assert.deepStrictEqual(untried, [], "README names commands that no test and not .ci/run runs");
    });
});
