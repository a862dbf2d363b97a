// End to end, as a platform team deploys with what it has (issue 29): a PATH of node, npm, the shell's basic tools and
// a Pulumi distribution laid out as Pulumi's release archives ship it (the CLI with its language host and policy
// launcher beside it; our built binaries stand in for it), and nothing else: no go, no jq, no cache of ours. The two
// provider plugins are installed from tarballs into a fresh plugin cache, as an air-gapped site does. The README's
// steps (tests/support/readme-steps.ts) run in the README's order on a fresh state backend: the stack is created
// before its config is set, previewed with the policy pack, deployed, changed and rolled back, each run naming its
// cluster with --kubeconfig, which leaves the stack file as it was. The stack is named dev and does not say
// localCluster: an ordinary stack on the running cluster, and no local cluster is built or started for it.
import * as assert from "assert";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { KUBECONFIG, kubectl, kubectlJson, Obj } from "../support/kube";
import { README_STEPS } from "../support/readme-steps";

const ROOT = path.resolve(__dirname, "../..");
const PROJECT_FILES = ["Pulumi.yaml", "index.ts", "package.json", "tsconfig.json", "components", "config", "images.lock.json",
    "frontends.lock.json", "jobs", "scripts", "toolchain"];
const STACK = "dev";
const NS = "egov-nogo";
const CACHE = process.env.EGOV_CACHE ?? path.join(os.homedir(), ".cache", "egov-platform");
const versions = fs.readFileSync(path.join(ROOT, "toolchain", "versions.env"), "utf8");
const pinned = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(versions)![1];
// The shell and the basic tools the commands use (coreutils, grep, sed, tar for npm): a user's base system.
const BASICS = ["bash", "sh", "env", "cat", "dirname", "basename", "readlink", "realpath", "sed", "grep", "head", "tail", "sort", "tr",
    "mkdir", "rm", "cp", "mv", "mktemp", "base64", "touch", "date", "cut", "ls", "id", "uname", "tee", "wc", "find", "xargs", "chmod",
    "ln", "sleep", "stat", "printf", "test", "true", "false", "expr", "sha256sum", "tar", "gzip"];

interface Ran { readonly status: number; readonly out: string; readonly seconds: number }

