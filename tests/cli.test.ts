// The user commands as `npm run` starts them: --help answers before anything is installed, built or read, and the
// toolchain a command installs is only what it needs for its target (toolchain/parts.sh; issue 29).
import * as assert from "assert";
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "./support/harness";

interface Ran { readonly status: number | null; readonly stdout: string; readonly stderr: string }

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Ran> {
    return new Promise((resolve, reject) => {
        execFile(cmd, args, { cwd: ROOT, encoding: "utf8", env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
            if (err && typeof err.code !== "number") reject(err);
            else resolve({ status: err ? Number(err.code) : 0, stdout, stderr });
        });
    });
}

const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `egov-cli-${name}-`));
const gitStatus = () => execFileSync("git", ["status", "--porcelain", "--untracked-files=all"], { cwd: ROOT, encoding: "utf8" });

/** A PATH with Node.js, npm and the base system, and no go, pulumi or Go-built tool (go lives in /usr/local/go here). */
const BASE_PATH = `${path.dirname(process.execPath)}:/usr/bin:/bin`;
/**
 * A fresh machine: empty HOME and cache, nothing inherited but the PATH given. The runners' own caches are elsewhere:
 * npm's, and the native addon @swc/core unpacks on every TypeScript command's start (ts-node --swc), not the command.
 */
function freshEnv(home: string, cache: string, runnerCache: string, PATH = BASE_PATH): NodeJS.ProcessEnv {
    return {
        PATH, HOME: home, EGOV_CACHE: cache, LANG: "C.UTF-8",
        npm_config_cache: path.join(runnerCache, "npm"), npm_config_update_notifier: "false", npm_config_logs_max: "0",
        SWC_NATIVE_BINDING_CACHE: path.join(runnerCache, "swc"),
    };
}

const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
/** What a user runs: every npm script but the developer's (typecheck, lint, tests) and npm's pre/post hooks. */
const userCommands = Object.keys(scripts).filter((s) => !/^(pre|post)|^test(:|$)|^(typecheck|lint)$/.test(s));

describe("every user command answers --help first", function () {
    this.timeout(600_000);
    const home = tmp("home"), cache = tmp("cache"), npmCache = tmp("npm");
    const results = new Map<string, Ran>();
    const statusBefore = gitStatus();

    before(async () => {
        const jobs = userCommands.flatMap((c) => ["--help", "-h", "--no-such-option"].map((a) => [c, a] as const));
        // Two at a time: each is a cold npm and Node.js start.
        const next = async (): Promise<void> => {
            const job = jobs.shift();
            if (!job) return;
            results.set(job.join(" "), await run("npm", ["run", "--silent", job[0], "--", job[1]], freshEnv(home, cache, npmCache)));
            return next();
        };
        await Promise.all([next(), next()]);
    });
    after(() => { for (const d of [home, cache, npmCache]) fs.rmSync(d, { recursive: true, force: true }); });

    it("covers the commands a user runs (and not the developer's scripts)", () => {
        for (const c of ["deploy", "destroy", "rollback", "policy", "drift", "db:restore", "rotate", "render", "boot-check", "images",
            "frontends", "cluster:up", "cluster:down", "toolchain", "bench", "docs:wiring", "docs:config"]) assert.ok(userCommands.includes(c), c);
        for (const c of ["typecheck", "lint", "test", "test:unit", "pretest:unit"]) assert.ok(!userCommands.includes(c), c);
    });

    for (const command of userCommands) {
        it(`npm run ${command} -- --help and -h print its usage on stdout and exit 0; an unknown option fails and names --help`, () => {
            const name = command.replace(/[:]/g, "\\$&");
            for (const flag of ["--help", "-h"]) {
                const r = results.get(`${command} ${flag}`);
                assert.ok(r, "ran");
                assert.strictEqual(r.status, 0, `${flag}: ${r.stderr}`);
                assert.match(r.stdout, new RegExp(`^usage: .*npm run ${name}(?![\\w:-])`, "m"), `${flag}: a usage line naming the command`);
            }
            const bad = results.get(`${command} --no-such-option`);
            assert.ok(bad, "ran");
            assert.notStrictEqual(bad.status, 0, bad.stdout);
            assert.match(bad.stderr, /--no-such-option/);
            assert.match(bad.stderr, /--help/);
            assert.doesNotMatch(bad.stdout, /^usage:/m, "a wrong option is an error, not the help");
        });
    }

    it("none of them created or changed anything: HOME and the cache are empty, the checkout unchanged", () => {
        assert.deepStrictEqual(fs.readdirSync(home), [], "HOME");
        assert.deepStrictEqual(fs.readdirSync(cache), [], "EGOV_CACHE");
        assert.strictEqual(gitStatus(), statusBefore, "git status");
    });
});

