// Config that rejects what it does not know: undeclared keys, time zones that do not exist, and the
// declared key list kept equal to what the program reads.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { CONFIG_KEYS, loadConfig } from "../config";
import { configProblems, deploy, ROOT, setRuntime, sourceOf, stackConfig } from "./support/harness";

type Raw = Record<string, string>;

const problemsOf = (raw: Record<string, string>, stack = "dev") => configProblems(raw, stack, Object.keys(raw));

/** Runs the real program under mocks; returns its error message (or "") and how many resources it registered. */
async function runProgram(raw: Raw): Promise<{ error: string; resources: number }> {
    const mocks = setRuntime(raw, "dev");
    const entry = require.resolve("../index");
    delete require.cache[entry];
    let error = "";
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program must run under these mocks
        require(entry);
    } catch (e) {
        error = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
    return { error, resources: mocks.resources.length };
}

const declaredInPulumiYaml = (): string[] => {
    const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { config: Record<string, unknown> };
    return Object.keys(project.config).filter((k) => !k.includes(":"));
};

describe("config keys", () => {
    it("every key declared in Pulumi.yaml is in CONFIG_KEYS, and every one in CONFIG_KEYS is declared", () => {
        assert.deepStrictEqual([...CONFIG_KEYS].sort(), declaredInPulumiYaml().sort());
    });

    it("the program reads every declared key, and only declared keys", () => {
        const read = new Set<string>();
        const raw = stackConfig("dev");
        loadConfig((key) => { read.add(key); return raw[key]; }, "dev", Object.keys(raw));
        assert.deepStrictEqual([...read].sort(), [...CONFIG_KEYS].sort());
    });

    it("accepts every key the committed stacks set", () => {
        assert.deepStrictEqual(problemsOf(stackConfig("dev")), []);
        assert.deepStrictEqual(problemsOf(stackConfig("prod"), "prod"), []);
    });

    it("refuses a misspelt key, naming it and the closest known key", () => {
        const problems = problemsOf({ ...stackConfig("dev"), replica: "3" });
        assert.strictEqual(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], /^egov-platform:replica: not a key of this program.*closest known key is egov-platform:replicas\b/);
    });

    for (const [typo, meant] of [["namespce", "namespace"], ["Timezone", "timezone"], ["storages", "storage"], ["kubeconfg", "kubeconfig"]]) {
        it(`suggests ${meant} for ${typo}`, () => {
            const hit = problemsOf({ ...stackConfig("dev"), [typo]: "x" }).find((p) => p.startsWith(`egov-platform:${typo}:`));
            assert.ok(hit, `no problem names ${typo}`);
            assert.ok(hit.includes(`closest known key is egov-platform:${meant} `), hit);
        });
    }

    it("reports unknown keys together with every other problem", () => {
        const raw = { ...stackConfig("dev"), replica: "3", autoscale: "{}", namespace: "BAD", timezone: "Mars/Base" };
        const problems = problemsOf(raw);
        assert.strictEqual(problems.length, 4, problems.join("\n"));
        for (const key of ["replica", "autoscale", "namespace", "timezone"]) {
            assert.ok(problems.some((p) => p.startsWith(`egov-platform:${key}:`)), `nothing names ${key}:\n${problems.join("\n")}`);
        }
    });

    it("the program fails on an unknown key before creating any resource (keys come from the stack's whole config)", async () => {
        const bad = await runProgram({ ...stackConfig("dev"), replica: "3" });
        assert.match(bad.error, /egov-platform:replica: not a key of this program.*egov-platform:replicas/);
        assert.strictEqual(bad.resources, 0);
        // The same stack without the stray key runs (the suite's shared run of it).
        assert.ok((await deploy(stackConfig("dev"))).k8s.length > 0);
    });
});

describe("time zones", () => {
    for (const tz of ["Asia/Seoul", "UTC", "Etc/UTC", "Europe/London", "America/Argentina/Buenos_Aires", "Etc/GMT-9"]) {
        it(`accepts ${tz} and hands it to the containers`, () => {
            assert.deepStrictEqual(problemsOf({ ...stackConfig("dev"), timezone: tz }), []);
            assert.strictEqual(loadConfig(sourceOf({ ...stackConfig("dev"), timezone: tz }), "dev").timezone, tz);
        });
    }

    for (const [tz, why] of [["Mars/Base", "no such zone"], ["Asia/Seul", "typo"], ["asia/seoul", "wrong case: TZ lookups are case-sensitive"],
        ["+09:00", "an offset, not a zone"], ["KST", "an abbreviation"], ["Asia/Seoul ", "trailing space"]]) {
        it(`refuses ${JSON.stringify(tz)} (${why})`, () => {
            const problems = problemsOf({ ...stackConfig("dev"), timezone: tz });
            assert.strictEqual(problems.length, 1, problems.join("\n"));
            assert.ok(problems[0].startsWith(`egov-platform:timezone: ${JSON.stringify(tz)} is not allowed; expected an IANA time zone`), problems[0]);
        });
    }

    it("suggests the closest zone", () => {
        assert.match(problemsOf({ ...stackConfig("dev"), timezone: "Asia/Seul" })[0], /closest: Asia\/Seoul\)/);
    });
});