describe("end to end: a host with only Node.js, npm and a stock Pulumi distribution (no Go, no jq)", function () {
    this.timeout(30 * 60 * 1000);
    let dir: string, work: string, dist: string, env: NodeJS.ProcessEnv, stackFile: string;
    const timings: Record<string, number> = {};
    const ran: string[] = [];

    function sh(command: string, label: string): Promise<Ran> {
        ran.push(label);
        const t0 = Date.now();
        const child = spawn("bash", ["-c", command], { cwd: work, env, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (b) => { out += b; });
        child.stderr.on("data", (b) => { out += b; });
        return new Promise((resolve) => child.on("close", (code) => resolve({ status: code ?? -1, out, seconds: (Date.now() - t0) / 1000 })));
    }
    const ok = async (command: string, label: string): Promise<Ran> => {
        const r = await sh(command, label);
        // The whole output beside the run: a preview's error comes before its (long) diff.
        const full = path.join(os.tmpdir(), `egov-nogo-${label.replace(/[^A-Za-z0-9]+/g, "-")}.log`);
        if (r.status !== 0) fs.writeFileSync(full, r.out);
        const errors = r.out.split("\n").filter((l) => /error|violat|mandatory/i.test(l)).slice(0, 30).join("\n");
        assert.strictEqual(r.status, 0, `${command} (whole output: ${full})\n${errors}\n...\n${r.out.slice(-2000)}`);
        timings[label] = r.seconds;
        return r;
    };
    const imageOf = (name: string): string => kubectlJson("-n", NS, "get", "deployment", name).spec.template.spec.containers[0].image;

    before(function () {
        assert.ok(KUBECONFIG && fs.existsSync(KUBECONFIG), "EGOV_E2E_KUBECONFIG must name the local cluster's kubeconfig (run through tests/support/e2e.sh)");
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "egov-e2e-nogo-"));
        work = path.join(dir, "project");
        fs.mkdirSync(work);
        for (const f of PROJECT_FILES) fs.cpSync(path.join(ROOT, f), path.join(work, f), { recursive: true });
        // A user ran `npm ci` (and the policy pack's): the packages are there.
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(work, "node_modules"));
        fs.symlinkSync(path.join(ROOT, "policy"), path.join(work, "policy"));

        // The Pulumi distribution: pulumi with its Node.js language host and policy launcher beside it (hard links of
        // our build, so nothing under the cache is reached through them).
        dist = path.join(dir, "pulumi", "bin");
        fs.mkdirSync(dist, { recursive: true });
        const built = path.join(CACHE, "toolchain", `pulumi-v${pinned("PULUMI_VERSION")}`, "bin");
        const launcher = path.join(CACHE, "bin", "pulumi-analyzer-policy");
        for (const [name, from] of [["pulumi", path.join(built, "pulumi")], ["pulumi-language-nodejs", path.join(built, "pulumi-language-nodejs")],
            ["pulumi-analyzer-policy", fs.realpathSync(launcher)]]) {
            try { fs.linkSync(from, path.join(dist, name)); } catch { fs.copyFileSync(from, path.join(dist, name)); fs.chmodSync(path.join(dist, name), 0o755); }
        }
        // The artifact repository's plugin tarballs.
        for (const [plugin, version] of [["kubernetes", pinned("PULUMI_KUBERNETES_VERSION")], ["random", pinned("PULUMI_RANDOM_VERSION")]]) {
            const binDir = fs.readdirSync(path.join(CACHE, "toolchain")).find((d) => d.startsWith(`pulumi-resource-${plugin}-v${version}`));
            assert.ok(binDir, `the ${plugin} plugin is built (npm run toolchain)`);
            execFileSync("tar", ["czf", path.join(dir, `pulumi-resource-${plugin}-v${version}-linux-amd64.tar.gz`), "-C",
                path.join(CACHE, "toolchain", binDir, "bin"), `pulumi-resource-${plugin}`]);
        }

        // The PATH: links to node (22), npm, the basic tools, and the distribution. Nothing of /usr/local/go, no jq.
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        fs.symlinkSync(fs.realpathSync(path.join(ROOT, "node_modules", ".bin", "node")), path.join(bin, "node"));
        fs.symlinkSync(fs.realpathSync(execFileSync("bash", ["-c", "command -v npm"], { encoding: "utf8" }).trim()), path.join(bin, "npm"));
        for (const tool of BASICS) {
            const found = ["/usr/bin", "/bin"].map((d) => path.join(d, tool)).find((p) => fs.existsSync(p));
            if (found) fs.symlinkSync(found, path.join(bin, tool));
        }
        const home = path.join(dir, "home");
        fs.mkdirSync(home);
        env = {
            PATH: `${bin}:${dist}`, HOME: home, PULUMI_HOME: path.join(home, ".pulumi"), EGOV_CACHE: path.join(dir, "cache"), LANG: "C.UTF-8",
            CI: "true", // no terminal: consent comes from --yes
            npm_config_update_notifier: "false", npm_config_cache: path.join(dir, "npm-cache"),
            SWC_NATIVE_BINDING_CACHE: path.join(dir, "swc-cache"),
        };

        // The stack file a team keeps for its own dev environment: no localCluster, no kubeconfig (given per run),
        // sized for kwok (the optional parts off).
        const config = (parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Obj }).config;
        delete config["egov-platform:localCluster"];
        delete config["egov-platform:kubeconfig"];
        delete config["egov-platform:applicationCheckout"]; // set by the README's step
        Object.assign(config, {
            "egov-platform:namespace": NS,
            "egov-platform:domain": "egov-nogo.localtest.me",
            "egov-platform:image": { registry: "egovframe", tag: "4.3.0" },
            "egov-platform:autoscaling": { enabled: false },
            "egov-platform:logging": { enabled: false },
            "egov-platform:tracing": { enabled: false },
            "egov-platform:ci": { enabled: false },
        });
        stackFile = path.join(work, `Pulumi.${STACK}.yaml`);
        fs.writeFileSync(stackFile, stringify({ config }));
    });

    after(async function () {
        if (env && work) {
            const r = await sh(`pulumi destroy --stack ${STACK} --yes --skip-preview --parallel 64 --non-interactive`, "cleanup");
            if (r.status !== 0) console.error(`cleanup of ${NS} failed:\n${r.out.slice(-2000)}`);
        }
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
        console.log(`    no-Go e2e timings (s): ${JSON.stringify(timings)}`);
    });

    it("the PATH has node, npm and pulumi, and neither go nor jq", async () => {
        const r = await ok("command -v node npm pulumi; node --version; pulumi version", "path");
        assert.match(r.out, new RegExp(`^${dist}/pulumi$`, "m"));
        assert.match(r.out, /^v22\./m);
        for (const tool of ["go", "jq", "kubectl"]) {
            assert.notStrictEqual((await sh(`command -v ${tool}`, `no ${tool}`)).status, 0, `${tool} is on the PATH`);
        }
    });

    it("README steps 1-3: the plugins from tarballs into a fresh plugin cache; a fresh state backend and passphrase", async () => {
        for (const [plugin, version] of [["kubernetes", pinned("PULUMI_KUBERNETES_VERSION")], ["random", pinned("PULUMI_RANDOM_VERSION")]]) {
            await ok(`pulumi plugin install resource ${plugin} v${version} --file ${dir}/pulumi-resource-${plugin}-v${version}-linux-amd64.tar.gz`,
                `pulumi plugin install resource ${plugin}`);
        }
        const ls = await ok("pulumi plugin ls", "plugin ls");
        assert.match(ls.out, new RegExp(`kubernetes\\s+resource\\s+${pinned("PULUMI_KUBERNETES_VERSION")}`));
        assert.match(ls.out, new RegExp(`random\\s+resource\\s+${pinned("PULUMI_RANDOM_VERSION")}`));
        // As README steps 2 and 3 export them.
        fs.mkdirSync(path.join(dir, "state"));
        fs.writeFileSync(path.join(dir, "passphrase"), "a team passphrase from its secret store\n", { mode: 0o600 });
        env.PULUMI_BACKEND_URL = `file://${dir}/state`;
        env.PULUMI_CONFIG_PASSPHRASE_FILE = path.join(dir, "passphrase");
        ran.push("export PULUMI_BACKEND_URL", "export PULUMI_CONFIG_PASSPHRASE_FILE");
    });

    it("README step 4: config of a stack not created yet is refused; pulumi stack init first, then pulumi config set works", async () => {
        const early = await sh(`pulumi config set applicationCheckout ${ROOT}/../shared/reference/egovframe-msa-edu --stack ${STACK} --non-interactive`, "config set before init");
        assert.notStrictEqual(early.status, 0, "config set on a stack that does not exist");
        assert.match(early.out, /no stack named 'dev' found/);
        await ok(`pulumi stack init ${STACK} --secrets-provider passphrase --non-interactive`, "pulumi stack init");
        const checkout = path.resolve(ROOT, "../shared/reference/egovframe-msa-edu");
        await ok(`pulumi config set applicationCheckout ${checkout} --stack ${STACK} --non-interactive`, "pulumi config set applicationCheckout");
    });

    it("README step 7: the TLS certificate and its key (encrypted) as stack config, before the namespace exists", async () => {
        // The certificate a user brings for *.<domain>.
        execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=*.egov-nogo.localtest.me",
            "-keyout", path.join(dir, "tls.key"), "-out", path.join(dir, "tls.crt")], { stdio: "ignore" });
        // On standard input, as the README gives them: on the command line the PEM's leading ----- is taken for an option.
        await ok(`pulumi config set --secret --path tls.certificate --stack ${STACK} --non-interactive < ${dir}/tls.crt`,
            "pulumi config set --secret tls.certificate");
        await ok(`pulumi config set --secret --path tls.key --stack ${STACK} --non-interactive < ${dir}/tls.key`,
            "pulumi config set --secret tls.key");
        const text = fs.readFileSync(stackFile, "utf8");
        assert.ok(!text.includes("PRIVATE KEY"), "the key is encrypted in the stack file");
        assert.match(text, /secure:/);
    });

    it("npm run policy -- --kubeconfig: the preview with the policy pack, run by the distribution's launcher; the stack file unchanged", async () => {
        const before = fs.readFileSync(stackFile);
        const r = await ok(`npm run policy -- --stack ${STACK} --kubeconfig ${KUBECONFIG}`, "npm run policy");
        assert.match(r.out, /nothing to build for policy on this target/);
        assert.match(r.out, new RegExp(`using the installed CLI ${dist}/pulumi`));
        assert.match(r.out, /(Policy Packs run|Policies):[\s\S]*egov-platform/, `the preview ran the policy pack:\n${r.out.slice(-2000)}`);
        assert.ok(fs.readFileSync(stackFile).equals(before), "the stack file is byte for byte as it was");
        assert.throws(() => kubectl("get", "namespace", NS), "a preview creates nothing");
    });

    it("a run without a cluster is refused, naming how to give one, and a dev stack without localCluster starts no local cluster", async () => {
        const r = await sh(`npm run deploy -- --stack ${STACK} --yes`, "deploy without a cluster");
        assert.notStrictEqual(r.status, 0);
        assert.match(r.out, /egov-platform:kubeconfig \/ egov-platform:kubeContext: neither is set.*--kubeconfig FILE/);
        assert.doesNotMatch(r.out, /cluster\.sh|kwok|etcd/, "no local cluster for a stack that does not say localCluster");
        assert.throws(() => kubectl("get", "namespace", NS), "nothing was deployed");
    });

    it("npm run deploy -- --kubeconfig --yes deploys to the running cluster, leaving the stack file as it was", async () => {
        const before = fs.readFileSync(stackFile);
        const r = await ok(`npm run deploy -- --stack ${STACK} --kubeconfig ${KUBECONFIG} --yes`, "npm run deploy");
        assert.match(r.out, /Previewing update/);
        assert.match(r.out, /(Policy Packs run|Policies):[\s\S]*egov-platform/);
        assert.ok(fs.readFileSync(stackFile).equals(before), "the stack file is byte for byte as it was");
        assert.doesNotMatch(fs.readFileSync(stackFile, "utf8"), /kubeconfig|kubeContext/);
        assert.match(imageOf("apigateway-deployment"), /:4\.3\.0$/);
        assert.strictEqual(kubectlJson("get", "namespace", NS).metadata.name, NS);
        // The TLS Secret, made by the program in the namespace it created, and used by the Ingresses.
        const tls = kubectlJson("-n", NS, "get", "secret", "ingress-tls");
        assert.strictEqual(tls.type, "kubernetes.io/tls");
        assert.strictEqual(Buffer.from(tls.data["tls.key"], "base64").toString(), fs.readFileSync(path.join(dir, "tls.key"), "utf8").trimEnd());
        const ingresses = kubectlJson("-n", NS, "get", "ingress").items as Obj[];
        assert.ok(ingresses.length > 0 && ingresses.every((i) => i.spec.tls?.[0]?.secretName === "ingress-tls"));
        assert.doesNotMatch(r.out, /PRIVATE KEY/, "the key is shown nowhere in the output");
    });

    it("a changed stack deploys, and npm run rollback -- --kubeconfig puts the earlier config back on the cluster", async () => {
        const doc = parse(fs.readFileSync(stackFile, "utf8")) as { config: Obj };
        doc.config["egov-platform:image"] = { registry: "egovframe", tag: "4.3.1" };
        fs.writeFileSync(stackFile, stringify(doc));
        await ok(`npm run deploy -- --stack ${STACK} --kubeconfig ${KUBECONFIG} --yes`, "npm run deploy (4.3.1)");
        assert.match(imageOf("apigateway-deployment"), /:4\.3\.1$/);
        const r = await ok(`npm run rollback -- --stack ${STACK} --kubeconfig ${KUBECONFIG} --yes`, "npm run rollback");
        assert.match(r.out, /stack dev runs the configuration of update \d+ again/);
        assert.match(imageOf("apigateway-deployment"), /:4\.3\.0$/);
        const after = parse(fs.readFileSync(stackFile, "utf8")) as { config: Obj };
        assert.deepStrictEqual(after.config["egov-platform:image"], { registry: "egovframe", tag: "4.3.0" });
        assert.ok(!("egov-platform:kubeconfig" in after.config), "the rollback wrote no kubeconfig either");
    });

    it("nothing was built or cached: no toolchain, bin or build directory in the fresh cache; go and jq never resolvable", () => {
        const cache = env.EGOV_CACHE!;
        for (const d of ["toolchain", "bin", "build", "cluster"]) assert.ok(!fs.existsSync(path.join(cache, d)), `${d} was created in ${cache}`);
        assert.ok(fs.existsSync(path.join(dir, "home", ".pulumi", "plugins", `resource-kubernetes-v${pinned("PULUMI_KUBERNETES_VERSION")}`)));
    });

    it("ran the README's steps in the README's order", () => {
        const order = README_STEPS.map((s) => ran.indexOf(s.command));
        assert.ok(order.every((i) => i >= 0), `not run: ${README_STEPS.filter((_, i) => order[i] < 0).map((s) => s.command).join(", ")}`);
        assert.deepStrictEqual(order, [...order].sort((a, b) => a - b), `run out of the README's order: ${ran.join(" | ")}`);
    });
});