// A stand-in for a stock Pulumi CLI: prints its version and has a language host beside it; records every call.
function fakePulumi(dir: string, version: string, languageHost = true): string {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "pulumi"), `#!/bin/sh
echo "$*" >> "${dir}/calls"
case "$1 $2 $3" in
  "version "*) echo v${version} ;;
  "config get environment") echo prod ;;
esac
exit 0
`, { mode: 0o755 });
    if (languageHost) fs.writeFileSync(path.join(dir, "pulumi-language-nodejs"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
    return dir;
}
/** go and jq that only leave a mark: the stock path must not call them. */
function trap(dir: string): string {
    fs.mkdirSync(dir, { recursive: true });
    for (const t of ["go", "jq"]) fs.writeFileSync(path.join(dir, t), `#!/bin/sh\ntouch "${dir}/${t}-was-called"\nexit 1\n`, { mode: 0o755 });
    return dir;
}

describe("the toolchain a command needs for its target (toolchain/install.sh --plan)", function () {
    this.timeout(120_000);
    const pin = /^PULUMI_VERSION=(.*)$/m.exec(fs.readFileSync(path.join(ROOT, "toolchain", "versions.env"), "utf8"))![1];
    const [maj, min, patch] = pin.split(".").map(Number);
    const dir = tmp("plan");
    const cache = path.join(dir, "cache"), home = path.join(dir, "home");
    const stock = fakePulumi(path.join(dir, "stock"), pin);
    const newer = fakePulumi(path.join(dir, "newer"), `${maj}.${min + 1}.0`);
    const older = fakePulumi(path.join(dir, "older"), `${maj}.${min - 1}.${patch}`);
    const bare = fakePulumi(path.join(dir, "bare"), pin, false);
    // The toolchain's own build of the pinned CLI: never taken for a stock one.
    const ours = fakePulumi(path.join(cache, "toolchain", `pulumi-v${pin}`, "bin"), pin);
    fs.mkdirSync(home);
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    async function plan(pathDirs: string[], ...args: string[]): Promise<{ parts: string[]; stderr: string }> {
        const r = await run("bash", ["toolchain/install.sh", "--plan", ...args], { PATH: [...pathDirs, BASE_PATH].join(":"), HOME: home, EGOV_CACHE: cache });
        assert.strictEqual(r.status, 0, r.stderr);
        return { parts: r.stdout.split("\n").filter(Boolean), stderr: r.stderr };
    }

    it("the local stack (Pulumi.dev.yaml: localCluster) needs the local cluster's binaries, and the Pulumi build only without a stock CLI", async () => {
        assert.deepStrictEqual((await plan([], "--for", "deploy")).parts, ["pulumi", "kube"]);
        assert.deepStrictEqual((await plan([stock], "--for", "deploy")).parts, ["kube"]);
        assert.deepStrictEqual((await plan([stock], "--for", "destroy", "--stack", "dev")).parts, ["kube"]);
        assert.deepStrictEqual((await plan([], "--for", "cluster:up")).parts, ["kube"]);
    });

    it("the local cluster is the target of a stack whose file says localCluster: true, whatever its name; a dev without it is a real cluster", async () => {
        // A project of its own (the scripts read Pulumi.<stack>.yaml beside them): a dev stack of a real environment
        // and a local stack named otherwise, in every spelling a stack file may have.
        const project = path.join(dir, "project");
        for (const d of ["toolchain", "scripts"]) fs.cpSync(path.join(ROOT, d), path.join(project, d), { recursive: true });
        const stackFile = (name: string, line: string) => fs.writeFileSync(path.join(project, `Pulumi.${name}.yaml`),
            `config:\n  egov-platform:environment: dev\n${line}\n  egov-platform:namespace: egov\n`);
        stackFile("dev", "  egov-platform:kubeContext: agency-dev");
        stackFile("mine", "  egov-platform:localCluster: true   # the test cluster");
        stackFile("short", "  localCluster: 'true'");
        stackFile("off", "  egov-platform:localCluster: false");
        const planIn = async (...args: string[]) => {
            const r = await run("bash", [path.join(project, "toolchain/install.sh"), "--plan", ...args],
                { PATH: [stock, BASE_PATH].join(":"), HOME: home, EGOV_CACHE: cache });
            assert.strictEqual(r.status, 0, r.stderr);
            return r.stdout.split("\n").filter(Boolean);
        };
        assert.deepStrictEqual(await planIn("--for", "deploy", "--stack", "dev"), [], "dev is only a name");
        assert.deepStrictEqual(await planIn("--for", "deploy"), [], "the default stack dev, too");
        assert.deepStrictEqual(await planIn("--for", "deploy", "--stack", "mine"), ["kube"]);
        assert.deepStrictEqual(await planIn("--for", "destroy", "--stack", "short"), ["kube"]);
        assert.deepStrictEqual(await planIn("--for", "deploy", "--stack", "off"), []);
        assert.deepStrictEqual(await planIn("--for", "deploy", "--stack", "nosuch"), []);
        assert.deepStrictEqual(await planIn("--for", "deploy", "--stack", "mine", "--kubeconfig", "/k/config"), [], "a run's own cluster");
    });

    it("a cluster of your own (--kubeconfig, --context, or a stack without localCluster) with a stock CLI needs nothing built", async () => {
        for (const args of [["--kubeconfig", "/k/config"], ["--context", "ctx"], ["--stack", "prod"]]) {
            for (const command of ["deploy", "policy", "rollback", "destroy"]) {
                assert.deepStrictEqual((await plan([stock], "--for", command, ...args)).parts, [], `${command} ${args.join(" ")}`);
            }
            assert.deepStrictEqual((await plan([newer], "--for", "deploy", ...args)).parts, [], "a newer CLI is as good");
        }
        assert.deepStrictEqual((await plan([stock], "--for", "drift")).parts, []);
    });

    it("without a usable stock CLI the pinned one is built: none on PATH, an older one, one without its language host, our own build", async () => {
        assert.deepStrictEqual((await plan([], "--for", "deploy", "--stack", "prod")).parts, ["pulumi"]);
        assert.deepStrictEqual((await plan([], "--for", "drift")).parts, ["pulumi"]);
        const old = await plan([older], "--for", "deploy", "--context", "ctx");
        assert.deepStrictEqual(old.parts, ["pulumi"]);
        assert.match(old.stderr, new RegExp(`older than the pinned v${pin.replace(/\./g, "\\.")}: not used`));
        assert.deepStrictEqual((await plan([bare], "--for", "deploy", "--stack", "prod")).parts, ["pulumi"]);
        assert.deepStrictEqual((await plan([ours], "--for", "deploy", "--stack", "prod")).parts, ["pulumi"]);
        // The first pulumi on PATH decides, as it is the one that would run.
        assert.deepStrictEqual((await plan([older, stock], "--for", "deploy", "--stack", "prod")).parts, ["pulumi"]);
        assert.deepStrictEqual((await plan([stock, older], "--for", "deploy", "--stack", "prod")).parts, []);
    });

    it("the image tool only for npm run frontends; the offline commands need nothing", async () => {
        assert.deepStrictEqual((await plan([], "--for", "frontends")).parts, ["oci-image"]);
        for (const command of ["deploy", "drift", "cluster:up"]) assert.ok(!(await plan([], "--for", command)).parts.includes("oci-image"), command);
        for (const command of ["render", "images", "boot-check", "rotate", "db:restore", "docs:wiring", "docs:config", "cluster:down"]) {
            assert.deepStrictEqual((await plan([], "--for", command)).parts, [], command);
        }
    });

    it("asking installs nothing, and an unknown command or a plan without --for is refused", async () => {
        const r = await run("bash", ["toolchain/install.sh", "--plan", "--for", "nosuch"], { PATH: BASE_PATH, HOME: home, EGOV_CACHE: cache });
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stderr, /not a command/);
        const r2 = await run("bash", ["toolchain/install.sh", "--plan"], { PATH: BASE_PATH, HOME: home, EGOV_CACHE: cache });
        assert.notStrictEqual(r2.status, 0);
        assert.deepStrictEqual(fs.readdirSync(home), []);
        assert.deepStrictEqual(fs.readdirSync(cache), ["toolchain"], "only the fake build this test put there");
    });

    it("scripts/env.sh puts a stock CLI ahead of any build of ours, and ours first without one", async () => {
        const shown = async (pathDirs: string[]) => (await run("bash", ["-c", ". scripts/env.sh; echo $EGOV_PULUMI_CLI; command -v pulumi"],
            { PATH: [...pathDirs, BASE_PATH].join(":"), HOME: home, EGOV_CACHE: cache })).stdout.trim().split("\n");
        fs.mkdirSync(path.join(cache, "bin"), { recursive: true });
        fs.symlinkSync(path.join(ours, "pulumi"), path.join(cache, "bin", "pulumi"));
        try {
            assert.deepStrictEqual(await shown([stock]), ["stock", path.join(stock, "pulumi")]);
            assert.deepStrictEqual(await shown([older]), ["built", path.join(cache, "bin", "pulumi")]);
            assert.deepStrictEqual(await shown([]), ["built", path.join(cache, "bin", "pulumi")]);
        } finally {
            fs.rmSync(path.join(cache, "bin"), { recursive: true, force: true });
        }
    });
});

describe("npm run policy on a cluster of your own with a stock Pulumi CLI", function () {
    this.timeout(300_000);
    const dir = tmp("stock");
    const home = path.join(dir, "home"), cache = path.join(dir, "cache");
    const pin = /^PULUMI_VERSION=(.*)$/m.exec(fs.readFileSync(path.join(ROOT, "toolchain", "versions.env"), "utf8"))![1];
    const stock = fakePulumi(path.join(dir, "stock"), pin);
    const traps = trap(path.join(dir, "traps"));
    fs.mkdirSync(home);
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("builds nothing, needs neither Go nor jq, and hands the stock CLI the policy pack directory", async () => {
        const env = freshEnv(home, cache, path.join(dir, "npm"), [traps, stock, BASE_PATH].join(":"));
        const r = await run("npm", ["run", "--silent", "policy", "--", "--stack", "prod"], env);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stderr, /nothing to build for policy/);
        assert.ok(!fs.existsSync(path.join(traps, "go-was-called")), "go was called");
        assert.ok(!fs.existsSync(path.join(traps, "jq-was-called")), "jq was called");
        assert.ok(!fs.existsSync(path.join(cache, "toolchain")) && !fs.existsSync(path.join(cache, "bin")), "nothing built or linked");
        const calls = fs.readFileSync(path.join(stock, "calls"), "utf8").split("\n");
        const preview = calls.find((c) => c.startsWith("preview "));
        assert.ok(preview, calls.join("\n"));
        assert.match(preview, new RegExp(`--policy-pack ${path.join(ROOT, "policy")}$`), "the directory, which a stock CLI runs itself");
        assert.ok(!calls.some((c) => /^(up|destroy)\b/.test(c)), "a preview changes nothing");
    });

    it("a distribution with a policy launcher beside its CLI (ours, copied to a host without Go) gets the pack as policy/analyzer", async () => {
        const withLauncher = fakePulumi(path.join(dir, "with-launcher"), pin);
        fs.writeFileSync(path.join(withLauncher, "pulumi-analyzer-policy"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
        const env = freshEnv(home, cache, path.join(dir, "npm"), [traps, withLauncher, BASE_PATH].join(":"));
        const r = await run("npm", ["run", "--silent", "policy", "--", "--stack", "prod"], env);
        assert.strictEqual(r.status, 0, r.stderr);
        const preview = fs.readFileSync(path.join(withLauncher, "calls"), "utf8").split("\n").find((c) => c.startsWith("preview "));
        assert.match(preview ?? "", new RegExp(`--policy-pack ${path.join(ROOT, "policy", "analyzer")}$`));
        assert.ok(!fs.existsSync(path.join(traps, "go-was-called")) && !fs.existsSync(path.join(cache, "toolchain")), "nothing built");
    });
});
